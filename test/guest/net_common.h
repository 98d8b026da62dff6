// Shared by the net_*.c socket programs (after fs_common.h): fds printed without their numbers, poll
// readiness, a receive shown with its bytes, and a count of SIGPIPEs, so that the native run and the
// sandboxed one print the same lines.
#include <poll.h>
#include <sys/socket.h>

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
