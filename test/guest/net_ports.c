/* net.ipv4.ip_local_port_range and ip_unprivileged_port_start, compared with the host kernel in a
 * network namespace of its own (natively: unshare(CLONE_NEWNET) with lo brought up, so that the
 * host's settings are never touched; the sandbox's namespace is its own already): reading them,
 * writes Linux takes and those it refuses (EINVAL), the ephemeral ports that bind, listen and connect
 * then choose (TCP's connect prefers the parity of the range's low end, bind and listen the other;
 * UDP's are at random), a range used up (EADDRNOTAVAIL, EADDRINUSE, EAGAIN), and the ports only a privileged user may bind. */
#include "fs_common.h"
#include "net_common.h"
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#define RANGE "/proc/sys/net/ipv4/ip_local_port_range"
#define START "/proc/sys/net/ipv4/ip_unprivileged_port_start"

/* A namespace of its own, its lo up; in the sandbox (which has its own) whatever this answers is ignored. */
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

static void show_file(const char *path) {
  char buf[64];
  int fd = open(path, O_RDONLY);
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) n = 0;
  buf[n] = 0;
  for (char *p = buf; *p; p++) if (*p == '\t') *p = ' ';
  printf("%s: %s", strrchr(path, '/') + 1, buf);
  fflush(stdout);
}

static void put(const char *path, const char *text) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) {
    printf("open %s: -1 %s\n", strrchr(path, '/') + 1, strerrorname_np(errno));
    return;
  }
  ssize_t n = write(fd, text, strlen(text));
  if (n < 0) printf("write \"%s\": -1 %s\n", text, strerrorname_np(errno));
  else printf("write \"%s\": %zd\n", text, n);
  close(fd);
  fflush(stdout);
}

/* Ports taken from a range of four, in order: sorted, so that the start chosen at random does not show. */
static void take_sorted(const char *how, int type, int n, int to) {
  int fds[8], ports[8];
  for (int i = 0; i < n; i++) {
    int s = fds[i] = socket(AF_INET, type, 0);
    int r;
    if (how[0] == 'b') {
      struct sockaddr_in a = v4("127.0.0.1", 0);
      r = bind(s, SA(a), sizeof a);
    } else if (how[0] == 'l') {
      r = listen(s, 1);
    } else {
      struct sockaddr_in a = v4("127.0.0.1", to);
      r = connect(s, SA(a), sizeof a);
    }
    ports[i] = r < 0 ? -errno : port_of(s);
  }
  printf("%s %s:", type == SOCK_STREAM ? "tcp" : "udp", how);
  for (int i = 0; i < n; i++) {
    if (ports[i] < 0) printf(" %s", strerrorname_np(-ports[i]));
    else printf(" %s", type == SOCK_DGRAM ? "ok" : ports[i] % 2 ? "odd" : "even");
  }
  /* Which ports, whatever the order. */
  int seen[4] = {0};
  for (int i = 0; i < n; i++) if (ports[i] >= 40000 && ports[i] < 40004) seen[ports[i] - 40000] = 1;
  printf(" (held %d%d%d%d)\n", seen[0], seen[1], seen[2], seen[3]);
  fflush(stdout);
  /* Reset rather than closed, so that no TIME_WAIT holds the ports natively. */
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  for (int i = 0; i < n; i++) setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  for (int i = 0; i < n; i++) close(fds[i]);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  own_namespace();
  show_file(RANGE);
  show_file(START);
  /* Writes Linux refuses, then takes. */
  put(RANGE, "50000 40000");
  put(RANGE, "1000 2000");
  put(RANGE, "0 2000");
  put(RANGE, "40000 70000");
  put(RANGE, "-1 40000");
  put(RANGE, "abc");
  put(RANGE, "40000 x");
  show_file(RANGE);
  put(RANGE, "40000 40003");
  show_file(RANGE);
  put(RANGE, "40001\n");
  show_file(RANGE);
  put(RANGE, "  40000\t40003  \n");
  show_file(RANGE);
  put(RANGE, "");
  show_file(RANGE);
  /* An fd open for reading does not write. */
  int rfd = open(RANGE, O_RDONLY);
  T(write(rfd, "1 2", 3));
  close(rfd);

  /* The ports chosen from 40000-40003. */
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in la = v4("127.0.0.1", 5000);
  T(bind(l, SA(la), sizeof la));
  T(listen(l, 16));
  take_sorted("bind", SOCK_STREAM, 2, 0);
  take_sorted("listen", SOCK_STREAM, 2, 0);
  take_sorted("connect", SOCK_STREAM, 2, 5000);
  take_sorted("bind", SOCK_STREAM, 5, 0);
  take_sorted("connect", SOCK_STREAM, 5, 5000);
  take_sorted("bind", SOCK_DGRAM, 5, 0);
  take_sorted("connect", SOCK_DGRAM, 5, 5000);
  /* An odd low end: connect prefers odd ports. */
  put(RANGE, "40001 40003");
  take_sorted("connect", SOCK_STREAM, 1, 5000);
  take_sorted("bind", SOCK_STREAM, 1, 0);
  /* One port. */
  put(RANGE, "40002 40002");
  take_sorted("connect", SOCK_STREAM, 1, 5000);
  take_sorted("bind", SOCK_STREAM, 2, 0);
  close(l);

  /* ip_unprivileged_port_start: not above the range's low end. */
  put(START, "40003");
  put(START, "65536");
  put(START, "-1");
  put(START, "2000");
  show_file(START);
  put(RANGE, "1500 40000");
  put(RANGE, "2000 40000");
  show_file(RANGE);
  put(START, "0");
  show_file(START);
  put(START, "1024");
  put(RANGE, "32768 60999");

  /* A port below ip_unprivileged_port_start needs privilege: a child that gives up root. */
  pid_t pid = fork();
  if (pid == 0) {
    if (setresuid(1000, 1000, 1000) != 0) _exit(1);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = v4("127.0.0.1", 1023);
    T(bind(s, SA(a), sizeof a));
    close(s);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    a = v4("127.0.0.1", 80);
    T(bind(s, SA(a), sizeof a));
    close(s);
    s = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a6;
    memset(&a6, 0, sizeof a6);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(22);
    T(bind(s, SA(a6), sizeof a6));
    close(s);
    s = socket(AF_INET, SOCK_STREAM, 0);
    a = v4("127.0.0.1", 1024);
    T(bind(s, SA(a), sizeof a));
    close(s);
    s = socket(AF_INET, SOCK_STREAM, 0);
    a = v4("127.0.0.1", 0);
    T(bind(s, SA(a), sizeof a));
    close(s);
    put(RANGE, "40000 40003");
    put(START, "1000");
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  printf("child status %d\n", status);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = v4("127.0.0.1", 1023);
  T(bind(s, SA(a), sizeof a));
  close(s);
  show_file(RANGE);
  show_file(START);
  return 0;
}
