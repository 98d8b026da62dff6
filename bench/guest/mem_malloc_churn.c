/* glibc malloc/free churn: a working set of SLOTS blocks of 16 B to 64 KiB (and now and then 256 KiB,
 * above the mmap threshold), each operation freeing one slot and allocating it again; prints ns/op. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 8192

int main(int argc, char **argv) {
  long operations = argc > 1 ? atol(argv[1]) : 1000000;
  static char *slot[SLOTS];
  unsigned long x = 88172645463325252UL, sum = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < operations; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    unsigned s = x % SLOTS;
    free(slot[s]);
    size_t size = (x >> 20) % 100 == 0 ? 256 * 1024 : 16 + (x >> 32) % (1 << ((x >> 40) % 13 + 4));
    slot[s] = malloc(size);
    memset(slot[s], (int)i, size < 64 ? size : 64);
    slot[s][size - 1] = 1;
    sum += (unsigned char)slot[s][0];
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  for (int s = 0; s < SLOTS; s++) free(slot[s]);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("%.1f ns/op (check %lu)\n", ns / operations, sum % 7);
  return 0;
}
