// The Gofer: a separate process that opens host files under the sandbox's root directories for the
// Sentry (its root and every --mount: one process per sandbox), and the only part of tsvisor that
// resolves host paths. Run as `tsvisor-gofer ROOT [--ro] [ROOT [--ro]]...` or `tsvisor-gofer --attach`
// (the roots then come as the Sentry's first message) with the socket to the Sentry as fd 3
// (src/gofer/spawn.ts does this); each request names its root by index. It answers one request at a
// time, blocking in recvmsg between them, and exits when the Sentry closes its end.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../seqpacket.h"
#include "confined.h"
#include "message.h"
#include "server.h"

namespace tsvisor::gofer {
namespace {
// The socket to the Sentry, placed there by spawn.ts.
constexpr int kSocketFd = 3;

struct Root {
  std::string path;
  bool read_only;
};

void Fail(const std::string& message) { std::fprintf(stderr, "tsvisor gofer: %s\n", message.c_str()); }

// `ROOT [--ro] [ROOT [--ro]]...` as roots, or false if that is not what args are.
bool ParseRoots(int argc, char** argv, std::vector<Root>* roots) {
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (arg == "--ro" && !roots->empty() && !roots->back().read_only) roots->back().read_only = true;
    else if (!arg.empty() && arg[0] == '/') roots->push_back({arg, false});
    else return false;
  }
  return !roots->empty() && roots->size() <= kMaxRoots;
}

// Whether bytes[0, length) is exactly one attach message: u32 0, u16 ATTACH, u16 0, u16 count (1 to
// kMaxRoots), count x (string absolute path, u8 read-only).
bool DecodeAttach(const uint8_t* bytes, size_t length, std::vector<Root>* roots) {
  Reader r(bytes, length);
  uint32_t id = r.U32();
  uint16_t op = r.U16();
  uint16_t zero = r.U16();
  uint16_t count = r.U16();
  if (r.bad() || id != 0 || op != kAttach || zero != 0 || count == 0 || count > kMaxRoots) return false;
  for (uint16_t i = 0; i < count; i++) {
    std::string path = r.Str();
    uint8_t read_only = r.U8();
    if (r.bad() || path.empty() || path[0] != '/' || path.find('\0') != std::string::npos || read_only > 1) return false;
    roots->push_back({path, read_only == 1});
  }
  return r.Complete();
}

std::string ReadMountinfo() {
  std::ifstream in("/proc/self/mountinfo");
  std::ostringstream text;
  text << in.rdbuf();  // no /proc: nothing mounted there to refuse either
  return text.str();
}

int Main(int argc, char** argv) {
  std::vector<uint8_t> buf(kMaxMessage);
  int fds[kMaxMessageFds];
  std::vector<Root> roots;
  if (argc == 2 && std::string(argv[1]) == "--attach") {
    ssize_t n = ReceiveMessage(kSocketFd, buf.data(), buf.size(), fds, kMaxMessageFds, -1);
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
    if (n == 0) return 0;  // the Sentry closed the socket first: a start that failed
    if (n < 0 || !DecodeAttach(buf.data(), static_cast<size_t>(n), &roots)) {
      Fail("the first message is not the directories to serve");
      return 2;
    }
  } else if (!ParseRoots(argc, argv, &roots)) {
    std::fprintf(stderr, "usage: tsvisor-gofer ROOT [--ro] [ROOT [--ro]]... | --attach   (with the socket to the Sentry as fd 3)\n");
    return 2;
  }
  // The Sentry applies the sandbox's umask itself: files are created with exactly the mode it asks.
  umask(0);
  std::string mountinfo;
  bool mountinfo_read = false;
  std::vector<std::unique_ptr<RootServer>> servers;
  Writer hello;
  for (const Root& root : roots) {
    int root_fd = OpenRoot(root.path);
    hello.BeginReply(0, kHello, root_fd < 0 ? static_cast<uint32_t>(-root_fd) : 0).U32(kProtocolVersion);
    if (SendMessage(kSocketFd, hello.data(), hello.size(), nullptr, 0) < 0) {
      Fail("fd 3 is not a connected socket");
      return 2;
    }
    if (root_fd < 0) {
      Fail("cannot open " + root.path + " (errno " + std::to_string(-root_fd) + ")");
      servers.push_back(nullptr);
      continue;
    }
    struct stat st = {};
    Fstat(root_fd, &st);
    if (!mountinfo_read) {
      mountinfo = ReadMountinfo();
      mountinfo_read = true;
    }
    servers.push_back(std::make_unique<RootServer>(root_fd, root.read_only, kSocketFd, PseudoFilesystemDevs(st.st_dev, mountinfo)));
  }
  Service service(std::move(servers), kSocketFd);
  for (;;) {
    ssize_t n = ReceiveMessage(kSocketFd, buf.data(), buf.size(), fds, kMaxMessageFds, -1);
    for (int fd : fds) {
      if (fd >= 0) close(fd);  // the Sentry never sends fds
    }
    if (n == 0) return 0;  // the Sentry closed its end: the sandbox is over
    if (n == -EMSGSIZE) {
      // Too large to be a request; its first bytes still name it, so answer under its id.
      if (!service.Handle(buf.data(), 6)) return 0;
      continue;
    }
    if (n < 0) {
      Fail("recvmsg failed (errno " + std::to_string(-n) + ")");
      return 1;
    }
    if (!service.Handle(buf.data(), static_cast<size_t>(n))) return 0;
  }
}
}  // namespace
}  // namespace tsvisor::gofer

int main(int argc, char** argv) { return tsvisor::gofer::Main(argc, argv); }
