/*
 * tsvisor's vDSO: the shared object mapped into every process (AT_SYSINFO_EHDR), which libc calls
 * instead of the clock syscalls, as on Linux (arch/x86/entry/vdso/, lib/vdso/gettimeofday.c) and gVisor
 * (vdso/). It reads the guest TSC and the [vvar] page right below it (vvar.h), so telling the time costs
 * no trip to the Sentry. What it cannot answer (CPU-time clocks, unknown ids, a host whose TSC is not one
 * clock) goes to the real syscall, as Linux's does. Built with gcc and vdso.lds by guest/build.sh.
 */
#include <stddef.h>
#include <stdint.h>

#include "vvar.h"

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_TAI 11

#define SYS_gettimeofday 96
#define SYS_time 201
#define SYS_clock_gettime 228
#define SYS_clock_getres 229
#define SYS_getcpu 309

#define NSEC_PER_SEC 1000000000ULL

struct kernel_timespec {
  int64_t tv_sec;
  long tv_nsec;
};
struct kernel_timeval {
  int64_t tv_sec;
  long tv_usec;
};
struct kernel_timezone {
  int tz_minuteswest;
  int tz_dsttime;
};

/* The page below the image (vdso.lds): a hidden symbol, so it is reached RIP-relative, without a GOT. */
extern const volatile struct vvar vvar_page __attribute__((visibility("hidden")));

static inline long syscall2(long nr, long a, long b) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
  return ret;
}

static inline long syscall3(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

/* rdtsc that does not run ahead of the loads before it (Linux's rdtsc_ordered). */
static inline uint64_t rdtsc_ordered(void) {
  uint32_t lo, hi;
  __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return ((uint64_t)hi << 32) | lo;
}

static inline uint32_t read_begin(const volatile struct vvar *v) {
  uint32_t seq;
  while ((seq = v->seq) & 1) __builtin_ia32_pause();
  __asm__ volatile("" ::: "memory");
  return seq;
}

static inline int read_retry(const volatile struct vvar *v, uint32_t seq) {
  __asm__ volatile("" ::: "memory");
  return v->seq != seq;
}

/* Which base a clock reads and whether it is rounded down to the coarse resolution; -1: not here. */
static inline int base_of(int clock, int *coarse) {
  *coarse = 0;
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_BOOTTIME:
    case CLOCK_TAI:
      return clock;
    case CLOCK_REALTIME_COARSE:
      *coarse = 1;
      return CLOCK_REALTIME;
    case CLOCK_MONOTONIC_COARSE:
      *coarse = 1;
      return CLOCK_MONOTONIC;
    default:
      return -1;
  }
}

/* The clock's value now; 0 if the vvar page cannot answer (the caller makes the syscall). */
static inline int read_clock(int clock, int64_t *sec_out, uint64_t *nsec_out) {
  const volatile struct vvar *v = &vvar_page;
  int coarse;
  int b = base_of(clock, &coarse);
  if (b < 0) return 0;
  int64_t sec;
  uint64_t ns, res;
  uint32_t seq;
  do {
    seq = read_begin(v);
    if (v->clock_mode != VVAR_CLOCK_TSC) return 0;
    uint64_t tsc = rdtsc_ordered();
    uint64_t last = v->tsc_base;
    /* A TSC behind the base (the Sentry just moved it) counts as no time, as in Linux's vdso_calc_delta. */
    uint64_t delta = tsc > last ? tsc - last : 0;
    uint64_t mult = b == CLOCK_MONOTONIC_RAW ? v->raw_mult : v->mult;
    unsigned __int128 p = (unsigned __int128)delta * mult + v->base[b].nsec;
    ns = (uint64_t)(p >> 32);
    sec = v->base[b].sec;
    res = v->coarse_res;
  } while (read_retry(v, seq));
  if (ns >= NSEC_PER_SEC) {
    if (ns < 4 * NSEC_PER_SEC) {
      do {
        ns -= NSEC_PER_SEC;
        sec++;
      } while (ns >= NSEC_PER_SEC);
    } else {
      sec += (int64_t)(ns / NSEC_PER_SEC);
      ns %= NSEC_PER_SEC;
    }
  }
  if (coarse && res > 1) ns -= ns % res;
  *sec_out = sec;
  *nsec_out = ns;
  return 1;
}

int __vdso_clock_gettime(int clock, struct kernel_timespec *ts) {
  int64_t sec;
  uint64_t ns;
  if (!read_clock(clock, &sec, &ns)) return (int)syscall2(SYS_clock_gettime, clock, (long)ts);
  ts->tv_sec = sec;
  ts->tv_nsec = (long)ns;
  return 0;
}

int __vdso_gettimeofday(struct kernel_timeval *tv, struct kernel_timezone *tz) {
  if (tv != NULL) {
    int64_t sec;
    uint64_t ns;
    if (!read_clock(CLOCK_REALTIME, &sec, &ns)) return (int)syscall2(SYS_gettimeofday, (long)tv, (long)tz);
    tv->tv_sec = sec;
    tv->tv_usec = (long)(ns / 1000);
  }
  if (tz != NULL) {
    tz->tz_minuteswest = vvar_page.tz_minuteswest;
    tz->tz_dsttime = vvar_page.tz_dsttime;
  }
  return 0;
}

long __vdso_time(long *t) {
  int64_t sec;
  uint64_t ns;
  if (!read_clock(CLOCK_REALTIME, &sec, &ns)) return syscall2(SYS_time, (long)t, 0);
  if (t != NULL) *t = sec;
  return sec;
}

int __vdso_clock_getres(int clock, struct kernel_timespec *res) {
  int coarse;
  if (base_of(clock, &coarse) < 0) return (int)syscall2(SYS_clock_getres, clock, (long)res);
  if (res != NULL) {
    res->tv_sec = 0;
    res->tv_nsec = coarse ? (long)vvar_page.coarse_res : 1;
  }
  return 0;
}

int __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused) {
  if (vvar_page.getcpu_mode == VVAR_GETCPU_RDTSCP) {
    uint32_t aux;
    __asm__ volatile("rdtscp" : "=c"(aux)::"eax", "edx");
    if (cpu != NULL) *cpu = aux & 0xfff;
    if (node != NULL) *node = aux >> 12;
    return 0;
  }
  return (int)syscall3(SYS_getcpu, (long)cpu, (long)node, (long)unused);
}

/* The unprefixed names, weak, as Linux's vDSO exports them too. */
int clock_gettime(int, struct kernel_timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct kernel_timeval *, struct kernel_timezone *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
int clock_getres(int, struct kernel_timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
int getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
