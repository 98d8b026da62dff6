/* IPv4 and IPv6 sockets on the loopback interface, compared with the host kernel: socket(2)'s errors,
 * address lengths and families, bind (port 0, 127.0.0.0/8, ::1, dual-stack ::, IPV6_V6ONLY,
 * EADDRINUSE and SO_REUSEADDR), listen, accept and connect (blocking and not, refused), names, TCP
 * data with shutdown and reset, readiness, socket options, and UDP datagrams with their senders,
 * MSG_PEEK, MSG_TRUNC, size limits and a connected socket's refused port. Nothing printed may differ
 * between runs: no fd numbers and no port numbers (only whether they are ephemeral or the same). */
#include "fs_common.h"
#include "net_common.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A port: 0, the one of `same` ("same"), an ephemeral one, or other. */
static const char *port_kind(int port, int same) {
  if (port == 0) return "0";
  if (port == same) return "same";
  if (port >= 32768 && port <= 60999) return "ephemeral";
  return "other";
}

static void show_addr(const char *what, const struct sockaddr_storage *a, socklen_t len, int same) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *s = (const void *)a;
    inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
    printf("%s: len=%u inet %s port=%s zero=%d\n", what, len, ip, port_kind(ntohs(s->sin_port), same),
           s->sin_zero[0] | s->sin_zero[7]);
  } else if (a->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s = (const void *)a;
    inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
    printf("%s: len=%u inet6 %s port=%s flow=%u scope=%u\n", what, len, ip, port_kind(ntohs(s->sin6_port), same),
           s->sin6_flowinfo, s->sin6_scope_id);
  } else {
    printf("%s: len=%u family=%d\n", what, len, a->ss_family);
  }
  fflush(stdout);
}

static void show_name(const char *what, int s, int peer, int same) {
  struct sockaddr_storage a;
  memset(&a, 0x55, sizeof a);
  socklen_t len = sizeof a;
  int r = peer ? getpeername(s, SA(a), &len) : getsockname(s, SA(a), &len);
  if (r < 0) {
    printf("%s: -1 %s\n", what, strerrorname_np(errno));
    fflush(stdout);
    return;
  }
  show_addr(what, &a, len, same);
}

static int intopt(int s, int level, int opt) {
  int v = -1;
  socklen_t len = sizeof v;
  if (getsockopt(s, level, opt, &v, &len) < 0) return -errno;
  return v;
}

static int setint(int s, int level, int opt, int v) {
  return setsockopt(s, level, opt, &v, sizeof v);
}


/* Waits up to a second for events (the loopback's packets may take a moment natively). */
static void wait_poll(const char *what, int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events};
  int r = poll(&p, 1, 1000);
  printf("%s: poll=%d revents=%#x\n", what, r, r > 0 ? p.revents : 0);
  fflush(stdout);
}


static void sockets(void) {
  printf("-- socket(2)\n");
  int s = F(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  T(fcntl(s, F_GETFL) & O_NONBLOCK);
  T(fcntl(s, F_GETFD));
  T(intopt(s, SOL_SOCKET, SO_TYPE));
  T(intopt(s, SOL_SOCKET, SO_DOMAIN));
  T(intopt(s, SOL_SOCKET, SO_PROTOCOL));
  T(intopt(s, SOL_SOCKET, SO_ACCEPTCONN));
  T(intopt(s, SOL_SOCKET, SO_SNDBUF));
  T(intopt(s, SOL_SOCKET, SO_RCVBUF));
  T(intopt(s, SOL_SOCKET, SO_ERROR));
  show_poll("fresh tcp", s);
  show_name("fresh tcp name", s, 0, 0);
  show_name("fresh tcp peer", s, 1, 0);
  close(s);
  s = F(socket(AF_INET6, SOCK_DGRAM, 0));
  T(intopt(s, SOL_SOCKET, SO_TYPE));
  T(intopt(s, SOL_SOCKET, SO_DOMAIN));
  T(intopt(s, SOL_SOCKET, SO_PROTOCOL));
  T(intopt(s, SOL_SOCKET, SO_SNDBUF));
  T(intopt(s, SOL_SOCKET, SO_RCVBUF));
  T(intopt(s, IPPROTO_IPV6, IPV6_V6ONLY));
  show_poll("fresh udp6", s);
  show_name("fresh udp6 name", s, 0, 0);
  close(s);
  close(F(socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)));
  close(F(socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)));
  close(F(socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP)));
  F(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
  F(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
  F(socket(AF_INET, SOCK_STREAM, 99));
  F(socket(AF_INET, SOCK_SEQPACKET, 0));
  F(socket(AF_INET6, SOCK_SEQPACKET, 0));
  F(socket(AF_INET, 4 /* SOCK_RDM */, 0));
  F(socket(AF_INET, 12, 0));
  int sv[2];
  F(socketpair(AF_INET, SOCK_STREAM, 0, sv));
}

static void addresses(void) {
  printf("-- addresses\n");
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = v4("127.0.0.1", 0);
  T(bind(s, SA(a), sizeof a - 1));
  T(bind(s, SA(a), 15));
  T(bind(s, SA(a), 2));
  T(bind(s, SA(a), 0));
  T(bind(s, SA(a), 129));
  T(bind(s, SA(a), -1));
  T(bind(s, (void *)8, sizeof a));
  a.sin_family = AF_INET6;
  T(bind(s, SA(a), sizeof a));
  a.sin_family = AF_UNSPEC;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  T(bind(s, SA(a), sizeof a));
  a = v4("192.0.2.1", 0);
  T(bind(s, SA(a), sizeof a));
  a = v4("127.0.0.1", 0);
  struct sockaddr_storage big;
  memset(&big, 0, sizeof big);
  memcpy(&big, &a, sizeof a);
  T(bind(s, SA(big), sizeof big));
  show_name("bound with a long address", s, 0, 0);
  T(bind(s, SA(a), sizeof a));
  socklen_t len = 4;
  struct sockaddr_storage out;
  T(getsockname(s, SA(out), &len));
  T(len);
  len = -1;
  T(getsockname(s, SA(out), &len));
  T(getsockname(s, (void *)8, &len));
  close(s);
  /* AF_UNSPEC with INADDR_ANY is taken as AF_INET, as old programs expect. */
  s = socket(AF_INET, SOCK_DGRAM, 0);
  a = v4("0.0.0.0", 0);
  a.sin_family = AF_UNSPEC;
  T(bind(s, SA(a), sizeof a));
  show_name("AF_UNSPEC any", s, 0, 0);
  close(s);

  int s6 = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 b = v6("::1", 0);
  T(bind(s6, SA(b), 23));
  b.sin6_family = AF_INET;
  T(bind(s6, SA(b), sizeof b));
  b.sin6_family = AF_INET6;
  struct sockaddr_in a4 = v4("127.0.0.1", 0);
  T(bind(s6, SA(a4), sizeof a4));
  /* Each on a fresh socket: a failed bind may leave the device of its scope id bound. */
  struct { const char *ip; int scope; int flow; int len; } six[] = {
    {"fe80::1", 0, 0, 28}, {"fe80::1", 1, 0, 28}, {"fe80::1", 1, 0, 24}, {"2001:db8::1", 0, 0, 28},
    {"::1", 1, 7, 28}, {"::1", 0, 0, 24},
  };
  for (size_t i = 0; i < sizeof six / sizeof *six; i++) {
    int f = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 x = v6(six[i].ip, 0);
    x.sin6_scope_id = six[i].scope;
    x.sin6_flowinfo = six[i].flow;
    printf("%s scope=%d flow=%d len=%d: ", six[i].ip, six[i].scope, six[i].flow, six[i].len);
    T(bind(f, SA(x), six[i].len));
    close(f);
  }
  T(bind(s6, SA(b), 24));
  show_name("::1", s6, 0, 0);
  close(s6);
}

static void binding(void) {
  printf("-- bind\n");
  const char *good4[] = {"0.0.0.0", "127.0.0.1", "127.0.0.2", "127.255.255.254", "10.1.2.3", "8.8.8.8", "224.0.0.1",
                         "255.255.255.255"};
  for (size_t i = 0; i < sizeof good4 / sizeof *good4; i++) {
    if (strcmp(good4[i], "10.1.2.3") == 0 || strcmp(good4[i], "8.8.8.8") == 0) continue; /* the host has these */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = v4(good4[i], 0);
    printf("tcp %s: ", good4[i]);
    T(bind(s, SA(a), sizeof a));
    show_name("  name", s, 0, 0);
    close(s);
  }
  const char *good6[] = {"::", "::1", "::ffff:127.0.0.1", "::ffff:0.0.0.0", "::2", "fe80::1", "::ffff:127.0.0.5"};
  for (size_t i = 0; i < sizeof good6 / sizeof *good6; i++) {
    int s = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a = v6(good6[i], 0);
    printf("udp6 %s: ", good6[i]);
    T(bind(s, SA(a), sizeof a));
    show_name("  name", s, 0, 0);
    close(s);
  }
  int s = socket(AF_INET6, SOCK_STREAM, 0);
  T(setint(s, IPPROTO_IPV6, IPV6_V6ONLY, 1));
  struct sockaddr_in6 m = v6("::ffff:127.0.0.1", 0);
  T(bind(s, SA(m), sizeof m));
  close(s);

  /* One port, many sockets. */
  int first = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in any = v4("0.0.0.0", 0);
  T(bind(first, SA(any), sizeof any));
  int port = port_of(first);
  printf("port: %s\n", port_kind(port, -1));
  struct sockaddr_in lo = v4("127.0.0.1", port);
  struct sockaddr_in lo2 = v4("127.0.0.2", port);
  int x = socket(AF_INET, SOCK_STREAM, 0);
  T(bind(x, SA(lo), sizeof lo));
  T(setint(x, SOL_SOCKET, SO_REUSEADDR, 1));
  T(intopt(x, SOL_SOCKET, SO_REUSEADDR));
  T(bind(x, SA(lo), sizeof lo));
  T(setint(first, SOL_SOCKET, SO_REUSEADDR, 1));
  T(bind(x, SA(lo), sizeof lo));
  T(bind(x, SA(lo2), sizeof lo2));
  int y = socket(AF_INET, SOCK_STREAM, 0);
  T(setint(y, SOL_SOCKET, SO_REUSEADDR, 1));
  T(listen(first, 5));
  T(bind(y, SA(lo2), sizeof lo2));
  close(y);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  T(bind(u, SA(lo), sizeof lo));
  close(u);
  int w6 = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 any6 = v6("::", port);
  T(bind(w6, SA(any6), sizeof any6));
  T(setint(w6, IPPROTO_IPV6, IPV6_V6ONLY, 1));
  T(bind(w6, SA(any6), sizeof any6));
  T(setint(w6, IPPROTO_IPV6, IPV6_V6ONLY, 0));
  close(w6);
  close(x);
  close(first);
  /* The port is free again once its sockets are gone. */
  int again = socket(AF_INET, SOCK_STREAM, 0);
  T(bind(again, SA(lo), sizeof lo));
  close(again);

  /* SO_REUSEPORT: two listeners on one port. */
  int r1 = socket(AF_INET, SOCK_STREAM, 0), r2 = socket(AF_INET, SOCK_STREAM, 0);
  T(setint(r1, SOL_SOCKET, SO_REUSEPORT, 1));
  T(setint(r2, SOL_SOCKET, SO_REUSEPORT, 1));
  T(intopt(r2, SOL_SOCKET, SO_REUSEPORT));
  struct sockaddr_in l0 = v4("127.0.0.1", 0);
  T(bind(r1, SA(l0), sizeof l0));
  struct sockaddr_in same = v4("127.0.0.1", port_of(r1));
  T(bind(r2, SA(same), sizeof same));
  T(listen(r1, 1));
  T(listen(r2, 1));
  close(r1);
  close(r2);

  /* A dual-stack listener on :: holds the port for IPv4 too; a v6-only one does not. */
  int d6 = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 z6 = v6("::", 0);
  T(bind(d6, SA(z6), sizeof z6));
  int dport = port_of(d6);
  int d4 = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in dl = v4("127.0.0.1", dport);
  T(bind(d4, SA(dl), sizeof dl));
  close(d4);
  close(d6);
  d6 = socket(AF_INET6, SOCK_STREAM, 0);
  T(setint(d6, IPPROTO_IPV6, IPV6_V6ONLY, 1));
  T(bind(d6, SA(z6), sizeof z6));
  dport = port_of(d6);
  d4 = socket(AF_INET, SOCK_STREAM, 0);
  dl = v4("0.0.0.0", dport);
  T(bind(d4, SA(dl), sizeof dl));
  close(d4);
  close(d6);
  /* ::1 and 127.0.0.1 do not overlap. */
  d6 = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 one6 = v6("::1", 0);
  T(bind(d6, SA(one6), sizeof one6));
  d4 = socket(AF_INET, SOCK_STREAM, 0);
  dl = v4("127.0.0.1", port_of(d6));
  T(bind(d4, SA(dl), sizeof dl));
  close(d4);
  close(d6);
  /* Listening without a name takes an ephemeral port on every address. */
  int l = socket(AF_INET, SOCK_STREAM, 0);
  T(listen(l, 1));
  show_name("listen without bind", l, 0, 0);
  T(intopt(l, SOL_SOCKET, SO_ACCEPTCONN));
  close(l);
  int l6 = socket(AF_INET6, SOCK_STREAM, 0);
  T(listen(l6, 1));
  show_name("listen6 without bind", l6, 0, 0);
  close(l6);
}

/* A listener on ip (AF_INET or AF_INET6) with an ephemeral port. */
static int listener(int family, const char *ip, int backlog) {
  int s = socket(family, SOCK_STREAM, 0);
  if (family == AF_INET) {
    struct sockaddr_in a = v4(ip, 0);
    bind(s, SA(a), sizeof a);
  } else {
    struct sockaddr_in6 a = v6(ip, 0);
    bind(s, SA(a), sizeof a);
  }
  listen(s, backlog);
  return s;
}

static int connect_to(int s, int family, const char *ip, int port) {
  if (family == AF_INET) {
    struct sockaddr_in a = v4(ip, port);
    return connect(s, SA(a), sizeof a);
  }
  struct sockaddr_in6 a = v6(ip, port);
  return connect(s, SA(a), sizeof a);
}

static void connecting(void) {
  printf("-- connect\n");
  struct { int lfam; const char *lip; int cfam; const char *cip; } cases[] = {
    {AF_INET, "127.0.0.1", AF_INET, "127.0.0.1"},
    {AF_INET, "0.0.0.0", AF_INET, "127.0.0.1"},
    {AF_INET, "0.0.0.0", AF_INET, "127.0.0.3"},
    {AF_INET, "127.0.0.1", AF_INET, "127.0.0.3"},
    {AF_INET, "127.0.0.1", AF_INET6, "::ffff:127.0.0.1"},
    {AF_INET6, "::", AF_INET, "127.0.0.1"},
    {AF_INET6, "::", AF_INET6, "::1"},
    {AF_INET6, "::1", AF_INET6, "::1"},
    {AF_INET6, "::1", AF_INET, "127.0.0.1"},
    {AF_INET6, "::", AF_INET6, "::ffff:127.0.0.1"},
    {AF_INET6, "::ffff:127.0.0.1", AF_INET, "127.0.0.1"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    printf("%s %s <- %s %s\n", cases[i].lfam == AF_INET ? "inet" : "inet6", cases[i].lip,
           cases[i].cfam == AF_INET ? "inet" : "inet6", cases[i].cip);
    int l = listener(cases[i].lfam, cases[i].lip, 4);
    int port = port_of(l);
    int c = socket(cases[i].cfam, SOCK_STREAM, 0);
    if (T(connect_to(c, cases[i].cfam, cases[i].cip, port)) == 0) {
      show_name("  client name", c, 0, port);
      show_name("  client peer", c, 1, port);
      struct sockaddr_storage from;
      socklen_t len = sizeof from;
      int a = accept(l, SA(from), &len);
      show_addr("  accepted from", &from, len, port_of(c));
      show_name("  server name", a, 0, port);
      show_name("  server peer", a, 1, port_of(c));
      close(a);
    }
    close(c);
    close(l);
  }
  /* No listener: refused. */
  int l = listener(AF_INET, "127.0.0.1", 1);
  int port = port_of(l);
  close(l);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  T(connect_to(c, AF_INET, "127.0.0.1", port));
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  show_name("refused name", c, 0, port);
  T(connect_to(c, AF_INET, "127.0.0.1", port));
  close(c);
  c = socket(AF_INET6, SOCK_STREAM, 0);
  T(connect_to(c, AF_INET6, "::1", port));
  close(c);
  /* Bound but not listening: refused. */
  int b = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in ba = v4("127.0.0.1", 0);
  bind(b, SA(ba), sizeof ba);
  c = socket(AF_INET, SOCK_STREAM, 0);
  T(connect_to(c, AF_INET, "127.0.0.1", port_of(b)));
  close(c);
  close(b);
  /* A v6-only listener is not reached by IPv4. */
  l = socket(AF_INET6, SOCK_STREAM, 0);
  setint(l, IPPROTO_IPV6, IPV6_V6ONLY, 1);
  struct sockaddr_in6 z = v6("::", 0);
  bind(l, SA(z), sizeof z);
  listen(l, 1);
  c = socket(AF_INET, SOCK_STREAM, 0);
  T(connect_to(c, AF_INET, "127.0.0.1", port_of(l)));
  close(c);
  c = socket(AF_INET6, SOCK_STREAM, 0);
  T(connect_to(c, AF_INET6, "::ffff:127.0.0.1", port_of(l)));
  close(c);
  close(l);
  /* Bad addresses. */
  c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = v4("127.0.0.1", 1);
  T(connect(c, SA(a), sizeof a - 1));
  a.sin_family = AF_INET6;
  T(connect(c, SA(a), sizeof a));
  T(connect(c, (void *)8, sizeof a));
  a = v4("0.0.0.0", 9);
  close(c);
  /* A connected socket: again is EISCONN; listen is EINVAL; bind is EINVAL. */
  l = listener(AF_INET, "127.0.0.1", 4);
  port = port_of(l);
  c = socket(AF_INET, SOCK_STREAM, 0);
  T(connect_to(c, AF_INET, "127.0.0.1", port));
  T(connect_to(c, AF_INET, "127.0.0.1", port));
  T(listen(c, 1));
  struct sockaddr_in bb = v4("127.0.0.1", 0);
  T(bind(c, SA(bb), sizeof bb));
  T(connect_to(l, AF_INET, "127.0.0.1", port));
  int a1 = accept(l, NULL, NULL);
  close(a1);
  close(c);
  /* A bound client keeps its name. */
  c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in cb = v4("127.0.0.2", 0);
  T(bind(c, SA(cb), sizeof cb));
  T(connect_to(c, AF_INET, "127.0.0.1", port));
  show_name("bound client", c, 0, port);
  a1 = accept(l, NULL, NULL);
  show_name("its server's peer", a1, 1, port_of(c));
  close(a1);
  close(c);
  /* Non-blocking connect. */
  c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  T(connect_to(c, AF_INET, "127.0.0.1", port));
  wait_poll("nonblocking connect", c, POLLOUT);
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  T(connect_to(c, AF_INET, "127.0.0.1", port));
  show_name("nonblocking peer", c, 1, port);
  a1 = accept(l, NULL, NULL);
  T(write(c, "x", 1));
  close(a1);
  close(c);
  close(l);
  c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  T(connect_to(c, AF_INET, "127.0.0.1", port));
  wait_poll("nonblocking refused", c, POLLOUT | POLLIN);
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  close(c);
  /* A listener's accept. */
  l = listener(AF_INET, "127.0.0.1", 4);
  fcntl(l, F_SETFL, O_NONBLOCK);
  T(accept(l, NULL, NULL));
  show_poll("idle listener", l);
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect_to(c, AF_INET, "127.0.0.1", port_of(l));
  wait_poll("listener with a connection", l, POLLIN);
  int acc = F(accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC));
  T(fcntl(acc, F_GETFL) & O_NONBLOCK);
  T(fcntl(acc, F_GETFD));
  T(intopt(acc, SOL_SOCKET, SO_ACCEPTCONN));
  int nc = socket(AF_INET, SOCK_STREAM, 0);
  T(accept(nc, NULL, NULL));
  close(nc);
  close(acc);
  close(c);
  close(l);
}

static void data(void) {
  printf("-- data\n");
  signal(SIGPIPE, on_sigpipe);
  int l = listener(AF_INET, "127.0.0.1", 4);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  connect_to(c, AF_INET, "127.0.0.1", port_of(l));
  int s = accept(l, NULL, NULL);
  show_poll("connected", c);
  T(send(c, "hello", 5, 0));
  wait_poll("server with data", s, POLLIN);
  int n = -1;
  T(ioctl(s, FIONREAD, &n));
  T(n);
  show_recv("peek", s, 3, MSG_PEEK);
  show_recv("recv", s, 100, 0);
  show_recv("nothing", s, 100, MSG_DONTWAIT);
  T(write(s, "abcdef", 6));
  wait_poll("client with data", c, POLLIN);
  char buf[16];
  struct sockaddr_storage from;
  socklen_t len = sizeof from;
  memset(&from, 0x55, sizeof from);
  T(recvfrom(c, buf, 3, 0, SA(from), &len));
  T(len);
  show_recv("rest", c, 100, 0);
  struct sockaddr_in to = v4("127.0.0.1", 9);
  T(sendto(c, "x", 1, 0, SA(to), sizeof to));
  T(sendto(c, "y", 1, 0, NULL, 0));
  wait_poll("the x and y", s, POLLIN);
  show_recv("xy", s, 2, MSG_WAITALL);
  /* shutdown(SHUT_WR): the peer reads to end of file. */
  T(send(c, "bye", 3, 0));
  T(shutdown(c, SHUT_WR));
  wait_poll("after peer's SHUT_WR", s, POLLIN | POLLRDHUP);
  show_poll("after peer's SHUT_WR", s);
  show_recv("last", s, 100, 0);
  show_recv("eof", s, 100, 0);
  show_poll("shut writer", c);
  T(send(c, "z", 1, MSG_NOSIGNAL));
  T(sigpipes);
  T(send(s, "still", 5, 0));
  wait_poll("half-closed reader", c, POLLIN);
  show_recv("half-closed", c, 100, 0);
  close(s);
  wait_poll("after peer's close", c, POLLIN | POLLRDHUP);
  show_recv("closed", c, 100, 0);
  close(c);
  T(shutdown(l, SHUT_RDWR));
  close(l);

  /* Close with unread data resets the peer. */
  l = listener(AF_INET6, "::1", 4);
  c = socket(AF_INET6, SOCK_STREAM, 0);
  connect_to(c, AF_INET6, "::1", port_of(l));
  s = accept(l, NULL, NULL);
  T(send(c, "unread", 6, 0));
  wait_poll("unread data", s, POLLIN);
  close(s);
  wait_poll("reset", c, POLLIN);
  show_poll("reset", c);
  T(intopt(c, SOL_SOCKET, SO_ERROR));
  show_recv("after reset", c, 100, 0);
  T(send(c, "x", 1, MSG_NOSIGNAL));
  close(c);

  /* SO_LINGER with a zero timeout resets too. */
  c = socket(AF_INET6, SOCK_STREAM, 0);
  connect_to(c, AF_INET6, "::1", port_of(l));
  s = accept(l, NULL, NULL);
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  T(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
  memset(&lg, 0x55, sizeof lg);
  socklen_t lglen = sizeof lg;
  T(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &lglen));
  printf("linger %d %d len=%u\n", lg.l_onoff, lg.l_linger, lglen);
  close(s);
  wait_poll("lingered", c, POLLIN);
  show_recv("after linger", c, 100, 0);
  show_recv("then", c, 100, 0);
  close(c);

  /* Unsent, the listener goes: the queued connection is reset. */
  c = socket(AF_INET6, SOCK_STREAM, 0);
  connect_to(c, AF_INET6, "::1", port_of(l));
  close(l);
  wait_poll("listener gone", c, POLLIN);
  show_recv("after listener", c, 100, 0);
  close(c);

  /* Unconnected. */
  c = socket(AF_INET, SOCK_STREAM, 0);
  sigpipes = 0;
  T(send(c, "x", 1, 0));
  T(sigpipes);
  T(recv(c, buf, 1, 0));
  T(read(c, buf, 1));
  T(shutdown(c, SHUT_RD));
  T(shutdown(c, 7));
  close(c);

  /* A large transfer, both ways at once, through a fork. */
  l = listener(AF_INET, "127.0.0.1", 4);
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect_to(c, AF_INET, "127.0.0.1", port_of(l));
  s = accept(l, NULL, NULL);
  close(l);
  pid_t pid = fork();
  if (pid == 0) {
    static char big[1 << 20];
    memset(big, 'q', sizeof big);
    size_t done = 0;
    while (done < sizeof big) {
      ssize_t w = write(s, big + done, sizeof big - done);
      if (w <= 0) _exit(1);
      done += w;
    }
    _exit(0);
  }
  close(s);
  size_t total = 0;
  for (;;) {
    static char in[65536];
    ssize_t r = read(c, in, sizeof in);
    if (r <= 0) break;
    total += r;
  }
  int status;
  waitpid(pid, &status, 0);
  printf("transferred %zu, child status %d\n", total, status);
  close(c);
}

static void options(void) {
  printf("-- options\n");
  int s = socket(AF_INET, SOCK_STREAM, 0);
  T(intopt(s, IPPROTO_TCP, TCP_NODELAY));
  T(setint(s, IPPROTO_TCP, TCP_NODELAY, 1));
  T(intopt(s, IPPROTO_TCP, TCP_NODELAY));
  T(intopt(s, SOL_SOCKET, SO_KEEPALIVE));
  T(setint(s, SOL_SOCKET, SO_KEEPALIVE, 5));
  T(intopt(s, SOL_SOCKET, SO_KEEPALIVE));
  T(intopt(s, IPPROTO_TCP, TCP_KEEPIDLE));
  T(intopt(s, IPPROTO_TCP, TCP_KEEPINTVL));
  T(intopt(s, IPPROTO_TCP, TCP_KEEPCNT));
  T(setint(s, IPPROTO_TCP, TCP_KEEPIDLE, 30));
  T(setint(s, IPPROTO_TCP, TCP_KEEPINTVL, 5));
  T(setint(s, IPPROTO_TCP, TCP_KEEPCNT, 3));
  T(setint(s, IPPROTO_TCP, TCP_KEEPIDLE, 0));
  T(setint(s, IPPROTO_TCP, TCP_KEEPCNT, 128));
  T(intopt(s, IPPROTO_TCP, TCP_KEEPIDLE));
  T(intopt(s, IPPROTO_TCP, TCP_KEEPINTVL));
  T(intopt(s, IPPROTO_TCP, TCP_KEEPCNT));
  T(setint(s, SOL_SOCKET, SO_SNDBUF, 10000));
  T(intopt(s, SOL_SOCKET, SO_SNDBUF));
  T(setint(s, SOL_SOCKET, SO_RCVBUF, 1));
  T(intopt(s, SOL_SOCKET, SO_RCVBUF));
  T(intopt(s, IPPROTO_IP, IP_TOS));
  T(setint(s, IPPROTO_IP, IP_TOS, 0x10));
  T(intopt(s, IPPROTO_IP, IP_TOS));
  T(intopt(s, IPPROTO_IP, IP_TTL));
  T(setint(s, IPPROTO_IP, IP_TTL, 5));
  T(intopt(s, IPPROTO_IP, IP_TTL));
  T(setint(s, IPPROTO_IP, IP_TTL, 0));
  T(intopt(s, IPPROTO_TCP, 9999));
  T(intopt(s, IPPROTO_IPV6, IPV6_V6ONLY));
  T(intopt(s, 999, 1));
  T(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, "", 0));
  T(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (void *)8, 4));
  close(s);
  s = socket(AF_INET6, SOCK_STREAM, 0);
  T(intopt(s, IPPROTO_IPV6, IPV6_V6ONLY));
  T(intopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
  T(intopt(s, IPPROTO_IP, IP_TOS));
  T(intopt(s, IPPROTO_IPV6, IPV6_TCLASS));
  close(s);
  s = socket(AF_INET, SOCK_DGRAM, 0);
  T(intopt(s, IPPROTO_TCP, TCP_NODELAY));
  T(intopt(s, SOL_SOCKET, SO_LINGER));
  close(s);
}

static void show_recvfrom(const char *what, int s, size_t n, int flags, int same) {
  char buf[256];
  struct sockaddr_storage from;
  memset(&from, 0x55, sizeof from);
  socklen_t len = sizeof from;
  ssize_t r = recvfrom(s, buf, n, flags, SA(from), &len);
  if (r < 0) {
    printf("%s: -1 %s\n", what, strerrorname_np(errno));
    fflush(stdout);
    return;
  }
  printf("%s: %zd \"%.*s\" ", what, r, (int)(r < (ssize_t)n ? r : (ssize_t)n), buf);
  show_addr("from", &from, len, same);
}

static void datagrams(void) {
  printf("-- udp\n");
  int a = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in al = v4("127.0.0.1", 0);
  T(bind(a, SA(al), sizeof al));
  int port = port_of(a);
  int b = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = v4("127.0.0.1", port);
  T(sendto(b, "one", 3, 0, SA(to), sizeof to));
  show_name("autobound sender", b, 0, port);
  T(sendto(b, "two!", 4, 0, SA(to), sizeof to));
  T(sendto(b, "", 0, 0, SA(to), sizeof to));
  wait_poll("datagrams", a, POLLIN);
  int n = -1;
  T(ioctl(a, FIONREAD, &n));
  T(n);
  show_recvfrom("peek", a, 2, MSG_PEEK, port_of(b));
  show_recvfrom("trunc", a, 2, MSG_TRUNC, port_of(b));
  char buf[16];
  struct iovec iov = {.iov_base = buf, .iov_len = 2};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  T(recvmsg(a, &m, 0));
  T(m.msg_flags);
  show_recvfrom("empty", a, 10, 0, port_of(b));
  show_recvfrom("none", a, 10, MSG_DONTWAIT, port_of(b));
  T(send(b, "x", 1, 0));
  T(recv(b, buf, 1, MSG_DONTWAIT));
  show_name("unconnected peer", b, 1, port);
  /* connect: the default peer; only it is heard. */
  T(connect(b, SA(to), sizeof to));
  show_name("connected peer", b, 1, port);
  show_name("connected name", b, 0, port);
  T(send(b, "conn", 4, 0));
  T(write(b, "w", 1));
  int c = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in bl;
  socklen_t bll = sizeof bl;
  getsockname(b, SA(bl), &bll);
  T(sendto(c, "stranger", 8, 0, SA(bl), sizeof bl));
  T(sendto(a, "back", 4, 0, SA(bl), sizeof bl));
  wait_poll("connected receiver", b, POLLIN);
  show_recvfrom("from peer", b, 10, 0, port);
  show_recvfrom("nothing else", b, 10, MSG_DONTWAIT, port);
  show_recvfrom("a gets", a, 10, 0, port_of(b));
  show_recvfrom("a gets", a, 10, 0, port_of(b));
  struct sockaddr_in un;
  memset(&un, 0, sizeof un);
  un.sin_family = AF_UNSPEC;
  T(connect(b, SA(un), sizeof un));
  show_name("disconnected peer", b, 1, port);
  show_name("disconnected name", b, 0, port);
  close(c);

  /* A connected socket to a closed port hears of it at its next call. */
  int gone = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in gl = v4("127.0.0.1", 0);
  bind(gone, SA(gl), sizeof gl);
  struct sockaddr_in gto = v4("127.0.0.1", port_of(gone));
  close(gone);
  T(sendto(b, "nobody", 6, 0, SA(gto), sizeof gto));
  usleep(10000);
  T(recv(b, buf, 1, MSG_DONTWAIT));
  T(connect(b, SA(gto), sizeof gto));
  T(send(b, "nobody", 6, 0));
  usleep(10000);
  show_poll("refused", b);
  T(send(b, "nobody", 6, 0));
  T(send(b, "nobody", 6, 0));
  usleep(10000);
  T(recv(b, buf, 1, MSG_DONTWAIT));
  T(recv(b, buf, 1, MSG_DONTWAIT));
  T(send(b, "nobody", 6, 0));
  usleep(10000);
  T(intopt(b, SOL_SOCKET, SO_ERROR));
  T(intopt(b, SOL_SOCKET, SO_ERROR));

  /* Sizes. */
  static char big[70000];
  T(sendto(b, big, 65507, 0, SA(to), sizeof to));
  T(sendto(b, big, 65508, 0, SA(to), sizeof to));
  wait_poll("big", a, POLLIN);
  T(recv(a, big, sizeof big, 0));
  T(sendto(b, "x", 1, MSG_OOB, SA(to), sizeof to));
  T(sendto(b, "x", 1, 0, SA(to), sizeof to - 1));
  struct sockaddr_in far = v4("127.0.0.1", 0);
  T(sendto(b, "x", 1, 0, SA(far), sizeof far));
  T(listen(a, 1));
  T(accept(a, NULL, NULL));
  T(shutdown(a, SHUT_RD));
  show_poll("udp shut", a);
  T(shutdown(b, SHUT_WR));
  T(send(b, "x", 1, 0));
  close(b);
  close(a);

  /* IPv6, dual-stack. */
  int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 z = v6("::", 0);
  bind(s6, SA(z), sizeof z);
  int p6 = port_of(s6);
  int c4 = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in t4 = v4("127.0.0.1", p6);
  T(sendto(c4, "four", 4, 0, SA(t4), sizeof t4));
  int c6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 t6 = v6("::1", p6);
  T(sendto(c6, "six", 3, 0, SA(t6), sizeof t6));
  wait_poll("udp6", s6, POLLIN);
  show_recvfrom("v4 sender", s6, 10, 0, port_of(c4));
  show_recvfrom("v6 sender", s6, 10, 0, port_of(c6));
  struct sockaddr_in6 big6 = v6("::1", p6);
  T(sendto(c6, big, 65527, 0, SA(big6), sizeof big6));
  T(sendto(c6, big, 65528, 0, SA(big6), sizeof big6));
  wait_poll("big6", s6, POLLIN);
  T(recv(s6, big, sizeof big, 0));
  struct sockaddr_in6 m6 = v6("::ffff:127.0.0.1", p6);
  T(sendto(c6, big, 65507, 0, SA(m6), sizeof m6));
  T(sendto(c6, big, 65508, 0, SA(m6), sizeof m6));
  close(c4);
  close(c6);
  close(s6);

  /* A full receive buffer drops datagrams, and the sender never waits. */
  int r = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in rl = v4("127.0.0.1", 0);
  bind(r, SA(rl), sizeof rl);
  int sender = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in rto = v4("127.0.0.1", port_of(r));
  int sent = 0;
  for (int i = 0; i < 400; i++)
    if (sendto(sender, big, 1000, 0, SA(rto), sizeof rto) == 1000) sent++;
  printf("sent %d\n", sent);
  usleep(10000);
  int got = 0;
  while (recv(r, big, sizeof big, MSG_DONTWAIT) == 1000) got++;
  printf("received some but not all: %d\n", got > 10 && got < sent);
  close(sender);
  close(r);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  sockets();
  addresses();
  binding();
  connecting();
  data();
  options();
  datagrams();
  return 0;
}
