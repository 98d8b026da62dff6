// CPU accounting: getrusage (self, thread, children), times(2) and wait4's rusage, after the parent
// and a child each burn a known amount of CPU. Printed as checks, so that the output is the same
// natively and in the sandbox.
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void burn(double seconds) {
  double end = cpu_seconds() + seconds;
  volatile unsigned long x = 0;
  while (cpu_seconds() < end) for (int i = 0; i < 10000; i++) x += i;
}

static double tv(struct timeval t) { return t.tv_sec + t.tv_usec / 1e6; }
static double used(const struct rusage *r) { return tv(r->ru_utime) + tv(r->ru_stime); }
static const char *yes(int ok) { return ok ? "yes" : "no"; }

int main(void) {
  long hz = sysconf(_SC_CLK_TCK);
  struct rusage self, thread, children, waited;
  struct tms before, after;
  clock_t t0 = times(&before);
  burn(0.2);
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_THREAD, &thread);
  getrusage(RUSAGE_CHILDREN, &children);
  printf("self: at least the 0.2 s burnt: %s\n", yes(used(&self) >= 0.19));
  printf("self: user time most of it: %s\n", yes(tv(self.ru_utime) >= 0.1));
  printf("thread: at most self: %s\n", yes(used(&thread) <= used(&self) + 0.01 && used(&thread) >= 0.19));
  printf("children before any: zero: %s\n", yes(used(&children) == 0));

  pid_t pid = fork();
  if (pid == 0) {
    burn(0.3);
    _exit(0);
  }
  getrusage(RUSAGE_CHILDREN, &children);
  printf("children before the wait: zero: %s\n", yes(used(&children) == 0));
  int status;
  pid_t got = wait4(pid, &status, 0, &waited);
  printf("wait4: %s\n", yes(got == pid && WIFEXITED(status)));
  printf("wait4 rusage: at least the child's 0.3 s: %s\n", yes(used(&waited) >= 0.29 && used(&waited) < 2));
  getrusage(RUSAGE_CHILDREN, &children);
  printf("children after the wait: the same: %s\n", yes(used(&children) >= 0.29 && used(&children) < used(&waited) + 0.01));

  clock_t t1 = times(&after);
  printf("times: elapsed ticks advance: %s\n", yes(t1 > t0 && (t1 - t0) >= hz / 10));
  printf("times: own ticks at least 0.2 s: %s\n", yes(after.tms_utime + after.tms_stime >= hz / 5 - 1));
  printf("times: children's ticks at least 0.3 s: %s\n", yes(after.tms_cutime + after.tms_cstime >= 3 * hz / 10 - 1));
  printf("times: NULL buffer: %s\n", yes(times(NULL) >= t1));
  return 0;
}
