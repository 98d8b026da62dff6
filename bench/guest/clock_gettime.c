// N clock_gettime(CLOCK_MONOTONIC) calls through glibc, which calls the vDSO (AT_SYSINFO_EHDR), timed
// inside the program after N/4 untimed ones; with "syscall", the same clock through syscall(2), which
// always enters the kernel (the Sentry, in the sandbox).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  int raw = argc > 2 && strcmp(argv[2], "syscall") == 0;
  struct timespec t, t0, t1;
  long long sum = 0;
  for (long i = 0; i < n / 4; i++) {
    if (raw) syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    else clock_gettime(CLOCK_MONOTONIC, &t);
  }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) {
    if (raw) syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    else clock_gettime(CLOCK_MONOTONIC, &t);
    sum += t.tv_nsec;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("%ld calls %.1f ns/call (%lld)\n", n, ns / n, sum & 1);
  return 0;
}
