/* A 512 MiB allocation, touched page by page and freed, three times. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const long size = 512L << 20;
  for (int round = 0; round < 3; round++) {
    unsigned char *p = malloc(size);
    if (p == NULL) return 1;
    for (long i = 0; i < size; i += 4096) p[i] = (unsigned char)(i >> 12) + round;
    unsigned long sum = 0;
    for (long i = 0; i < size; i += 4096) sum += p[i];
    printf("round %d: sum %lu\n", round, sum);
    free(p);
  }
  return 0;
}
