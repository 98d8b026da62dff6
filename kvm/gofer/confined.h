// The host calls the Gofer resolves paths with, each confined to one path component relative to a
// directory fd. Every call returns its result or -errno.
//
// A name is refused (-EINVAL) if it contains '/' or NUL or is "." or "..", and a call never follows a
// symbolic link in it (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, or a call that never follows). An empty name
// means the directory fd itself, where a call allows it. So nothing here can reach a host file outside
// the directory fds the Gofer already holds. The one deliberate exception is /proc/self/fd/N, which
// reopens (Reopen, ChmodFd, Utimensat with an empty name) exactly the inode an O_PATH fd refers to.
#pragma once
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <cstddef>
#include <string>

namespace tsvisor::gofer {
// 0 if name is one path component, else -ENOENT (empty, unless allowed), -EINVAL or -ENAMETOOLONG.
int CheckName(const std::string& name, bool allow_empty);

// An O_PATH|O_DIRECTORY fd for a root directory: the one path the host configures.
int OpenRoot(const std::string& path);
// openat with O_NOFOLLOW and O_CLOEXEC added.
int Openat(int dirfd, const std::string& name, int flags, mode_t mode);
// A new open file for the inode pathFd (an O_PATH fd of dirfd/name) refers to, through /proc/self/fd;
// never creates. Where /proc is not mounted it opens dirfd/name without following a symlink and keeps
// it only if it is that very inode (-ENOENT otherwise: "changed meanwhile", which callers retry).
int Reopen(int path_fd, int flags, int dirfd, const std::string& name);
// lstat semantics; an empty name is dirfd itself.
int Fstatat(int dirfd, const std::string& name, struct stat* out);
int Fstat(int fd, struct stat* out);
ssize_t Getdents64(int fd, void* buf, size_t size);
int Mkdirat(int dirfd, const std::string& name, mode_t mode);
// flags: 0 or AT_REMOVEDIR.
int Unlinkat(int dirfd, const std::string& name, int flags);
int Renameat2(int old_dirfd, const std::string& old_name, int new_dirfd, const std::string& new_name, unsigned flags);
// The target is stored as given and never resolved here.
int Symlinkat(const std::string& target, int dirfd, const std::string& name);
// A symlink is linked, not followed.
int Linkat(int old_dirfd, const std::string& old_name, int new_dirfd, const std::string& new_name);
// Bytes of the target; an empty name is dirfd itself (an O_PATH fd of a symlink).
ssize_t Readlinkat(int dirfd, const std::string& name, char* buf, size_t size);
// chmod of the inode an O_PATH fd refers to (fchmod refuses O_PATH fds and fchmodat cannot avoid
// following a symlink); the caller has checked it is not a symlink.
int ChmodFd(int path_fd, mode_t mode);
// lchown semantics; (uid_t)-1 leaves an id unchanged.
int Fchownat(int dirfd, const std::string& name, uid_t uid, gid_t gid);
int Ftruncate(int fd, off_t length);
// Does not follow a symlink; an empty name is dirfd itself. A tv_nsec of UTIME_OMIT or UTIME_NOW keeps
// its meaning.
int Utimensat(int dirfd, const std::string& name, const struct timespec times[2]);
int Fstatfs(int fd, struct statfs* out);
}  // namespace tsvisor::gofer
