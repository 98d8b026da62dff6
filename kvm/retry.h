// Host calls retried while a signal interrupts them: shared by the addon and the Gofer executable.
#pragma once
#include <errno.h>

namespace tsvisor {
// Runs a host call again for as long as a signal interrupts it (-1 with EINTR). Signals reach the
// Sentry at any time (SIGCHLD from a Gofer, SIGWINCH, a profiler's SIGPROF), and a handler without
// SA_RESTART, or a call the kernel never restarts (KVM_CREATE_VM), must not fail the operation. Not for
// close(), whose fd is gone either way, nor for KVM_RUN, where EINTR is the preemption kick.
template <typename Call>
inline auto RetryOnEintr(Call call) -> decltype(call()) {
  for (;;) {
    auto r = call();
    if (r != -1 || errno != EINTR) return r;
  }
}
}  // namespace tsvisor
