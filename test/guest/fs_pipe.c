// pipe and pipe2: reading, writing, end of file, EPIPE, O_NONBLOCK, FIONREAD, a pipe written and
// read by one task, F_SETPIPE_SZ: the sizes it gives, its limits and the capacity that follows, and
// packet mode (pipe2(O_DIRECT), F_SETFL O_DIRECT): a packet per write or per PIPE_BUF of one, a read
// of at most one packet, the rest of a packet a short read leaves discarded; compared with the host
// kernel.
#include "fs_common.h"
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

/** Whether this process has CAP_SYS_RESOURCE (bit 24 of CapEff), which may grow pipes past pipe-max-size. */
static int has_sys_resource(void) {
  char line[256];
  unsigned long long caps = 0;
  FILE *f = fopen("/proc/self/status", "r");
  while (f != NULL && fgets(line, sizeof line, f) != NULL) sscanf(line, "CapEff: %llx", &caps);
  if (f != NULL) fclose(f);
  return (caps >> 24) & 1;
}

static int writable_now(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) != 0;
}

static void pipe_sizes(void) {
  char buf[128];
  int fd = open("/proc/sys/fs/pipe-max-size", O_RDONLY);
  long n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  printf("pipe-max-size: %.*s", n > 0 ? (int)n : 0, buf);
  if (fd >= 0) close(fd);
  int p[2];
  T(pipe2(p, O_NONBLOCK));
  T(fcntl(p[1], F_GETPIPE_SZ));
  // Rounded up to a power of two pages, one at least; the argument is an unsigned int.
  T(fcntl(p[0], F_SETPIPE_SZ, 0));
  T(fcntl(p[1], F_GETPIPE_SZ));
  T(fcntl(p[0], F_SETPIPE_SZ, 5000));
  T(fcntl(p[0], F_SETPIPE_SZ, 3 * 4096));
  T(fcntl(p[0], F_SETPIPE_SZ, 1 << 20));
  T(fcntl(p[0], F_SETPIPE_SZ, (1u << 31) + 1));
  T(fcntl(p[0], F_SETPIPE_SZ, -1));
  T(fcntl(p[0], F_SETPIPE_SZ, 0x100001000L));
  long big = fcntl(p[0], F_SETPIPE_SZ, 2 << 20);
  printf("past pipe-max-size as the capability says: %d\n", has_sys_resource() ? big == 2 << 20 : big == -1 && errno == EPERM);
  fflush(stdout);
  int mfd = T(memfd_create("notapipe", 0));
  T(fcntl(mfd, F_SETPIPE_SZ, 4096));
  T(fcntl(mfd, F_GETPIPE_SZ));
  T(close(mfd));

  // The capacity follows: a one-page pipe takes one page, and a write of up to PIPE_BUF goes in whole or not at all.
  T(fcntl(p[0], F_SETPIPE_SZ, 4096));
  static char data[20000];
  memset(data, 'd', sizeof data);
  T(write(p[1], data, 10000));
  T(write(p[1], data, 1));
  T(writable_now(p[1]));
  T(read(p[0], buf, 1));
  T(write(p[1], data, 1));
  T(read(p[0], data + 10000, 5000));
  T(fcntl(p[0], F_SETPIPE_SZ, 8192));
  T(write(p[1], data, 5000));
  T(write(p[1], data, 3500));
  T(write(p[1], data, 3000));
  T(write(p[1], data, 1));
  T(writable_now(p[1]));
  T(fcntl(p[0], F_SETPIPE_SZ, 4096));
  T(fcntl(p[0], F_SETPIPE_SZ, 16384));
  T(writable_now(p[1]));
  T(write(p[1], data, 10000));
  T(fcntl(p[0], F_SETPIPE_SZ, 8192));
  long drained = 0;
  for (long r; (r = read(p[0], data, sizeof data)) > 0;) drained += r;
  printf("drained: %ld\n", drained);
  fflush(stdout);
  T(fcntl(p[0], F_SETPIPE_SZ, 4096));
  T(fcntl(p[0], F_GETPIPE_SZ));

  // A blocking writer waits for a reader of a one-page pipe, as with any full pipe.
  T(fcntl(p[1], F_SETFL, 0));
  pid_t child = fork();
  if (child == 0) _exit(write(p[1], data, sizeof data) == sizeof data ? 0 : 1);
  T(fcntl(p[0], F_SETFL, 0));
  long got = 0;
  while (got < (long)sizeof data) {
    long r = read(p[0], data, 3000);
    if (r <= 0) break;
    got += r;
  }
  int status;
  T(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  printf("read from the blocked writer: %ld\n", got);
  fflush(stdout);

  // Without privilege: more than pipe-max-size is EPERM, up to it or smaller is fine.
  child = fork();
  if (child == 0) {
    if (setuid(65534) != 0) {
      printf("setuid: %s\n", strerrorname_np(errno));
      _exit(0);
    }
    T(fcntl(p[0], F_SETPIPE_SZ, (1 << 20) + 1));
    T(fcntl(p[0], F_SETPIPE_SZ, 1 << 20));
    T(fcntl(p[0], F_SETPIPE_SZ, 4096));
    _exit(0);
  }
  T(waitpid(child, &status, 0) == child && WIFEXITED(status));
  T(fcntl(p[0], F_GETPIPE_SZ));
  T(close(p[0]));
  T(close(p[1]));
}

/* Reads until EAGAIN, printing each read's count and first byte. */
static void read_all(int fd, size_t size) {
  static char buf[80000];
  for (;;) {
    long n = read(fd, buf, size);
    if (n < 0) {
      printf("  read(%zu) = -1 %s\n", size, strerrorname_np(errno));
      break;
    }
    printf("  read(%zu) = %ld [%c]\n", size, n, n > 0 ? buf[0] : '-');
    if (n == 0) break;
  }
  fflush(stdout);
}

static void packets(void) {
  static char big[80000];
  char buf[64];
  int p[2];
  T(pipe2(p, O_DIRECT | O_NONBLOCK));
  T(fcntl(p[0], F_GETFL) & (O_ACCMODE | O_NONBLOCK | O_DIRECT));
  T(fcntl(p[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK | O_DIRECT));
  T(write(p[1], "aaa", 3));
  T(write(p[1], "bbbbb", 5));
  T(write(p[1], "", 0));
  T(write(p[1], "cc", 2));
  int avail = -1;
  T(ioctl(p[0], FIONREAD, &avail));
  printf("FIONREAD: %d\n", avail);
  // One packet per read, and what a short read leaves of one is gone.
  T(read(p[0], buf, sizeof buf));
  T(read(p[0], buf, 2));
  printf("short: %.2s\n", buf);
  T(read(p[0], buf, sizeof buf));
  printf("next: %.2s\n", buf);
  T(read(p[0], buf, sizeof buf));
  // A write larger than PIPE_BUF is split into packets of PIPE_BUF bytes.
  memset(big, 'x', 4096);
  memset(big + 4096, 'y', 4096);
  memset(big + 8192, 'z', 1000);
  T(write(p[1], big, 9192));
  read_all(p[0], sizeof big);
  // Each packet takes a page: sixteen of them fill the pipe.
  int n = 0;
  while (write(p[1], "p", 1) == 1) n++;
  printf("one-byte packets that fit: %d\n", n);
  read_all(p[0], 1);
  // readv: one packet across the iovecs, and no more.
  T(write(p[1], "0123456789", 10));
  T(write(p[1], "next", 4));
  char a[4], b[20];
  struct iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
  memset(b, 0, sizeof b);
  T(readv(p[0], iov, 2));
  printf("readv: %.4s %s\n", a, b);
  T(readv(p[0], iov, 2));
  T(close(p[1]));
  T(read(p[0], buf, sizeof buf));
  T(close(p[0]));

  // F_SETFL O_DIRECT on a byte-stream pipe: the writer's flag makes packets from then on; bytes
  // written before stay a stream, and a read takes them up to the first packet's end.
  T(pipe2(p, O_NONBLOCK));
  T(write(p[1], "st", 2));
  T(write(p[1], "ream", 4));
  T(fcntl(p[1], F_SETFL, O_DIRECT | O_NONBLOCK));
  T(fcntl(p[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK | O_DIRECT));
  T(write(p[1], "pk1", 3));
  T(write(p[1], "pk2", 3));
  memset(buf, 0, sizeof buf);
  T(read(p[0], buf, sizeof buf));
  printf("read: %s\n", buf);
  T(fcntl(p[1], F_SETFL, O_NONBLOCK));
  T(write(p[1], "s1", 2));
  T(write(p[1], "s2", 2));
  memset(buf, 0, sizeof buf);
  T(read(p[0], buf, sizeof buf));
  printf("read: %s\n", buf);
  memset(buf, 0, sizeof buf);
  T(read(p[0], buf, sizeof buf));
  printf("read: %s\n", buf);
  // The reader's own O_DIRECT does not matter: the packets are the writer's.
  T(fcntl(p[0], F_SETFL, O_DIRECT | O_NONBLOCK));
  T(write(p[1], "ab", 2));
  T(write(p[1], "cd", 2));
  memset(buf, 0, sizeof buf);
  T(read(p[0], buf, sizeof buf));
  printf("read: %s\n", buf);
  T(close(p[0]));
  T(close(p[1]));

  // A blocking reader of a packet pipe: woken by a writer in another process, it takes one packet.
  T(pipe2(p, O_DIRECT));
  pid_t child = fork();
  if (child == 0) {
    usleep(50000);
    memset(big, 'w', 6000);
    if (write(p[1], big, 6000) != 6000) _exit(1);
    _exit(0);
  }
  T(read(p[0], big, sizeof big));
  T(read(p[0], big, sizeof big));
  int status;
  waitpid(child, &status, 0);
  printf("child: %d\n", WEXITSTATUS(status));
  T(close(p[0]));
  T(close(p[1]));
}

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
  T(close(p[0]));
  pipe_sizes();
  packets();
  return 0;
}
