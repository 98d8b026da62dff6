/* Asks for what the sandbox does not have, a known number of times each: a syscall it does not
 * implement (sethostname, twice), an ioctl request it does not answer (TIOCSWINSZ, once) and a /proc
 * file that is not there (three times); besides glibc's own rseq at start-up. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  for (int i = 0; i < 2; i++) syscall(SYS_sethostname, "x", 1);
  struct winsize ws = {24, 80, 0, 0};
  ioctl(1, TIOCSWINSZ, &ws);
  for (int i = 0; i < 3; i++) open("/proc/sys/kernel/no-such-file", O_RDONLY);
  return 0;
}
