/* read, write and getrandom over a buffer that starts in a 2 MiB slot of 4 KiB pages and runs into its
 * untouched pages: the fault on the first untouched page may turn the slot into one 2 MiB page (the
 * sandbox collapses it as Linux's khugepaged would), and the data must still land in, or come from,
 * the pages the program sees. Then reads and writes that stop at an inaccessible page, and a readv
 * over many small iovecs. The file is made in DIR (argv[1], /tmp by default): on a --mount it is a
 * host file, read and written with one vectored host call per buffer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#define MIB (1024L * 1024)
#define SLOT (2 * MIB)
#define PAGE 4096L
#define LENGTH (256 * 1024L)

static unsigned char pattern(long i) { return (unsigned char)(i * 7 + (i >> 12) + 1); }

/* A 2 MiB aligned slot whose first half is mapped and touched at page 0 before the second half is:
 * the first fault cannot map a 2 MiB page there, so the slot starts out as 4 KiB pages. */
static char *fresh_slot(void) {
  char *reserve = mmap(0, 3 * SLOT, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (reserve == MAP_FAILED) return 0;
  char *slot = (char *)(((uintptr_t)reserve + SLOT - 1) & ~(uintptr_t)(SLOT - 1));
  if (mprotect(slot, MIB, PROT_READ | PROT_WRITE) != 0) return 0;
  slot[0] = 1;
  if (mprotect(slot + MIB, MIB, PROT_READ | PROT_WRITE) != 0) return 0;
  return slot;
}

static long first_difference_in(const unsigned char *got, long from, long length) {
  for (long i = 0; i < length; i++) if (got[i] != pattern(from + i)) return i;
  return -1;
}

static long first_difference(const unsigned char *got, long from) { return first_difference_in(got, from, LENGTH); }

int main(int argc, char **argv) {
  char path[4096];
  snprintf(path, sizeof path, "%s/mem_collapse_io.XXXXXX", argc > 1 ? argv[1] : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) { perror("mkstemp"); return 1; }
  unlink(path);
  static unsigned char data[LENGTH];
  for (long i = 0; i < LENGTH; i++) data[i] = pattern(i);
  if (write(fd, data, LENGTH) != LENGTH) { perror("write"); return 1; }

  for (int round = 0; round < 4; round++) {
    /* Into guest memory: read(2) from the file, starting on page 1 (mapped ahead by page 0's fault). */
    char *slot = fresh_slot();
    if (slot == 0) { perror("slot"); return 1; }
    long got = pread(fd, slot + PAGE, LENGTH, 0);
    long bad = first_difference((unsigned char *)slot + PAGE, 0);
    printf("read %ld bytes: %s", got, bad < 0 ? "all as written\n" : "differ");
    if (bad >= 0) printf(" from byte %ld (page %ld of the slot)\n", bad, (bad + PAGE) / PAGE);

    /* Out of guest memory: the pages written by the program, then untouched ones (zeros). */
    slot = fresh_slot();
    if (slot == 0) { perror("slot"); return 1; }
    for (long i = 0; i < 15 * PAGE; i++) slot[PAGE + i] = (char)pattern(i);
    if (pwrite(fd, slot + PAGE, LENGTH, LENGTH) != LENGTH) { perror("pwrite"); return 1; }
    unsigned char back[LENGTH];
    if (pread(fd, back, LENGTH, LENGTH) != LENGTH) { perror("pread"); return 1; }
    long wrong = -1;
    for (long i = 0; i < LENGTH && wrong < 0; i++) if (back[i] != (i < 15 * PAGE ? pattern(i) : 0)) wrong = i;
    printf("write: %s", wrong < 0 ? "the file got what the program wrote\n" : "the file differs");
    if (wrong >= 0) printf(" from byte %ld\n", wrong);

    /* getrandom(2) into the same kind of buffer: no page of it may stay all zeros. */
    slot = fresh_slot();
    if (slot == 0) { perror("slot"); return 1; }
    if (getrandom(slot + PAGE, LENGTH, 0) != LENGTH) { perror("getrandom"); return 1; }
    int zero_pages = 0;
    static const char zeros[PAGE];
    for (long p = 0; p < LENGTH / PAGE; p++) zero_pages += memcmp(slot + PAGE + p * PAGE, zeros, PAGE) == 0;
    printf("getrandom: %d pages all zeros\n", zero_pages);
  }

  /* A buffer whose pages past 64 KiB are inaccessible: what comes before them moves, then EFAULT. */
  char *slot = fresh_slot();
  if (slot == 0 || mprotect(slot + PAGE + 16 * PAGE, 16 * PAGE, PROT_NONE) != 0) { perror("slot"); return 1; }
  long got = pread(fd, slot + PAGE, LENGTH, 0);
  printf("read into a buffer with an inaccessible page: %ld, %s\n", got,
         first_difference_in((unsigned char *)slot + PAGE, 0, 16 * PAGE) < 0 ? "the bytes before it as written" : "wrong bytes");
  got = pread(fd, slot + PAGE + 16 * PAGE, PAGE, 0);
  printf("read into the inaccessible page: %ld (%s)\n", got, got < 0 ? strerror(errno) : "no error");
  got = pwrite(fd, slot + PAGE, LENGTH, 2 * LENGTH);
  printf("write from a buffer with an inaccessible page: %ld\n", got);

  /* readv into 300 iovecs of 100 bytes spread over pages: one read, in order. */
  static unsigned char spread[300 * 256];
  struct iovec iov[300];
  for (int i = 0; i < 300; i++) iov[i] = (struct iovec){spread + i * 256, 100};
  got = preadv(fd, iov, 300, 5);
  int in_order = 1;
  for (int i = 0; i < 300; i++)
    for (int j = 0; j < 100; j++) in_order &= spread[i * 256 + j] == pattern(5 + i * 100 + j);
  printf("preadv of 300 iovecs: %ld, %s\n", got, in_order ? "in order" : "out of order");
  return 0;
}
