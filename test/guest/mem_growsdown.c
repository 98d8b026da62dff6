/* MAP_GROWSDOWN areas grow when touched just below. */
#include <stdio.h>
#include <sys/mman.h>

int main(void) {
  const long page = 4096;
  /* Keep a free megabyte-plus below it for the guard gap. */
  char *space = mmap(0, 8L << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(space, 8L << 20);
  char *p = mmap(space + (6L << 20), 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
  if (p == MAP_FAILED) return 1;
  p[0] = 1;
  ((volatile char *)p)[-1] = 2;
  ((volatile char *)p)[-64 * page] = 3;
  unsigned char v;
  printf("grew: %d %d, below is mapped: %s\n", p[-1], p[-64 * page], mincore(p - 64 * page, page, &v) == 0 ? "yes" : "no");
  return 0;
}
