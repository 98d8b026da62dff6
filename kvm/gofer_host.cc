// Host calls for the Sentry's side of the Gofer's socket (src/gofer), which Node.js lacks: a SEQPACKET
// socketpair and sendmsg/recvmsg carrying fds (SCM_RIGHTS, seqpacket.cc). Every call returns its result
// or -errno and never throws for a host error. The Gofer itself is the executable in kvm/gofer/.
#include "gofer_host.h"
#include "host_result.h"
#include "seqpacket.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tsvisor {

namespace {
// socketPair(out: Int32Array(2)): 0 or -errno. Both ends are close-on-exec; spawn dup2s one into the
// child, which clears the flag on the child's copy only.
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Int32Array out = info[0].As<Napi::Int32Array>();
  if (out.ElementLength() < 2) return Num(info.Env(), -EINVAL);
  int fds[2];
  // SAFETY: fds has room for the two descriptors socketpair writes.
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) return Num(info.Env(), -errno);
  out[0] = fds[0];
  out[1] = fds[1];
  return Num(info.Env(), 0);
}

// sendMsg(fd, data, length, fds: Int32Array): bytes sent or -errno (SendMessage).
Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  size_t length = info[2].As<Napi::Number>().Uint32Value();
  Napi::Int32Array fds = info[3].As<Napi::Int32Array>();
  if (length > data.ByteLength() || fds.ElementLength() > kMaxMessageFds) return Num(env, -EINVAL);
  return Num(env, SendMessage(fd, data.Data(), length, fds.Data(), fds.ElementLength()));
}

// recvMsg(fd, buf, fdsOut: Int32Array, timeoutMs): bytes received (0 = the peer closed) or -errno
// (ReceiveMessage): fdsOut gets the fds received, then -1s.
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  Napi::Int32Array fds_out = info[2].As<Napi::Int32Array>();
  int64_t timeout_ms = info[3].As<Napi::Number>().Int64Value();
  return Num(env, ReceiveMessage(fd, buf.Data(), buf.ByteLength(), fds_out.Data(), fds_out.ElementLength(), timeout_ms));
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  return Num(info.Env(), Result(close(fd)));
}
}  // namespace

Napi::Object InitGoferHost(Napi::Env env) {
  Napi::Object host = Napi::Object::New(env);
  host.Set("socketPair", Napi::Function::New(env, SocketPair));
  host.Set("sendMsg", Napi::Function::New(env, SendMsg));
  host.Set("recvMsg", Napi::Function::New(env, RecvMsg));
  host.Set("close", Napi::Function::New(env, Close));
  return host;
}

}  // namespace tsvisor
