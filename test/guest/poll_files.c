// poll, select and epoll over pipes, eventfds and timerfds, compared with the host kernel: readiness,
// level and edge triggering, EPOLLONESHOT, nested epolls, timeouts (0, short, for ever and woken by a
// child), POLLNVAL and POLLHUP, eventfd's counter and semaphore mode, timerfd intervals and absolute
// times, and each call's errors. Every step prints its result; times are printed only as ranges.
#include "fs_common.h"
// The error cases hand the calls bad pointers and sizes on purpose.
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void show_events(const char *what, unsigned ev) {
  printf("%s:", what);
  if (ev & POLLIN) printf(" IN");
  if (ev & POLLPRI) printf(" PRI");
  if (ev & POLLOUT) printf(" OUT");
  if (ev & POLLERR) printf(" ERR");
  if (ev & POLLHUP) printf(" HUP");
  if (ev & POLLNVAL) printf(" NVAL");
  if (ev & POLLRDNORM) printf(" RDNORM");
  if (ev & POLLWRNORM) printf(" WRNORM");
  if (ev & POLLRDHUP) printf(" RDHUP");
  printf("\n");
  fflush(stdout);
}

/* One poll of fd for events with timeout 0: its revents. */
static void poll1(const char *what, int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events};
  int r = poll(&p, 1, 0);
  printf("%s: poll = %d, ", what, r);
  show_events("revents", p.revents);
}

/* epoll_wait with timeout ms: the count and each event's data and events. */
static void ewait(const char *what, int ep, int ms) {
  struct epoll_event ev[8];
  int n = epoll_wait(ep, ev, 8, ms);
  if (n < 0) {
    printf("%s: epoll_wait = -1 %s\n", what, strerrorname_np(errno));
    return;
  }
  printf("%s: epoll_wait = %d\n", what, n);
  for (int i = 0; i < n; i++) {
    char label[64];
    snprintf(label, sizeof label, "  data %llu", (unsigned long long)ev[i].data.u64);
    show_events(label, ev[i].events);
  }
}

static int ctl(int ep, int op, int fd, unsigned events, uint64_t data) {
  struct epoll_event e = {.events = events, .data.u64 = data};
  return epoll_ctl(ep, op, fd, &e);
}

static void pipes(void) {
  printf("-- pipes\n");
  int p[2];
  char buf[64];
  T(pipe(p));
  poll1("empty read end", p[0], POLLIN | POLLOUT);
  poll1("empty write end", p[1], POLLIN | POLLOUT);
  T(write(p[1], "abc", 3));
  poll1("read end with data", p[0], POLLIN | POLLRDNORM | POLLPRI);
  poll1("read end, events 0", p[0], 0);
  struct pollfd two[3] = {{.fd = p[0], .events = POLLIN}, {.fd = p[1], .events = POLLOUT}, {.fd = -1, .events = POLLIN}};
  T(poll(two, 3, 0));
  show_events("two[0]", two[0].revents);
  show_events("two[1]", two[1].revents);
  show_events("two[2] (fd -1)", two[2].revents);
  // POLLNVAL for a closed fd, counted.
  struct pollfd bad[2] = {{.fd = 999, .events = POLLIN}, {.fd = p[0], .events = POLLOUT}};
  T(poll(bad, 2, 0));
  show_events("bad[0]", bad[0].revents);
  show_events("bad[1]", bad[1].revents);
  // Hang-up when the writer goes: with the data still there, then without.
  T(close(p[1]));
  poll1("data and no writer", p[0], POLLIN);
  T(read(p[0], buf, sizeof buf));
  poll1("no data, no writer", p[0], POLLIN);
  poll1("no writer, events 0", p[0], 0);
  T(close(p[0]));
  // POLLERR on a write end without readers.
  T(pipe(p));
  T(close(p[0]));
  poll1("write end, no reader", p[1], POLLOUT);
  T(close(p[1]));
  // A full pipe is not writable.
  T(pipe2(p, O_NONBLOCK));
  static char big[1 << 17];
  long total = 0;
  for (;;) {
    long n = write(p[1], big, sizeof big);
    if (n <= 0) break;
    total += n;
  }
  printf("filled %ld\n", total);
  poll1("full write end", p[1], POLLOUT);
  T(read(p[0], big, 4096));
  poll1("after one page read", p[1], POLLOUT);
  T(close(p[0]));
  T(close(p[1]));
}

static void selects(void) {
  printf("-- select\n");
  int p[2];
  T(pipe(p));
  fd_set r, w;
  struct timeval tv = {0, 0};
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(p[0], &r);
  FD_SET(p[1], &w);
  T(select(p[1] + 1, &r, &w, NULL, &tv));
  printf("read set %d, write set %d\n", FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
  T(write(p[1], "x", 1));
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(p[0], &r);
  FD_SET(p[0], &w);
  FD_SET(p[1], &w);
  T(select(p[1] + 1, &r, &w, NULL, &tv));
  printf("read %d, write(read end) %d, write %d\n", FD_ISSET(p[0], &r), FD_ISSET(p[0], &w), FD_ISSET(p[1], &w));
  // A short timeout: the time left is written back (0 here).
  char c;
  T(read(p[0], &c, 1));
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  tv.tv_sec = 0;
  tv.tv_usec = 30000;
  long long t0 = now_ms();
  T(select(p[0] + 1, &r, NULL, NULL, &tv));
  long long took = now_ms() - t0;
  printf("select 30 ms took >= 30: %d, < 1000: %d; left %ld.%06ld\n", took >= 29, took < 1000, (long)tv.tv_sec, (long)tv.tv_usec);
  // tv_usec of a second or more is folded into seconds; negative is EINVAL.
  tv.tv_sec = 0;
  tv.tv_usec = 1000000;
  FD_ZERO(&r);
  FD_SET(p[1], &w);
  T(select(p[1] + 1, NULL, &w, NULL, &tv));
  tv.tv_sec = -1;
  tv.tv_usec = 0;
  T(select(1, NULL, NULL, NULL, &tv));
  tv.tv_sec = 0;
  tv.tv_usec = -1;
  T(select(1, NULL, NULL, NULL, &tv));
  // EBADF for a closed fd in a set; EINVAL for nfds < 0; EFAULT for a bad set.
  tv.tv_usec = 0;
  FD_ZERO(&r);
  FD_SET(40, &r);
  T(select(41, &r, NULL, NULL, &tv));
  T(select(-1, NULL, NULL, NULL, &tv));
  T(select(p[1] + 1, (fd_set *)8, NULL, NULL, &tv));
  // pselect6 with a timespec and no mask.
  struct timespec ts = {0, 0};
  FD_ZERO(&w);
  FD_SET(p[1], &w);
  T(pselect(p[1] + 1, NULL, &w, NULL, &ts, NULL));
  ts.tv_nsec = 1000000000;
  T(pselect(p[1] + 1, NULL, &w, NULL, &ts, NULL));
  T(close(p[0]));
  T(close(p[1]));
}

static void poll_errors(void) {
  printf("-- poll errors\n");
  int fds[2];
  T(pipe(fds));
  struct pollfd p = {.fd = fds[1], .events = POLLOUT};
  T(poll((struct pollfd *)8, 1, 0));
  T(poll(NULL, 0, 0));
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  struct rlimit low = {64, lim.rlim_max};
  T(setrlimit(RLIMIT_NOFILE, &low));
  T(poll(&p, 65, 0));
  T(setrlimit(RLIMIT_NOFILE, &lim));
  struct timespec ts = {0, -1};
  T(ppoll(&p, 1, &ts, NULL));
  ts.tv_nsec = 1000000000;
  T(ppoll(&p, 1, &ts, NULL));
  ts.tv_nsec = 0;
  T(syscall(SYS_ppoll, &p, 1, &ts, NULL, 8));
  sigset_t none;
  sigemptyset(&none);
  T(syscall(SYS_ppoll, &p, 1, &ts, &none, 4));
  T(syscall(SYS_ppoll, &p, 1, &ts, (void *)8, 8));
  long long t0 = now_ms();
  T(poll(NULL, 0, 40));
  long long took = now_ms() - t0;
  printf("poll(NULL, 0, 40) took >= 40: %d, < 1000: %d\n", took >= 39, took < 1000);
  T(close(fds[0]));
  T(close(fds[1]));
}

static void eventfds(void) {
  printf("-- eventfd\n");
  int e = T(eventfd(3, EFD_NONBLOCK));
  uint64_t v = 0, wide[2] = {0, 0};
  poll1("eventfd 3", e, POLLIN | POLLOUT);
  T(read(e, &v, sizeof v));
  printf("value %llu\n", (unsigned long long)v);
  T(read(e, &v, sizeof v));
  poll1("eventfd 0", e, POLLIN | POLLOUT);
  T(read(e, &v, 4));
  v = 5;
  T(write(e, &v, 4));
  T(write(e, &v, sizeof v));
  wide[0] = 5;
  T(write(e, wide, 16));
  T(read(e, wide, 16));
  printf("value %llu\n", (unsigned long long)wide[0]);
  v = UINT64_MAX;
  T(write(e, &v, sizeof v));
  v = UINT64_MAX - 1;
  T(write(e, &v, sizeof v));
  poll1("eventfd at max", e, POLLIN | POLLOUT);
  v = 1;
  T(write(e, &v, sizeof v));
  T(read(e, &v, sizeof v));
  printf("value %llx\n", (unsigned long long)v);
  T(close(e));
  // Semaphore mode: one at a time.
  e = T(eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC));
  T(fcntl(e, F_GETFD));
  T(fcntl(e, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
  for (int i = 0; i < 3; i++) {
    v = 0;
    long r = read(e, &v, sizeof v);
    printf("semaphore read %ld value %llu\n", r, (unsigned long long)v);
  }
  T(close(e));
  T(eventfd(0, 0x80));
  struct stat st;
  e = T(eventfd(0, 0));
  T(fstat(e, &st));
  printf("mode %o\n", st.st_mode);
  // A blocking read woken by a child's write.
  pid_t child = fork();
  if (child == 0) {
    usleep(30000);
    uint64_t one = 7;
    write(e, &one, sizeof one);
    _exit(0);
  }
  T(read(e, &v, sizeof v));
  printf("value from child %llu\n", (unsigned long long)v);
  waitpid(child, NULL, 0);
  T(close(e));
}

static void timerfds(void) {
  printf("-- timerfd\n");
  int t = T(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  uint64_t n = 0;
  T(read(t, &n, sizeof n));
  poll1("disarmed timerfd", t, POLLIN | POLLOUT);
  struct itimerspec its = {.it_value = {0, 20000000}, .it_interval = {0, 20000000}};
  struct itimerspec old;
  T(timerfd_settime(t, 0, &its, &old));
  printf("old %ld.%09ld / %ld.%09ld\n", old.it_value.tv_sec, old.it_value.tv_nsec, old.it_interval.tv_sec, old.it_interval.tv_nsec);
  T(timerfd_gettime(t, &old));
  printf("interval %ld.%09ld, value in (0, 20ms]: %d\n", old.it_interval.tv_sec, old.it_interval.tv_nsec,
         old.it_value.tv_sec == 0 && old.it_value.tv_nsec > 0 && old.it_value.tv_nsec <= 20000000);
  usleep(110000);
  T(read(t, &n, sizeof n) == 8);
  printf("expirations after 110 ms of a 20 ms interval: >= 5: %d, < 20: %d\n", n >= 5, n < 20);
  T(read(t, &n, 4));
  // poll waits for the next expiry.
  struct pollfd p = {.fd = t, .events = POLLIN};
  long long t0 = now_ms();
  T(poll(&p, 1, 1000));
  printf("next expiry within 500 ms: %d\n", now_ms() - t0 < 500);
  show_events("timerfd", p.revents);
  // Disarm: nothing more, and the old setting comes back.
  struct itimerspec zero = {0};
  T(timerfd_settime(t, 0, &zero, &old));
  printf("old interval %ld.%09ld\n", old.it_interval.tv_sec, old.it_interval.tv_nsec);
  T(read(t, &n, sizeof n));
  T(close(t));
  // Absolute, on CLOCK_REALTIME: in the past fires at once; 50 ms ahead, a blocking read waits for it.
  t = T(timerfd_create(CLOCK_REALTIME, 0));
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct itimerspec abs = {.it_value = {now.tv_sec - 1, now.tv_nsec}};
  T(timerfd_settime(t, TFD_TIMER_ABSTIME, &abs, NULL));
  T(read(t, &n, sizeof n));
  printf("past absolute: %llu\n", (unsigned long long)n);
  clock_gettime(CLOCK_REALTIME, &now);
  abs.it_value.tv_sec = now.tv_sec;
  abs.it_value.tv_nsec = now.tv_nsec + 50000000;
  if (abs.it_value.tv_nsec >= 1000000000) {
    abs.it_value.tv_sec++;
    abs.it_value.tv_nsec -= 1000000000;
  }
  T(timerfd_settime(t, TFD_TIMER_ABSTIME, &abs, NULL));
  t0 = now_ms();
  T(read(t, &n, sizeof n));
  long long took = now_ms() - t0;
  // Not before the time set (the settime and its report may take a while on a loaded machine).
  struct timespec woke;
  clock_gettime(CLOCK_REALTIME, &woke);
  int on_time = woke.tv_sec > abs.it_value.tv_sec || (woke.tv_sec == abs.it_value.tv_sec && woke.tv_nsec >= abs.it_value.tv_nsec);
  printf("absolute 50 ms: %llu, woke at or after it: %d, < 1000: %d\n", (unsigned long long)n, on_time, took < 1000);
  T(close(t));
  t = T(timerfd_create(CLOCK_BOOTTIME, 0));
  T(close(t));
  // Errors.
  T(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
  T(timerfd_create(CLOCK_MONOTONIC, 0x10));
  t = T(timerfd_create(CLOCK_MONOTONIC, 0));
  its.it_value.tv_nsec = 1000000000;
  T(timerfd_settime(t, 0, &its, NULL));
  its.it_value.tv_nsec = 0;
  T(timerfd_settime(t, 4, &its, NULL));
  T(timerfd_settime(t, 0, (void *)8, NULL));
  T(timerfd_settime(0, 0, &its, NULL));
  T(timerfd_settime(999, 0, &its, NULL));
  T(timerfd_gettime(t, (void *)8));
  T(close(t));
}

static void epolls(void) {
  printf("-- epoll\n");
  int ep = T(epoll_create1(EPOLL_CLOEXEC));
  T(fcntl(ep, F_GETFD));
  int p[2];
  T(pipe(p));
  T(ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 100));
  ewait("empty", ep, 0);
  T(write(p[1], "ab", 2));
  ewait("level 1", ep, 0);
  ewait("level 2 (still there)", ep, 0);
  // Edge-triggered: once per change.
  T(ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 101));
  ewait("edge after MOD (ready)", ep, 0);
  ewait("edge again (no change)", ep, 0);
  T(write(p[1], "c", 1));
  ewait("edge after a write", ep, 0);
  ewait("edge, nothing new", ep, 0);
  // One-shot: once, then disabled until MOD.
  T(ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 102));
  ewait("oneshot", ep, 0);
  T(write(p[1], "d", 1));
  ewait("oneshot disabled", ep, 0);
  T(ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 103));
  ewait("oneshot re-armed", ep, 0);
  // Write end too; then hang-up on the read end.
  T(ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT, 200));
  T(ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 104));
  ewait("both", ep, 0);
  char buf[16];
  T(read(p[0], buf, sizeof buf));
  T(ctl(ep, EPOLL_CTL_DEL, p[1], 0, 0));
  int keep = T(dup(p[1]));
  T(close(p[1]));
  ewait("writer dup'ed, first closed", ep, 0);
  T(close(keep));
  ewait("writer gone: HUP", ep, 0);
  // ctl errors.
  T(ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1));
  int other[2];
  T(pipe(other));
  T(ctl(ep, EPOLL_CTL_DEL, other[0], 0, 0));
  T(ctl(ep, EPOLL_CTL_MOD, other[0], EPOLLIN, 0));
  T(close(other[0]));
  T(close(other[1]));
  T(ctl(ep, 7, p[0], EPOLLIN, 0));
  T(ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0));
  T(ctl(p[0], EPOLL_CTL_ADD, ep, EPOLLIN, 0));
  T(ctl(ep, EPOLL_CTL_ADD, 999, EPOLLIN, 0));
  T(ctl(999, EPOLL_CTL_ADD, p[0], EPOLLIN, 0));
  T(epoll_ctl(ep, EPOLL_CTL_ADD, 0, (void *)8));
  T(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
  int reg = T(open("/proc/self/exe", O_RDONLY));
  T(ctl(ep, EPOLL_CTL_ADD, reg, EPOLLIN, 0));
  int devnull = T(open("/dev/null", O_RDONLY));
  T(ctl(ep, EPOLL_CTL_ADD, devnull, EPOLLIN, 0));
  poll1("regular file", reg, POLLIN | POLLOUT);
  T(close(reg));
  T(close(devnull));
  // EPOLLEXCLUSIVE: accepted with ADD, not with MOD, not with other flags.
  int q[2];
  T(pipe(q));
  T(ctl(ep, EPOLL_CTL_ADD, q[0], EPOLLIN | EPOLLEXCLUSIVE, 300));
  T(ctl(ep, EPOLL_CTL_MOD, q[0], EPOLLIN, 300));
  T(ctl(ep, EPOLL_CTL_MOD, q[0], EPOLLIN | EPOLLEXCLUSIVE, 300));
  T(ctl(ep, EPOLL_CTL_ADD, q[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT, 301));
  T(write(q[1], "x", 1));
  ewait("exclusive", ep, 0);
  // Entries go when the description goes.
  T(close(q[0]));
  T(close(q[1]));
  T(close(p[0]));
  ewait("all closed", ep, 0);
  // epoll_wait errors.
  struct epoll_event ev[2];
  T(epoll_wait(ep, ev, 0, 0));
  T(epoll_wait(ep, ev, -1, 0));
  T(epoll_wait(999, ev, 2, 0));
  T(epoll_wait(0, ev, 2, 0));
  T(epoll_create(0));
  T(epoll_create(-1));
  T(epoll_create1(1));
  int e2 = T(epoll_create(1));
  T(fcntl(e2, F_GETFD));
  T(close(e2));
  T(close(ep));
}

static void epoll_files(void) {
  printf("-- epoll over eventfd, timerfd, nested\n");
  int ep = T(epoll_create1(0));
  int efd = T(eventfd(0, EFD_NONBLOCK));
  T(ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 1));
  ewait("eventfd 0", ep, 0);
  uint64_t v = 1;
  T(write(efd, &v, sizeof v));
  ewait("eventfd written", ep, 0);
  T(write(efd, &v, sizeof v));
  ewait("eventfd written again (edge)", ep, 0);
  int tfd = T(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
  T(ctl(ep, EPOLL_CTL_ADD, tfd, EPOLLIN, 2));
  struct itimerspec its = {.it_value = {0, 30000000}};
  T(timerfd_settime(tfd, 0, &its, NULL));
  long long t0 = now_ms();
  ewait("timerfd fires", ep, 2000);
  long long took = now_ms() - t0;
  printf("took >= 25: %d, < 1000: %d\n", took >= 25, took < 1000);
  uint64_t n;
  T(read(tfd, &n, sizeof n));
  printf("expirations %llu\n", (unsigned long long)n);
  // Nested: the outer epoll is told when the inner one has events.
  int outer = T(epoll_create1(0));
  T(ctl(outer, EPOLL_CTL_ADD, ep, EPOLLIN, 50));
  poll1("inner epoll, nothing ready", ep, POLLIN | POLLOUT);
  ewait("outer, nothing", outer, 0);
  T(write(efd, &v, sizeof v));
  poll1("inner epoll, eventfd ready", ep, POLLIN | POLLOUT);
  ewait("outer sees inner", outer, 0);
  ewait("inner", ep, 0);
  // Loops and self-adds.
  T(ctl(ep, EPOLL_CTL_ADD, outer, EPOLLIN, 0));
  int third = T(epoll_create1(0));
  T(ctl(third, EPOLL_CTL_ADD, outer, EPOLLIN, 0));
  T(ctl(ep, EPOLL_CTL_ADD, third, EPOLLIN, 0));
  T(ctl(outer, EPOLL_CTL_ADD, ep, EPOLLIN | EPOLLEXCLUSIVE, 0));
  // An epoll waiting for ever on the inner one, woken by a child's write.
  pid_t child = fork();
  if (child == 0) {
    usleep(30000);
    write(efd, &v, sizeof v);
    _exit(0);
  }
  T(read(efd, &n, sizeof n));
  ewait("drained", outer, 0);
  ewait("outer woken by the child", outer, -1);
  waitpid(child, NULL, 0);
  T(close(third));
  T(close(outer));
  T(close(tfd));
  T(close(efd));
  T(close(ep));
}

static void blocking(void) {
  printf("-- waiting for ever, woken by a child\n");
  int p[2];
  T(pipe(p));
  pid_t child = fork();
  if (child == 0) {
    usleep(30000);
    write(p[1], "x", 1);
    usleep(30000);
    write(p[1], "y", 1);
    usleep(30000);
    _exit(0);
  }
  struct pollfd pf = {.fd = p[0], .events = POLLIN};
  T(poll(&pf, 1, -1));
  show_events("poll -1", pf.revents);
  char c;
  T(read(p[0], &c, 1));
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  T(select(p[0] + 1, &r, NULL, NULL, NULL));
  printf("select NULL: %d\n", FD_ISSET(p[0], &r));
  T(read(p[0], &c, 1));
  T(close(p[1]));
  // The child's exit closes its write end: POLLHUP.
  T(poll(&pf, 1, -1));
  show_events("poll -1 at hang-up", pf.revents);
  waitpid(child, NULL, 0);
  T(close(p[0]));
  // A short timeout with nothing coming.
  T(pipe(p));
  pf.fd = p[0];
  long long t0 = now_ms();
  T(poll(&pf, 1, 50));
  long long took = now_ms() - t0;
  printf("poll 50 ms took >= 50: %d, < 1000: %d\n", took >= 49, took < 1000);
  struct timespec ts = {0, 40000000};
  t0 = now_ms();
  T(ppoll(&pf, 1, &ts, NULL));
  took = now_ms() - t0;
  printf("ppoll 40 ms took >= 40: %d, < 1000: %d; left %ld.%09ld\n", took >= 39, took < 1000, ts.tv_sec, ts.tv_nsec);
  // Data, but only POLLPRI asked for: nothing is ready, the call sleeps its 50 ms.
  T(write(p[1], "z", 1));
  pf.events = POLLPRI;
  t0 = now_ms();
  T(poll(&pf, 1, 50));
  took = now_ms() - t0;
  printf("poll POLLPRI 50 ms took >= 50: %d, < 1000: %d\n", took >= 49, took < 1000);
  T(close(p[0]));
  T(close(p[1]));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pipes();
  selects();
  poll_errors();
  eventfds();
  timerfds();
  epolls();
  epoll_files();
  blocking();
  return 0;
}
