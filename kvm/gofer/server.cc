// The Gofer's answers to the Sentry's requests, one root at a time.
//
// Confinement: each root is opened once (O_PATH). Every path arrives as components below it, each
// checked here (no ".", "..", "/", NUL); the walk opens one component at a time with
// openat(O_PATH|O_DIRECTORY|O_NOFOLLOW) from the previous directory fd, so neither ".." nor a symlink,
// however it was swapped in, can lead outside: a symlink met during the walk is ELOOP, and the last
// component is never followed either (the Sentry reads symlinks with readlink and resolves them inside
// the sandbox). Files are opened by first taking an O_PATH fd, checking its type, and only then
// reopening that very inode (so a device node is never opened: EACCES). Kernel pseudo-filesystems
// mounted below the root (/proc, /sys, ... when the root is the host's /) are never opened or listed
// either (EACCES): the sandbox has its own. In read-only mode every request that would change the tree
// gets EROFS, after the lookup errors Linux reports first.
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <sstream>
#include <utility>

#include "../seqpacket.h"
#include "confined.h"

namespace tsvisor::gofer {
namespace {
namespace lf = linux_flags;

// How often open retries when a file it is about to create appears, or one it found disappears.
constexpr int kOpenRaceRetries = 4;
constexpr int64_t kNsPerSecond = 1000000000;
// RENAME_NOREPLACE | RENAME_EXCHANGE.
constexpr uint32_t kRenameFlags = 1 | 2;
static_assert(sizeof(struct stat) == 144, "the protocol's stat is x86-64's struct stat");
static_assert(sizeof(struct statfs) == 120, "the protocol's statfs is x86-64's struct statfs");

// Nanoseconds since the epoch as a timespec with 0 <= tv_nsec < 1e9; an absent time is UTIME_OMIT.
struct timespec Timespec(bool present, int64_t ns) {
  if (!present) return {0, UTIME_OMIT};
  int64_t sec = ns / kNsPerSecond;
  int64_t nsec = ns % kNsPerSecond;
  if (nsec < 0) {
    nsec += kNsPerSecond;
    sec -= 1;
  }
  return {sec, nsec};
}

// 0, or the error of the first component that is not one plain name.
int CheckPath(const std::vector<std::string>& path) {
  if (path.size() > kMaxComponents) return -ENAMETOOLONG;
  for (const std::string& name : path) {
    if (int bad = CheckName(name, false)) return bad;
  }
  return 0;
}
}  // namespace

bool DecodeRequest(const uint8_t* bytes, size_t length, uint32_t* id, uint16_t* op, uint16_t* root, Request* req) {
  Reader r(bytes, length);
  *id = r.U32();
  *op = r.U16();
  *root = r.U16();
  if (r.bad() || *root >= kMaxRoots) return false;
  Request& q = *req;
  q = Request();
  q.op = *op;
  switch (*op) {
    case kStat: case kReaddir: case kReadlink:
      q.path = r.Path();
      break;
    case kOpen:
      q.path = r.Path();
      q.flags = r.U32();
      q.mode = r.U32();
      break;
    case kMkdir: case kChmod:
      q.path = r.Path();
      q.mode = r.U32();
      break;
    case kUnlink: {
      q.path = r.Path();
      uint8_t is_dir = r.U8();
      if (is_dir > 1) return false;
      q.is_dir = is_dir == 1;
      break;
    }
    case kRename:
      q.path = r.Path();
      q.to = r.Path();
      q.flags = r.U32();
      break;
    case kSymlink:
      q.target = r.Str();
      q.path = r.Path();
      break;
    case kLink:
      q.path = r.Path();
      q.to = r.Path();
      break;
    case kChown:
      q.path = r.Path();
      q.uid = r.U32();
      q.gid = r.U32();
      break;
    case kTruncate:
      q.path = r.Path();
      q.length = r.I64();
      // The client sends only lengths it can name exactly (0 .. 2^53-1).
      if (q.length < 0 || q.length > (int64_t{1} << 53) - 1) return false;
      break;
    case kUtimens: {
      q.path = r.Path();
      uint8_t present = r.U8();
      q.atime_ns = r.I64();
      q.mtime_ns = r.I64();
      q.has_atime = (present & 1) != 0;
      q.has_mtime = (present & 2) != 0;
      // An absent time must be sent as 0: one meaning per message.
      if (present > 3 || (!q.has_atime && q.atime_ns != 0) || (!q.has_mtime && q.mtime_ns != 0)) return false;
      break;
    }
    case kStatfs:
      break;
    default:
      return false;
  }
  return r.Complete();
}

RootServer::RootServer(int root_fd, bool read_only, int socket_fd, std::set<dev_t> refused_devs)
    : root_fd_(root_fd), read_only_(read_only), socket_fd_(socket_fd), refused_devs_(std::move(refused_devs)), dir_buf_(32 * 1024) {}

bool RootServer::Answer(uint32_t id, uint16_t op, const Request* req) {
  if (req == nullptr) return ReplyStatus(id, op, -EIO);
  const Request& q = *req;
  switch (q.op) {
    case kStat: return Stat(id, q);
    case kOpen: return Open(id, q);
    case kReaddir: return Readdir(id, q);
    case kReadlink: return Readlink(id, q);
    case kStatfs: return Statfs(id);
    case kMkdir: return ReplyStatus(id, q.op, WithParent(q.path, [&](const Parent& p) { return Mkdir(p, q.mode); }));
    case kUnlink: return ReplyStatus(id, q.op, WithParent(q.path, [&](const Parent& p) { return Unlink(p, q.is_dir); }));
    case kRename: return ReplyStatus(id, q.op, Rename(q));
    case kSymlink: return ReplyStatus(id, q.op, WithParent(q.path, [&](const Parent& p) { return Symlink(q.target, p); }));
    case kLink: return ReplyStatus(id, q.op, Link(q));
    case kChmod: return ReplyStatus(id, q.op, WithParent(q.path, [&](const Parent& p) { return Chmod(p, q.mode); }));
    case kChown: return ReplyStatus(id, q.op, WithParent(q.path, [&](const Parent& p) { return Chown(p, q.uid, q.gid); }));
    case kTruncate: return ReplyStatus(id, q.op, WithParent(q.path, [&](const Parent& p) { return Truncate(p, q.length); }));
    case kUtimens: return ReplyStatus(id, q.op, WithParent(q.path, [&](const Parent& p) { return Utimens(p, q); }));
    default: return ReplyStatus(id, op, -EIO);
  }
}

bool RootServer::ReplyStatus(uint32_t id, uint16_t op, int result) {
  w_.BeginReply(id, op, result < 0 ? static_cast<uint32_t>(-result) : 0);
  return Send(-1);
}

bool RootServer::Send(int fd) {
  return SendMessage(socket_fd_, w_.data(), w_.size(), fd >= 0 ? &fd : nullptr, fd >= 0 ? 1 : 0) >= 0;
}

// --- the walk ---

int RootServer::OpenParent(const std::vector<std::string>& path, Parent* out) {
  if (int bad = CheckPath(path)) return bad;
  if (path.empty()) {
    *out = {root_fd_, std::string()};
    return 0;
  }
  int fd = root_fd_;
  for (size_t i = 0; i + 1 < path.size(); i++) {
    int next = Openat(fd, path[i], O_PATH | O_DIRECTORY, 0);
    int err = next < 0 ? NotFollowed(fd, path[i], next) : 0;
    if (fd != root_fd_) close(fd);
    if (next < 0) return err;
    fd = next;
  }
  *out = {fd, path.back()};
  return 0;
}

// A directory open that failed because name is a symlink reports ELOOP, as RESOLVE_NO_SYMLINKS does.
int RootServer::NotFollowed(int dir_fd, const std::string& name, int err) {
  if (err != -ENOTDIR && err != -ELOOP) return err;
  struct stat st;
  return Fstatat(dir_fd, name, &st) == 0 && S_ISLNK(st.st_mode) ? -ELOOP : err;
}

void RootServer::Release(const Parent& p) {
  if (p.fd != root_fd_) close(p.fd);
}

template <typename Fn>
int RootServer::WithParent(const std::vector<std::string>& path, Fn fn) {
  Parent p;
  if (int err = OpenParent(path, &p)) return err;
  int r = fn(p);
  Release(p);
  return r;
}

// An O_PATH fd of the last component itself (not followed), or the parent's fd for the root;
// released with DropPathFd.
int RootServer::PathFd(const Parent& p) { return p.name.empty() ? p.fd : Openat(p.fd, p.name, O_PATH, 0); }

void RootServer::DropPathFd(const Parent& p, int fd) {
  if (fd != p.fd) close(fd);
}

bool RootServer::Refused(const struct stat& st) const { return refused_devs_.count(st.st_dev) != 0; }

// For a request that would create p in read-only mode: EEXIST if it exists (as Linux checks first), else EROFS.
int RootServer::ReadOnlyCreate(const Parent& p) {
  if (p.name.empty()) return -EEXIST;
  struct stat st;
  int r = Fstatat(p.fd, p.name, &st);
  return r == 0 ? -EEXIST : r == -ENOENT ? -EROFS : r;
}

// For a request that would change p in read-only mode: its lookup error if any, else EROFS.
int RootServer::ReadOnlyChange(const Parent& p) {
  struct stat st;
  int r = Fstatat(p.fd, p.name, &st);
  return r < 0 ? r : -EROFS;
}

// --- requests answered with data ---

bool RootServer::Stat(uint32_t id, const Request& req) {
  struct stat st;
  int r = WithParent(req.path, [&](const Parent& p) { return Fstatat(p.fd, p.name, &st); });
  if (r < 0) return ReplyStatus(id, kStat, r);
  w_.BeginReply(id, kStat).Raw(&st, sizeof(st));
  return Send(-1);
}

bool RootServer::Open(uint32_t id, const Request& req) {
  int fd = WithParent(req.path, [&](const Parent& p) { return OpenIn(p, req.flags, req.mode); });
  if (fd < 0) return ReplyStatus(id, kOpen, fd);
  struct stat st;
  int r = Fstat(fd, &st);
  bool alive;
  if (r < 0) {
    alive = ReplyStatus(id, kOpen, r);
  } else {
    w_.BeginReply(id, kOpen).Raw(&st, sizeof(st));
    alive = Send(fd);
  }
  close(fd);
  return alive;
}

int RootServer::OpenIn(const Parent& p, uint32_t flags, uint32_t mode) {
  if ((flags & lf::kAccmode) == lf::kAccmode) return -EINVAL;
  if ((flags & (lf::kPath | lf::kTmpfileBit)) != 0) return -EOPNOTSUPP;
  flags &= lf::kPassed;
  for (int attempt = 0; attempt < kOpenRaceRetries; attempt++) {
    int path_fd = PathFd(p);
    if (path_fd == -ENOENT && (flags & lf::kCreat) != 0) {
      if (read_only_) return -EROFS;
      // O_EXCL: whatever is created is a new regular file, never something that was already there.
      int fd = Openat(p.fd, p.name, static_cast<int>(flags | lf::kExcl), mode);
      if (fd == -EEXIST && (flags & lf::kExcl) == 0) continue;  // appeared meanwhile: open it instead
      return fd;
    }
    if (path_fd < 0) return path_fd;
    int fd = ReopenChecked(path_fd, flags, p);
    DropPathFd(p, path_fd);
    if (fd == -ENOENT) continue;  // removed meanwhile
    return fd;
  }
  return -ENOENT;
}

// Opens the file an O_PATH fd refers to, after checking what it is.
int RootServer::ReopenChecked(int path_fd, uint32_t flags, const Parent& p) {
  struct stat st;
  if (int r = Fstat(path_fd, &st)) return r;
  mode_t type = st.st_mode & S_IFMT;
  uint32_t access = flags & lf::kAccmode;
  if ((flags & (lf::kCreat | lf::kExcl)) == (lf::kCreat | lf::kExcl)) return -EEXIST;
  if (type == S_IFLNK) return -ELOOP;  // open(2): "the trailing component is a symbolic link" with O_NOFOLLOW
  if ((flags & lf::kDirectory) != 0 && type != S_IFDIR) return -ENOTDIR;
  if (type == S_IFSOCK) return -ENXIO;
  // Devices and FIFOs are never opened on the host through the Gofer (as on a nodev mount).
  if ((type != S_IFREG && type != S_IFDIR) || Refused(st)) return -EACCES;
  if (type == S_IFDIR && (access != lf::kRdonly || (flags & lf::kCreat) != 0)) return -EISDIR;
  if (read_only_ && type == S_IFREG && (access != lf::kRdonly || (flags & lf::kTrunc) != 0)) return -EROFS;
  return Reopen(path_fd, static_cast<int>(flags), p.fd, p.name);
}

bool RootServer::Readdir(uint32_t id, const Request& req) {
  Parent p;
  if (int err = OpenParent(req.path, &p)) return ReplyStatus(id, kReaddir, err);
  int fd = p.name.empty() ? Reopen(p.fd, O_RDONLY | O_DIRECTORY, p.fd, p.name) : Openat(p.fd, p.name, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) fd = NotFollowed(p.fd, p.name, fd);
  Release(p);
  if (fd < 0) return ReplyStatus(id, kReaddir, fd);
  struct stat st;
  int r = Fstat(fd, &st);
  bool alive = r < 0 || Refused(st) ? ReplyStatus(id, kReaddir, r < 0 ? r : -EACCES) : SendEntries(id, fd);
  close(fd);
  return alive;
}

// Streams the entries (but "." and "..") as u64 ino, u8 d_type, u16 length, name; REPLY_MORE on all but
// the last message.
bool RootServer::SendEntries(uint32_t id, int fd) {
  uint8_t* buf = dir_buf_.data();
  w_.BeginReply(id, kReaddir, 0, kReplyMore);
  for (;;) {
    ssize_t n = Getdents64(fd, buf, dir_buf_.size());
    if (n < 0) return ReplyStatus(id, kReaddir, static_cast<int>(n));
    if (n == 0) break;
    // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[] (NUL-terminated).
    for (size_t pos = 0; pos + 19 < static_cast<size_t>(n);) {
      uint16_t reclen;
      std::memcpy(&reclen, buf + pos + 16, 2);
      if (reclen < 20 || pos + reclen > static_cast<size_t>(n)) break;
      const uint8_t* name = buf + pos + 19;
      const void* nul = std::memchr(name, 0, reclen - 19);
      size_t length = nul != nullptr ? static_cast<const uint8_t*>(nul) - name : reclen - 19;
      bool dot = length == 1 && name[0] == '.';
      bool dotdot = length == 2 && name[0] == '.' && name[1] == '.';
      if (!dot && !dotdot) {
        if (!w_.Fits(11 + length)) {
          if (!Send(-1)) return false;
          w_.BeginReply(id, kReaddir, 0, kReplyMore);
        }
        w_.Raw(buf + pos, 8).U8(buf[pos + 18]).U16(static_cast<uint16_t>(length)).Raw(name, length);
      }
      pos += reclen;
    }
  }
  w_.SetByte(kReplyFlagsOffset, 0);  // the last reply: clear REPLY_MORE
  return Send(-1);
}

bool RootServer::Readlink(uint32_t id, const Request& req) {
  char target[PATH_MAX];
  int n = WithParent(req.path, [&](const Parent& p) {
    return p.name.empty() ? -EINVAL : static_cast<int>(Readlinkat(p.fd, p.name, target, sizeof(target)));
  });
  if (n < 0) return ReplyStatus(id, kReadlink, n);
  if (n >= PATH_MAX) return ReplyStatus(id, kReadlink, -ENAMETOOLONG);
  w_.BeginReply(id, kReadlink).U16(static_cast<uint16_t>(n)).Raw(target, n);
  return Send(-1);
}

bool RootServer::Statfs(uint32_t id) {
  struct statfs st;
  if (int r = Fstatfs(root_fd_, &st)) return ReplyStatus(id, kStatfs, r);
  w_.BeginReply(id, kStatfs).Raw(&st, sizeof(st));
  return Send(-1);
}

// --- requests answered with a status (0 or -errno) ---

int RootServer::Mkdir(const Parent& p, uint32_t mode) {
  if (read_only_ || p.name.empty()) return ReadOnlyCreate(p);
  return Mkdirat(p.fd, p.name, mode);
}

int RootServer::Unlink(const Parent& p, bool is_dir) {
  if (p.name.empty()) return -EBUSY;
  if (read_only_) return -EROFS;
  return Unlinkat(p.fd, p.name, is_dir ? AT_REMOVEDIR : 0);
}

int RootServer::Rename(const Request& req) {
  if ((req.flags & ~kRenameFlags) != 0) return -EINVAL;
  return WithParent(req.path, [&](const Parent& a) {
    return WithParent(req.to, [&](const Parent& b) {
      if (a.name.empty() || b.name.empty()) return -EBUSY;
      if (read_only_) return -EROFS;
      return Renameat2(a.fd, a.name, b.fd, b.name, req.flags);
    });
  });
}

int RootServer::Symlink(const std::string& target, const Parent& p) {
  if (target.empty()) return -ENOENT;
  if (target.find('\0') != std::string::npos) return -EINVAL;
  if (target.size() >= PATH_MAX) return -ENAMETOOLONG;
  if (read_only_ || p.name.empty()) return ReadOnlyCreate(p);
  return Symlinkat(target, p.fd, p.name);
}

int RootServer::Link(const Request& req) {
  return WithParent(req.path, [&](const Parent& a) {
    return WithParent(req.to, [&](const Parent& b) {
      if (a.name.empty()) return -EPERM;
      if (read_only_ || b.name.empty()) {
        struct stat st;
        int r = Fstatat(a.fd, a.name, &st);
        return r < 0 ? r : ReadOnlyCreate(b);
      }
      return Linkat(a.fd, a.name, b.fd, b.name);
    });
  });
}

int RootServer::Chmod(const Parent& p, uint32_t mode) {
  int fd = PathFd(p);
  if (fd < 0) return fd;
  struct stat st;
  int r = Fstat(fd, &st);
  if (r == 0) {
    if (S_ISLNK(st.st_mode)) r = -EOPNOTSUPP;  // as fchmodat(AT_SYMLINK_NOFOLLOW) on Linux
    else if (read_only_) r = -EROFS;
    else r = ChmodFd(fd, mode & 07777);
  }
  DropPathFd(p, fd);
  return r;
}

int RootServer::Chown(const Parent& p, uint32_t uid, uint32_t gid) {
  if (read_only_) return ReadOnlyChange(p);
  return Fchownat(p.fd, p.name, uid, gid);
}

int RootServer::Truncate(const Parent& p, int64_t length) {
  int path_fd = PathFd(p);
  if (path_fd < 0) return path_fd;
  struct stat st;
  int r = Fstat(path_fd, &st);
  if (r == 0) {
    mode_t type = st.st_mode & S_IFMT;
    if (type == S_IFLNK) r = -ELOOP;
    else if (type == S_IFDIR) r = -EISDIR;
    else if (type != S_IFREG) r = -EINVAL;
    else if (Refused(st)) r = -EACCES;
    else if (read_only_) r = -EROFS;
  }
  if (r == 0) {
    // O_NONBLOCK: an open that would wait for a lease to break fails instead of hanging the Gofer.
    int fd = Reopen(path_fd, O_WRONLY | O_NONBLOCK, p.fd, p.name);
    if (fd < 0) {
      r = fd;
    } else {
      r = Ftruncate(fd, length);
      close(fd);
    }
  }
  DropPathFd(p, path_fd);
  return r;
}

int RootServer::Utimens(const Parent& p, const Request& req) {
  if (read_only_) return ReadOnlyChange(p);
  const struct timespec times[2] = {Timespec(req.has_atime, req.atime_ns), Timespec(req.has_mtime, req.mtime_ns)};
  return Utimensat(p.fd, p.name, times);
}

Service::Service(std::vector<std::unique_ptr<RootServer>> roots, int socket_fd) : roots_(std::move(roots)), socket_fd_(socket_fd) {}

bool Service::Handle(const uint8_t* bytes, size_t length) {
  uint32_t id = 0;
  uint16_t op = 0, root = 0;
  bool valid = DecodeRequest(bytes, length, &id, &op, &root, &req_);
  if (root < roots_.size() && roots_[root] != nullptr) return roots_[root]->Answer(id, op, valid ? &req_ : nullptr);
  Writer w;
  w.BeginReply(id, op, EIO);
  return SendMessage(socket_fd_, w.data(), w.size(), nullptr, 0) >= 0;
}

// Kernel pseudo-filesystems whose files the Gofer never opens when they are mounted below its root.
std::set<dev_t> PseudoFilesystemDevs(dev_t root_dev, const std::string& mountinfo) {
  static const std::set<std::string> kPseudo = {
      "proc", "sysfs", "debugfs", "tracefs", "securityfs", "cgroup", "cgroup2", "bpf", "configfs", "pstore",
      "efivarfs", "fusectl", "binfmt_misc", "devpts", "mqueue", "devtmpfs", "hugetlbfs", "rpc_pipefs", "nsfs",
  };
  std::set<dev_t> devs;
  std::istringstream lines(mountinfo);
  std::string line;
  // Fields: id parent major:minor root mountpoint options... - fstype source superoptions.
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string field; std::getline(fields, field, ' ');) f.push_back(field);
    size_t dash = 0;
    while (dash < f.size() && f[dash] != "-") dash++;
    if (f.size() < 3 || dash + 1 >= f.size() || kPseudo.count(f[dash + 1]) == 0) continue;
    unsigned major = 0, minor = 0;
    char end = 0;
    if (f[2].find_first_not_of("0123456789:") != std::string::npos) continue;
    if (std::sscanf(f[2].c_str(), "%u:%u%c", &major, &minor, &end) != 2) continue;
    dev_t dev = makedev(major, minor);
    if (dev != root_dev) devs.insert(dev);
  }
  return devs;
}
}  // namespace tsvisor::gofer
