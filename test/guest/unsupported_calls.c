/* Asks for what the sandbox does not have, a known number of times each: a syscall it does not
 * implement (sethostname, twice), an ioctl request it does not answer (TIOCSTI, once), a /proc
 * file that is not there (three times) and a socket option it does not keep (SO_KEEPALIVE, once);
 * besides glibc's own rseq at start-up. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  for (int i = 0; i < 2; i++) syscall(SYS_sethostname, "x", 1);
  char c = 'x';
  ioctl(1, TIOCSTI, &c);
  for (int i = 0; i < 3; i++) open("/proc/sys/kernel/no-such-file", O_RDONLY);
  int sv[2], on = 1;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
  setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &on, sizeof on);
  return 0;
}
