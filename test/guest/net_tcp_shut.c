/* TCP on the loopback, compared with the host kernel: shutdown(SHUT_RD) (what was queued and what
 * comes after is still read, then end of file at once; the peer is not told), SHUT_RDWR (data that
 * arrives after it resets the sender), ENOTCONN once a connection is over, and connect(AF_UNSPEC),
 * which aborts a connection (the peer is reset) and lets the socket connect again. Nothing printed
 * may differ between runs: no fd numbers and no port numbers. */
#include "fs_common.h"
#include "net_common.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int intopt(int s, int level, int opt) {
  int v = -1;
  socklen_t len = sizeof v;
  if (getsockopt(s, level, opt, &v, &len) < 0) return -errno;
  return v;
}

static void wait_poll(const char *what, int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events};
  int r = poll(&p, 1, 1000);
  printf("%s: poll=%d revents=%#x\n", what, r, r > 0 ? p.revents : 0);
  fflush(stdout);
}

/* Waits (up to a second) until fd has n bytes queued. */
static void wait_queued(const char *what, int fd, int n) {
  int q = -1;
  for (int i = 0; i < 100; i++) {
    if (ioctl(fd, FIONREAD, &q) < 0 || q >= n) break;
    usleep(10000);
  }
  printf("%s: queued %d\n", what, q);
  fflush(stdout);
}

/* Lets the loopback's packets (an ACK, a RST) arrive natively. */
static void settle(void) {
  usleep(20000);
}

static void show_peer(const char *what, int s) {
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  int r = getpeername(s, SA(a), &len);
  printf("%s: %s\n", what, r < 0 ? strerrorname_np(errno) : "ok");
  fflush(stdout);
}

/* The socket's name: its port (0, the listener's, or other) and whether it is 0.0.0.0. */
static void show_local(const char *what, int s, int same) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  getsockname(s, SA(a), &len);
  int port = ntohs(a.sin_port);
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
  printf("%s: %s port=%s\n", what, ip, port == 0 ? "0" : port == same ? "same" : "other");
  fflush(stdout);
}

static int listener(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = v4("127.0.0.1", 0);
  bind(l, SA(a), sizeof a);
  listen(l, 4);
  return l;
}

static int connect_port(int c, int port) {
  struct sockaddr_in a = v4("127.0.0.1", port);
  return connect(c, SA(a), sizeof a);
}

/* A connected pair through l: *c the client, the server's end returned. */
static int pair(int l, int *c) {
  *c = socket(AF_INET, SOCK_STREAM, 0);
  connect_port(*c, port_of(l));
  return accept(l, NULL, NULL);
}

static void shut_rd(int l) {
  printf("-- SHUT_RD\n");
  int c;
  int s = pair(l, &c);
  T(send(c, "abc", 3, 0));
  wait_queued("before", s, 3);
  T(shutdown(s, SHUT_RD));
  show_poll("reader after SHUT_RD", s);
  show_poll("writer after peer's SHUT_RD", c);
  show_recv("queued", s, 100, 0);
  show_recv("then", s, 100, 0);
  show_recv("then nonblocking", s, 100, MSG_DONTWAIT);
  T(send(c, "def", 3, 0));
  wait_queued("after", s, 3);
  show_poll("reader with new data", s);
  show_recv("peek", s, 2, MSG_PEEK);
  show_recv("arrived after", s, 100, 0);
  show_recv("then", s, 100, 0);
  T(read(s, (char[4]){0}, 4));
  T(shutdown(s, SHUT_RD));
  /* The reader may still write. */
  T(send(s, "back", 4, 0));
  wait_poll("writer reads", c, POLLIN);
  show_recv("back", c, 100, 0);
  show_recv("nothing", c, 100, MSG_DONTWAIT);
  /* The writer's end of file. */
  T(shutdown(c, SHUT_WR));
  settle();
  show_poll("reader after peer's SHUT_WR", s);
  show_recv("eof", s, 100, 0);
  T(shutdown(s, SHUT_WR));
  wait_poll("writer sees end", c, POLLIN);
  show_recv("end", c, 100, 0);
  settle();
  show_poll("closed both ways (server)", s);
  show_poll("closed both ways (client)", c);
  /* Over both ways: ENOTCONN. */
  T(shutdown(s, SHUT_RD));
  T(shutdown(c, SHUT_WR));
  T(shutdown(c, SHUT_RDWR));
  show_peer("server's peer", s);
  show_peer("client's peer", c);
  T(recv(c, (char[4]){0}, 4, 0));
  T(send(c, "x", 1, MSG_NOSIGNAL));
  close(s);
  close(c);

  /* SHUT_RD then close with data unread: a reset. */
  s = pair(l, &c);
  T(shutdown(s, SHUT_RD));
  T(send(c, "unread", 6, 0));
  wait_queued("unread", s, 6);
  close(s);
  wait_poll("reset", c, POLLIN);
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  show_recv("after reset", c, 100, 0);
  close(c);

  /* SHUT_RD then close with nothing unread: the peer sees end of file. */
  s = pair(l, &c);
  T(shutdown(s, SHUT_RD));
  close(s);
  wait_poll("closed", c, POLLIN);
  show_recv("after close", c, 100, 0);
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  show_poll("peer closed", c);
  /* A write to a closed peer is sent, and its reset answers: EPIPE from then on. */
  T(send(c, "late", 4, MSG_NOSIGNAL));
  settle();
  show_poll("after the reset", c);
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  T(send(c, "again", 5, MSG_NOSIGNAL));
  show_recv("reads", c, 100, 0);
  T(shutdown(c, SHUT_RD));
  show_peer("its peer", c);
  close(c);
  /* The same without taking the error. */
  s = pair(l, &c);
  close(s);
  wait_poll("closed", c, POLLIN);
  T(send(c, "late", 4, MSG_NOSIGNAL));
  settle();
  sigpipes = 0;
  T(send(c, "again", 5, 0));
  T(sigpipes);
  T(send(c, "again", 5, 0));
  T(sigpipes);
  close(c);

  /* A SHUT_RD reader blocked in recv wakes with end of file. */
  s = pair(l, &c);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(50000);
    shutdown(s, SHUT_RD);
    _exit(0);
  }
  show_recv("woken", s, 100, 0);
  close(s);
  close(c);
}

static void shut_rdwr(int l) {
  printf("-- SHUT_RDWR\n");
  int c;
  int s = pair(l, &c);
  T(send(c, "abc", 3, 0));
  wait_queued("before", s, 3);
  T(shutdown(s, SHUT_RDWR));
  show_poll("after SHUT_RDWR", s);
  show_recv("queued", s, 100, 0);
  show_recv("then", s, 100, 0);
  T(send(s, "x", 1, MSG_NOSIGNAL));
  wait_poll("peer sees end", c, POLLIN);
  show_recv("peer's end", c, 100, 0);
  /* Data after SHUT_RDWR: the receiver resets the connection. */
  T(send(c, "late", 4, MSG_NOSIGNAL));
  settle();
  show_poll("sender after reset", c);
  show_poll("receiver after reset", s);
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  T(intopt(s, SOL_SOCKET, SO_ERROR));
  sigpipes = 0;
  T(send(c, "again", 5, 0));
  T(sigpipes);
  T(send(c, "again", 5, MSG_NOSIGNAL));
  show_recv("sender reads", c, 100, 0);
  show_recv("receiver reads", s, 100, 0);
  T(shutdown(c, SHUT_RDWR));
  T(shutdown(s, SHUT_RDWR));
  show_peer("sender's peer", c);
  show_peer("receiver's peer", s);
  close(s);
  close(c);

  /* SHUT_RD then SHUT_WR is the same. */
  s = pair(l, &c);
  T(shutdown(s, SHUT_RD));
  T(shutdown(s, SHUT_WR));
  wait_poll("peer sees end", c, POLLIN);
  show_recv("peer's end", c, 100, 0);
  T(send(c, "late", 4, MSG_NOSIGNAL));
  settle();
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  T(send(c, "again", 5, MSG_NOSIGNAL));
  show_recv("receiver reads", s, 100, 0);
  close(s);
  close(c);

  /* SHUT_RDWR with nothing sent after it: a clean close. */
  s = pair(l, &c);
  T(shutdown(s, SHUT_RDWR));
  wait_poll("peer sees end", c, POLLIN);
  show_recv("peer's end", c, 100, 0);
  T(shutdown(c, SHUT_WR));
  settle();
  show_poll("both shut (server)", s);
  show_poll("both shut (client)", c);
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  T(intopt(s, SOL_SOCKET, SO_ERROR));
  T(shutdown(s, SHUT_RD));
  close(s);
  close(c);
}

static void unspec(int l) {
  printf("-- connect(AF_UNSPEC)\n");
  int lport = port_of(l);
  struct sockaddr_in un;
  memset(&un, 0, sizeof un);
  un.sin_family = AF_UNSPEC;
  int c;
  int s = pair(l, &c);
  int cport = port_of(c);
  show_local("client before", c, lport);
  T(send(s, "unread", 6, 0));
  wait_queued("client", c, 6);
  T(connect(c, SA(un), sizeof un));
  show_poll("disconnected", c);
  show_peer("disconnected peer", c);
  show_local("disconnected name", c, cport);
  /* The port is free again, though the name still shows it. */
  int other = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in op = v4("127.0.0.1", cport);
  T(bind(other, SA(op), sizeof op));
  close(other);
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  show_recv("recv", c, 100, MSG_DONTWAIT);
  T(send(c, "x", 1, MSG_NOSIGNAL));
  T(shutdown(c, SHUT_RD));
  wait_poll("peer reset", s, POLLIN);
  show_poll("peer reset", s);
  T(intopt(s, SOL_SOCKET, SO_ERROR));
  show_recv("peer reads", s, 100, 0);
  T(send(s, "x", 1, MSG_NOSIGNAL));
  close(s);
  /* It connects again. */
  T(connect_port(c, lport));
  show_local("reconnected", c, lport);
  show_peer("reconnected peer", c);
  s = accept(l, NULL, NULL);
  T(send(c, "hello", 5, 0));
  show_recv("new connection", s, 100, 0);
  /* Again: disconnect twice, and once more without a connection. */
  T(connect(c, SA(un), sizeof un));
  T(connect(c, SA(un), sizeof un));
  T(connect(c, SA(un), 2));
  T(connect(c, SA(un), 1));
  T(connect(c, SA(un), 0));
  close(s);
  close(c);

  /* A bound client keeps its name. */
  c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in b = v4("127.0.0.2", 0);
  T(bind(c, SA(b), sizeof b));
  int bport = port_of(c);
  T(connect_port(c, lport));
  s = accept(l, NULL, NULL);
  T(connect(c, SA(un), sizeof un));
  show_local("bound, disconnected", c, bport);
  wait_poll("its peer", s, POLLIN);
  show_recv("its peer reads", s, 100, 0);
  close(s);
  T(connect_port(c, lport));
  show_local("bound, reconnected", c, bport);
  s = accept(l, NULL, NULL);
  close(s);
  close(c);

  /* A client shut for writing, then disconnected. */
  s = pair(l, &c);
  T(shutdown(c, SHUT_WR));
  wait_poll("peer sees end", s, POLLIN);
  show_recv("end", s, 100, 0);
  T(connect(c, SA(un), sizeof un));
  settle();
  show_poll("peer after disconnect", s);
  T(intopt(s, SOL_SOCKET, SO_ERROR));
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  close(s);
  close(c);

  /* An unconnected socket, and a listener (which stops listening). */
  c = socket(AF_INET, SOCK_STREAM, 0);
  T(connect(c, SA(un), sizeof un));
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  close(c);
  int l2 = listener();
  int l2port = port_of(l2);
  c = socket(AF_INET, SOCK_STREAM, 0);
  T(connect_port(c, l2port));
  T(connect(l2, SA(un), sizeof un));
  T(intopt(l2, SOL_SOCKET, SO_ACCEPTCONN));
  show_local("old listener", l2, l2port);
  wait_poll("its queued connection", c, POLLIN);
  show_recv("queued connection", c, 100, 0);
  close(c);
  c = socket(AF_INET, SOCK_STREAM, 0);
  T(connect_port(c, l2port));
  close(c);
  int o2 = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in o2a = v4("127.0.0.1", l2port);
  T(bind(o2, SA(o2a), sizeof o2a));
  T(listen(l2, 1));
  printf("listening again on the same port: %d\n", port_of(l2) == l2port);
  close(o2);
  close(l2);
  /* A listener bound to a port it named keeps it. */
  l2 = socket(AF_INET, SOCK_STREAM, 0);
  o2a = v4("127.0.0.1", l2port);
  T(bind(l2, SA(o2a), sizeof o2a));
  T(listen(l2, 1));
  T(connect(l2, SA(un), sizeof un));
  o2 = socket(AF_INET, SOCK_STREAM, 0);
  T(bind(o2, SA(o2a), sizeof o2a));
  close(o2);
  T(listen(l2, 1));
  printf("named port kept: %d\n", port_of(l2) == l2port);
  close(l2);

  /* IPv6 too. */
  int l6 = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a6;
  memset(&a6, 0, sizeof a6);
  a6.sin6_family = AF_INET6;
  a6.sin6_addr = in6addr_loopback;
  bind(l6, SA(a6), sizeof a6);
  listen(l6, 1);
  getsockname(l6, SA(a6), &(socklen_t){sizeof a6});
  int c6 = socket(AF_INET6, SOCK_STREAM, 0);
  T(connect(c6, SA(a6), sizeof a6));
  s = accept(l6, NULL, NULL);
  T(connect(c6, SA(un), sizeof un));
  wait_poll("v6 peer", s, POLLIN);
  show_recv("v6 peer reads", s, 100, 0);
  T(connect(c6, SA(a6), sizeof a6));
  close(s);
  close(c6);
  close(l6);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, on_sigpipe);
  int l = listener();
  shut_rd(l);
  shut_rdwr(l);
  unspec(l);
  close(l);
  return 0;
}
