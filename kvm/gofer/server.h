// The Gofer's answers: one RootServer per directory it serves, and the Service that decodes each
// request and hands it to the root it names.
#pragma once
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "message.h"

namespace tsvisor::gofer {

// One decoded request: the fields its op carries (see Decode in server.cc), the others unused.
struct Request {
  uint16_t op = 0;
  std::vector<std::string> path;  // the path, or rename's and link's source
  std::vector<std::string> to;    // rename's and link's destination
  std::string target;             // symlink's
  uint32_t flags = 0;             // open's and rename's
  uint32_t mode = 0;              // open's, mkdir's, chmod's
  bool is_dir = false;            // unlink's
  uint32_t uid = 0, gid = 0;      // chown's
  int64_t length = 0;             // truncate's
  bool has_atime = false, has_mtime = false;
  int64_t atime_ns = 0, mtime_ns = 0;  // utimens's
};

// A parent directory fd (the root's own fd, or one the walk opened) and the last component ("" = root).
struct Parent {
  int fd;
  std::string name;
};

class RootServer {
 public:
  // refused_devs: st_dev of the kernel pseudo-filesystems mounted below the root: files on them are
  // never opened or listed.
  RootServer(int root_fd, bool read_only, int socket_fd, std::set<dev_t> refused_devs);
  RootServer(const RootServer&) = delete;
  RootServer& operator=(const RootServer&) = delete;

  // Answers one request (nullptr: malformed, EIO); false when the Sentry is gone.
  bool Answer(uint32_t id, uint16_t op, const Request* req);

 private:
  bool ReplyStatus(uint32_t id, uint16_t op, int result);
  bool Send(int fd);

  // The walk: every component but the last opened one at a time, never following a symlink; or -errno.
  int OpenParent(const std::vector<std::string>& path, Parent* out);
  int NotFollowed(int dir_fd, const std::string& name, int err);
  void Release(const Parent& p);
  template <typename Fn>
  int WithParent(const std::vector<std::string>& path, Fn fn);
  int PathFd(const Parent& p);
  void DropPathFd(const Parent& p, int fd);
  bool Refused(const struct stat& st) const;
  int ReadOnlyCreate(const Parent& p);
  int ReadOnlyChange(const Parent& p);

  bool Stat(uint32_t id, const Request& req);
  bool Open(uint32_t id, const Request& req);
  int OpenIn(const Parent& p, uint32_t flags, uint32_t mode);
  int ReopenChecked(int path_fd, uint32_t flags, const Parent& p);
  bool Readdir(uint32_t id, const Request& req);
  bool SendEntries(uint32_t id, int fd);
  bool Readlink(uint32_t id, const Request& req);
  bool Statfs(uint32_t id);
  int Mkdir(const Parent& p, uint32_t mode);
  int Unlink(const Parent& p, bool is_dir);
  int Rename(const Request& req);
  int Symlink(const std::string& target, const Parent& p);
  int Link(const Request& req);
  int Chmod(const Parent& p, uint32_t mode);
  int Chown(const Parent& p, uint32_t uid, uint32_t gid);
  int Truncate(const Parent& p, int64_t length);
  int Utimens(const Parent& p, const Request& req);

  const int root_fd_;
  const bool read_only_;
  const int socket_fd_;
  const std::set<dev_t> refused_devs_;
  Writer w_;
  std::vector<uint8_t> dir_buf_;
};

// The roots of one Gofer by index; a null one could not be opened (its requests get EIO).
class Service {
 public:
  Service(std::vector<std::unique_ptr<RootServer>> roots, int socket_fd);
  // Answers one request message; false when the Sentry is gone.
  bool Handle(const uint8_t* bytes, size_t length);

 private:
  std::vector<std::unique_ptr<RootServer>> roots_;
  const int socket_fd_;
  Request req_;
};

// Whether bytes[0, length) is exactly one well-formed request, decoded into req; id, op and root are
// read as far as the message holds them (0 past its end).
bool DecodeRequest(const uint8_t* bytes, size_t length, uint32_t* id, uint16_t* op, uint16_t* root, Request* req);

// st_dev of every kernel pseudo-filesystem mounted in mountinfo (/proc/self/mountinfo's text), but
// the root's own filesystem.
std::set<dev_t> PseudoFilesystemDevs(dev_t root_dev, const std::string& mountinfo);
}  // namespace tsvisor::gofer
