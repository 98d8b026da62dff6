// FdWatch: tells the Sentry when a host fd becomes readable or writable, without blocking its thread
// and without polling. A libuv poll handle (epoll underneath) in Node.js's own event loop watches a
// private duplicate of the fd (so it never collides with a handle Node.js keeps on the same fd number,
// such as its stdout), is started for the events a waiting task needs, and stops as soon as it fires:
// one callback per start, on the JS thread. While started it keeps the event loop alive, as a task
// waiting for a host fd should keep the sandbox alive.
//
//   new FdWatch(fd, callback(events))  events: POLLIN, POLLOUT, POLLHUP, POLLERR bits
//   .error       0, or -errno if the fd cannot be watched (EPERM: a regular file, which never blocks)
//   .start(events) 0 or -errno        .stop()        .close()  (also when the object is collected)
//
// libuv makes the watched description non-blocking (uv_poll_init); the Sentry's host files use
// descriptions that are non-blocking anyway (src/fs/file.ts).
#include "fd_watch.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <uv.h>

#include <memory>

#include "host_result.h"

namespace tsvisor {

namespace {

class FdWatch : public Napi::ObjectWrap<FdWatch> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdWatch",
                       {
                           InstanceAccessor<&FdWatch::GetError>("error"),
                           InstanceMethod<&FdWatch::Start>("start"),
                           InstanceMethod<&FdWatch::Stop>("stop"),
                           InstanceMethod<&FdWatch::Close>("close"),
                       });
  }

  explicit FdWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdWatch>(info) {
    Napi::Env env = info.Env();
    int fd = info[0].As<Napi::Number>().Int32Value();
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "tsvisor:fd-watch");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      error_ = -EINVAL;
      return;
    }
    int dup = RetryOnEintr([&] { return fcntl(fd, F_DUPFD_CLOEXEC, 3); });
    if (dup < 0) {
      error_ = -errno;
      return;
    }
    auto* poll = new Poll{};
    poll->fd = dup;
    poll->owner = this;
    poll->handle.data = poll;
    int r = uv_poll_init(loop, &poll->handle, dup);
    if (r != 0) {
      // Never initialised: nothing for libuv to close.
      close(dup);
      delete poll;
      error_ = r;  // libuv errors are -errno on Unix
      return;
    }
    poll_ = poll;
  }

  ~FdWatch() override { Release(); }

 private:
  // The libuv handle lives on its own: libuv frees it only after the close callback, which may come
  // after this object is gone.
  struct Poll {
    uv_poll_t handle;
    int fd = -1;
    FdWatch* owner = nullptr;
  };

  Napi::Value GetError(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), error_); }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (poll_ == nullptr) return Num(env, error_ != 0 ? error_ : -EBADF);
    uint32_t want = info[0].As<Napi::Number>().Uint32Value();
    int events = ((want & POLLIN) ? UV_READABLE : 0) | ((want & POLLOUT) ? UV_WRITABLE : 0);
    if (events == 0) return Num(env, -EINVAL);
    return Num(env, uv_poll_start(&poll_->handle, events, OnPoll));
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_poll_stop(&poll_->handle);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  void Release() {
    if (poll_ == nullptr) return;
    poll_->owner = nullptr;
    uv_poll_stop(&poll_->handle);
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_->handle), [](uv_handle_t* h) {
      auto* poll = static_cast<Poll*>(h->data);
      close(poll->fd);
      delete poll;
    });
    poll_ = nullptr;
  }

  // One event: stop (the waiters retry their operation and start again if they must wait more), then
  // tell JS. A status < 0 is an error on the fd (libuv reports POLLERR so, and stops the handle).
  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* poll = static_cast<Poll*>(handle->data);
    FdWatch* self = poll->owner;
    uv_poll_stop(handle);
    if (self == nullptr) return;
    uint32_t ready = status < 0 ? POLLERR
                   : ((events & UV_READABLE) ? POLLIN : 0) | ((events & UV_WRITABLE) ? POLLOUT : 0) |
                     ((events & UV_DISCONNECT) ? POLLHUP : 0);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    try {
      self->callback_.MakeCallback(self->Value(), {Napi::Number::New(env, ready)}, *self->context_);
    } catch (const Napi::Error& e) {
      // As for any event-loop callback that throws: the process's uncaught exception.
      napi_fatal_exception(env, e.Value());
    }
  }

  Poll* poll_ = nullptr;
  int error_ = 0;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

}  // namespace

Napi::Function InitFdWatch(Napi::Env env) { return FdWatch::Define(env); }

}  // namespace tsvisor
