// Every struct the Sentry copies out, called through the raw syscall with canary bytes around the
// buffer, twice with two different canaries: a byte was written if it differs from its canary in
// either run. Prints the bytes written as [first, end) relative to the buffer, which must be exactly
// the kernel's struct (a copy of glibc's larger struct termios once smashed tcgetattr's stack).
// argv[1]: a directory to create for getdents64. Terminal requests act on stdout: run piped and
// under a pseudo-terminal.
#define _GNU_SOURCE
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GUARD 64
#define ROOM 1024

static unsigned char area[2][GUARD + ROOM + GUARD];
static const unsigned char canary[2] = {0xa5, 0x5a};

typedef long (*call_fn)(void* buf);

// within: the call returns how many bytes it filled (getdents64), whose last few may be padding the
// kernel leaves alone; what must hold is that nothing outside [0, ret) changes.
static void probe_call(const char* name, call_fn call, int within) {
  long ret = 0;
  int err = 0;
  for (int pass = 0; pass < 2; pass++) {
    memset(area[pass], canary[pass], sizeof area[pass]);
    errno = 0;
    long r = call(area[pass] + GUARD);
    if (pass == 0) {
      ret = r;
      err = r < 0 ? errno : 0;
    }
  }
  int first = -1, last = -1;
  for (int i = 0; i < (int)sizeof area[0]; i++) {
    if (area[0][i] != canary[0] || area[1][i] != canary[1]) {
      if (first < 0) first = i;
      last = i;
    }
  }
  printf("%s: ret %ld", name, ret);
  if (ret < 0) printf(" errno %d", err);
  if (within && ret > 0 && first >= GUARD && last < GUARD + ret) {
    printf(", writes within [0, ret)\n");
    return;
  }
  if (first < 0) printf(", nothing written\n");
  else printf(", wrote [%d, %d)\n", first - GUARD, last + 1 - GUARD);
}

static void probe(const char* name, call_fn call) { probe_call(name, call, 0); }

static long tcgets(void* b) { return syscall(SYS_ioctl, 1, TCGETS, b); }
static long tcgets2(void* b) { return syscall(SYS_ioctl, 1, TCGETS2, b); }
static long tiocgwinsz(void* b) { return syscall(SYS_ioctl, 1, TIOCGWINSZ, b); }
static long do_stat(void* b) { return syscall(SYS_stat, "/", b); }
static long do_lstat(void* b) { return syscall(SYS_lstat, "/", b); }
static long do_fstat(void* b) { return syscall(SYS_fstat, 1, b); }
static long do_fstatat(void* b) { return syscall(SYS_newfstatat, AT_FDCWD, "/", b, 0); }
static long do_statx(void* b) { return syscall(SYS_statx, AT_FDCWD, "/", 0, 0x7ff, b); }
static long do_statfs(void* b) { return syscall(SYS_statfs, "/", b); }
static long do_fstatfs(void* b) { return syscall(SYS_fstatfs, 1, b); }
static long do_getrlimit(void* b) { return syscall(SYS_getrlimit, 7, b); }
static long do_prlimit(void* b) { return syscall(SYS_prlimit64, 0, 7, NULL, b); }
static long do_getrusage(void* b) { return syscall(SYS_getrusage, 0, b); }
static long do_getrusage_children(void* b) { return syscall(SYS_getrusage, -1, b); }
static long do_getrusage_thread(void* b) { return syscall(SYS_getrusage, 1, b); }
static long do_sysinfo(void* b) { return syscall(SYS_sysinfo, b); }
static long do_uname(void* b) { return syscall(SYS_uname, b); }
static long do_clock_gettime(void* b) { return syscall(SYS_clock_gettime, 1, b); }
static long do_clock_getres(void* b) { return syscall(SYS_clock_getres, 1, b); }
static long do_gettimeofday_tv(void* b) { return syscall(SYS_gettimeofday, b, NULL); }
static long do_gettimeofday_tz(void* b) { return syscall(SYS_gettimeofday, NULL, b); }
static long do_time(void* b) { return syscall(SYS_time, b) > 0 ? 0 : -1; }
static long do_sigaction(void* b) { return syscall(SYS_rt_sigaction, SIGUSR1, NULL, b, 8); }
static long do_sigprocmask(void* b) { return syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, b, 8); }
static long do_sigaltstack(void* b) { return syscall(SYS_sigaltstack, NULL, b); }
static long do_pipe(void* b) { return syscall(SYS_pipe, b); }
static long do_pipe2(void* b) { return syscall(SYS_pipe2, b, O_CLOEXEC); }
static long do_prctl_get_name(void* b) { return syscall(SYS_prctl, 16 /* PR_GET_NAME */, b, 0, 0, 0); }
static long do_arch_prctl_get_fs(void* b) { return syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, b); }

static int dirfd_for_getdents = -1;
static long do_getdents64(void* b) {
  lseek(dirfd_for_getdents, 0, SEEK_SET);
  return syscall(SYS_getdents64, dirfd_for_getdents, b, ROOM);
}

int main(int argc, char** argv) {
  probe("ioctl TCGETS", tcgets);
  probe("ioctl TCGETS2", tcgets2);
  probe("ioctl TIOCGWINSZ", tiocgwinsz);
  probe("stat", do_stat);
  probe("lstat", do_lstat);
  probe("fstat", do_fstat);
  probe("newfstatat", do_fstatat);
  probe("statx", do_statx);
  probe("statfs", do_statfs);
  probe("fstatfs", do_fstatfs);
  probe("getrlimit", do_getrlimit);
  probe("prlimit64", do_prlimit);
  probe("getrusage RUSAGE_SELF", do_getrusage);
  probe("getrusage RUSAGE_CHILDREN", do_getrusage_children);
  probe("getrusage RUSAGE_THREAD", do_getrusage_thread);
  probe("sysinfo", do_sysinfo);
  probe("uname", do_uname);
  probe("clock_gettime", do_clock_gettime);
  probe("clock_getres", do_clock_getres);
  probe("gettimeofday tv", do_gettimeofday_tv);
  probe("gettimeofday tz", do_gettimeofday_tz);
  probe("time", do_time);
  probe("rt_sigaction old", do_sigaction);
  probe("rt_sigprocmask old", do_sigprocmask);
  probe("sigaltstack old", do_sigaltstack);
  probe("pipe", do_pipe);
  probe("pipe2", do_pipe2);
  probe("prctl PR_GET_NAME", do_prctl_get_name);
  probe("arch_prctl ARCH_GET_FS", do_arch_prctl_get_fs);
  if (argc > 1) {
    // Three names beside "." and "..": the same records (24 bytes each) whatever the order.
    char path[4096];
    if (mkdir(argv[1], 0755) != 0) return 1;
    const char* names[] = {"aaaa", "bbbb", "cccc"};
    for (int i = 0; i < 3; i++) {
      snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
      int fd = open(path, O_CREAT | O_WRONLY, 0644);
      if (fd < 0) return 1;
      close(fd);
    }
    dirfd_for_getdents = open(argv[1], O_RDONLY | O_DIRECTORY);
    probe_call("getdents64", do_getdents64, 1);
  }
  return 0;
}
