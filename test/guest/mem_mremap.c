/* mremap: move (keeping the contents), grow in place, shrink, MREMAP_FIXED, MREMAP_DONTUNMAP. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static const long page = 4096;

static unsigned long sum(const unsigned char *p, long n, long step) {
  unsigned long s = 0;
  for (long i = 0; i < n; i += step) s = s * 31 + p[i];
  return s;
}

static int mapped(void *p) {
  unsigned char v;
  return mincore(p, page, &v) == 0;
}

int main(void) {
  /* A small area that cannot grow in place: the page after it is taken. */
  unsigned char *a = mmap(0, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(a + 3 * page, page);
  for (long i = 0; i < 3 * page; i++) a[i] = (unsigned char)(i * 7);
  unsigned long before = sum(a, 3 * page, 1);
  void *block = mmap(a + 3 * page, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  printf("blocker: %s\n", block == MAP_FAILED ? strerrorname_np(errno) : "mapped");
  unsigned char *b = mremap(a, 3 * page, 6 * page, 0);
  printf("grow without MREMAP_MAYMOVE: %s\n", b == MAP_FAILED ? strerrorname_np(errno) : "grew");
  b = mremap(a, 3 * page, 6 * page, MREMAP_MAYMOVE);
  printf("moved: %s, contents %s, old range %s, new tail reads %d\n", b != a ? "yes" : "no",
         sum(b, 3 * page, 1) == before ? "kept" : "LOST", mapped(a) ? "mapped" : "gone", b[5 * page]);

  /* A big area of touched memory moves without copying and keeps every page; its last page is
   * replaced by a read-only one so that it cannot grow in place. */
  long big = 64L << 20;
  unsigned char *c = mmap(0, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  big -= page;
  munmap(c + big, page);
  mmap(c + big, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  for (long i = 0; i < big; i += page) c[i] = (unsigned char)(i >> 12);
  unsigned long bigSum = sum(c, big, page);
  unsigned char *d = mremap(c, big, 2 * big, MREMAP_MAYMOVE);
  printf("64 MiB moved: %s, contents %s, tail reads %d\n", d != c ? "yes" : "no",
         sum(d, big, page) == bigSum ? "kept" : "LOST", d[big + 12345]);

  /* Shrink in place. */
  unsigned char *e = mremap(d, 2 * big, big / 2, 0);
  printf("shrink: %s, rest %s\n", e == d ? "in place" : "moved", mapped(d + big) ? "mapped" : "gone");

  /* Grow in place when the space after is free. */
  unsigned char *f = mmap(0, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  f[page] = 9;
  munmap(f + 4 * page, 4 * page);
  unsigned char *g = mremap(f, 4 * page, 8 * page, 0);
  printf("grow in place: %s, keeps %d\n", g == f ? "yes" : "no", g[page]);

  /* MREMAP_FIXED onto a given address, replacing what is there. */
  unsigned char *target = mmap(0, 4 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned char *h = mremap(g, 8 * page, 4 * page, MREMAP_MAYMOVE | MREMAP_FIXED, target);
  printf("fixed: %s, keeps %d, writable %s\n", h == target ? "at target" : "elsewhere", h[page], (h[0] = 1) ? "yes" : "yes");

  /* MREMAP_DONTUNMAP: the pages move, the old range stays and reads zeros. */
  /* glibc passes the fifth argument through whatever the flags: give it. */
  unsigned char *k = mremap(h, 4 * page, 4 * page, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
  printf("dontunmap: %s, new keeps %d, old reads %d\n", k != h ? "moved" : "same", k[page], h[page]);

  printf("errors: %s %s %s\n",
         mremap(a + 1, page, page, 0) == MAP_FAILED ? strerrorname_np(errno) : "ok",
         mremap(k, page, 2 * page, MREMAP_FIXED, k + 100 * page) == MAP_FAILED ? strerrorname_np(errno) : "ok",
         mremap(k, 0, page, MREMAP_MAYMOVE) == MAP_FAILED ? strerrorname_np(errno) : "ok");
  return 0;
}
