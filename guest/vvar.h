/*
 * The [vvar] page: what the vDSO (vdso.c) needs to tell the time in guest user mode without a trip to
 * the Sentry, like Linux's struct vdso_data. One page, shared by every address space of the sandbox,
 * mapped read-only right below the vDSO image. The Sentry (src/kernel/timekeeper.ts) writes it under
 * the sequence count `seq`: odd while it writes, so a reader that saw an odd value or a change reads
 * again. Offsets for TypeScript come from this file (guest/build.sh writes build/guest/vvar.json).
 *
 * A clock value at guest TSC t is
 *     base[clock].sec + ((t - tsc_base) * mult + base[clock].nsec) >> 32   nanoseconds,
 * with the 128-bit product, so no delta can overflow; nsec carries 32 bits of fraction.
 */
#ifndef TSVISOR_VVAR_H
#define TSVISOR_VVAR_H

#include <stdint.h>

/* clock_mode */
#define VVAR_CLOCK_NONE 0 /* the guest TSC is not one clock here: every call is a syscall */
#define VVAR_CLOCK_TSC 1

/* getcpu_mode */
#define VVAR_GETCPU_SYSCALL 0
#define VVAR_GETCPU_RDTSCP 1 /* TSC_AUX holds (node << 12) | cpu on every vCPU, as Linux sets it */

/* Clock ids that have a base: REALTIME, MONOTONIC, MONOTONIC_RAW, BOOTTIME, TAI (the coarse ones use
   the REALTIME and MONOTONIC bases). */
#define VVAR_BASES 12

struct vvar_base {
  int64_t sec;
  uint64_t nsec; /* nanoseconds << 32 */
};

struct vvar {
  uint32_t seq;
  uint32_t clock_mode;
  uint32_t getcpu_mode;
  uint32_t pad;
  uint64_t tsc_base;  /* guest TSC at which the bases hold */
  uint64_t mult;      /* nanoseconds per TSC cycle << 32: REALTIME, MONOTONIC, BOOTTIME, TAI, coarse */
  uint64_t raw_mult;  /* the same for MONOTONIC_RAW */
  int64_t coarse_res; /* clock_getres of the coarse clocks, nanoseconds (the host's tick) */
  int32_t tz_minuteswest; /* what gettimeofday reports as the time zone (struct timezone) */
  int32_t tz_dsttime;
  uint64_t reserved[3];
  struct vvar_base base[VVAR_BASES];
};

#endif
