// The sizes of the x86-64 Linux ABI structs that cross between the Sentry and the guest (or the host):
// what the kernel itself copies, which is not always what glibc's struct of the same name holds. A copy
// out of more bytes than the kernel writes overruns the caller's buffer: glibc's tcgetattr passes a
// 36-byte kernel termios on its stack, and 60 bytes (glibc's own struct termios) smash it.
// test/guest/struct_sizes.c checks every one against the host kernel with canary bytes.

/** struct termios of <asm-generic/termbits.h>: four tcflag_t, c_line, c_cc[19] (TCGETS, TCSETS). */
export const TERMIOS_SIZE = 36;
/** struct termios2: termios + c_ispeed, c_ospeed (TCGETS2, TCSETS2). */
export const TERMIOS2_SIZE = 44;
/** struct winsize: four unsigned short (TIOCGWINSZ). */
export const WINSIZE_SIZE = 8;
/** struct stat of arch/x86/include/uapi/asm/stat.h. */
export const STAT_SIZE = 144;
/** struct statx of include/uapi/linux/stat.h. */
export const STATX_SIZE = 256;
/** struct statfs (x86-64: every field 8 bytes but f_fsid's two ints). */
export const STATFS_SIZE = 120;
/** struct rlimit / rlimit64: two u64. */
export const RLIMIT_SIZE = 16;
/** struct rusage: ru_utime, ru_stime (timeval), 14 longs. */
export const RUSAGE_SIZE = 144;
/** struct sysinfo (x86-64, padding included: the kernel clears and copies all of it). */
export const SYSINFO_SIZE = 112;
/** One field of struct new_utsname (sysname, nodename, release, version, machine, domainname). */
export const UTS_FIELD_SIZE = 65;
export const UTSNAME_SIZE = 6 * UTS_FIELD_SIZE;
/** struct timespec / __kernel_timespec: tv_sec, tv_nsec. */
export const TIMESPEC_SIZE = 16;
/** struct timeval: tv_sec, tv_usec. */
export const TIMEVAL_SIZE = 16;
/** struct timezone: tz_minuteswest, tz_dsttime. */
export const TIMEZONE_SIZE = 8;
/** The kernel's sigset_t: 64 signals (rt_sigaction's and rt_sigprocmask's sigsetsize). */
export const SIGSET_SIZE = 8;
/** The kernel's struct sigaction: sa_handler, sa_flags, sa_restorer, sa_mask (not glibc's 152 bytes). */
export const SIGACTION_SIZE = 32;
/** stack_t: ss_sp, ss_flags (and 4 bytes of padding), ss_size. */
export const STACK_T_SIZE = 24;
/** struct flock: l_type, l_whence, l_start, l_len, l_pid (padded). */
export const FLOCK_SIZE = 32;
/** struct linux_dirent64 before d_name: d_ino, d_off, d_reclen, d_type. Records are padded to 8. */
export const DIRENT64_HEADER_SIZE = 19;
/** struct robust_list_head. */
export const ROBUST_LIST_HEAD_SIZE = 24;
/** TASK_COMM_LEN: prctl(PR_GET_NAME) copies exactly this many bytes. */
export const TASK_COMM_LEN = 16;
