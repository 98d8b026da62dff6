/* MAP_FIXED replaces part of an existing mapping; MAP_FIXED_NOREPLACE refuses. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void) {
  const long page = 4096;
  char *p = mmap(0, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(p, 'A', 4 * page);
  char *q = mmap(p + page, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  printf("fixed: %s; old %c, replaced %d %d, old %c\n", q == p + page ? "at the address" : "elsewhere", p[0], p[page], p[2 * page], p[3 * page]);
  char *r = mmap(p, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  printf("noreplace over it: %s\n", r == MAP_FAILED ? strerrorname_np(errno) : "mapped");
  r = mmap(p + page + 1, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  printf("unaligned fixed: %s\n", r == MAP_FAILED ? strerrorname_np(errno) : "mapped");
  r = mmap(p, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_FIXED_NOREPLACE, -1, 0);
  printf("fixed and noreplace: %s\n", r == MAP_FAILED ? strerrorname_np(errno) : "mapped");
  munmap(p, 4 * page);
  r = mmap(p + page, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  printf("noreplace into a hole: %s, reads %d\n", r == p + page ? "at the address" : "elsewhere", r[10]);
  /* A hint that is free is taken as it is. */
  r = mmap(p + 2 * page, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("hint: %s\n", r == p + 2 * page ? "taken" : "moved");
  return 0;
}
