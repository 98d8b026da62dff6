// futex(2) in one thread, compared with the host kernel: values that changed under the caller give
// EAGAIN, timeouts expire with ETIMEDOUT (relative, absolute on both clocks), wakes of a futex nobody
// waits on wake nobody, WAKE_OP changes the second word, and bad arguments give Linux's errors.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long fx(void *u, int op, int val, const void *timeout, void *u2, int val3) {
  return syscall(SYS_futex, u, op, val, timeout, u2, val3);
}

static void report(const char *what, long r) {
  if (r < 0) printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else printf("%s = %ld\n", what, r);
  fflush(stdout);
}
#define T(expr) report(#expr, (long)(expr))

static int word = 1, word2 = 5;
static struct timespec rel = {0, 20 * 1000 * 1000};

static struct timespec in20ms(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  t.tv_nsec += 20 * 1000 * 1000;
  if (t.tv_nsec >= 1000000000) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000;
  }
  return t;
}

static double elapsed_ms(struct timespec a) {
  struct timespec b;
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
}

int main(void) {
  T(fx(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  T(fx(&word, FUTEX_WAIT_PRIVATE, 1, &rel, NULL, 0));
  printf("waited at least 20 ms: %s\n", elapsed_ms(start) >= 19.5 ? "yes" : "no");
  T(fx(&word, FUTEX_WAIT, 1, &rel, NULL, 0));
  struct timespec mono = in20ms(CLOCK_MONOTONIC);
  T(fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &mono, NULL, FUTEX_BITSET_MATCH_ANY));
  struct timespec real = in20ms(CLOCK_REALTIME);
  T(fx(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &real, NULL, FUTEX_BITSET_MATCH_ANY));
  struct timespec past = {1, 0};
  T(fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &past, NULL, FUTEX_BITSET_MATCH_ANY));
  T(fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &mono, NULL, 0));
  struct timespec bad = {0, 1000000000};
  T(fx(&word, FUTEX_WAIT_PRIVATE, 1, &bad, NULL, 0));
  T(fx(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  T(fx(&word, FUTEX_WAKE, 1, NULL, NULL, 0));
  T(fx(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0));
  T(fx((char *)&word + 1, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  T(fx(NULL, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
  T(fx(NULL, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  T(fx(NULL, FUTEX_WAKE, 1, NULL, NULL, 0));

  // A futex in shared memory: named by its page, so both mappings find it.
  int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  *shared = 7;
  T(fx(shared, FUTEX_WAIT, 7, &rel, NULL, 0));
  T(fx(shared, FUTEX_WAKE, 1, NULL, NULL, 0));

  T(fx(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &word2, FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 5)));
  printf("word2 after ADD 3 = %d\n", word2);
  T(fx(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &word2, FUTEX_OP((FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT), 4, FUTEX_OP_CMP_GT, 0)));
  printf("word2 after OR 1<<4 = %d\n", word2);
  T(fx(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &word2, FUTEX_OP(FUTEX_OP_ANDN, 8, FUTEX_OP_CMP_LT, 100)));
  printf("word2 after ANDN 8 = %d\n", word2);
  T(fx(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &word2, FUTEX_OP(FUTEX_OP_XOR, 1, 9, 0)));
  T(fx(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &word2, 0));
  T(fx(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &word2, 1));
  T(fx(&word, FUTEX_REQUEUE_PRIVATE, 1, (void *)1, &word2, 0));
  T(fx(&word, FUTEX_CMP_REQUEUE_PRIVATE, -1, (void *)1, &word2, 1));
  T(fx(&word, 99, 0, NULL, NULL, 0));
  T(fx(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0));
  return 0;
}
