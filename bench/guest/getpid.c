// N getpid system calls through glibc's wrapper (`mov $39, %eax; syscall`, a site the sandbox rewrites in
// exitless mode), timed inside the program after N/4 untimed ones, so that start-up and the warm-up of
// the Sentry's JIT are not counted.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  struct timespec t0, t1;
  long sum = 0;
  for (long i = 0; i < n / 4; i++) sum += getpid();
  sum = 0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) sum += getpid();
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("%ld calls %.1f ns/call (pid sum %ld)\n", n, ns / n, sum);
  return 0;
}
