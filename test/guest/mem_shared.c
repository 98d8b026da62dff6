/* Shared anonymous memory: mremap with old size 0 maps the same pages twice. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>

int main(void) {
  const long page = 4096;
  char *p = mmap(0, 8 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  p[3 * page] = 5;
  char *q = mremap(p, 0, 8 * page, 1 /* MREMAP_MAYMOVE */);
  if (q == MAP_FAILED) return 1;
  printf("second mapping sees %d\n", q[3 * page]);
  q[4 * page] = 6;
  printf("first mapping sees %d\n", p[4 * page]);
  munmap(p, 8 * page);
  printf("after unmapping the first: %d %d\n", q[3 * page], q[4 * page]);
  printf("dontneed keeps shared contents: %d -> %d\n", madvise(q, 8 * page, MADV_DONTNEED), q[3 * page]);
  char *r = mmap(0, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("private duplicate: %s\n", mremap(r, 0, page, 1) == MAP_FAILED ? "refused" : "allowed");
  return 0;
}
