// N reads of 1 byte from a host fd (stdin is a host file), after N/4 untimed ones (the Sentry's JIT
// warms up): the host-syscall tier.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  char c;
  struct timespec t0, t1;
  for (long i = 0; i < n / 4; i++) {
    if (pread(0, &c, 1, 0) != 1) {
      perror("pread");
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) {
    if (pread(0, &c, 1, 0) != 1) {
      perror("pread");
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("%ld reads %.1f ns/op\n", n, ns / n);
  return 0;
}
