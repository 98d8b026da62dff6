// socketpair(AF_UNIX, SOCK_STREAM): both directions, across fork; send and recv with MSG_DONTWAIT and
// MSG_NOSIGNAL; shutdown of each direction and what poll, read and write then say; getsockopt,
// getsockname and getpeername; fstat and /proc/self/fd; the errors on other fds and bad arguments.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static int revents(int fd) {
  struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
  return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static void show_poll(const char *what, int fd) {
  int r = revents(fd);
  printf("%s: %s%s%s%s\n", what, r & POLLIN ? "IN " : "", r & POLLOUT ? "OUT " : "", r & POLLRDHUP ? "RDHUP " : "", r & POLLHUP ? "HUP" : "");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  signal(SIGPIPE, SIG_IGN);
  int sv[2];
  printf("socketpair: %s\n", err(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)));
  printf("close-on-exec: %s\n", fcntl(sv[0], F_GETFD) == FD_CLOEXEC ? "yes" : "no");
  struct stat st;
  fstat(sv[0], &st);
  printf("fstat: a socket: %s\n", S_ISSOCK(st.st_mode) ? "yes" : "no");
  char link[64], target[64] = {0};
  snprintf(link, sizeof link, "/proc/self/fd/%d", sv[0]);
  readlink(link, target, sizeof target - 1);
  printf("/proc/self/fd names a socket: %s\n", strncmp(target, "socket:[", 8) == 0 ? "yes" : "no");
  show_poll("fresh end", sv[0]);

  pid_t pid = fork();
  if (pid == 0) {
    char buf[64];
    ssize_t n = read(sv[1], buf, sizeof buf);
    for (ssize_t i = 0; i < n; i++) buf[i] = buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i];
    write(sv[1], buf, n);
    _exit(0);
  }
  write(sv[0], "hello child", 11);
  char buf[70000];
  ssize_t n = read(sv[0], buf, sizeof buf);
  printf("round trip through a child: %.*s\n", (int)n, buf);
  waitpid(pid, NULL, 0);

  printf("recv MSG_DONTWAIT with nothing there: %s\n", err(recv(sv[0], buf, 10, MSG_DONTWAIT)));
  printf("send: %zd\n", send(sv[1], "abc", 3, 0));
  printf("recv: %zd\n", recv(sv[0], buf, sizeof buf, 0));
  int type = 0, domain = 0, size = 0;
  socklen_t len = sizeof type;
  getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len);
  len = sizeof domain;
  getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &domain, &len);
  printf("SO_TYPE stream: %s, SO_DOMAIN unix: %s\n", type == SOCK_STREAM ? "yes" : "no", domain == AF_UNIX ? "yes" : "no");
  struct ucred cred;
  len = sizeof cred;
  getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &len);
  printf("SO_PEERCRED is this process: %s\n", cred.pid == getpid() && cred.uid == getuid() ? "yes" : "no");
  size = 10000;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  len = sizeof size;
  getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, &len);
  printf("SO_SNDBUF after asking for 10000: %d\n", size);
  printf("an unknown option: %s\n", err(getsockopt(sv[0], SOL_SOCKET, 9999, &size, &len)));
  struct sockaddr_un addr;
  len = sizeof addr;
  long r = getsockname(sv[0], (struct sockaddr *)&addr, &len);
  printf("getsockname: %s, length %d, family unix: %s\n", err(r), len, addr.sun_family == AF_UNIX ? "yes" : "no");
  len = sizeof addr;
  r = getpeername(sv[0], (struct sockaddr *)&addr, &len);
  printf("getpeername: %s, length %d\n", err(r), len);

  // A full direction: non-blocking sends stop with EAGAIN.
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  long total = 0;
  memset(buf, 'x', sizeof buf);
  for (;;) {
    ssize_t w = send(sv[0], buf, 4096, 0);
    if (w < 0) break;
    total += w;
  }
  printf("filled with %s: more than 0: %s\n", strerror(errno), total > 0 ? "yes" : "no");
  fcntl(sv[0], F_SETFL, 0);
  while (recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) > 0) {}

  printf("shutdown(SHUT_WR): %s\n", err(shutdown(sv[0], SHUT_WR)));
  show_poll("the peer, after it", sv[1]);
  printf("the peer reads: %zd\n", read(sv[1], buf, 10));
  printf("a write after SHUT_WR: %s\n", err(write(sv[0], "x", 1)));
  printf("the peer still writes: %zd\n", write(sv[1], "yz", 2));
  printf("and this end reads it: %zd\n", read(sv[0], buf, 10));
  close(sv[1]);
  show_poll("after the peer closed", sv[0]);
  printf("send MSG_NOSIGNAL to a closed peer: %s\n", err(send(sv[0], "x", 1, MSG_NOSIGNAL)));
  close(sv[0]);

  // Not stdio: under Node.js's spawn, a child's stdout is a socket, not a pipe.
  int pp[2];
  pipe(pp);
  printf("shutdown on a pipe: %s\n", err(shutdown(pp[1], SHUT_WR)));
  printf("socketpair AF_INET: %s\n", err(socketpair(AF_INET, SOCK_STREAM, 0, sv)));
  printf("socketpair bad type: %s\n", err(socketpair(AF_UNIX, 99, 0, sv)));
  printf("socketpair protocol 7: %s\n", err(socketpair(AF_UNIX, SOCK_STREAM, 7, sv)));
  printf("recv on a pipe: %s\n", err(recv(pp[0], buf, 1, 0)));
  printf("bad shutdown mode: %s\n", err(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ? -1 : shutdown(sv[0], 7)));
  return 0;
}
