/* read, write and getrandom over a buffer that starts in a 2 MiB slot of 4 KiB pages and runs into its
 * untouched pages: the fault on the first untouched page may turn the slot into one 2 MiB page (the
 * sandbox collapses it as Linux's khugepaged would), and the data must still land in, or come from,
 * the pages the program sees. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
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

static long first_difference(const unsigned char *got, long from) {
  for (long i = 0; i < LENGTH; i++) if (got[i] != pattern(from + i)) return i;
  return -1;
}

int main(void) {
  char path[] = "/tmp/mem_collapse_io.XXXXXX";
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
  return 0;
}
