// How host calls answer the Sentry: the result, or -errno for a host error, as a JS number. They never
// throw for a host error, because the Sentry hands the error to the program.
#pragma once
#include <errno.h>
#include <napi.h>
#include <sys/ioctl.h>

#include <cstdint>

namespace tsvisor {
inline int64_t Result(int64_t r) { return r < 0 ? -errno : r; }
inline Napi::Value Num(Napi::Env env, int64_t value) { return Napi::Number::New(env, static_cast<double>(value)); }

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

// ioctl(2) retried on EINTR. Every ioctl of the addon but KVM_RUN goes through here.
template <typename Arg>
inline int Ioctl(int fd, unsigned long request, Arg arg) {
  return RetryOnEintr([&] { return ioctl(fd, request, arg); });
}
}  // namespace tsvisor
