/* TCP urgent data on the loopback, compared with the host kernel: send(MSG_OOB) marks the last byte
 * it sends, recv(MSG_OOB) takes that byte (EINVAL without one, once read, or with SO_OOBINLINE;
 * EAGAIN before any; never blocking), a normal read stops at the mark and skips the byte, a second
 * urgent byte leaves the first in the stream, SIOCATMARK, poll's POLLPRI, select's exceptfds, and
 * SIGURG to the owner set with F_SETOWN (F_GETOWN reads it back). Nothing printed may differ between
 * runs: no fd numbers, no port numbers, no pids. */
#include "fs_common.h"
#include "net_common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/wait.h>

static volatile int sigurgs;
static void on_sigurg(int sig) {
  (void)sig;
  sigurgs++;
}

static int pair(int l, int *c) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port_of(l));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  *c = socket(AF_INET, SOCK_STREAM, 0);
  connect(*c, SA(a), sizeof a);
  return accept(l, NULL, NULL);
}

static void settle(void) {
  usleep(20000);
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

static void show_mark(const char *what, int s) {
  int at = -1;
  int r = ioctl(s, SIOCATMARK, &at);
  int q = -1;
  ioctl(s, FIONREAD, &q);
  if (r < 0) printf("%s: SIOCATMARK -1 %s\n", what, strerrorname_np(errno));
  else printf("%s: at mark %d, queued %d\n", what, at, q);
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

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGURG, on_sigurg);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(l, SA(a), sizeof a);
  listen(l, 4);

  printf("-- urgent data\n");
  int c;
  int s = pair(l, &c);
  T(fcntl(s, F_GETOWN));
  T(fcntl(s, F_SETOWN, getpid()) == 0);
  T(fcntl(s, F_GETOWN) == getpid());
  show_oob("none yet", s, 0);
  show_mark("none yet", s);
  show_pri("none yet", s);
  T(send(c, "abc", 3, MSG_OOB));
  settle();
  T(sigurgs);
  show_pri("urgent", s);
  show_mark("urgent", s);
  show_oob("peek", s, MSG_PEEK);
  show_recv("read to the mark", s, 100, 0);
  show_mark("at the mark", s);
  show_pri("at the mark", s);
  show_oob("oob", s, 0);
  show_oob("again", s, 0);
  show_mark("oob read", s);
  show_pri("oob read", s);
  T(send(c, "de", 2, 0));
  settle();
  show_recv("after the mark", s, 100, 0);
  show_mark("past the mark", s);
  show_oob("past the mark", s, 0);

  /* Read without taking the urgent byte: the read skips it. */
  T(send(c, "xy", 2, MSG_OOB));
  T(send(c, "z", 1, 0));
  settle();
  show_recv("to the mark", s, 100, 0);
  show_recv("over the mark", s, 100, 0);
  show_oob("skipped", s, 0);
  T(sigurgs);

  /* MSG_WAITALL stops at the mark. */
  T(send(c, "wa", 2, 0));
  T(send(c, "it", 2, MSG_OOB));
  T(send(c, "all", 3, 0));
  settle();
  show_recv("waitall", s, 10, MSG_WAITALL);
  show_recv("waitall over the mark", s, 3, MSG_WAITALL);
  show_recv("waitall after", s, 10, MSG_DONTWAIT);

  /* A fault still takes the urgent byte. */
  T(send(c, "f", 1, MSG_OOB));
  settle();
  T(recv(s, (void *)8, 1, MSG_OOB));
  show_oob("after a fault", s, 0);
  show_recv("after a fault", s, 100, MSG_DONTWAIT);

  /* Two urgent sends: the first byte goes back into the stream. */
  T(send(c, "12", 2, MSG_OOB));
  T(send(c, "34", 2, MSG_OOB));
  settle();
  show_mark("two", s);
  show_oob("second", s, 0);
  show_recv("stream", s, 100, 0);
  show_recv("rest", s, 100, MSG_DONTWAIT);
  T(sigurgs);

  /* A lone urgent byte: nothing to read but it. */
  T(send(c, "!", 1, MSG_OOB));
  settle();
  show_pri("lone", s);
  show_mark("lone", s);
  show_recv("lone read", s, 100, MSG_DONTWAIT);
  show_oob("lone oob", s, 0);
  show_pri("lone taken", s);
  show_recv("lone taken", s, 100, MSG_DONTWAIT);
  show_mark("lone taken", s);

  /* A zero-length buffer: MSG_TRUNC. */
  T(send(c, "?", 1, MSG_OOB));
  settle();
  {
    struct msghdr m = {0};
    T(recvmsg(s, &m, MSG_OOB));
    T(m.msg_flags);
  }
  show_oob("after the empty read", s, 0);

  /* SO_OOBINLINE: the byte stays in the stream. */
  int one = 1;
  T(setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one));
  int v = -1;
  socklen_t vl = sizeof v;
  T(getsockopt(s, SOL_SOCKET, SO_OOBINLINE, &v, &vl));
  T(v);
  T(send(c, "inl", 3, MSG_OOB));
  T(send(c, "ine", 3, 0));
  settle();
  show_pri("inline", s);
  show_mark("inline", s);
  show_oob("inline oob", s, 0);
  show_recv("inline to the mark", s, 100, 0);
  show_mark("inline at the mark", s);
  show_recv("inline from the mark", s, 100, 0);
  show_mark("inline past", s);
  T(sigurgs);
  close(s);
  close(c);

  /* No owner: no signal; a process group as owner. */
  sigurgs = 0;
  s = pair(l, &c);
  T(send(c, "q", 1, MSG_OOB));
  settle();
  T(sigurgs);
  T(fcntl(s, F_SETOWN, -getpgrp()) == 0);
  T(fcntl(s, F_GETOWN) == -getpgrp());
  T(send(c, "r", 1, MSG_OOB));
  settle();
  T(sigurgs);
  T(fcntl(s, F_SETOWN, 0));
  T(fcntl(s, F_GETOWN));
  T(send(c, "s", 1, MSG_OOB));
  settle();
  T(sigurgs);
  /* Shut for reading: EAGAIN gives way to end of file. */
  show_oob("taken", s, 0);
  show_oob("nothing", s, 0);
  T(shutdown(s, SHUT_RD));
  show_oob("after SHUT_RD", s, 0);
  close(s);
  close(c);

  /* Before any urgent byte: EAGAIN at once, even blocking; after a reset: ENOTCONN. */
  s = pair(l, &c);
  show_oob("blocking, none", s, 0);
  T(send(c, "u", 1, MSG_OOB));
  settle();
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(c);
  settle();
  show_oob("after reset", s, 0);
  close(s);

  /* Elsewhere: an unconnected TCP socket, a listener, UDP, Unix datagrams and seqpackets. */
  int u = socket(AF_INET, SOCK_STREAM, 0);
  show_oob("unconnected", u, 0);
  T(send(u, "x", 1, MSG_OOB | MSG_NOSIGNAL));
  show_mark("unconnected", u);
  close(u);
  show_oob("listener", l, 0);
  show_mark("listener", l);
  u = socket(AF_INET, SOCK_DGRAM, 0);
  show_oob("udp", u, MSG_DONTWAIT);
  T(sendto(u, "x", 1, MSG_OOB, SA(a), sizeof a));
  show_mark("udp", u);
  close(u);
  int sp[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
  T(send(sp[0], "x", 1, MSG_OOB));
  show_oob("unix dgram", sp[1], MSG_DONTWAIT);
  close(sp[0]);
  close(sp[1]);
  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp);
  T(send(sp[0], "x", 1, MSG_OOB));
  show_oob("unix seqpacket", sp[1], MSG_DONTWAIT);
  close(sp[0]);
  close(sp[1]);
  close(l);

  /* F_SETOWN on other files. */
  int p[2];
  pipe(p);
  T(fcntl(p[0], F_SETOWN, getpid()) == 0);
  T(fcntl(p[0], F_GETOWN) == getpid());
  T(fcntl(p[0], F_SETOWN, 999999));
  close(p[0]);
  close(p[1]);
  return 0;
}
