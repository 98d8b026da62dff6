// How host calls answer the Sentry: the result, or -errno for a host error, as a JS number. They never
// throw for a host error, because the Sentry hands the error to the program.
#pragma once
#include <errno.h>
#include <napi.h>
#include <sys/ioctl.h>

#include "retry.h"

#include <cstdint>

namespace tsvisor {
inline int64_t Result(int64_t r) { return r < 0 ? -errno : r; }
inline Napi::Value Num(Napi::Env env, int64_t value) { return Napi::Number::New(env, static_cast<double>(value)); }

// ioctl(2) retried on EINTR. Every ioctl of the addon but KVM_RUN goes through here.
template <typename Arg>
inline int Ioctl(int fd, unsigned long request, Arg arg) {
  return RetryOnEintr([&] { return ioctl(fd, request, arg); });
}
}  // namespace tsvisor
