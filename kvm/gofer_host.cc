// Host calls for the Gofer (src/gofer) and its client in the Sentry, which Node.js lacks: a SEQPACKET
// socketpair, sendmsg/recvmsg carrying fds (SCM_RIGHTS), and the *at calls the Gofer resolves paths
// with. Every call returns its result or -errno and never throws for a host error.
//
// Every call that takes a name takes exactly one path component relative to a directory fd: the
// name is refused (EINVAL) if it contains '/' or NUL or is "." or "..", and the call never follows a
// symbolic link in that last component (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, or a call that never
// follows). An empty name means the directory fd itself, where the call allows it. So nothing here
// can reach a host file outside the directory fds the Gofer already holds. The one deliberate
// exception is /proc/self/fd/N, which reopens (reopen, chmodFd, utimensat with an empty name)
// exactly the inode an O_PATH fd already refers to.
#include "gofer_host.h"
#include "host_result.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace tsvisor {

namespace {
// Most fds one message carries; the protocol uses one.
constexpr size_t kMaxFds = 8;


// 0 if `name` is one path component the Gofer may use, else -EINVAL or -ENAMETOOLONG.
int CheckName(const std::string& name, bool allow_empty) {
  if (name.empty()) return allow_empty ? 0 : -ENOENT;
  if (name == "." || name == "..") return -EINVAL;
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos) return -EINVAL;
  if (name.size() > NAME_MAX) return -ENAMETOOLONG;
  return 0;
}

std::string ProcFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

int64_t MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

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

// sendMsg(fd, data, length, fds: Int32Array): bytes sent or -errno. One message (SEQPACKET keeps its
// boundary); blocks while the peer's queue is full; MSG_NOSIGNAL turns a closed peer into -EPIPE.
Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  size_t length = info[2].As<Napi::Number>().Uint32Value();
  Napi::Int32Array fds = info[3].As<Napi::Int32Array>();
  if (length > data.ByteLength() || fds.ElementLength() > kMaxFds) return Num(env, -EINVAL);
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  struct iovec iov = {data.Data(), length};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  size_t nfds = fds.ElementLength();
  if (nfds > 0) {
    std::memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    for (size_t i = 0; i < nfds; i++) {
      int value = fds[i];
      // SAFETY: CMSG_DATA has room for nfds ints (cmsg_len above); memcpy because it may be unaligned.
      std::memcpy(CMSG_DATA(cmsg) + i * sizeof(int), &value, sizeof(int));
    }
  }
  for (;;) {
    // SAFETY: msg points at iov (length <= data's size) and control, both alive for the call.
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    return Num(env, Result(n));
  }
}

// recvMsg(fd, buf, fdsOut: Int32Array, timeoutMs): bytes received (0 = the peer closed) or -errno.
// fdsOut is filled with the received fds (close-on-exec) and -1 after them. timeoutMs < 0 waits
// forever; otherwise -ETIMEDOUT after that long. A message larger than buf, or with more fds than
// fdsOut holds, is dropped whole (its fds closed) and gives -EMSGSIZE.
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  Napi::Int32Array fds_out = info[2].As<Napi::Int32Array>();
  int64_t timeout_ms = info[3].As<Napi::Number>().Int64Value();
  for (size_t i = 0; i < fds_out.ElementLength(); i++) fds_out[i] = -1;
  size_t max_fds = std::min(fds_out.ElementLength(), kMaxFds);
  int64_t deadline = timeout_ms >= 0 ? MonotonicMs() + timeout_ms : 0;
  for (;;) {
    if (timeout_ms >= 0) {
      int64_t left = std::max<int64_t>(0, deadline - MonotonicMs());
      struct pollfd p = {fd, POLLIN, 0};
      // SAFETY: one pollfd on the stack.
      int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX)));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Num(env, -errno);
      if (r == 0) return Num(env, -ETIMEDOUT);
    }
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    struct iovec iov = {buf.Data(), buf.ByteLength()};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    // SAFETY: msg points at buf (its whole length) and control, both alive for the call.
    ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | (timeout_ms >= 0 ? MSG_DONTWAIT : 0));
    if (n < 0 && (errno == EINTR || (errno == EAGAIN && timeout_ms >= 0))) continue;
    if (n < 0) return Num(env, -errno);
    size_t got = 0;
    bool dropped = false;
    for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
        int value;
        // SAFETY: the kernel wrote count ints after the header (cmsg_len); memcpy as it may be unaligned.
        std::memcpy(&value, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
        if (got < max_fds) {
          fds_out[got++] = value;
        } else {
          close(value);
          dropped = true;
        }
      }
    }
    if (dropped || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
      for (size_t i = 0; i < got; i++) {
        close(fds_out[i]);
        fds_out[i] = -1;
      }
      return Num(env, -EMSGSIZE);
    }
    return Num(env, n);
  }
}

// openRoot(path): an O_PATH fd for the Gofer's root directory (the one path the host configures).
Napi::Value OpenRoot(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty() || path.find('\0') != std::string::npos) return Num(info.Env(), -EINVAL);
  return Num(info.Env(), Result(RetryOnEintr([&] { return open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); })));
}

// openat(dirfd, name, flags, mode): fd or -errno; O_NOFOLLOW and O_CLOEXEC are always added.
Napi::Value Openat(const Napi::CallbackInfo& info) {
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  int flags = info[2].As<Napi::Number>().Int32Value();
  mode_t mode = info[3].As<Napi::Number>().Uint32Value() & 07777;
  if (int bad = CheckName(name, false)) return Num(info.Env(), bad);
  return Num(info.Env(), Result(RetryOnEintr([&] { return openat(dirfd, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode); })));
}

// reopen(pathFd, flags, dirfd, name): a new open file for the inode pathFd (an O_PATH fd of dirfd/name)
// refers to, through /proc/self/fd. Never creates, so O_CREAT/O_EXCL are dropped; O_NOFOLLOW too (the
// proc entry is the link that must be followed). Lets the Gofer check a file's type before opening it
// for real. Where /proc is not mounted, it opens dirfd/name without following a symlink and without
// blocking, and keeps the result only if it is the very inode pathFd names (-ENOENT otherwise, which
// the caller treats as "changed meanwhile" and retries).
Napi::Value Reopen(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int flags = info[1].As<Napi::Number>().Int32Value();
  int dirfd = info[2].As<Napi::Number>().Int32Value();
  std::string name = info[3].As<Napi::String>().Utf8Value();
  flags &= ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_PATH | O_TMPFILE);
  std::string path = ProcFdPath(fd);
  int opened = RetryOnEintr([&] { return open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY); });
  if (opened >= 0 || errno != ENOENT || access("/proc/self/fd", F_OK) == 0) return Num(info.Env(), Result(opened));
  struct stat want, got;
  if (RetryOnEintr([&] { return fstat(fd, &want); }) < 0) return Num(info.Env(), -errno);
  if (S_ISDIR(want.st_mode)) {
    // SAFETY: "." of an O_PATH directory fd is that directory; no name lookup can be redirected.
    return Num(info.Env(), Result(RetryOnEintr([&] { return openat(fd, ".", flags | O_CLOEXEC | O_NOCTTY); })));
  }
  if (int bad = CheckName(name, false)) return Num(info.Env(), bad);
  opened = RetryOnEintr([&] { return openat(dirfd, name.c_str(), flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY); });
  if (opened < 0) return Num(info.Env(), -errno);
  if (RetryOnEintr([&] { return fstat(opened, &got); }) < 0 || got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
    close(opened);
    return Num(info.Env(), -ENOENT);
  }
  if ((flags & O_NONBLOCK) == 0) fcntl(opened, F_SETFL, fcntl(opened, F_GETFL) & ~O_NONBLOCK);
  return Num(info.Env(), opened);
}

// fstatat(dirfd, name, out): lstat semantics; an empty name is dirfd itself. out receives struct stat.
Napi::Value Fstatat(const Napi::CallbackInfo& info) {
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  Napi::Uint8Array out = info[2].As<Napi::Uint8Array>();
  if (out.ByteLength() < sizeof(struct stat)) return Num(info.Env(), -EINVAL);
  if (int bad = CheckName(name, true)) return Num(info.Env(), bad);
  struct stat st;
  int flags = AT_SYMLINK_NOFOLLOW | (name.empty() ? AT_EMPTY_PATH : 0);
  // SAFETY: st is a local struct stat; copied into out, checked above to be large enough.
  if (RetryOnEintr([&] { return fstatat(dirfd, name.c_str(), &st, flags); }) < 0) return Num(info.Env(), -errno);
  std::memcpy(out.Data(), &st, sizeof(st));
  return Num(info.Env(), 0);
}

// fstat(fd, out): struct stat of an open fd (O_PATH fds included).
Napi::Value Fstat(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array out = info[1].As<Napi::Uint8Array>();
  if (out.ByteLength() < sizeof(struct stat)) return Num(info.Env(), -EINVAL);
  struct stat st;
  // SAFETY: as in Fstatat.
  if (RetryOnEintr([&] { return fstat(fd, &st); }) < 0) return Num(info.Env(), -errno);
  std::memcpy(out.Data(), &st, sizeof(st));
  return Num(info.Env(), 0);
}

// getdents64(fd, buf): bytes of struct linux_dirent64 records, 0 at the end, or -errno.
Napi::Value Getdents64(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  // SAFETY: the kernel writes at most buf.ByteLength() bytes into buf.
  return Num(info.Env(), Result(RetryOnEintr([&] { return syscall(SYS_getdents64, fd, buf.Data(), buf.ByteLength()); })));
}

Napi::Value Mkdirat(const Napi::CallbackInfo& info) {
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  mode_t mode = info[2].As<Napi::Number>().Uint32Value() & 07777;
  if (int bad = CheckName(name, false)) return Num(info.Env(), bad);
  return Num(info.Env(), Result(RetryOnEintr([&] { return mkdirat(dirfd, name.c_str(), mode); })));
}

// unlinkat(dirfd, name, flags): flags is 0 or AT_REMOVEDIR.
Napi::Value Unlinkat(const Napi::CallbackInfo& info) {
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  int flags = info[2].As<Napi::Number>().Int32Value() & AT_REMOVEDIR;
  if (int bad = CheckName(name, false)) return Num(info.Env(), bad);
  return Num(info.Env(), Result(RetryOnEintr([&] { return unlinkat(dirfd, name.c_str(), flags); })));
}

// renameat2(oldDirfd, oldName, newDirfd, newName, flags): flags are RENAME_NOREPLACE/EXCHANGE.
Napi::Value Renameat2(const Napi::CallbackInfo& info) {
  int old_dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string old_name = info[1].As<Napi::String>().Utf8Value();
  int new_dirfd = info[2].As<Napi::Number>().Int32Value();
  std::string new_name = info[3].As<Napi::String>().Utf8Value();
  unsigned flags = info[4].As<Napi::Number>().Uint32Value();
  if (int bad = CheckName(old_name, false)) return Num(info.Env(), bad);
  if (int bad = CheckName(new_name, false)) return Num(info.Env(), bad);
  // SAFETY: both names are NUL-terminated strings alive for the call; flags are checked by the kernel.
  return Num(info.Env(), Result(RetryOnEintr([&] { return syscall(SYS_renameat2, old_dirfd, old_name.c_str(), new_dirfd, new_name.c_str(), flags); })));
}

// symlinkat(target, dirfd, name): the target is stored as given and never resolved here.
Napi::Value Symlinkat(const Napi::CallbackInfo& info) {
  std::string target = info[0].As<Napi::String>().Utf8Value();
  int dirfd = info[1].As<Napi::Number>().Int32Value();
  std::string name = info[2].As<Napi::String>().Utf8Value();
  if (target.find('\0') != std::string::npos) return Num(info.Env(), -EINVAL);
  if (target.size() >= PATH_MAX) return Num(info.Env(), -ENAMETOOLONG);
  if (int bad = CheckName(name, false)) return Num(info.Env(), bad);
  return Num(info.Env(), Result(RetryOnEintr([&] { return symlinkat(target.c_str(), dirfd, name.c_str()); })));
}

// linkat(oldDirfd, oldName, newDirfd, newName): flags 0, so a symlink is linked, not followed.
Napi::Value Linkat(const Napi::CallbackInfo& info) {
  int old_dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string old_name = info[1].As<Napi::String>().Utf8Value();
  int new_dirfd = info[2].As<Napi::Number>().Int32Value();
  std::string new_name = info[3].As<Napi::String>().Utf8Value();
  if (int bad = CheckName(old_name, false)) return Num(info.Env(), bad);
  if (int bad = CheckName(new_name, false)) return Num(info.Env(), bad);
  return Num(info.Env(), Result(RetryOnEintr([&] { return linkat(old_dirfd, old_name.c_str(), new_dirfd, new_name.c_str(), 0); })));
}

// readlinkat(dirfd, name, buf): bytes of the target or -errno; an empty name is dirfd itself (an
// O_PATH fd of a symlink).
Napi::Value Readlinkat(const Napi::CallbackInfo& info) {
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  Napi::Uint8Array buf = info[2].As<Napi::Uint8Array>();
  if (int bad = CheckName(name, true)) return Num(info.Env(), bad);
  // SAFETY: the kernel writes at most buf.ByteLength() bytes into buf.
  ssize_t n = RetryOnEintr([&] { return readlinkat(dirfd, name.c_str(), reinterpret_cast<char*>(buf.Data()), buf.ByteLength()); });
  return Num(info.Env(), Result(n));
}

// chmodFd(pathFd, mode): chmod of the inode an O_PATH fd refers to (fchmod refuses O_PATH fds and
// fchmodat cannot avoid following a symlink). The caller has checked it is not a symlink.
Napi::Value ChmodFd(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  mode_t mode = info[1].As<Napi::Number>().Uint32Value() & 07777;
  std::string path = ProcFdPath(fd);
  return Num(info.Env(), Result(RetryOnEintr([&] { return chmod(path.c_str(), mode); })));
}

// fchownat(dirfd, name, uid, gid): lchown semantics; -1 (or 0xffffffff) leaves an id unchanged.
Napi::Value Fchownat(const Napi::CallbackInfo& info) {
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  uid_t uid = static_cast<uid_t>(info[2].As<Napi::Number>().Int64Value());
  gid_t gid = static_cast<gid_t>(info[3].As<Napi::Number>().Int64Value());
  if (int bad = CheckName(name, true)) return Num(info.Env(), bad);
  int flags = AT_SYMLINK_NOFOLLOW | (name.empty() ? AT_EMPTY_PATH : 0);
  return Num(info.Env(), Result(RetryOnEintr([&] { return fchownat(dirfd, name.c_str(), uid, gid, flags); })));
}

// ftruncate(fd, length).
Napi::Value Ftruncate(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int64_t length = info[1].As<Napi::Number>().Int64Value();
  return Num(info.Env(), Result(RetryOnEintr([&] { return ftruncate(fd, length); })));
}

// utimensat(dirfd, name, atimeSec, atimeNsec, mtimeSec, mtimeNsec): a nsec of UTIME_OMIT or UTIME_NOW
// keeps its meaning. Does not follow a symlink; an empty name is dirfd itself.
Napi::Value Utimensat(const Napi::CallbackInfo& info) {
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  struct timespec times[2];
  times[0].tv_sec = info[2].As<Napi::Number>().Int64Value();
  times[0].tv_nsec = info[3].As<Napi::Number>().Int64Value();
  times[1].tv_sec = info[4].As<Napi::Number>().Int64Value();
  times[1].tv_nsec = info[5].As<Napi::Number>().Int64Value();
  if (int bad = CheckName(name, true)) return Num(info.Env(), bad);
  if (name.empty()) {
    // utimensat(fd, NULL, ...) refuses O_PATH fds: go through the proc link to the same inode.
    std::string path = ProcFdPath(dirfd);
    return Num(info.Env(), Result(RetryOnEintr([&] { return utimensat(AT_FDCWD, path.c_str(), times, 0); })));
  }
  // SAFETY: times is a local array of two timespecs, as utimensat reads.
  return Num(info.Env(), Result(RetryOnEintr([&] { return utimensat(dirfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW); })));
}

// fstatfs(fd, out): out receives struct statfs (120 bytes on x86-64).
Napi::Value Fstatfs(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array out = info[1].As<Napi::Uint8Array>();
  if (out.ByteLength() < sizeof(struct statfs)) return Num(info.Env(), -EINVAL);
  struct statfs st;
  // SAFETY: st is a local struct statfs; copied into out, checked above to be large enough.
  if (RetryOnEintr([&] { return fstatfs(fd, &st); }) < 0) return Num(info.Env(), -errno);
  std::memcpy(out.Data(), &st, sizeof(st));
  return Num(info.Env(), 0);
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
  host.Set("openRoot", Napi::Function::New(env, OpenRoot));
  host.Set("openat", Napi::Function::New(env, Openat));
  host.Set("reopen", Napi::Function::New(env, Reopen));
  host.Set("fstatat", Napi::Function::New(env, Fstatat));
  host.Set("fstat", Napi::Function::New(env, Fstat));
  host.Set("getdents64", Napi::Function::New(env, Getdents64));
  host.Set("mkdirat", Napi::Function::New(env, Mkdirat));
  host.Set("unlinkat", Napi::Function::New(env, Unlinkat));
  host.Set("renameat2", Napi::Function::New(env, Renameat2));
  host.Set("symlinkat", Napi::Function::New(env, Symlinkat));
  host.Set("linkat", Napi::Function::New(env, Linkat));
  host.Set("readlinkat", Napi::Function::New(env, Readlinkat));
  host.Set("chmodFd", Napi::Function::New(env, ChmodFd));
  host.Set("fchownat", Napi::Function::New(env, Fchownat));
  host.Set("ftruncate", Napi::Function::New(env, Ftruncate));
  host.Set("utimensat", Napi::Function::New(env, Utimensat));
  host.Set("fstatfs", Napi::Function::New(env, Fstatfs));
  host.Set("close", Napi::Function::New(env, Close));
  return host;
}

}  // namespace tsvisor
