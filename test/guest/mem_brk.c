/* brk up and down, with Linux's limits: never below the start, never into another mapping. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static char *brk_to(void *p) { return (char *)syscall(SYS_brk, p); }

int main(void) {
  /* stdio's buffer comes from malloc, which uses brk too: let it take its part first. */
  printf("start\n");
  char *cur = brk_to(0);
  const long mib = 1 << 20;
  printf("grow 1 MiB: %s\n", brk_to(cur + mib) == cur + mib ? "ok" : "refused");
  memset(cur, 1, mib);
  printf("shrink: %s\n", brk_to(cur + 4096) == cur + 4096 ? "ok" : "refused");
  int grown = brk_to(cur + mib) == cur + mib;
  printf("grow again: %s, reads %d %d\n", grown ? "ok" : "refused", cur[100], cur[512 * 1024]);
  printf("unaligned break: %s\n", brk_to(cur + mib + 123) == cur + mib + 123 ? "ok" : "refused");
  printf("below the start: %s\n", brk_to((void *)0x1000) == cur + mib + 123 ? "refused" : "moved");
  /* Another mapping just above the break stops it. */
  char *wall = mmap(cur + 4 * mib, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (wall == MAP_FAILED) return 1;
  printf("into a mapping: %s\n", brk_to(cur + 8 * mib) == cur + mib + 123 ? "refused" : "moved");
  printf("up to a page below it: %s\n", brk_to(cur + 4 * mib - 4096) == cur + 4 * mib - 4096 ? "ok" : "refused");
  printf("back to the start: %s\n", brk_to(cur) == cur ? "ok" : "refused");
  /* With the wall gone the heap may grow far: nothing the sandbox maps for itself (the pages of its
     rewritten syscall sites, made by now) stands within a gigabyte of the break's start. */
  munmap(wall, 4096);
  char *far = cur + (1L << 30) + 16 * mib;
  printf("a gigabyte up: %s\n", brk_to(far) == far ? "ok" : "refused");
  far[-1] = 1;
  printf("back again: %s\n", brk_to(cur) == cur ? "ok" : "refused");
  return 0;
}
