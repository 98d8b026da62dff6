#include "confined.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../retry.h"

namespace tsvisor::gofer {
namespace {
std::string ProcFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// The call's result, or -errno when it failed.
template <typename T>
T Result(T r) {
  return r < 0 ? -errno : r;
}
}  // namespace

int CheckName(const std::string& name, bool allow_empty) {
  if (name.empty()) return allow_empty ? 0 : -ENOENT;
  if (name == "." || name == "..") return -EINVAL;
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos) return -EINVAL;
  if (name.size() > NAME_MAX) return -ENAMETOOLONG;
  return 0;
}

int OpenRoot(const std::string& path) {
  if (path.empty() || path.find('\0') != std::string::npos) return -EINVAL;
  return Result(RetryOnEintr([&] { return open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); }));
}

int Openat(int dirfd, const std::string& name, int flags, mode_t mode) {
  if (int bad = CheckName(name, false)) return bad;
  return Result(RetryOnEintr([&] { return openat(dirfd, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode & 07777); }));
}

int Reopen(int path_fd, int flags, int dirfd, const std::string& name) {
  // O_NOFOLLOW is dropped: the proc entry is the link that must be followed.
  flags &= ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_PATH | O_TMPFILE);
  std::string path = ProcFdPath(path_fd);
  int opened = RetryOnEintr([&] { return open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY); });
  if (opened >= 0 || errno != ENOENT || access("/proc/self/fd", F_OK) == 0) return Result(opened);
  struct stat want, got;
  if (RetryOnEintr([&] { return fstat(path_fd, &want); }) < 0) return -errno;
  if (S_ISDIR(want.st_mode)) {
    // SAFETY: "." of an O_PATH directory fd is that directory; no name lookup can be redirected.
    return Result(RetryOnEintr([&] { return openat(path_fd, ".", flags | O_CLOEXEC | O_NOCTTY); }));
  }
  if (int bad = CheckName(name, false)) return bad;
  opened = RetryOnEintr([&] { return openat(dirfd, name.c_str(), flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY); });
  if (opened < 0) return -errno;
  if (RetryOnEintr([&] { return fstat(opened, &got); }) < 0 || got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
    close(opened);
    return -ENOENT;
  }
  if ((flags & O_NONBLOCK) == 0) fcntl(opened, F_SETFL, fcntl(opened, F_GETFL) & ~O_NONBLOCK);
  return opened;
}

int Fstatat(int dirfd, const std::string& name, struct stat* out) {
  if (int bad = CheckName(name, true)) return bad;
  int flags = AT_SYMLINK_NOFOLLOW | (name.empty() ? AT_EMPTY_PATH : 0);
  return Result(RetryOnEintr([&] { return fstatat(dirfd, name.c_str(), out, flags); }));
}

int Fstat(int fd, struct stat* out) { return Result(RetryOnEintr([&] { return fstat(fd, out); })); }

ssize_t Getdents64(int fd, void* buf, size_t size) {
  // SAFETY: the kernel writes at most size bytes into buf.
  return Result(RetryOnEintr([&] { return syscall(SYS_getdents64, fd, buf, size); }));
}

int Mkdirat(int dirfd, const std::string& name, mode_t mode) {
  if (int bad = CheckName(name, false)) return bad;
  return Result(RetryOnEintr([&] { return mkdirat(dirfd, name.c_str(), mode & 07777); }));
}

int Unlinkat(int dirfd, const std::string& name, int flags) {
  if (int bad = CheckName(name, false)) return bad;
  return Result(RetryOnEintr([&] { return unlinkat(dirfd, name.c_str(), flags & AT_REMOVEDIR); }));
}

int Renameat2(int old_dirfd, const std::string& old_name, int new_dirfd, const std::string& new_name, unsigned flags) {
  if (int bad = CheckName(old_name, false)) return bad;
  if (int bad = CheckName(new_name, false)) return bad;
  // SAFETY: both names are NUL-terminated strings alive for the call; flags are checked by the kernel.
  return static_cast<int>(Result(RetryOnEintr([&] {
    return syscall(SYS_renameat2, old_dirfd, old_name.c_str(), new_dirfd, new_name.c_str(), flags);
  })));
}

int Symlinkat(const std::string& target, int dirfd, const std::string& name) {
  if (target.find('\0') != std::string::npos) return -EINVAL;
  if (target.size() >= PATH_MAX) return -ENAMETOOLONG;
  if (int bad = CheckName(name, false)) return bad;
  return Result(RetryOnEintr([&] { return symlinkat(target.c_str(), dirfd, name.c_str()); }));
}

int Linkat(int old_dirfd, const std::string& old_name, int new_dirfd, const std::string& new_name) {
  if (int bad = CheckName(old_name, false)) return bad;
  if (int bad = CheckName(new_name, false)) return bad;
  return Result(RetryOnEintr([&] { return linkat(old_dirfd, old_name.c_str(), new_dirfd, new_name.c_str(), 0); }));
}

ssize_t Readlinkat(int dirfd, const std::string& name, char* buf, size_t size) {
  if (int bad = CheckName(name, true)) return bad;
  return Result(RetryOnEintr([&] { return readlinkat(dirfd, name.c_str(), buf, size); }));
}

int ChmodFd(int path_fd, mode_t mode) {
  std::string path = ProcFdPath(path_fd);
  return Result(RetryOnEintr([&] { return chmod(path.c_str(), mode & 07777); }));
}

int Fchownat(int dirfd, const std::string& name, uid_t uid, gid_t gid) {
  if (int bad = CheckName(name, true)) return bad;
  int flags = AT_SYMLINK_NOFOLLOW | (name.empty() ? AT_EMPTY_PATH : 0);
  return Result(RetryOnEintr([&] { return fchownat(dirfd, name.c_str(), uid, gid, flags); }));
}

int Ftruncate(int fd, off_t length) { return Result(RetryOnEintr([&] { return ftruncate(fd, length); })); }

int Utimensat(int dirfd, const std::string& name, const struct timespec times[2]) {
  if (int bad = CheckName(name, true)) return bad;
  if (name.empty()) {
    // utimensat(fd, NULL, ...) refuses O_PATH fds: go through the proc link to the same inode.
    std::string path = ProcFdPath(dirfd);
    return Result(RetryOnEintr([&] { return utimensat(AT_FDCWD, path.c_str(), times, 0); }));
  }
  return Result(RetryOnEintr([&] { return utimensat(dirfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW); }));
}

int Fstatfs(int fd, struct statfs* out) { return Result(RetryOnEintr([&] { return fstatfs(fd, out); })); }
}  // namespace tsvisor::gofer
