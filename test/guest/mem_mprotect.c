/* mprotect splits an area: read-only in the middle, still writable around; then a write is SIGSEGV. */
#include <stdio.h>
#include <sys/mman.h>

int main(void) {
  const long page = 4096;
  char *p = mmap(0, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 1;
  p[0] = 1;
  p[page] = 2;
  p[3 * page] = 4;
  if (mprotect(p + page, page, PROT_READ) != 0) return 2;
  p[0] = 3;
  p[2 * page] = 5;
  printf("read-only page reads %d; around it %d %d %d\n", p[page], p[0], p[2 * page], p[3 * page]);
  if (mprotect(p, 4 * page, PROT_NONE) != 0 || mprotect(p, 4 * page, PROT_READ | PROT_WRITE) != 0) return 3;
  printf("after PROT_NONE and back: %d %d\n", p[page], p[3 * page]);
  p[page] = 6;
  if (mprotect(p + page, page, PROT_READ) != 0) return 4;
  char *target = p + page + 8;
  printf("touching %p\n", (void *)target);
  fflush(stdout);
  *(volatile char *)target = 7;
  printf("still alive\n");
  return 0;
}
