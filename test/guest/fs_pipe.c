// pipe and pipe2: reading, writing, end of file, EPIPE, O_NONBLOCK, FIONREAD, and a pipe written and
// read by one task, compared with the host kernel.
#include "fs_common.h"
#include <signal.h>
#include <sys/ioctl.h>

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  int p[2];
  char buf[128];
  T(pipe(p));
  T(write(p[1], "hello", 5));
  int avail = -1;
  T(ioctl(p[0], FIONREAD, &avail));
  printf("FIONREAD: %d\n", avail);
  memset(buf, 0, sizeof buf);
  T(read(p[0], buf, 3));
  printf("read: %s\n", buf);
  T(read(p[0], buf, sizeof buf));
  T(read(p[1], buf, 1));
  T(write(p[0], "x", 1));
  T(lseek(p[0], 0, SEEK_SET));
  T(pread(p[0], buf, 1, 0));
  struct stat st;
  T(fstat(p[0], &st));
  printf("fstat: %s %04o\n", type_name(st.st_mode), st.st_mode & 07777);
  T(fcntl(p[0], F_GETFL) & (O_ACCMODE | O_NONBLOCK));
  T(fcntl(p[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK));
  T(fcntl(p[0], F_GETPIPE_SZ));
  T(fcntl(p[0], F_SETFL, O_NONBLOCK));
  T(read(p[0], buf, sizeof buf));
  T(close(p[1]));
  T(read(p[0], buf, sizeof buf));
  T(close(p[0]));

  T(pipe2(p, O_NONBLOCK | O_CLOEXEC));
  T(fcntl(p[0], F_GETFD));
  T(fcntl(p[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK));
  T(read(p[0], buf, sizeof buf));
  static char big[70000];
  memset(big, 'z', sizeof big);
  T(write(p[1], big, sizeof big));
  T(write(p[1], big, 1));
  T(read(p[0], big, 10000));
  T(write(p[1], big, 5000));
  T(write(p[1], big, 5000));
  long total = 0;
  for (;;) {
    long n = read(p[0], big, sizeof big);
    if (n <= 0) break;
    total += n;
  }
  printf("drained: %ld\n", total);
  T(close(p[0]));
  T(write(p[1], "x", 1));
  T(close(p[1]));
  T(pipe2(p, 0x12345678));

  // A pipe through /proc/self/fd and /dev/fd.
  T(pipe(p));
  snprintf(buf, sizeof buf, "/dev/fd/%d", p[1]);
  int w2 = T(open(buf, O_WRONLY));
  T(write(w2, "via-proc", 8));
  memset(buf, 0, sizeof buf);
  T(read(p[0], buf, sizeof buf));
  printf("read: %s\n", buf);
  T(close(w2));
  T(close(p[1]));
  T(read(p[0], buf, sizeof buf));
  return 0;
}
