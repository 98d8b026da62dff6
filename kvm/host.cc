// Host system calls the Sentry needs and Node.js does not offer (lseek, terminal ioctls, fcntl flags).
// Each returns the result, or -errno; never throws for a host error, because the Sentry hands the error
// to the program.
#include "host.h"
#include "host_result.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

namespace tsvisor {

namespace {
Napi::Value Lseek(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int64_t offset = info[1].As<Napi::Number>().Int64Value();
  int whence = info[2].As<Napi::Number>().Int32Value();
  return Num(info.Env(), Result(RetryOnEintr([&] { return lseek(fd, offset, whence); })));
}

// ioctl(fd, request, buffer) for the requests whose argument is a plain struct copied out by the host:
// TCGETS (struct termios, 60 bytes) and TIOCGWINSZ (struct winsize, 8 bytes).
Napi::Value IoctlRead(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  uint32_t request = info[1].As<Napi::Number>().Uint32Value();
  Napi::Uint8Array out = info[2].As<Napi::Uint8Array>();
  size_t need = request == TCGETS ? sizeof(struct termios) : request == TIOCGWINSZ ? sizeof(struct winsize) : 0;
  if (need == 0 || out.ByteLength() < need) return Num(info.Env(), -EINVAL);
  // SAFETY: out has at least `need` bytes, the size of the struct this request writes.
  return Num(info.Env(), Result(Ioctl(fd, request, out.Data())));
}

Napi::Value GetFlags(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  return Num(info.Env(), Result(RetryOnEintr([&] { return fcntl(fd, F_GETFL); })));
}
}  // namespace

Napi::Object InitHost(Napi::Env env) {
  Napi::Object host = Napi::Object::New(env);
  host.Set("lseek", Napi::Function::New(env, Lseek));
  host.Set("ioctlRead", Napi::Function::New(env, IoctlRead));
  host.Set("getFlags", Napi::Function::New(env, GetFlags));
  host.Set("TCGETS", Napi::Number::New(env, TCGETS));
  host.Set("TIOCGWINSZ", Napi::Number::New(env, TIOCGWINSZ));
  return host;
}

}  // namespace tsvisor
