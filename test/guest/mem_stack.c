/* The main stack grows on faults below it up to RLIMIT_STACK (8 MiB); further is SIGSEGV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int depth(int n) {
  volatile char frame[16384];
  frame[0] = (char)n;
  frame[sizeof frame - 1] = (char)n;
  if (n == 0) return frame[0];
  return depth(n - 1) + frame[sizeof frame - 1];
}

int main(int argc, char **argv) {
  /* The test must not depend on the caller's ulimit -s: the soft limit is 8 MiB, Linux's default. */
  struct rlimit limit;
  getrlimit(RLIMIT_STACK, &limit);
  limit.rlim_cur = 8L << 20;
  if (setrlimit(RLIMIT_STACK, &limit) != 0) return 2;
  long kib = argc > 1 ? atol(argv[1]) : 4096;
  printf("recursing through about %ld KiB of stack\n", kib);
  fflush(stdout);
  int r = depth((int)(kib / 16));
  printf("done: %d\n", r & 0xff);
  return 0;
}
