/* munmap of part of a mapping: the rest stays, and touching the hole is SIGSEGV at that address. */
#include <stdio.h>
#include <sys/mman.h>

int main(void) {
  const long page = 4096;
  char *p = mmap(0, 16 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 1;
  for (int i = 0; i < 16; i++) p[i * page] = (char)i;
  if (munmap(p + 4 * page, 4 * page) != 0) return 2;
  printf("kept: %d %d %d\n", p[3 * page], p[8 * page], p[15 * page]);
  if (munmap(p + 4 * page, 4 * page) != 0) return 3;
  printf("munmap of the hole again: ok\n");
  char *target = p + 5 * page + 0x123;
  printf("touching %p\n", (void *)target);
  fflush(stdout);
  return *(volatile char *)target;
}
