/* shutdown(SHUT_RD) on Unix stream and seqpacket sockets with data queued, compared with the host
 * kernel: what the reader's reads return (what was queued, then end of file), what the peer's writes
 * return afterwards (EPIPE, and whether SIGPIPE comes), poll's bits on both ends before and after the
 * queue is drained, FIONREAD, and the same after SHUT_WR and SHUT_RDWR and over connect and accept.
 * Nothing printed may differ between runs: no fd numbers, no pids. */
#include "fs_common.h"
#include "net_common.h"
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <sys/wait.h>

static void show_send(const char *what, int fd, const char *data, int flags) {
  int before = sigpipes;
  ssize_t r = send(fd, data, strlen(data), flags | MSG_DONTWAIT);
  if (r < 0) printf("%s: -1 %s, SIGPIPE %d\n", what, strerrorname_np(errno), sigpipes - before);
  else printf("%s: %zd, SIGPIPE %d\n", what, r, sigpipes - before);
  fflush(stdout);
}

static void show_write(const char *what, int fd, const char *data) {
  int before = sigpipes;
  ssize_t r = write(fd, data, strlen(data));
  if (r < 0) printf("%s: -1 %s, SIGPIPE %d\n", what, strerrorname_np(errno), sigpipes - before);
  else printf("%s: %zd, SIGPIPE %d\n", what, r, sigpipes - before);
  fflush(stdout);
}

static void show_queued(const char *what, int fd) {
  int q = -1;
  int r = ioctl(fd, FIONREAD, &q);
  int e = -1;
  socklen_t l = sizeof e;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
  if (r < 0) printf("%s: FIONREAD -1 %s, SO_ERROR %d\n", what, strerrorname_np(errno), e);
  else printf("%s: FIONREAD %d, SO_ERROR %d\n", what, q, e);
  fflush(stdout);
}

static void both_polls(const char *what, int r, int w) {
  char b[64];
  snprintf(b, sizeof b, "%s, reader", what);
  show_poll(b, r);
  snprintf(b, sizeof b, "%s, writer", what);
  show_poll(b, w);
}

static void pair_of(int type, int via_listener, int sp[2]) {
  if (!via_listener) {
    socketpair(AF_UNIX, type, 0, sp);
    return;
  }
  static int n;
  int l = socket(AF_UNIX, type, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  int len = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "unix-shut-%d-%d", getpid(), n++);
  socklen_t al = offsetof(struct sockaddr_un, sun_path) + 1 + len;
  bind(l, SA(a), al);
  listen(l, 1);
  sp[0] = socket(AF_UNIX, type, 0);
  connect(sp[0], SA(a), al);
  sp[1] = accept(l, NULL, NULL);
  close(l);
}

static void shut_rd_case(int type, int via_listener) {
  const char *name = type == SOCK_STREAM ? "stream" : "seqpacket";
  printf("-- %s%s: SHUT_RD with data queued\n", name, via_listener ? " (accepted)" : "");
  int sp[2];
  pair_of(type, via_listener, sp);
  int w = sp[0], r = sp[1];
  show_send("first", w, "one", 0);
  show_send("second", w, "two", 0);
  both_polls("queued", r, w);
  T(shutdown(r, SHUT_RD));
  both_polls("after SHUT_RD", r, w);
  show_queued("after SHUT_RD", r);
  show_send("peer send", w, "three", 0);
  show_send("peer send, MSG_NOSIGNAL", w, "three", MSG_NOSIGNAL);
  show_write("peer write", w, "four");
  show_recv("read", r, 2, MSG_DONTWAIT);
  show_recv("peek", r, 100, MSG_DONTWAIT | MSG_PEEK);
  show_recv("read", r, 100, MSG_DONTWAIT);
  both_polls("drained", r, w);
  show_queued("drained", r);
  show_recv("end", r, 100, MSG_DONTWAIT);
  show_recv("end, blocking", r, 100, 0);
  /* The reader still writes; the peer still reads. */
  show_send("reader send", r, "back", 0);
  show_recv("peer reads", w, 100, MSG_DONTWAIT);
  T(shutdown(w, SHUT_RD));
  both_polls("both SHUT_RD", r, w);
  show_send("reader send", r, "back", 0);
  close(w);
  both_polls("peer closed", r, r);
  close(r);

  printf("-- %s%s: SHUT_RD, then the reader closes with data queued\n", name, via_listener ? " (accepted)" : "");
  pair_of(type, via_listener, sp);
  w = sp[0], r = sp[1];
  show_send("send", w, "left", 0);
  T(shutdown(r, SHUT_RD));
  close(r);
  show_poll("reader gone, writer", w);
  show_queued("reader gone, writer", w);
  show_send("peer send", w, "x", 0);
  show_recv("peer read", w, 100, MSG_DONTWAIT);
  close(w);

  printf("-- %s%s: the writer's own SHUT_RD and SHUT_WR\n", name, via_listener ? " (accepted)" : "");
  pair_of(type, via_listener, sp);
  w = sp[0], r = sp[1];
  show_send("send", w, "data", 0);
  T(shutdown(w, SHUT_WR));
  both_polls("writer SHUT_WR", r, w);
  show_send("writer send", w, "more", 0);
  T(shutdown(r, SHUT_RD));
  both_polls("then reader SHUT_RD", r, w);
  show_recv("read", r, 100, MSG_DONTWAIT);
  show_recv("end", r, 100, MSG_DONTWAIT);
  both_polls("drained", r, w);
  close(w);
  close(r);

  printf("-- %s%s: SHUT_RDWR with data queued both ways\n", name, via_listener ? " (accepted)" : "");
  pair_of(type, via_listener, sp);
  w = sp[0], r = sp[1];
  show_send("to reader", w, "in", 0);
  show_send("to writer", r, "out", 0);
  T(shutdown(r, SHUT_RDWR));
  both_polls("SHUT_RDWR", r, w);
  show_send("reader send", r, "x", 0);
  show_send("peer send", w, "y", 0);
  show_recv("reader read", r, 100, MSG_DONTWAIT);
  show_recv("reader end", r, 100, MSG_DONTWAIT);
  show_recv("peer read", w, 100, MSG_DONTWAIT);
  show_recv("peer end", w, 100, MSG_DONTWAIT);
  both_polls("drained", r, w);
  close(w);
  close(r);
}

/* A writer blocked on a full buffer when the reader shuts SHUT_RD: its write ends (with what went, or
 * EPIPE), and SIGPIPE comes as the type says. */
static void blocked_writer(int type) {
  printf("-- %s: a blocked writer, then SHUT_RD\n", type == SOCK_STREAM ? "stream" : "seqpacket");
  int sp[2];
  socketpair(AF_UNIX, type, 0, sp);
  int fds[2];
  pipe(fds);
  pid_t kid = fork();
  if (kid == 0) {
    close(fds[0]);
    sigpipes = 0;
    static char big[1 << 20];
    memset(big, 'b', sizeof big);
    size_t len = type == SOCK_STREAM ? sizeof big : 4096;
    ssize_t r;
    int sent = 0;
    /* A stream write of 1 MiB blocks once the buffer is full; seqpacket messages are sent until one blocks. */
    do {
      r = write(sp[0], big, len);
      if (r > 0) sent++;
    } while (type == SOCK_SEQPACKET && r > 0);
    char line[128];
    int n;
    if (r < 0) n = snprintf(line, sizeof line, "blocked write: -1 %s, SIGPIPE %d, after %s\n", strerrorname_np(errno), sigpipes, sent > 0 ? "some" : "none");
    else n = snprintf(line, sizeof line, "blocked write: %s, SIGPIPE %d\n", r > 0 && (size_t)r < len ? "partial" : "other", sigpipes);
    write(fds[1], line, n);
    _exit(0);
  }
  close(fds[1]);
  usleep(200000);
  T(shutdown(sp[1], SHUT_RD));
  char line[128];
  ssize_t n = read(fds[0], line, sizeof line);
  if (n > 0) fwrite(line, 1, n, stdout);
  waitpid(kid, NULL, 0);
  show_poll("after, reader", sp[1]);
  show_poll("after, writer", sp[0]);
  close(fds[0]);
  close(sp[0]);
  close(sp[1]);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, on_sigpipe);
  shut_rd_case(SOCK_STREAM, 0);
  shut_rd_case(SOCK_SEQPACKET, 0);
  shut_rd_case(SOCK_STREAM, 1);
  shut_rd_case(SOCK_SEQPACKET, 1);
  blocked_writer(SOCK_STREAM);
  blocked_writer(SOCK_SEQPACKET);

  printf("-- stream: SHUT_RD with an urgent byte queued\n");
  int sp[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
  show_send("urgent", sp[0], "sh", MSG_OOB);
  T(shutdown(sp[1], SHUT_RD));
  {
    char b = 0;
    ssize_t n = recv(sp[1], &b, 1, MSG_OOB);
    printf("oob after SHUT_RD: %zd %c\n", n, n > 0 ? b : '-');
  }
  show_recv("after SHUT_RD", sp[1], 100, MSG_DONTWAIT);
  show_recv("end", sp[1], 100, MSG_DONTWAIT);
  close(sp[0]);
  close(sp[1]);
  return 0;
}
