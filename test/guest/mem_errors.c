/* Bad input to the memory calls: each must give the Linux errno (and never upset the sandbox).
 * With the argument "reserved", only MAP_FIXED into the range the sandbox keeps for itself is tried. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void show(const char *what, int failed) {
  printf("%-30s %s\n", what, failed ? strerrorname_np(errno) : "ok");
}

static int bad_map(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  void *p = mmap(addr, len, prot, flags, fd, off);
  if (p == MAP_FAILED) return 1;
  munmap(p, len);
  return 0;
}

int main(int argc, char **argv) {
  const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
  if (argc > 1 && strcmp(argv[1], "reserved") == 0) {
    show("fixed into 0x400000001000", bad_map((void *)0x400000001000, 4096, 3, anon | MAP_FIXED, -1, 0));
    show("noreplace into 0x408000000000", bad_map((void *)0x408000000000, 4096, 3, anon | MAP_FIXED_NOREPLACE, -1, 0));
    show("write() from 0x408000000000", write(1, (void *)0x408000000000, 8) < 0);
    return 0;
  }
  show("mmap unaligned fixed", bad_map((void *)0x10001, 4096, 3, anon | MAP_FIXED, -1, 0));
  show("mmap length 0", bad_map(0, 0, 3, anon, -1, 0));
  show("mmap length 2^47", bad_map(0, 1UL << 47, 3, anon, -1, 0));
  show("mmap length -4096", bad_map(0, (size_t)-4096, 3, anon, -1, 0));
  show("mmap length -1", bad_map(0, (size_t)-1, 3, anon, -1, 0));
  show("mmap fixed past the top", bad_map((void *)0x7ffffffff000, 8192, 3, anon | MAP_FIXED, -1, 0));
  show("mmap no type", bad_map(0, 4096, 3, MAP_ANONYMOUS, -1, 0));
  show("mmap anon shared_validate", bad_map(0, 4096, 3, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0));
  show("mmap anon hugetlb", bad_map(0, 4096, 3, anon | MAP_HUGETLB, -1, 0));
  show("mmap shared growsdown", bad_map(0, 4096, 3, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0));
  show("mmap unaligned offset", bad_map(0, 4096, 3, anon, -1, 100));
  show("mmap negative offset (anon)", bad_map(0, 4096, 3, anon, -1, -4096));
  show("mmap unknown prot bit", bad_map(0, 4096, 0x10 | 3, anon, -1, 0));
  show("mmap bad fd", bad_map(0, 4096, 3, MAP_PRIVATE, 99, 0));
  show("mmap fixed at 0x10000", bad_map((void *)0x10000, 4096, 3, anon | MAP_FIXED, -1, 0));
  show("munmap length 0", munmap((void *)0x10000, 0));
  show("munmap unaligned", munmap((void *)0x10001, 4096));
  show("munmap nothing there", munmap((void *)0x10000, 4096));
  show("munmap 2^47", munmap((void *)0x10000, 1UL << 47));
  show("mprotect unmapped", mprotect((void *)0x10000, 4096, PROT_READ));
  show("mprotect length 0, bad prot", mprotect((void *)0x10000, 0, 0x40));
  show("mprotect bad prot", mprotect((void *)0x10000, 4096, 0x40));
  show("mprotect unaligned", mprotect((void *)0x10001, 4096, PROT_READ));
  show("madvise bad advice", madvise((void *)0x10000, 4096, 77));
  show("madvise unmapped", madvise((void *)0x10000, 4096, MADV_DONTNEED));
  show("madvise hwpoison", madvise((void *)0x10000, 4096, MADV_HWPOISON));
  unsigned char v[4];
  show("mincore unmapped", mincore((void *)0x10000, 4096, v));
  show("mincore unaligned", mincore((void *)0x10001, 4096, v));
  show("mincore length 0", mincore((void *)0x10000, 0, v));
  show("msync unmapped", msync((void *)0x10000, 4096, MS_SYNC));
  show("msync bad flags", msync((void *)0x10000, 4096, 8));
  show("mremap unmapped", mremap((void *)0x10000, 4096, 8192, MREMAP_MAYMOVE) == MAP_FAILED);
  show("mremap bad flags", mremap((void *)0x10000, 4096, 8192, 0x80) == MAP_FAILED);
  show("mremap new length 0", mremap((void *)0x10000, 4096, 0, MREMAP_MAYMOVE) == MAP_FAILED);
  show("mlock unmapped", mlock((void *)0x10000, 4096));
  /* A pointer nobody mapped, handed to the kernel: EFAULT, not a crash. */
  show("write() from unmapped memory", write(1, (void *)0x10000, 8) < 0);
  char *ro = mmap(0, 4096, PROT_READ, anon, -1, 0);
  show("write() from PROT_NONE memory", mprotect(ro, 4096, PROT_NONE) || write(1, ro, 8) < 0);
  return 0;
}
