// Signals and the waits on many files, compared with the host kernel: a handler interrupts poll,
// select, epoll_wait (EINTR, SA_RESTART or not); ppoll, pselect6 and epoll_pwait wait with their mask
// and put the old one back (after the handler when a signal interrupted them, at once when a file was
// ready first); ppoll and select write back the time left; an ignored signal interrupts nothing.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int handled;
static volatile int mask_in_handler_has_usr2;

static void on_signal(int sig) {
  handled++;
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  mask_in_handler_has_usr2 = sigismember(&now, SIGUSR2);
  (void)sig;
}

static void handle(int sig, int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = flags;
  sigaction(sig, &sa, NULL);
}

/* SIGALRM after ms milliseconds, once. */
static void alarm_in(int ms) {
  struct itimerval it = {.it_value = {ms / 1000, (ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &it, NULL);
}

static void result(const char *what, int r) {
  if (r < 0) printf("%s = -1 %s (handled %d)\n", what, strerrorname_np(errno), handled);
  else printf("%s = %d (handled %d)\n", what, r, handled);
  fflush(stdout);
  handled = 0;
}

static int blocked(int sig) {
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  return sigismember(&now, sig);
}

static int pending(int sig) {
  sigset_t set;
  sigpending(&set);
  return sigismember(&set, sig);
}

int main(void) {
  int p[2];
  pipe(p);
  struct pollfd pf = {.fd = p[0], .events = POLLIN};
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
  epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
  fd_set r;

  for (int restart = 0; restart < 2; restart++) {
    printf("-- SIGALRM, %s\n", restart ? "SA_RESTART" : "no SA_RESTART");
    handle(SIGALRM, restart ? SA_RESTART : 0);
    alarm_in(30);
    result("poll -1", poll(&pf, 1, -1));
    alarm_in(30);
    result("poll 5000", poll(&pf, 1, 5000));
    alarm_in(30);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timeval tv = {5, 0};
    result("select 5 s", select(p[0] + 1, &r, NULL, NULL, &tv));
    printf("select left in (4, 5) s: %d; read set kept: %d\n", tv.tv_sec == 4, FD_ISSET(p[0], &r));
    alarm_in(30);
    result("select NULL", select(p[0] + 1, &r, NULL, NULL, NULL));
    alarm_in(30);
    result("epoll_wait -1", epoll_wait(ep, &ev, 1, -1));
    alarm_in(30);
    result("epoll_wait 5000", epoll_wait(ep, &ev, 1, 5000));
    alarm_in(30);
    struct timespec ts = {5, 0};
    result("ppoll 5 s", ppoll(&pf, 1, &ts, NULL));
    printf("ppoll left in (4, 5) s: %d\n", ts.tv_sec == 4);
  }

  printf("-- masks\n");
  handle(SIGUSR1, 0);
  handle(SIGUSR2, 0);
  sigset_t usr1, none, usr2;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigemptyset(&none);
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  kill(getpid(), SIGUSR1);
  struct timespec second = {1, 0};
  // ppoll's mask lets the pending SIGUSR1 in; its handler runs with ppoll's mask, then SIGUSR1 is blocked again.
  result("ppoll with SIGUSR2 as mask", ppoll(&pf, 1, &second, &usr2));
  printf("handler saw SIGUSR2 blocked: %d; SIGUSR1 blocked after: %d, SIGUSR2 blocked after: %d\n",
         mask_in_handler_has_usr2, blocked(SIGUSR1), blocked(SIGUSR2));
  // A ready file first: the call answers, the mask comes back at once, the signal stays pending.
  write(p[1], "x", 1);
  kill(getpid(), SIGUSR1);
  result("ppoll ready, SIGUSR1 pending", ppoll(&pf, 1, &second, &none));
  printf("SIGUSR1 pending: %d, blocked: %d\n", pending(SIGUSR1), blocked(SIGUSR1));
  result("epoll_pwait ready, SIGUSR1 pending", epoll_pwait(ep, &ev, 1, 1000, &none));
  printf("SIGUSR1 pending: %d\n", pending(SIGUSR1));
  char c;
  read(p[0], &c, 1);
  result("epoll_pwait, mask lets it in", epoll_pwait(ep, &ev, 1, 1000, &none));
  printf("SIGUSR1 blocked after: %d\n", blocked(SIGUSR1));
  kill(getpid(), SIGUSR1);
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  struct timespec pts = {1, 0};
  result("pselect, mask lets it in", pselect(p[0] + 1, &r, NULL, NULL, &pts, &none));
  printf("SIGUSR1 blocked after: %d\n", blocked(SIGUSR1));
  kill(getpid(), SIGUSR1);
  struct timespec e2 = {1, 0};
  result("epoll_pwait2, mask lets it in", syscall(SYS_epoll_pwait2, ep, &ev, 1, &e2, &none, 8));
  // A mask that blocks the timer's signal: the call times out, then the handler runs once unblocked.
  sigset_t alrm;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  alarm_in(20);
  struct timespec short_wait = {0, 80000000};
  result("ppoll blocking SIGALRM", ppoll(&pf, 1, &short_wait, &alrm));
  printf("SIGALRM pending: %d\n", pending(SIGALRM));
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGALRM);
  struct timespec zero = {0, 0};
  result("ppoll zero timeout, SIGALRM let in", ppoll(&pf, 1, &zero, &all));
  sigprocmask(SIG_UNBLOCK, &usr1, NULL);
  printf("handled after unblocking: %d\n", handled);

  printf("-- ignored\n");
  signal(SIGUSR2, SIG_IGN);
  kill(getpid(), SIGUSR2);
  result("poll 30 with SIGUSR2 ignored", poll(&pf, 1, 30));
  return 0;
}
