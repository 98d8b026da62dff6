/* Calls whose arguments --strace decodes, for the comparison with strace(1): files (open flags, a
 * failed open, fstat of a file and of a device, read, lseek, access), memory (mmap flags and prot),
 * writes from a buffer and from an iovec, a timespec the kernel fills. The same program, the same
 * calls in the same order, natively and in the sandbox. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  struct stat st;
  char buf[64];
  int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  fstat(fd, &st);
  read(fd, buf, sizeof buf);
  lseek(fd, 0, SEEK_SET);
  close(fd);
  open("/nonexistent/strace-test", O_RDONLY);
  open("/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0640);
  int null = open("/dev/null", O_RDWR);
  fstat(null, &st);
  stat("/etc", &st);
  access("/etc/hostname", R_OK | W_OK);
  void* p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  mprotect(p, 4096, PROT_READ);
  munmap(p, 8192);
  write(1, "hello\tstrace\n", 13);
  struct iovec iov[2] = {{"ab", 2}, {"c\n", 2}};
  writev(1, iov, 2);
  struct timespec res;
  syscall(SYS_clock_getres, CLOCK_MONOTONIC, &res);
  return 0;
}
