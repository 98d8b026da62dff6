/* MSG_OOB on Unix stream sockets, compared with the host kernel (Linux 5.15 and later): send(MSG_OOB)
 * marks the last byte it sends, recv(MSG_OOB) takes it (EINVAL without one, once read, or with
 * SO_OOBINLINE), a normal read stops at the mark and skips the byte, a second urgent byte before the
 * first is read, MSG_PEEK with and without MSG_OOB, SIOCATMARK, poll's POLLPRI, select's exceptfds,
 * SIGURG to the F_SETOWN owner; seqpacket and datagram sockets answer EOPNOTSUPP. Nothing printed may
 * differ between runs: no fd numbers, no pids. */
#include "fs_common.h"
#include "net_common.h"
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <stddef.h>
#include <sys/un.h>
#include <sys/wait.h>

static volatile int sigurgs;
static void on_sigurg(int sig) {
  (void)sig;
  sigurgs++;
}

static void show_oob(const char *what, int s, int flags) {
  char b[4] = {0};
  struct iovec iov = {.iov_base = b, .iov_len = 1};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  ssize_t r = recvmsg(s, &m, MSG_OOB | flags);
  if (r < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
  else printf("%s: %zd \"%.*s\" flags=%#x\n", what, r, (int)r, b, m.msg_flags);
  fflush(stdout);
}

/* FIONREAD is shown only until a read drops an urgent byte: some kernels (6.18) then count it for
 * ever in the socket's queue length. */
static int show_queued = 1;

static void show_mark(const char *what, int s) {
  int at = -1;
  int r = ioctl(s, SIOCATMARK, &at);
  int q = -1;
  ioctl(s, FIONREAD, &q);
  if (r < 0) printf("%s: SIOCATMARK -1 %s\n", what, strerrorname_np(errno));
  else if (show_queued) printf("%s: at mark %d, queued %d\n", what, at, q);
  else printf("%s: at mark %d\n", what, at);
  fflush(stdout);
}

static void show_pri(const char *what, int s) {
  struct pollfd p = {.fd = s, .events = POLLIN | POLLPRI};
  int r = poll(&p, 1, 0);
  fd_set ex;
  FD_ZERO(&ex);
  FD_SET(s, &ex);
  struct timeval tv = {0, 0};
  int sel = select(s + 1, NULL, NULL, &ex, &tv);
  printf("%s: poll=%d revents=%#x select=%d\n", what, r, r > 0 ? p.revents : 0, sel);
  fflush(stdout);
}

static void stream_pair(int sp[2]) {
  socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGURG, on_sigurg);
  int sp[2];

  printf("-- urgent data\n");
  stream_pair(sp);
  int c = sp[0], s = sp[1];
  T(fcntl(s, F_SETOWN, getpid()) == 0);
  show_oob("none yet", s, 0);
  show_mark("none yet", s);
  show_pri("none yet", s);
  T(send(c, "abc", 3, MSG_OOB));
  T(sigurgs);
  show_pri("urgent", s);
  show_mark("urgent", s);
  show_oob("peek", s, MSG_PEEK);
  show_oob("peek again", s, MSG_PEEK);
  show_recv("peek to the mark", s, 100, MSG_PEEK);
  show_recv("read to the mark", s, 100, 0);
  show_mark("at the mark", s);
  show_pri("at the mark", s);
  show_recv("peek at the mark", s, 100, MSG_PEEK | MSG_DONTWAIT);
  show_oob("oob", s, 0);
  show_oob("again", s, 0);
  show_mark("oob read", s);
  show_pri("oob read", s);
  show_recv("nothing after", s, 100, MSG_DONTWAIT);
  T(send(c, "de", 2, 0));
  show_recv("after the mark", s, 100, 0);
  show_mark("past the mark", s);
  show_oob("past the mark", s, 0);

  printf("-- read over the mark without taking it\n");
  T(send(c, "xy", 2, MSG_OOB));
  T(send(c, "z", 1, 0));
  show_mark("before", s);
  show_recv("to the mark", s, 100, 0);
  show_mark("at", s);
  show_recv("peek over the mark", s, 100, MSG_PEEK);
  show_recv("over the mark", s, 100, 0);
  show_queued = 0;
  show_oob("skipped", s, 0);
  show_mark("skipped", s);
  show_pri("skipped", s);
  T(sigurgs);

  printf("-- two urgent sends\n");
  T(send(c, "12", 2, MSG_OOB));
  T(send(c, "34", 2, MSG_OOB));
  T(sigurgs);
  show_mark("two", s);
  show_pri("two", s);
  show_recv("stream", s, 100, 0);
  show_mark("two at", s);
  show_oob("second", s, 0);
  show_recv("rest", s, 100, MSG_DONTWAIT);

  printf("-- two urgent sends, the first at the head\n");
  T(send(c, "5", 1, MSG_OOB));
  T(send(c, "67", 2, MSG_OOB));
  show_mark("head", s);
  show_recv("head stream", s, 100, MSG_DONTWAIT);
  show_mark("head at", s);
  show_oob("head second", s, 0);
  show_recv("head rest", s, 100, MSG_DONTWAIT);

  printf("-- a lone urgent byte\n");
  T(send(c, "!", 1, MSG_OOB));
  show_pri("lone", s);
  show_mark("lone", s);
  show_recv("lone read", s, 100, MSG_DONTWAIT);
  show_recv("lone peek", s, 100, MSG_DONTWAIT | MSG_PEEK);
  show_oob("lone oob", s, 0);
  show_pri("lone taken", s);
  show_recv("lone taken", s, 100, MSG_DONTWAIT);
  show_mark("lone taken", s);
  T(send(c, "after", 5, 0));
  show_recv("lone then data", s, 100, MSG_DONTWAIT);

  printf("-- a lone urgent byte read past\n");
  T(send(c, "#", 1, MSG_OOB));
  T(send(c, "tail", 4, 0));
  show_mark("lone past", s);
  show_recv("lone past read", s, 100, MSG_DONTWAIT);
  show_oob("lone past oob", s, 0);
  show_mark("lone past", s);

  printf("-- a zero-length buffer\n");
  T(send(c, "?", 1, MSG_OOB));
  {
    struct msghdr m = {0};
    T(recvmsg(s, &m, MSG_OOB));
    T(m.msg_flags);
  }
  show_oob("after the empty read", s, 0);
  show_recv("after the empty read", s, 100, MSG_DONTWAIT);

  printf("-- sends\n");
  T(send(c, "", 0, MSG_OOB));
  T(send(c, "", 0, 0));
  show_mark("empty send", s);
  {
    char big[300];
    memset(big, 'b', sizeof big);
    big[sizeof big - 1] = 'B';
    T(send(c, big, sizeof big, MSG_OOB | MSG_DONTWAIT));
    show_mark("big", s);
    char buf[400];
    T(recv(s, buf, sizeof buf, 0));
    show_oob("big", s, 0);
  }
  {
    struct iovec iov[2] = {{.iov_base = "ab", .iov_len = 2}, {.iov_base = "cd", .iov_len = 2}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    T(sendmsg(c, &m, MSG_OOB));
    show_recv("iovecs", s, 100, 0);
    show_oob("iovecs", s, 0);
  }
  T(write(c, "w", 1));
  show_recv("written", s, 100, 0);

  printf("-- SO_OOBINLINE\n");
  int one = 1, zero = 0;
  T(setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one));
  T(send(c, "inl", 3, MSG_OOB));
  T(send(c, "ine", 3, 0));
  T(sigurgs);
  show_pri("inline", s);
  show_mark("inline", s);
  show_oob("inline oob", s, 0);
  show_recv("inline to the mark", s, 100, 0);
  show_mark("inline at the mark", s);
  show_pri("inline at the mark", s);
  show_recv("inline from the mark", s, 100, 0);
  show_mark("inline past", s);
  show_pri("inline past", s);
  T(send(c, "Z", 1, MSG_OOB));
  show_recv("inline lone", s, 100, MSG_DONTWAIT);
  show_mark("inline lone", s);
  T(send(c, "Y", 1, MSG_OOB));
  T(setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &zero, sizeof zero));
  show_mark("inline off", s);
  show_oob("inline off", s, 0);
  show_recv("inline off", s, 100, MSG_DONTWAIT);
  T(send(c, "X", 1, MSG_OOB));
  T(setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one));
  show_recv("inline on", s, 100, MSG_DONTWAIT);
  T(setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &zero, sizeof zero));

  printf("-- the other way, and no owner\n");
  sigurgs = 0;
  T(send(s, "back", 4, MSG_OOB));
  T(sigurgs);
  show_recv("back", c, 100, 0);
  show_oob("back", c, 0);
  T(fcntl(c, F_SETOWN, -getpgrp()) == 0);
  T(send(s, "p", 1, MSG_OOB));
  T(sigurgs);
  show_oob("pgrp", c, 0);

  printf("-- taken bytes in the stream\n");
  T(send(c, "abc", 3, MSG_OOB));
  show_oob("taken first", s, 0);
  T(send(c, "de", 2, 0));
  show_mark("taken first", s);
  show_recv("up to the taken byte", s, 100, 0);
  show_mark("at the taken byte", s);
  show_recv("past the taken byte", s, 100, 0);
  T(send(c, "fg", 2, MSG_OOB));
  show_oob("taken", s, 0);
  T(send(c, "hi", 2, MSG_OOB));
  show_mark("taken then urgent", s);
  show_recv("peek over the taken byte", s, 100, MSG_PEEK);
  show_recv("over the taken byte", s, 100, 0);
  show_oob("then urgent", s, 0);
  show_recv("then", s, 100, MSG_DONTWAIT);

  printf("-- MSG_WAITALL stops at the mark\n");
  T(send(c, "wa", 2, 0));
  T(send(c, "it", 2, MSG_OOB));
  T(send(c, "all", 3, 0));
  show_recv("waitall", s, 10, MSG_WAITALL);
  show_recv("waitall over the mark", s, 3, MSG_WAITALL);
  show_recv("waitall after", s, 10, MSG_DONTWAIT);

  printf("-- a blocking peek waits past a lone urgent byte\n");
  T(send(c, "L", 1, MSG_OOB));
  pid_t kid = fork();
  if (kid == 0) {
    usleep(50000);
    send(c, "late", 4, 0);
    _exit(0);
  }
  alarm(5);
  show_recv("blocking peek", s, 100, MSG_PEEK);
  alarm(0);
  waitpid(kid, NULL, 0);
  show_recv("read", s, 100, 0);
  show_oob("after", s, 0);

  printf("-- the peer goes\n");
  T(send(c, "gone", 4, MSG_OOB));
  close(c);
  show_pri("peer gone", s);
  show_mark("peer gone", s);
  show_recv("peer gone", s, 100, 0);
  show_oob("peer gone", s, 0);
  show_recv("peer gone eof", s, 100, 0);
  show_oob("peer gone eof", s, 0);
  close(s);

  printf("-- closing with only taken bytes unread is no reset\n");
  stream_pair(sp);
  T(send(sp[0], "x", 1, MSG_OOB));
  show_oob("taken", sp[1], 0);
  close(sp[1]);
  show_poll("taken, closed", sp[0]);
  close(sp[0]);
  stream_pair(sp);
  T(send(sp[0], "xy", 2, MSG_OOB));
  show_oob("taken with data", sp[1], 0);
  close(sp[1]);
  show_poll("taken with data, closed", sp[0]);
  close(sp[0]);

  printf("-- shutdown\n");
  stream_pair(sp);
  c = sp[0], s = sp[1];
  T(send(c, "wr", 2, MSG_OOB));
  T(shutdown(c, SHUT_WR));
  show_pri("after SHUT_WR", s);
  show_oob("after SHUT_WR", s, 0);
  show_recv("after SHUT_WR", s, 100, MSG_DONTWAIT);
  close(c);
  close(s);

  printf("-- over connect and accept\n");
  show_queued = 1;
  {
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, "\0oob-test-sock", 14);
    socklen_t al = offsetof(struct sockaddr_un, sun_path) + 14;
    T(bind(l, SA(a), al));
    T(listen(l, 2));
    show_oob("listener", l, 0);
    show_mark("listener", l);
    T(send(l, "x", 1, MSG_OOB | MSG_NOSIGNAL));
    int u = socket(AF_UNIX, SOCK_STREAM, 0);
    show_oob("unconnected", u, 0);
    show_mark("unconnected", u);
    T(send(u, "x", 1, MSG_OOB | MSG_NOSIGNAL));
    T(connect(u, SA(a), al));
    T(send(u, "before accept", 13, MSG_OOB));
    int v = accept(l, NULL, NULL);
    T(v >= 0);
    show_mark("accepted", v);
    show_pri("accepted", v);
    show_recv("accepted", v, 100, 0);
    show_oob("accepted", v, 0);
    close(u);
    close(v);
    close(l);
  }

  printf("-- a fault\n");
  stream_pair(sp);
  T(send(sp[0], (void *)8, 2, MSG_OOB | MSG_NOSIGNAL));
  T(send(sp[0], "f", 1, MSG_OOB));
  T(recv(sp[1], (void *)8, 1, MSG_OOB));
  show_oob("after a fault", sp[1], 0);
  close(sp[0]);
  close(sp[1]);

  printf("-- elsewhere\n");
  {
    int q = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    T(send(q, "x", 1, MSG_OOB | MSG_NOSIGNAL));
    show_oob("seqpacket unconnected", q, MSG_DONTWAIT);
    show_mark("seqpacket unconnected", q);
    close(q);
    q = socket(AF_UNIX, SOCK_STREAM, 0);
    T(send(q, "", 0, MSG_OOB | MSG_NOSIGNAL));
    show_oob("stream unconnected, peek", q, MSG_PEEK);
    close(q);
  }
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
  T(send(sp[0], "x", 1, MSG_OOB));
  show_oob("unix dgram", sp[1], MSG_DONTWAIT);
  show_mark("unix dgram", sp[1]);
  close(sp[0]);
  close(sp[1]);
  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp);
  T(send(sp[0], "x", 1, MSG_OOB));
  show_oob("unix seqpacket", sp[1], MSG_DONTWAIT);
  show_mark("unix seqpacket", sp[1]);
  close(sp[0]);
  close(sp[1]);
  return 0;
}
