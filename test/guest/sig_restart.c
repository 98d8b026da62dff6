/* Blocking calls interrupted by signals, compared with the host kernel: SIGALRM from setitimer(ITIMER_REAL)
 * ends a blocking read of an empty pipe with EINTR, or restarts it under SA_RESTART; a blocking write
 * returns what it wrote; nanosleep is never restarted and writes the time left; pause, sigsuspend and
 * sigtimedwait; alarm's and getitimer's answers; a timed poll, a nanosleep and timed futex waits
 * (relative, and an absolute deadline) stopped and continued (a signal that runs no handler) go on with
 * the time they had left (restart_syscall). The program
 * holds both ends of its pipes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int alarms;
static volatile int feed;
static volatile int stop_at;
static int pfd[2];

static void on_alarm(int sig) {
  (void)sig;
  alarms++;
  if (feed) write(pfd[1], "x", 1);
  /* The handler disarms an interval timer itself, so a slow machine sees no extra tick. */
  if (stop_at && alarms == stop_at) {
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
  }
}

static void on_usr(int sig) { printf("  handler %d\n", sig); }

static void use(int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = flags;
  sigaction(SIGALRM, &sa, NULL);
}

static void in_ms(long ms) {
  struct itimerval it = {.it_value = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &it, NULL);
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A child that stops this process 100 ms from now and continues it 100 ms later. */
static pid_t stop_and_continue(void) {
  pid_t parent = getpid();
  pid_t c = fork();
  if (c == 0) {
    usleep(100000);
    kill(parent, SIGSTOP);
    usleep(100000);
    kill(parent, SIGCONT);
    _exit(0);
  }
  return c;
}

static void result(const char *what, long r) {
  printf("  %s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pipe(pfd);
  char buf[8] = {0};

  printf("read of an empty pipe, SIGALRM without SA_RESTART:\n");
  use(0);
  in_ms(100);
  result("read", read(pfd[0], buf, sizeof buf));
  printf("  alarms %d\n", alarms);

  printf("the same with SA_RESTART (the handler writes a byte):\n");
  use(SA_RESTART);
  feed = 1;
  in_ms(100);
  result("read", read(pfd[0], buf, sizeof buf));
  printf("  got '%s', alarms %d\n", buf, alarms);
  feed = 0;

  printf("a write into a full pipe:\n");
  use(0);
  static char big[256 * 1024];
  in_ms(100);
  result("write", write(pfd[1], big, sizeof big));
  while (read(pfd[0], big, sizeof big) == (ssize_t)sizeof big) {
  }
  fcntl(pfd[0], F_SETFL, O_NONBLOCK);
  while (read(pfd[0], big, sizeof big) > 0) {
  }
  fcntl(pfd[0], F_SETFL, 0);

  printf("nanosleep, with SA_RESTART too:\n");
  use(SA_RESTART);
  struct timespec ts = {2, 0}, rem = {0, 0};
  in_ms(200);
  result("nanosleep", nanosleep(&ts, &rem));
  double left = rem.tv_sec + rem.tv_nsec / 1e9;
  printf("  time left between 1 s and 1.85 s: %d\n", left > 1.0 && left < 1.85);
  in_ms(100);
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  now.tv_sec += 2;
  errno = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, NULL);
  printf("  clock_nanosleep absolute: %s\n", strerror(errno));

  printf("pause with an interval timer:\n");
  use(0);
  alarms = 0;
  stop_at = 3;
  struct itimerval it = {.it_interval = {0, 50000}, .it_value = {0, 50000}}, got;
  setitimer(ITIMER_REAL, &it, NULL);
  getitimer(ITIMER_REAL, &got);
  printf("  the interval %ld.%06ld\n", (long)got.it_interval.tv_sec, (long)got.it_interval.tv_usec);
  for (int i = 0; i < 3; i++) result("pause", pause());
  stop_at = 0;
  printf("  alarms %d\n", alarms);
  getitimer(ITIMER_REAL, &got);
  printf("  disarmed by the handler: %ld %ld\n", (long)got.it_value.tv_sec, (long)got.it_value.tv_usec);
  memset(&it, 0, sizeof it);

  printf("alarm and getitimer:\n");
  printf("  alarm(5): %u\n", alarm(5));
  printf("  alarm(0): %u\n", alarm(0));
  it.it_value.tv_sec = 1;
  it.it_value.tv_usec = 500000;
  it.it_interval.tv_sec = 3;
  setitimer(ITIMER_REAL, &it, NULL);
  getitimer(ITIMER_REAL, &got);
  double value = got.it_value.tv_sec + got.it_value.tv_usec / 1e6;
  printf("  value between 1 and 1.5: %d; interval %ld.%06ld\n", value > 1.0 && value <= 1.5, (long)got.it_interval.tv_sec,
         (long)got.it_interval.tv_usec);
  printf("  alarm(0) after it: %u\n", alarm(0));
  it.it_value.tv_usec = 1000000;
  result("setitimer with tv_usec 1000000", setitimer(ITIMER_REAL, &it, NULL));
  result("setitimer(99)", setitimer(99, &it, NULL));

  printf("sigsuspend:\n");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr;
  sigaction(SIGUSR1, &sa, NULL);
  sigset_t block, empty, cur;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGALRM);
  sigemptyset(&empty);
  sigprocmask(SIG_BLOCK, &block, NULL);
  raise(SIGUSR1);
  printf("  raised while blocked\n");
  result("sigsuspend", sigsuspend(&empty));
  sigprocmask(SIG_BLOCK, NULL, &cur);
  printf("  mask back: USR1 %d ALRM %d\n", sigismember(&cur, SIGUSR1), sigismember(&cur, SIGALRM));
  alarms = 0;
  in_ms(100);
  sigset_t no_alarm = block;
  sigdelset(&no_alarm, SIGALRM);
  result("sigsuspend until SIGALRM", sigsuspend(&no_alarm));
  printf("  alarms %d\n", alarms);

  printf("sigtimedwait:\n");
  sigaddset(&block, SIGUSR2);
  sigprocmask(SIG_BLOCK, &block, NULL);
  raise(SIGUSR2);
  siginfo_t si;
  sigset_t want;
  sigemptyset(&want);
  sigaddset(&want, SIGUSR2);
  struct timespec zero = {0, 0}, tenth = {0, 100000000}, two = {2, 0};
  result("pending SIGUSR2", sigtimedwait(&want, &si, &zero));
  printf("  si_code %d\n", si.si_code);
  result("nothing pending, no wait", sigtimedwait(&want, &si, &zero));
  result("nothing pending, 0.1 s", sigtimedwait(&want, &si, &tenth));
  sigaddset(&want, SIGALRM);
  in_ms(100);
  result("SIGALRM within 2 s", sigtimedwait(&want, &si, &two));
  printf("  si_code %#x, handler ran %d\n", si.si_code, alarms > 1);
  sigprocmask(SIG_BLOCK, NULL, &cur);
  printf("  still blocked: ALRM %d USR2 %d\n", sigismember(&cur, SIGALRM), sigismember(&cur, SIGUSR2));
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  sigdelset(&want, SIGALRM);
  in_ms(100);
  result("another signal's handler", sigtimedwait(&want, &si, &two));
  tenth.tv_nsec = 1000000000;
  result("bad timeout", sigtimedwait(&want, &si, &tenth));

  // Every call interrupted so far ran a handler: there is nothing for restart_syscall to go on with.
  result("restart_syscall with nothing to restart", syscall(SYS_restart_syscall));
  printf("stopped and continued during the wait:\n");
  struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
  pid_t c = stop_and_continue();
  long t0 = now_ms();
  result("poll of an empty pipe, 400 ms", poll(&pf, 1, 400));
  printf("  took >= 400 ms: %d\n", now_ms() - t0 >= 400);
  waitpid(c, NULL, 0);
  struct timespec nap = {0, 400000000}, nap_left = {9, 9};
  c = stop_and_continue();
  t0 = now_ms();
  result("nanosleep 400 ms", nanosleep(&nap, &nap_left));
  printf("  took >= 400 ms: %d\n", now_ms() - t0 >= 400);
  waitpid(c, NULL, 0);
  static int word;
  c = stop_and_continue();
  t0 = now_ms();
  result("FUTEX_WAIT 400 ms", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &nap, NULL, 0));
  printf("  took >= 400 ms: %d\n", now_ms() - t0 >= 400);
  waitpid(c, NULL, 0);
  struct timespec deadline;
  t0 = now_ms();
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_nsec += 400000000;
  if (deadline.tv_nsec >= 1000000000) deadline.tv_sec++, deadline.tv_nsec -= 1000000000;
  c = stop_and_continue();
  result("FUTEX_WAIT_BITSET to 400 ms from now", syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 0, &deadline, NULL, FUTEX_BITSET_MATCH_ANY));
  printf("  took >= 400 ms: %d\n", now_ms() - t0 >= 400);
  waitpid(c, NULL, 0);
  return 0;
}
