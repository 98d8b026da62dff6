// SO_RCVTIMEO and SO_SNDTIMEO: set and read back, the errors for bad values, a receive (recv, read,
// accept, a UDP recvfrom) and a send on a full socket that give up with EAGAIN once the time is over,
// a negative time that does not wait at all, and a signal that ends a timed wait with EINTR even under
// SA_RESTART. Compared with the host kernel; times are multiples of 20 ms, which HZ 100, 250 and 1000 all keep.
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void result(const char *what, long r) {
  printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(errno) : "");
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void set(int fd, int option, long sec, long usec) {
  struct timeval tv = {sec, usec};
  result(option == SO_RCVTIMEO ? "  set SO_RCVTIMEO" : "  set SO_SNDTIMEO", setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv));
}

static void get(int fd, int option) {
  struct timeval tv = {-1, -1};
  socklen_t len = sizeof tv;
  int r = getsockopt(fd, SOL_SOCKET, option, &tv, &len);
  printf("  get: %d, {%ld, %ld}, len %u\n", r, (long)tv.tv_sec, (long)tv.tv_usec, len);
}

/** The call's result and whether it took about ms (at least ms - 10, less than ms + 1000). */
#define TIMED(what, ms, call) do { \
    long t0_ = now_ms(); \
    result(what, (long)(call)); \
    long took_ = now_ms() - t0_; \
    printf("  took about %d ms: %s\n", ms, took_ >= (ms) - 10 && took_ < (ms) + 1000 ? "yes" : "no"); \
  } while (0)

static void on_alarm(int sig) { (void)sig; }

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  char buf[64];
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  printf("defaults:\n");
  get(sv[0], SO_RCVTIMEO);
  get(sv[0], SO_SNDTIMEO);
  printf("bad values:\n");
  set(sv[0], SO_RCVTIMEO, 0, 1000000);
  set(sv[0], SO_RCVTIMEO, 0, -1);
  struct timeval tv = {1, 0};
  result("  too short", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, 8));
  result("  at a bad address", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, (void *)8, sizeof tv));
  socklen_t small = 8;
  result("  get into 8 bytes", getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, &small));
  printf("  len %u\n", small);

  printf("a receive that times out:\n");
  set(sv[0], SO_RCVTIMEO, 0, 200000);
  get(sv[0], SO_RCVTIMEO);
  TIMED("  recv", 200, recv(sv[0], buf, sizeof buf, 0));
  TIMED("  read", 200, read(sv[0], buf, sizeof buf));
  write(sv[1], "hi", 2);
  result("  recv with data there", recv(sv[0], buf, sizeof buf, 0));
  printf("a negative time does not wait:\n");
  set(sv[0], SO_RCVTIMEO, -1, 0);
  get(sv[0], SO_RCVTIMEO);
  TIMED("  recv", 0, recv(sv[0], buf, sizeof buf, 0));
  printf("a signal ends a timed wait with EINTR, SA_RESTART or not:\n");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  set(sv[0], SO_RCVTIMEO, 5, 0);
  struct itimerval it = {.it_value = {0, 100000}};
  setitimer(ITIMER_REAL, &it, NULL);
  TIMED("  recv", 100, recv(sv[0], buf, sizeof buf, 0));
  set(sv[0], SO_RCVTIMEO, 0, 0);
  get(sv[0], SO_RCVTIMEO);

  printf("a send on a full socket that times out:\n");
  static char big[65536];
  long queued = 0;
  for (long n; (n = send(sv[1], big, sizeof big, MSG_DONTWAIT)) > 0;) queued += n;
  printf("  filled: %s\n", queued > 0 ? "yes" : "no");
  set(sv[1], SO_SNDTIMEO, 0, 160000);
  get(sv[1], SO_SNDTIMEO);
  TIMED("  send", 160, send(sv[1], big, sizeof big, 0));
  TIMED("  write", 160, write(sv[1], big, sizeof big));
  close(sv[0]);
  close(sv[1]);

  printf("accept:\n");
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path + 1, sizeof un.sun_path - 1, "net-timeo-%d", (int)getpid());
  bind(l, (struct sockaddr *)&un, sizeof un);
  listen(l, 1);
  set(l, SO_RCVTIMEO, 0, 100000);
  TIMED("  accept", 100, accept(l, NULL, NULL));
  close(l);

  printf("udp:\n");
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(u, (struct sockaddr *)&in, sizeof in);
  set(u, SO_RCVTIMEO, 0, 100000);
  TIMED("  recvfrom", 100, recvfrom(u, buf, sizeof buf, 0, NULL, NULL));
  close(u);
  return 0;
}
