/* Ephemeral ports shared by TCP connections to different destinations, compared with the host kernel
 * in a network namespace of its own (natively: unshare(CLONE_NEWNET) with lo brought up; the sandbox's
 * is its own already), with ip_local_port_range cut to one port: connect() takes a port that other
 * connect()s hold when its 4-tuple is new (__inet_hash_connect), EADDRNOTAVAIL when it is taken; a
 * port that bind() took is not shared so; sockets bound with SO_REUSEADDR to one port connect to
 * distinct peers, and EADDRNOTAVAIL to the same one. Nothing printed may differ between runs. */
#include "fs_common.h"
#include "net_common.h"
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>

#define RANGE "/proc/sys/net/ipv4/ip_local_port_range"

static void own_namespace(void) {
  if (unshare(CLONE_NEWNET) != 0) return;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP;
    ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  close(s);
}

static void put(const char *path, const char *text) {
  int fd = open(path, O_WRONLY);
  ssize_t n = write(fd, text, strlen(text));
  printf("range \"%s\": %s\n", text, n < 0 ? strerrorname_np(errno) : "ok");
  close(fd);
  fflush(stdout);
}

static int listener(int family, const char *ip, int port) {
  int l = socket(family, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int r;
  if (family == AF_INET) {
    struct sockaddr_in a = v4(ip, port);
    r = bind(l, SA(a), sizeof a);
  } else {
    struct sockaddr_in6 a = v6(ip, port);
    r = bind(l, SA(a), sizeof a);
  }
  if (r < 0 || listen(l, 8) < 0) printf("listener %s %d: %s\n", ip, port, strerrorname_np(errno));
  return l;
}

/* Connects s to ip:port and says how, with the local port it has (as its offset from base). */
static int connect_to(const char *what, int s, const char *ip, int port, int base) {
  int r;
  if (strchr(ip, ':') != NULL) {
    struct sockaddr_in6 a = v6(ip, port);
    r = connect(s, SA(a), sizeof a);
  } else {
    struct sockaddr_in a = v4(ip, port);
    r = connect(s, SA(a), sizeof a);
  }
  int p = port_of(s);
  if (r < 0) printf("%s: -1 %s, port %s\n", what, strerrorname_np(errno), p == 0 ? "none" : p == base ? "base" : "other");
  else printf("%s: ok, port %s\n", what, p == base ? "base" : p == 0 ? "none" : "other");
  fflush(stdout);
  return r;
}

/* The accepted end of the oldest connection on l, its peer's port as an offset from base; data both ways. */
static int accept_check(const char *what, int l, int c, int base) {
  int a = accept(l, NULL, NULL);
  struct sockaddr_storage peer;
  socklen_t len = sizeof peer;
  getpeername(a, SA(peer), &len);
  int pp = ntohs(peer.ss_family == AF_INET ? ((struct sockaddr_in *)&peer)->sin_port : ((struct sockaddr_in6 *)&peer)->sin6_port);
  char buf[8] = {0};
  send(c, "hi", 2, 0);
  ssize_t n = recv(a, buf, sizeof buf, 0);
  send(a, "yo", 2, 0);
  char back[8] = {0};
  ssize_t m = recv(c, back, sizeof back, 0);
  printf("%s: accepted, peer port %s, \"%.*s\" and \"%.*s\"\n", what, pp == base ? "base" : "other", (int)n, buf, (int)m, back);
  fflush(stdout);
  return a;
}

static void reset_close(int s) {
  if (s < 0) return;
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(s);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  own_namespace();
  int l1 = listener(AF_INET, "0.0.0.0", 5001);
  int l2 = listener(AF_INET, "127.0.0.1", 5002);
  int l6 = listener(AF_INET6, "::1", 5003);

  printf("-- one ephemeral port, connections to different destinations\n");
  put(RANGE, "40000 40000");
  int c[8], a[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
  for (int i = 0; i < 8; i++) c[i] = socket(i == 4 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  a[0] = connect_to("to 127.0.0.1:5001", c[0], "127.0.0.1", 5001, 40000) == 0 ? accept_check("to 127.0.0.1:5001", l1, c[0], 40000) : -1;
  a[1] = connect_to("to 127.0.0.1:5002", c[1], "127.0.0.1", 5002, 40000) == 0 ? accept_check("to 127.0.0.1:5002", l2, c[1], 40000) : -1;
  connect_to("to 127.0.0.1:5001 again", c[2], "127.0.0.1", 5001, 40000);
  a[3] = connect_to("to 127.0.0.2:5001", c[3], "127.0.0.2", 5001, 40000) == 0 ? accept_check("to 127.0.0.2:5001", l1, c[3], 40000) : -1;
  a[4] = connect_to("to [::1]:5003", c[4], "::1", 5003, 40000) == 0 ? accept_check("to [::1]:5003", l6, c[4], 40000) : -1;
  /* The port is held by connections: bind and listen find none free. */
  {
    int b = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = v4("127.0.0.1", 0);
    T(bind(b, SA(any), sizeof any));
    close(b);
    b = socket(AF_INET, SOCK_STREAM, 0);
    T(listen(b, 1));
    close(b);
    b = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in at = v4("127.0.0.1", 40000);
    T(bind(b, SA(at), sizeof at));
    close(b);
  }
  /* A connection gone frees its 4-tuple. */
  reset_close(c[0]);
  reset_close(a[0]);
  a[5] = connect_to("to 127.0.0.1:5001 after the first went", c[5], "127.0.0.1", 5001, 40000) == 0 ? accept_check("to 127.0.0.1:5001 after the first went", l1, c[5], 40000) : -1;
  int held[] = {1, 3, 4, 5};
  for (int i = 0; i < 4; i++) {
    reset_close(c[held[i]]);
    reset_close(a[held[i]]);
  }
  close(c[2]);
  close(c[6]);
  close(c[7]);

  printf("-- a port bind() took is not shared by connect()\n");
  {
    int b = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in at = v4("127.0.0.1", 40000);
    T(bind(b, SA(at), sizeof at));
    int d = socket(AF_INET, SOCK_STREAM, 0);
    connect_to("ephemeral, the port bound", d, "127.0.0.1", 5001, 40000);
    close(d);
    close(b);
  }

  printf("-- sockets bound with SO_REUSEADDR to one port\n");
  put(RANGE, "40000 40001");
  int s[4];
  for (int i = 0; i < 4; i++) {
    s[i] = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in at = v4("127.0.0.1", 6000);
    T(bind(s[i], SA(at), sizeof at));
  }
  a[0] = connect_to("bound, to 127.0.0.1:5001", s[0], "127.0.0.1", 5001, 6000) == 0 ? accept_check("bound, to 127.0.0.1:5001", l1, s[0], 6000) : -1;
  connect_to("bound, to 127.0.0.1:5001 again", s[1], "127.0.0.1", 5001, 6000);
  a[1] = connect_to("bound, to 127.0.0.1:5002", s[1], "127.0.0.1", 5002, 6000) == 0 ? accept_check("bound, to 127.0.0.1:5002", l2, s[1], 6000) : -1;
  connect_to("bound, a third to 127.0.0.1:5001", s[2], "127.0.0.1", 5001, 6000);
  /* A listener on the shared port: the connected ones do not stop it (their SO_REUSEADDR). */
  T(listen(s[3], 1));
  {
    int d = socket(AF_INET, SOCK_STREAM, 0);
    connect_to("to the bound port's listener", d, "127.0.0.1", 6000, 40000);
    reset_close(d);
  }
  for (int i = 0; i < 4; i++) reset_close(s[i]);
  reset_close(a[0]);
  reset_close(a[1]);
  close(l1);
  close(l2);
  close(l6);
  return 0;
}
