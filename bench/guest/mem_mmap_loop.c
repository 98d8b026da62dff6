/* mmap + touch every page + munmap of SIZE bytes, ITERATIONS times; prints the time per round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

int main(int argc, char **argv) {
  long size = argc > 1 ? atol(argv[1]) : 4096;
  long iterations = argc > 2 ? atol(argv[2]) : 10000;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < iterations; i++) {
    volatile char *p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    for (long off = 0; off < size; off += 4096) p[off] = (char)i;
    if (munmap((void *)p, size) != 0) return 2;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("%.1f ns/iteration\n", ns / iterations);
  return 0;
}
