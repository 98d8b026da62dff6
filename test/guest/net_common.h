// Shared by the net_*.c socket programs (after fs_common.h): addresses and ports, sending fds, fds
// printed without their numbers, poll readiness, a receive shown with its bytes, and a count of SIGPIPEs, so that the native run and the
// sandboxed one print the same lines.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define SA(a) ((struct sockaddr *)&(a))

__attribute__((unused)) static struct sockaddr_in v4(const char *ip, int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

__attribute__((unused)) static struct sockaddr_in6 v6(const char *ip, int port) {
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof a);
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  inet_pton(AF_INET6, ip, &a.sin6_addr);
  return a;
}

/* The port a socket is bound to (0 if none, -1 on error). */
__attribute__((unused)) static int port_of(int s) {
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  if (getsockname(s, SA(a), &len) < 0) return -1;
  return ntohs(a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port : ((struct sockaddr_in6 *)&a)->sin6_port);
}

/* Sends data with n (at most 8) fds as SCM_RIGHTS. */
__attribute__((unused)) static ssize_t send_fds(int s, const char *data, const int *fds, int n) {
  struct iovec iov = {.iov_base = (void *)data, .iov_len = strlen(data)};
  union {
    char buf[CMSG_SPACE(8 * sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  if (n > 0) {
    m.msg_control = u.buf;
    m.msg_controllen = CMSG_SPACE(n * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(n * sizeof(int));
    memcpy(CMSG_DATA(c), fds, n * sizeof(int));
  }
  return sendmsg(s, &m, 0);
}

/* An fd or a count: "ok" for any fd, so that fd numbers do not show. */
__attribute__((unused)) static int okfd(const char *what, int r) {
  if (r < 0) printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else printf("%s = ok\n", what);
  fflush(stdout);
  return r;
}
#define F(expr) okfd(#expr, (expr))

__attribute__((unused)) static void show_poll(const char *what, int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP};
  int r = poll(&p, 1, 0);
  printf("%s: poll=%d revents=%#x\n", what, r, r > 0 ? p.revents : 0);
  fflush(stdout);
}

__attribute__((unused)) static void show_recv(const char *what, int fd, size_t n, int flags) {
  char buf[256];
  ssize_t r = recv(fd, buf, n < sizeof buf ? n : sizeof buf, flags);
  if (r < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
  else printf("%s: %zd \"%.*s\"\n", what, r, (int)(r < (ssize_t)n ? r : (ssize_t)n), buf);
  fflush(stdout);
}

static int sigpipes;
__attribute__((unused)) static void on_sigpipe(int sig) {
  (void)sig;
  sigpipes++;
}
