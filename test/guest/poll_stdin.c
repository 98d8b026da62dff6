// poll, select and epoll on stdin when it is a host pipe, compared with the host kernel.
//   poll_stdin data   stdin holds data and its writer has closed: readable, then only hung up
//   poll_stdin wait   stdin is empty and open: not ready; prints "waiting", then waits for ever
//                     until the data the test writes arrives, and for the hang-up when it closes
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <unistd.h>

static void show(const char *what, int r, unsigned ev) {
  printf("%s = %d:%s%s%s%s\n", what, r, ev & POLLIN ? " IN" : "", ev & POLLOUT ? " OUT" : "", ev & POLLHUP ? " HUP" : "",
         ev & POLLERR ? " ERR" : "");
  fflush(stdout);
}

static void poll_stdin(const char *what, int ms) {
  struct pollfd p = {.fd = 0, .events = POLLIN | POLLOUT};
  int r = poll(&p, 1, ms);
  show(what, r, p.revents);
}

static void epoll_stdin(int ep, const char *what, int ms) {
  struct epoll_event ev = {0};
  int r = epoll_wait(ep, &ev, 1, ms);
  show(what, r, r > 0 ? ev.events : 0);
}

static void read_all(void) {
  char buf[256];
  long n = read(0, buf, sizeof buf);
  printf("read %ld: %.*s", n, n > 0 ? (int)n : 0, buf);
  if (n <= 0) printf("\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  int wait = argc > 1 && strcmp(argv[1], "wait") == 0;
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
  printf("epoll_ctl = %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev));
  fd_set r;
  struct timeval tv = {0, 0};
  if (!wait) {
    poll_stdin("poll with data", 0);
    epoll_stdin(ep, "epoll with data", 0);
    FD_ZERO(&r);
    FD_SET(0, &r);
    printf("select with data = %d, set %d\n", select(1, &r, NULL, NULL, &tv), FD_ISSET(0, &r));
    read_all();
    poll_stdin("poll drained", 0);
    epoll_stdin(ep, "epoll drained", -1);
    read_all();
    return 0;
  }
  poll_stdin("poll empty", 0);
  epoll_stdin(ep, "epoll empty", 0);
  FD_ZERO(&r);
  FD_SET(0, &r);
  printf("select empty = %d\n", select(1, &r, NULL, NULL, &tv));
  printf("waiting\n");
  fflush(stdout);
  poll_stdin("poll for ever", -1);
  read_all();
  epoll_stdin(ep, "epoll empty again", 0);
  printf("waiting again\n");
  fflush(stdout);
  epoll_stdin(ep, "epoll for ever", -1);
  read_all();
  printf("waiting for the end\n");
  fflush(stdout);
  FD_ZERO(&r);
  FD_SET(0, &r);
  printf("select for ever = %d, set %d\n", select(1, &r, NULL, NULL, NULL), FD_ISSET(0, &r));
  poll_stdin("poll at the end", -1);
  read_all();
  return 0;
}
