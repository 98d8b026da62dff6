// epoll_wait wake-up latency: two processes pass one byte back and forth through two pipes, each
// blocked in epoll_wait on its read end before it reads and answers. One round trip is two wake-ups;
// timed inside the parent after N/4 untimed round trips.
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Waits for fd with epoll, reads its byte and writes one to out. */
static void pass(int ep, int in, int out) {
  struct epoll_event ev;
  char c;
  if (epoll_wait(ep, &ev, 1, -1) != 1 || read(in, &c, 1) != 1 || write(out, &c, 1) != 1) exit(1);
}

static int watching(int fd) {
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) exit(1);
  return ep;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 10000;
  int ping[2], pong[2];
  if (pipe(ping) != 0 || pipe(pong) != 0) return 1;
  long warm = n / 4;
  pid_t child = fork();
  if (child == 0) {
    int ep = watching(ping[0]);
    for (long i = 0; i < warm + n; i++) pass(ep, ping[0], pong[1]);
    _exit(0);
  }
  int ep = watching(pong[0]);
  struct timespec t0, t1;
  for (long i = 0; i < warm + n; i++) {
    if (i == warm) clock_gettime(CLOCK_MONOTONIC, &t0);
    if (write(ping[1], "x", 1) != 1) return 1;
    struct epoll_event ev;
    char c;
    if (epoll_wait(ep, &ev, 1, -1) != 1 || read(pong[0], &c, 1) != 1) return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  int status;
  waitpid(child, &status, 0);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("%ld round trips %.1f ns/op\n", n, ns / n);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
