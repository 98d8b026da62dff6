/* POSIX timers and CPU-time interval timers, compared with the host kernel: SIGEV_SIGNAL with its
 * siginfo (SI_TIMER, si_timerid, si_value), overruns while the signal is blocked (si_overrun and
 * timer_getoverrun), SIGEV_THREAD_ID to one thread, SIGEV_NONE read back with timer_gettime,
 * TIMER_ABSTIME on CLOCK_REALTIME, timer_delete (its queued signal stays), the errors, a CLOCK_PROCESS_CPUTIME_ID timer and
 * ITIMER_PROF and ITIMER_VIRTUAL firing on a loop that computes, and timers gone after exec. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long tcreate(clockid_t clock, struct sigevent *sev, int *id) { return syscall(SYS_timer_create, clock, sev, id); }
static long tset(int id, int flags, const struct itimerspec *n, struct itimerspec *o) { return syscall(SYS_timer_settime, id, flags, n, o); }
static long tget(int id, struct itimerspec *c) { return syscall(SYS_timer_gettime, id, c); }
static long tdel(int id) { return syscall(SYS_timer_delete, id); }
static long toverrun(int id) { return syscall(SYS_timer_getoverrun, id); }

static void result(const char *what, long r) { printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : ""); }

static void sleep_ms(int ms) {
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static struct itimerspec after_ms(int ms, int interval_ms) {
  struct itimerspec it = { { interval_ms / 1000, (interval_ms % 1000) * 1000000L }, { ms / 1000, (ms % 1000) * 1000000L } };
  return it;
}

static volatile sig_atomic_t got;
static volatile int got_code, got_value, got_timerid, got_overrun;
static void on_timer(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)uc;
  got++;
  got_code = si->si_code;
  got_value = si->si_value.sival_int;
  got_timerid = si->si_timerid;
  got_overrun = si->si_overrun;
}

static int thread_tid, thread_got;
static void *waiter(void *arg) {
  (void)arg;
  thread_tid = syscall(SYS_gettid);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN);
  siginfo_t si;
  if (sigwaitinfo(&set, &si) == SIGRTMIN) thread_got = si.si_code == SI_TIMER && si.si_value.sival_int == 5;
  return NULL;
}

static volatile int prof_hits;
static void on_prof(int sig) { (void)sig; prof_hits++; }

static int spin_until(volatile int *counter, int want) {
  time_t t0 = time(NULL);
  while (*counter < want && time(NULL) - t0 < 10) {}
  return *counter >= want;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 1 && strcmp(argv[1], "exec") == 0) {
    struct itimerspec cur;
    result("after exec, timer 0", tget(0, &cur));
    return 0;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_timer;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);

  /* SIGEV_SIGNAL: the handler sees SI_TIMER, the timer id and the value. */
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR1;
  sev.sigev_value.sival_int = 77;
  int id = -1;
  result("timer_create", tcreate(CLOCK_MONOTONIC, &sev, &id));
  printf("first id %d\n", id);
  struct itimerspec it = after_ms(20, 0);
  result("timer_settime", tset(id, 0, &it, NULL));
  while (!got) pause();
  printf("signal: code SI_TIMER %d value %d timerid ok %d overrun %d\n", got_code == SI_TIMER, got_value, got_timerid == id, got_overrun);
  struct itimerspec cur;
  tget(id, &cur);
  printf("one-shot after expiry: %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);

  /* Overruns: a 2 ms timer while its signal is blocked. */
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  it = after_ms(2, 2);
  tset(id, 0, &it, NULL);
  sleep_ms(100);
  siginfo_t si;
  int s = sigwaitinfo(&usr1, &si);
  printf("sigwaitinfo %d overrun > 10: %d getoverrun matches: %d\n", s, si.si_overrun > 10, toverrun(id) == si.si_overrun);
  /* Deleting the timer leaves its pending signal (the host kernel keeps it). */
  sleep_ms(10);
  sigset_t pend;
  sigpending(&pend);
  printf("pending before delete %d\n", sigismember(&pend, SIGUSR1));
  result("timer_delete", tdel(id));
  sigpending(&pend);
  printf("pending after delete %d\n", sigismember(&pend, SIGUSR1));
  result("settime on a deleted timer", tset(id, 0, &it, NULL));
  result("delete again", tdel(id));
  sigprocmask(SIG_UNBLOCK, &usr1, NULL);

  /* SIGEV_THREAD_ID: the signal goes to that thread. */
  sigset_t rt;
  sigemptyset(&rt);
  sigaddset(&rt, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &rt, NULL);
  pthread_t th;
  pthread_create(&th, NULL, waiter, NULL);
  while (!thread_tid) sleep_ms(1);
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGRTMIN;
  sev.sigev_value.sival_int = 5;
  sev._sigev_un._tid = thread_tid;
  int tid_timer;
  result("timer_create SIGEV_THREAD_ID", tcreate(CLOCK_MONOTONIC, &sev, &tid_timer));
  printf("second id %d\n", tid_timer);
  it = after_ms(20, 0);
  tset(tid_timer, 0, &it, NULL);
  pthread_join(th, NULL);
  printf("thread took it: %d\n", thread_got);
  tdel(tid_timer);

  /* SIGEV_NONE: nothing is sent; timer_gettime counts down. */
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_NONE;
  int none;
  tcreate(CLOCK_BOOTTIME, &sev, &none);
  it = after_ms(200, 0);
  struct itimerspec old;
  tset(none, 0, &it, &old);
  printf("old value %ld\n", old.it_value.tv_nsec);
  tget(none, &cur);
  printf("SIGEV_NONE counting down: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 100000000 && cur.it_value.tv_nsec <= 200000000);
  tdel(none);

  /* TIMER_ABSTIME on CLOCK_REALTIME: 30 ms from now, and a time already past (at once). */
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR1;
  int absolute;
  tcreate(CLOCK_REALTIME, &sev, &absolute);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  now.tv_nsec += 30000000;
  if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
  it.it_interval.tv_sec = it.it_interval.tv_nsec = 0;
  it.it_value = now;
  got = 0;
  tset(absolute, TIMER_ABSTIME, &it, NULL);
  while (!got) pause();
  printf("absolute: fired, value is the id %d\n", got_value == absolute);
  it.it_value.tv_sec -= 10;
  got = 0;
  tset(absolute, TIMER_ABSTIME, &it, NULL);
  while (!got) pause();
  printf("absolute in the past: fired\n");
  tdel(absolute);

  /* Errors. */
  result("bad clock", tcreate(99, NULL, &id));
  result("CLOCK_MONOTONIC_RAW", tcreate(CLOCK_MONOTONIC_RAW, NULL, &id));
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = 7;
  result("bad sigev_notify", tcreate(CLOCK_MONOTONIC, &sev, &id));
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = 99;
  result("bad signal", tcreate(CLOCK_MONOTONIC, &sev, &id));
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGUSR1;
  sev._sigev_un._tid = 999999;
  result("bad thread", tcreate(CLOCK_MONOTONIC, &sev, &id));
  result("bad timer id", tget(12345, &cur));
  result("NULL sigevent", tcreate(CLOCK_MONOTONIC, NULL, &id));
  it = after_ms(10, 0);
  it.it_value.tv_nsec = 1000000000;
  result("bad tv_nsec", tset(id, 0, &it, NULL));
  result("bad pointer", tset(id, 0, (void *)8, NULL));
  /* NULL sigevent: SIGALRM with the id as its value. */
  sa.sa_sigaction = on_timer;
  sigaction(SIGALRM, &sa, NULL);
  it = after_ms(10, 0);
  got = 0;
  tset(id, 0, &it, NULL);
  while (!got) pause();
  printf("NULL sigevent: SIGALRM, value is the id %d\n", got_value == id);
  tdel(id);

  /* CPU time: a CLOCK_PROCESS_CPUTIME_ID timer, ITIMER_PROF and ITIMER_VIRTUAL fire while computing. */
  signal(SIGPROF, on_prof);
  signal(SIGVTALRM, on_prof);
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGPROF;
  int cpu;
  result("timer_create CLOCK_PROCESS_CPUTIME_ID", tcreate(CLOCK_PROCESS_CPUTIME_ID, &sev, &cpu));
  it = after_ms(10, 10);
  tset(cpu, 0, &it, NULL);
  printf("cpu timer fired 3 times: %d\n", spin_until(&prof_hits, 3));
  tdel(cpu);
  prof_hits = 0;
  struct itimerval iv = { { 0, 10000 }, { 0, 10000 } };
  setitimer(ITIMER_PROF, &iv, NULL);
  printf("ITIMER_PROF fired 5 times: %d\n", spin_until(&prof_hits, 5));
  struct itimerval zero = { { 0, 0 }, { 0, 0 } };
  setitimer(ITIMER_PROF, &zero, NULL);
  prof_hits = 0;
  struct itimerval v = { { 0, 0 }, { 0, 30000 } };
  setitimer(ITIMER_VIRTUAL, &v, NULL);
  getitimer(ITIMER_VIRTUAL, &v);
  printf("ITIMER_VIRTUAL armed: %d\n", v.it_value.tv_sec == 0 && v.it_value.tv_usec > 0);
  sleep_ms(100);
  printf("ITIMER_VIRTUAL silent while sleeping: %d\n", prof_hits == 0);
  printf("ITIMER_VIRTUAL fired: %d\n", spin_until(&prof_hits, 1));

  /* exec deletes the process's timers. */
  tcreate(CLOCK_MONOTONIC, NULL, &id);
  execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
  return 1;
}
