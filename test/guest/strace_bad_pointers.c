/* Syscalls with pointers that point nowhere: --strace must show them as numbers, the calls fail with
 * EFAULT, and the Sentry goes on. Raw syscalls, so that libc does not look at the pointers first. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  syscall(SYS_openat, AT_FDCWD, (char*)1, O_RDONLY);
  syscall(SYS_write, 1, (char*)0xdead0000, 10);
  syscall(SYS_writev, 1, (void*)0x10, 2);
  syscall(SYS_fstat, 0, (void*)0xdead0000);
  syscall(SYS_write, 1, (char*)-1, 1);
  return 0;
}
