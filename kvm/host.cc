// Host system calls the Sentry needs and Node.js does not offer (lseek, terminal ioctls, fcntl flags, a
// poll that does not wait, vectored I/O between a host fd and guest memory).
// Each returns the result, or -errno; never throws for a host error, because the Sentry hands the error
// to the program.
#include "host.h"
#include "host_result.h"

#include <asm/termbits.h>  // the kernel's struct termios and termios2, not glibc's larger termios
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <malloc.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <v8.h>

namespace tsvisor {

namespace {
Napi::Value Lseek(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int64_t offset = info[1].As<Napi::Number>().Int64Value();
  int whence = info[2].As<Napi::Number>().Int32Value();
  return Num(info.Env(), Result(RetryOnEintr([&] { return lseek(fd, offset, whence); })));
}

// The sizes src/abi/structs.ts gives the Sentry: what the kernel copies for each request.
static_assert(sizeof(struct termios) == 36, "kernel struct termios");
static_assert(sizeof(struct termios2) == 44, "kernel struct termios2");
static_assert(sizeof(struct winsize) == 8, "struct winsize");

// ioctl(fd, request, buffer) for the requests whose argument is a plain struct copied out by the host:
// TCGETS (the kernel's struct termios, 36 bytes), TCGETS2 (termios2, 44), TIOCGWINSZ (winsize, 8),
// FIONREAD and TIOCOUTQ (an int). out must be exactly that size, so that the Sentry copies to the guest
// what Linux would.
Napi::Value IoctlRead(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  uint32_t request = info[1].As<Napi::Number>().Uint32Value();
  Napi::Uint8Array out = info[2].As<Napi::Uint8Array>();
  size_t need = request == TCGETS ? sizeof(struct termios)
              : request == TCGETS2 ? sizeof(struct termios2)
              : request == TIOCGWINSZ ? sizeof(struct winsize)
              : request == FIONREAD || request == TIOCOUTQ ? sizeof(int) : 0;
  if (need == 0 || out.ByteLength() != need) return Num(info.Env(), -EINVAL);
  // SAFETY: out has at least `need` bytes, the size of the struct this request writes.
  return Num(info.Env(), Result(Ioctl(fd, request, out.Data())));
}

// ioctl(fd, request, buffer) for the requests that read a struct from the caller: TCSETS (termios, 36
// bytes), TCSETS2 (termios2, 44) and TIOCSWINSZ (winsize, 8). Only the forms that never wait: the
// Sentry drains or flushes first itself, since TCSETSW would block it until the terminal took all output.
Napi::Value IoctlWrite(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  uint32_t request = info[1].As<Napi::Number>().Uint32Value();
  Napi::Uint8Array in = info[2].As<Napi::Uint8Array>();
  size_t need = request == TCSETS ? sizeof(struct termios)
              : request == TCSETS2 ? sizeof(struct termios2)
              : request == TIOCSWINSZ ? sizeof(struct winsize) : 0;
  if (need == 0 || in.ByteLength() != need) return Num(info.Env(), -EINVAL);
  // SAFETY: in has exactly the `need` bytes this request reads.
  return Num(info.Env(), Result(Ioctl(fd, request, in.Data())));
}

// ioctl(fd, request, value) for the requests whose argument is an int by value: TCFLSH, TCXONC.
Napi::Value IoctlValue(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  uint32_t request = info[1].As<Napi::Number>().Uint32Value();
  long value = info[2].As<Napi::Number>().Int32Value();
  if (request != TCFLSH && request != TCXONC) return Num(info.Env(), -EINVAL);
  return Num(info.Env(), Result(Ioctl(fd, request, value)));
}

Napi::Value GetFlags(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  return Num(info.Env(), Result(RetryOnEintr([&] { return fcntl(fd, F_GETFL); })));
}
// setFlags(fd, flags): fcntl(F_SETFL), for a shared description the Sentry must make non-blocking.
Napi::Value SetFlags(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int flags = info[1].As<Napi::Number>().Int32Value();
  return Num(info.Env(), Result(RetryOnEintr([&] { return fcntl(fd, F_SETFL, flags); })));
}
// pollNow(fd, events): the host fd's readiness now (poll with timeout 0): its revents, or -errno.
// POLLNVAL (a closed fd) comes back as -EBADF.
Napi::Value PollNow(const Napi::CallbackInfo& info) {
  struct pollfd p = {};
  p.fd = info[0].As<Napi::Number>().Int32Value();
  p.events = static_cast<short>(info[1].As<Napi::Number>().Int32Value());
  int r = RetryOnEintr([&] { return poll(&p, 1, 0); });
  if (r < 0) return Num(info.Env(), -errno);
  if (p.revents & POLLNVAL) return Num(info.Env(), -EBADF);
  return Num(info.Env(), static_cast<uint16_t>(p.revents));
}

// The iovecs of count runs of memory given as (offset, length) pairs, checked to lie inside memory;
// false if one does not (or count is out of range).
bool GuestIovecs(Napi::Uint8Array& memory, const Napi::Float64Array& ranges, size_t count, struct iovec* iov) {
  if (count == 0 || count > IOV_MAX || ranges.ElementLength() < 2 * count) return false;
  size_t size = memory.ByteLength();
  for (size_t i = 0; i < count; i++) {
    double at = ranges[2 * i];
    double length = ranges[2 * i + 1];
    if (!(at >= 0 && length >= 0 && at + length <= static_cast<double>(size))) return false;
    iov[i].iov_base = memory.Data() + static_cast<size_t>(at);
    iov[i].iov_len = static_cast<size_t>(length);
  }
  return true;
}

// preadv(fd, memory, ranges, count, offset): one preadv(2) at offset into count runs of memory (guest
// memory; ranges holds (offset, length) pairs): bytes read or -errno, -EFAULT for a run outside memory.
// One crossing into C++ per read, however scattered the guest's pages are.
Napi::Value Preadv(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array memory = info[1].As<Napi::Uint8Array>();
  Napi::Float64Array ranges = info[2].As<Napi::Float64Array>();
  size_t count = info[3].As<Napi::Number>().Uint32Value();
  int64_t offset = info[4].As<Napi::Number>().Int64Value();
  struct iovec iov[IOV_MAX];
  if (!GuestIovecs(memory, ranges, count, iov)) return Num(info.Env(), -EFAULT);
  // SAFETY: every iovec lies inside memory (GuestIovecs), which the caller keeps alive for the call.
  return Num(info.Env(), Result(RetryOnEintr([&] { return preadv(fd, iov, static_cast<int>(count), offset); })));
}

// pwritev(fd, memory, ranges, count, offset): as preadv, the other way.
Napi::Value Pwritev(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array memory = info[1].As<Napi::Uint8Array>();
  Napi::Float64Array ranges = info[2].As<Napi::Float64Array>();
  size_t count = info[3].As<Napi::Number>().Uint32Value();
  int64_t offset = info[4].As<Napi::Number>().Int64Value();
  struct iovec iov[IOV_MAX];
  if (!GuestIovecs(memory, ranges, count, iov)) return Num(info.Env(), -EFAULT);
  // SAFETY: as in Preadv.
  return Num(info.Env(), Result(RetryOnEintr([&] { return pwritev(fd, iov, static_cast<int>(count), offset); })));
}

// trimMemory(): gives the host back what the Sentry holds and does not use, for a sandbox that has gone
// idle: V8 collects all garbage and shrinks its heap (as it does under memory pressure), then glibc
// returns the free parts of malloc's arenas (malloc_trim). Some milliseconds; never while busy.
Napi::Value TrimMemory(const Napi::CallbackInfo& info) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate != nullptr) isolate->LowMemoryNotification();
  malloc_trim(0);
  return info.Env().Undefined();
}
}  // namespace

Napi::Object InitHost(Napi::Env env) {
  Napi::Object host = Napi::Object::New(env);
  host.Set("lseek", Napi::Function::New(env, Lseek));
  host.Set("ioctlRead", Napi::Function::New(env, IoctlRead));
  host.Set("ioctlWrite", Napi::Function::New(env, IoctlWrite));
  host.Set("ioctlValue", Napi::Function::New(env, IoctlValue));
  host.Set("getFlags", Napi::Function::New(env, GetFlags));
  host.Set("setFlags", Napi::Function::New(env, SetFlags));
  host.Set("pollNow", Napi::Function::New(env, PollNow));
  host.Set("preadv", Napi::Function::New(env, Preadv));
  host.Set("pwritev", Napi::Function::New(env, Pwritev));
  host.Set("trimMemory", Napi::Function::New(env, TrimMemory));
  return host;
}

}  // namespace tsvisor
