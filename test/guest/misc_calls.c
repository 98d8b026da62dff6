// Calls dynamic programs make at start-up, with their error cases, compared with the host kernel:
// fadvise64 and readahead, copy_file_range across filesystems, the extended-attribute calls, sysinfo,
// sched_getaffinity/setaffinity and getcpu. argv[1] is an existing regular file.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static void report(const char *what, long r) {
  if (r < 0) printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else printf("%s = %ld\n", what, r);
  fflush(stdout);
}
#define T(expr) report(#expr, (long)(expr))

/** A file without extended attributes answers ENODATA, a filesystem without them EOPNOTSUPP. */
static void no_attribute(const char *what, long r) {
  printf("%s: %s\n", what, r == 0 || (r < 0 && (errno == ENODATA || errno == EOPNOTSUPP)) ? "no attributes" : strerrorname_np(errno));
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *file = argv[1];
  int fd = open(file, O_RDONLY);
  int wfd = open("/dev/null", O_WRONLY);
  int pipefd[2];
  pipe(pipefd);

  T(syscall(SYS_fadvise64, fd, 0, 0, POSIX_FADV_SEQUENTIAL));
  T(syscall(SYS_fadvise64, fd, 4096, 100, POSIX_FADV_DONTNEED));
  T(syscall(SYS_fadvise64, fd, 0, 0, 99));
  T(syscall(SYS_fadvise64, fd, 0, -1, POSIX_FADV_NORMAL));
  T(syscall(SYS_fadvise64, 999, 0, 0, POSIX_FADV_NORMAL));
  T(syscall(SYS_fadvise64, pipefd[0], 0, 0, POSIX_FADV_NORMAL));
  T(readahead(fd, 0, 65536));
  T(readahead(pipefd[0], 0, 100));
  T(readahead(wfd, 0, 100));
  T(readahead(999, 0, 100));

  char value[64];
  char name[300];
  memset(name, 'a', sizeof name - 1);
  name[sizeof name - 1] = 0;
  no_attribute("getxattr user.none", getxattr(file, "user.none", value, sizeof value));
  no_attribute("lgetxattr security.selinux", lgetxattr(file, "security.selinux", value, sizeof value));
  no_attribute("fgetxattr system.posix_acl_access", fgetxattr(fd, "system.posix_acl_access", NULL, 0));
  no_attribute("listxattr", listxattr(file, value, sizeof value));
  T(getxattr("/nonexistent/file", "user.a", value, sizeof value));
  T(getxattr("", "user.a", value, sizeof value));
  T(getxattr(file, "", value, sizeof value));
  T(getxattr(file, name, value, sizeof value));
  T(fgetxattr(999, "user.a", value, sizeof value));
  T(flistxattr(999, value, sizeof value));
  T(setxattr(file, "user.a", "x", 1, 4));
  T(setxattr("/nonexistent/file", "user.a", "x", 1, 0));
  T(fsetxattr(999, "user.a", "x", 1, 0));
  T(removexattr("/nonexistent/file", "user.a"));

  // copy_file_range stays within one filesystem: from /proc it is EXDEV, and cat falls back to read.
  int proc = open("/proc/self/status", O_RDONLY);
  char out_path[] = "/tmp/misc_calls-XXXXXX";
  int out = mkstemp(out_path);
  T(copy_file_range(proc, NULL, out, NULL, 4096, 0));
  T(copy_file_range(fd, NULL, pipefd[1], NULL, 10, 0));
  unlink(out_path);

  T(sysinfo(NULL));
  struct sysinfo si;
  T(sysinfo(&si));

  cpu_set_t set, one;
  T(syscall(SYS_sched_getaffinity, 0, 4, &set));
  T(syscall(SYS_sched_getaffinity, 0, 12, &set));
  // The size copied is the kernel's cpumask size (NR_CPUS of its configuration): whole longs.
  long size = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
  printf("sched_getaffinity copies whole longs covering the CPUs: %s\n",
         size > 0 && size % 8 == 0 && size * 8 >= CPU_COUNT(&set) ? "yes" : "no");
  T(syscall(SYS_sched_getaffinity, 0, sizeof set, NULL));
  T(syscall(SYS_sched_getaffinity, 99999, sizeof set, &set));
  CPU_ZERO(&one);
  T(sched_setaffinity(0, sizeof one, &one));
  CPU_SET(0, &one);
  T(sched_setaffinity(0, sizeof one, &one));
  cpu_set_t now;
  sched_getaffinity(0, sizeof now, &now);
  printf("after pinning to CPU 0: %d CPU, CPU 0: %s\n", CPU_COUNT(&now), CPU_ISSET(0, &now) ? "yes" : "no");
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    sched_getaffinity(0, sizeof now, &now);
    printf("a child inherits the mask: %s\n", CPU_COUNT(&now) == 1 && CPU_ISSET(0, &now) ? "yes" : "no");
    fflush(stdout);
    _exit(0);
  }
  waitpid(child, NULL, 0);
  unsigned cpu = 99, node = 99;
  T(syscall(SYS_getcpu, &cpu, &node, NULL));
  printf("getcpu on CPU 0 node 0: %s\n", cpu == 0 && node == 0 ? "yes" : "no");
  T(sched_setaffinity(0, sizeof set, &set));
  sched_getaffinity(0, sizeof now, &now);
  printf("restored: %s\n", CPU_EQUAL(&now, &set) ? "yes" : "no");
  T(sched_setaffinity(99999, sizeof set, &set));
  return 0;
}
