/* madvise and mincore: DONTNEED gives zeros, FREE and WILLNEED are accepted, mincore shows what was touched. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static void residency(const char *what, char *p, int pages) {
  unsigned char v[64];
  if (mincore(p, pages * 4096, v) != 0) { printf("%s: %s\n", what, strerrorname_np(errno)); return; }
  printf("%s: ", what);
  for (int i = 0; i < pages; i++) putchar('0' + (v[i] & 1));
  putchar('\n');
}

int main(void) {
  const long page = 4096;
  char *p = mmap(0, 16 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  residency("fresh", p, 16);
  p[0] = 1;
  p[5 * page] = 2;
  p[6 * page + 100] = 3;
  residency("touched 0, 5, 6", p, 16);
  printf("dontneed: %d\n", madvise(p + 5 * page, 2 * page, MADV_DONTNEED));
  printf("reads %d %d %d\n", p[0], p[5 * page], p[6 * page + 100]);
  residency("after dontneed and reading 5, 6", p, 16);
  p[page] = 7;
  printf("free: %d, willneed: %d, normal: %d, random: %d\n", madvise(p + page, page, MADV_FREE),
         madvise(p, 16 * page, MADV_WILLNEED), madvise(p, page, MADV_NORMAL), madvise(p, page, MADV_RANDOM));
  printf("dontfork: %d, dofork: %d, nohugepage: %d\n", madvise(p, page, MADV_DONTFORK), madvise(p, page, MADV_DOFORK),
         madvise(p, 16 * page, MADV_NOHUGEPAGE));
  munmap(p + 8 * page, page);
  printf("bad advice: %s; unaligned: %s; hole: %s\n", madvise(p, page, 77) ? strerrorname_np(errno) : "ok",
         madvise(p + 1, page, MADV_DONTNEED) ? strerrorname_np(errno) : "ok",
         madvise(p + 7 * page, 4 * page, MADV_DONTNEED) ? strerrorname_np(errno) : "ok");
  residency("with a hole", p, 16);
  residency("zero pages", p, 0);
  char *r = mmap(0, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  residency("populated", r, 2);
  char *s = mmap(0, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  s[2 * page] = 1;
  residency("shared", s, 4);
  printf("msync: %d; bad flags: %s\n", msync(s, 4 * page, MS_SYNC), msync(s, page, MS_SYNC | MS_ASYNC) ? strerrorname_np(errno) : "ok");
  return 0;
}
