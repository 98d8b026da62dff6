/* Touches 100 MB one byte per page: exercises mmap of a large region and demand paging.
 * volatile keeps gcc from folding the writes and the sum away. */
#include <stdio.h>
#include <stdlib.h>

#define SIZE (100UL << 20)
#define PAGE 4096UL

int main(void) {
  volatile unsigned char *p = malloc(SIZE);
  if (!p) { perror("malloc"); return 1; }
  for (unsigned long i = 0; i < SIZE / PAGE; i++) p[i * PAGE] = (unsigned char)(i * 7 + 1);
  unsigned long sum = 0;
  for (unsigned long i = 0; i < SIZE / PAGE; i++) sum += p[i * PAGE];
  printf("sum=%lu\n", sum);
  free((void *)p);
  return 0;
}
