// splice(2), tee(2), vmsplice(2) and sync_file_range(2) as Linux has them: file to pipe, pipe to file,
// pipe to pipe, socket to pipe and back, with and without offsets (the offset moves, the file position
// stays); how pipe buffers are laid out (a file's pages, vmsplice's user pages, no merging of later
// writes into them); SPLICE_F_NONBLOCK and O_NONBLOCK; blocking on an empty or full pipe until another
// process comes, a signal ending the wait with EINTR or restarting it under SA_RESTART; and every
// error: EBADF, EINVAL, ESPIPE, EFAULT, EPIPE with SIGPIPE, EAGAIN. Compared with the host kernel.
#include "fs_common.h"
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>

/** An fd, printed as whether there is one: the numbers depend on what the caller left open. */
static int report_fd(const char *what, int fd) {
  if (fd < 0) printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else printf("%s = fd\n", what);
  fflush(stdout);
  return fd;
}
#define F(expr) report_fd(#expr, (expr))

static int sigpipes;
static int alarms;

static void on_sigpipe(int s) {
  (void)s;
  sigpipes++;
}

static void on_alarm(int s) {
  (void)s;
  alarms++;
}

static void handle_alarm(int restart) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGALRM, &sa, NULL);
}

/** SIGALRM in 200 ms. */
static void soon(void) {
  struct itimerval it = {{0, 0}, {0, 200000}};
  setitimer(ITIMER_REAL, &it, NULL);
}

static char pattern(long i) {
  return (char)('a' + i % 23);
}

/** Reads everything now in the pipe (non-blocking) and says how much and whether it is pattern from start. */
static void drain(const char *what, int fd, long start) {
  static char buf[1 << 17];
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  long total = 0;
  int same = 1;
  for (long r; (r = read(fd, buf, sizeof buf)) > 0;) {
    for (long i = 0; i < r; i++) same &= buf[i] == pattern(start + total + i);
    total += r;
  }
  fcntl(fd, F_SETFL, fl);
  printf("%s: %ld bytes, pattern %s\n", what, total, same ? "ok" : "wrong");
  fflush(stdout);
}

/** Reads up to n bytes now in the pipe and prints them. */
static void show(const char *what, int fd, long n) {
  char buf[256];
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  long r = read(fd, buf, n < (long)sizeof buf ? n : (long)sizeof buf);
  fcntl(fd, F_SETFL, fl);
  if (r < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
  else printf("%s: \"%.*s\"\n", what, (int)r, buf);
  fflush(stdout);
}

static long pos(int fd) {
  return lseek(fd, 0, SEEK_CUR);
}

static int make_file(const char *name, long size) {
  int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
  static char buf[4096];
  for (long done = 0; done < size;) {
    long n = size - done < (long)sizeof buf ? size - done : (long)sizeof buf;
    for (long i = 0; i < n; i++) buf[i] = pattern(done + i);
    if (write(fd, buf, n) != n) exit(3);
    done += n;
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

static void file_to_pipe(void) {
  int p[2];
  T(pipe(p));
  int f = make_file("src", 100000);
  T(splice(f, NULL, p[1], NULL, 5000, 0));
  T(pos(f));
  drain("file to pipe", p[0], 0);
  loff_t off = 100;
  // A file's pages become the pipe's buffers: from offset 100 the first holds the rest of a page,
  // so sixteen of them take 100 bytes less than 64 KiB.
  T(splice(f, &off, p[1], NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_MORE));
  printf("off = %lld, pos = %ld\n", (long long)off, pos(f));
  T(splice(f, &off, p[1], NULL, 10, SPLICE_F_NONBLOCK));
  drain("with offset", p[0], 100);
  off = 99990;
  T(splice(f, &off, p[1], NULL, 100, 0));
  printf("off = %lld\n", (long long)off);
  T(splice(f, &off, p[1], NULL, 100, 0));
  off = 200000;
  T(splice(f, &off, p[1], NULL, 100, 0));
  drain("at the end", p[0], 99990);
  // Sixteen one-byte buffers fill the pipe; a write does not merge into a spliced buffer.
  for (int i = 0; i < 16; i++) {
    off = i;
    if (splice(f, &off, p[1], NULL, 1, 0) != 1) printf("one byte %d failed\n", i);
  }
  T(splice(f, &off, p[1], NULL, 1, SPLICE_F_NONBLOCK));
  T(fcntl(p[1], F_SETFL, O_NONBLOCK));
  T(write(p[1], "x", 1));
  T(splice(f, NULL, p[1], NULL, 1, 0));
  drain("sixteen bytes", p[0], 0);
  T(fcntl(p[1], F_SETPIPE_SZ, 4096));
  off = 0;
  T(splice(f, &off, p[1], NULL, 10, 0));
  T(write(p[1], "x", 1));
  drain("one page", p[0], 0);
  T(write(p[1], "ab", 2));
  T(write(p[1], "cd", 2));
  show("writes merge", p[0], 10);
  T(close(p[0]));
  T(close(p[1]));
  T(close(f));
}

static void pipe_to_file(void) {
  int p[2];
  T(pipe(p));
  int out = F(open("out", O_RDWR | O_CREAT | O_TRUNC, 0644));
  T(write(p[1], "hello ", 6));
  T(write(p[1], "world", 5));
  T(splice(p[0], NULL, out, NULL, 100, 0));
  T(pos(out));
  T(write(p[1], "0123456789", 10));
  loff_t off = 8190;
  T(splice(p[0], NULL, out, &off, 4, 0));
  printf("off = %lld, pos = %ld\n", (long long)off, pos(out));
  T(splice(p[0], NULL, out, NULL, 100, 0));
  struct stat st;
  fstat(out, &st);
  printf("size = %lld\n", (long long)st.st_size);
  char buf[32] = {0};
  T(pread(out, buf, 20, 0));
  printf("start: \"%.17s\"\n", buf);
  T(pread(out, buf, 8, 8188));
  printf("at 8188: \"%.6s\"\n", buf + 2);
  // A big one: 64 KiB through the pipe in pieces.
  int f = make_file("src2", 200000);
  long moved = 0;
  T(ftruncate(out, 0));
  T(lseek(out, 0, SEEK_SET));
  for (int i = 0; i < 7; i++) {
    long a = splice(f, NULL, p[1], NULL, 30000, 0);
    long b = splice(p[0], NULL, out, NULL, 1 << 20, 0);
    if (a != b) printf("piece %d: %ld in, %ld out\n", i, a, b);
    moved += b;
  }
  printf("moved %ld\n", moved);
  fstat(out, &st);
  printf("size = %lld, pos = %ld\n", (long long)st.st_size, pos(out));
  T(close(f));
  T(close(out));
  // No writers, nothing in the pipe: 0. Empty with writers: EAGAIN when non-blocking.
  out = F(open("out", O_WRONLY));
  T(splice(p[0], NULL, out, NULL, 10, SPLICE_F_NONBLOCK));
  T(fcntl(p[0], F_SETFL, O_NONBLOCK));
  T(splice(p[0], NULL, out, NULL, 10, 0));
  T(fcntl(p[0], F_SETFL, 0));
  T(close(p[1]));
  T(splice(p[0], NULL, out, NULL, 10, 0));
  T(close(p[0]));
  T(close(out));
}

static void pipe_to_pipe(void) {
  int p[2], q[2];
  T(pipe(p));
  T(pipe(q));
  T(write(p[1], "abc", 3));
  T(write(p[1], "defgh", 5));
  T(splice(p[0], NULL, q[1], NULL, 5, 0));
  show("q", q[0], 100);
  show("p", p[0], 100);
  T(write(p[1], "12345", 5));
  T(splice(p[0], NULL, q[1], NULL, 100, SPLICE_F_MOVE));
  // The buffer moved whole keeps merging with later writes.
  T(write(q[1], "67", 2));
  show("q", q[0], 100);
  T(splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK));
  T(fcntl(q[1], F_SETFL, O_NONBLOCK));
  T(splice(p[0], NULL, q[1], NULL, 10, 0));
  T(fcntl(q[1], F_SETFL, 0));
  // A full output pipe: EAGAIN when non-blocking.
  T(fcntl(q[1], F_SETPIPE_SZ, 4096));
  T(write(q[1], "x", 1));
  T(write(p[1], "y", 1));
  T(splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK));
  show("q", q[0], 100);
  T(splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK));
  show("q", q[0], 100);
  // The same pipe on both sides; offsets on pipes.
  T(splice(p[0], NULL, p[1], NULL, 10, 0));
  loff_t off = 0;
  T(splice(p[0], &off, q[1], NULL, 10, 0));
  T(splice(p[0], NULL, q[1], &off, 10, 0));
  // No reader on the output: EPIPE and SIGPIPE, even with nothing to move.
  T(close(q[0]));
  T(write(p[1], "z", 1));
  T(splice(p[0], NULL, q[1], NULL, 10, 0));
  printf("sigpipes = %d\n", sigpipes);
  T(close(p[1]));
  show("p", p[0], 100);
  T(splice(p[0], NULL, q[1], NULL, 10, 0));
  printf("sigpipes = %d\n", sigpipes);
  T(close(q[1]));
  T(pipe(q));
  T(splice(p[0], NULL, q[1], NULL, 10, 0));
  T(close(p[0]));
  T(close(q[0]));
  T(close(q[1]));
}

static void tee_cases(void) {
  int p[2], q[2], r[2];
  T(pipe(p));
  T(pipe(q));
  T(pipe(r));
  T(write(p[1], "abcdef", 6));
  T(write(p[1], "ghi", 3));
  T(tee(p[0], q[1], 4, 0));
  T(tee(p[0], r[1], 100, 0));
  show("q", q[0], 100);
  show("r", r[0], 100);
  show("p", p[0], 100);
  T(tee(p[0], q[1], 10, SPLICE_F_NONBLOCK));
  T(fcntl(p[0], F_SETFL, O_NONBLOCK));
  T(tee(p[0], q[1], 10, 0));
  T(fcntl(p[0], F_SETFL, 0));
  T(tee(p[0], p[1], 10, 0));
  T(tee(p[0], q[1], 0, 0));
  T(tee(p[0], q[1], 10, 0x100));
  T(tee(p[0], q[1], 0, 0x100));
  T(tee(-1, q[1], 10, 0));
  T(tee(p[0], -1, 10, 0));
  T(tee(p[1], q[1], 10, 0));
  T(tee(p[0], q[0], 10, 0));
  int f = make_file("teefile", 10);
  T(tee(f, q[1], 10, 0));
  T(tee(p[0], f, 10, 0));
  T(close(f));
  // A tee'd buffer takes a slot and does not merge: a one-page pipe is then full.
  T(fcntl(q[1], F_SETPIPE_SZ, 4096));
  T(write(p[1], "jk", 2));
  T(tee(p[0], q[1], 1, 0));
  T(fcntl(q[1], F_SETFL, O_NONBLOCK));
  T(write(q[1], "l", 1));
  T(tee(p[0], q[1], 1, 0));
  show("q", q[0], 100);
  show("p", p[0], 100);
  T(close(p[1]));
  T(tee(p[0], q[1], 10, 0));
  T(close(q[0]));
  T(pipe(r));
  T(tee(r[0], q[1], 10, SPLICE_F_NONBLOCK));
  T(write(r[1], "m", 1));
  T(tee(r[0], q[1], 10, 0));
  printf("sigpipes = %d\n", sigpipes);
  T(close(p[0]));
  T(close(q[1]));
  T(close(r[0]));
  T(close(r[1]));
}

static void vmsplice_cases(void) {
  int p[2];
  T(pipe(p));
  char a[] = "first ", b[] = "second";
  struct iovec iov[3] = {{a, 6}, {b, 6}, {NULL, 0}};
  T(vmsplice(p[1], iov, 3, 0));
  show("p", p[0], 100);
  char x[8] = {0}, y[8] = {0};
  struct iovec out[2] = {{x, 3}, {y, 7}};
  T(write(p[1], "0123456789abc", 13));
  T(vmsplice(p[0], out, 2, 0));
  printf("x = \"%s\", y = \"%s\"\n", x, y);
  show("p", p[0], 100);
  T(vmsplice(p[0], out, 2, SPLICE_F_NONBLOCK));
  T(vmsplice(p[1], iov, 0, 0));
  T(vmsplice(p[1], iov, 1025, 0));
  T(vmsplice(p[1], (struct iovec *)8, 1, 0));
  T(vmsplice(p[1], iov, 1, 0x100));
  T(vmsplice(-1, iov, 1, 0));
  int f = make_file("vmfile", 10);
  T(vmsplice(f, iov, 1, 0));
  T(vmsplice(f, iov, 0, 0));
  T(close(f));
  struct iovec bad = {(void *)8, 10};
  T(vmsplice(p[1], &bad, 1, 0));
  // User pages become buffers: 8192 bytes from 100 bytes into a page span three pages, of which a
  // two-page pipe takes two.
  static char page[3 * 4096] __attribute__((aligned(4096)));
  for (int i = 0; i < (int)sizeof page; i++) page[i] = pattern(i);
  T(fcntl(p[1], F_SETPIPE_SZ, 8192));
  struct iovec big = {page + 100, 8192};
  T(vmsplice(p[1], &big, 1, SPLICE_F_NONBLOCK | SPLICE_F_GIFT));
  T(vmsplice(p[1], &big, 1, SPLICE_F_NONBLOCK));
  T(fcntl(p[1], F_SETFL, O_NONBLOCK));
  T(write(p[1], "x", 1));
  // The pipe's O_NONBLOCK does not make vmsplice non-blocking: it waits, and a signal ends the wait.
  handle_alarm(0);
  soon();
  T(vmsplice(p[1], &big, 1, 0));
  printf("alarms = %d\n", alarms);
  T(fcntl(p[1], F_SETFL, 0));
  drain("vmspliced", p[0], 100);
  T(close(p[1]));
  T(vmsplice(p[0], out, 2, 0));
  T(close(p[0]));
  T(pipe(p));
  T(close(p[0]));
  T(vmsplice(p[1], iov, 1, 0));
  printf("sigpipes = %d\n", sigpipes);
  T(close(p[1]));
}

static void errors(void) {
  int p[2];
  T(pipe(p));
  int f = make_file("e1", 100);
  int g = F(open("e2", O_RDWR | O_CREAT | O_TRUNC, 0644));
  int ro = F(open("e1", O_RDONLY));
  int app = F(open("e2", O_WRONLY | O_APPEND));
  T(splice(f, NULL, g, NULL, 10, 0));
  T(splice(-1, NULL, p[1], NULL, 10, 0));
  T(splice(p[0], NULL, -1, NULL, 10, 0));
  T(splice(-1, NULL, -1, NULL, 0, 0));
  T(splice(f, NULL, p[1], NULL, 10, 0x100));
  T(splice(f, NULL, p[1], NULL, 0, 0x100));
  T(splice(f, NULL, p[0], NULL, 10, 0));
  T(splice(p[1], NULL, g, NULL, 10, 0));
  T(write(p[1], "abc", 3));
  T(splice(p[0], NULL, ro, NULL, 10, 0));
  T(splice(p[0], NULL, app, NULL, 10, 0));
  T(splice(p[0], NULL, g, (loff_t *)8, 10, 0));
  loff_t neg = -1;
  T(splice(p[0], NULL, g, &neg, 10, 0));
  T(splice(f, &neg, p[1], NULL, 10, 0));
  T(splice(f, (loff_t *)8, p[1], NULL, 10, 0));
  T(splice(p[0], (loff_t *)8, g, NULL, 10, 0));
  T(splice(g, NULL, p[1], NULL, 10, 0));
  int wo = F(open("e1", O_WRONLY));
  T(splice(wo, NULL, p[1], NULL, 10, 0));
  T(close(wo));
  int dir = F(open(".", O_RDONLY | O_DIRECTORY));
  T(splice(dir, NULL, p[1], NULL, 10, 0));
  T(sync_file_range(dir, 0, 0, 0));
  T(close(dir));
  int ev = F(eventfd(1, 0));
  T(splice(ev, NULL, p[1], NULL, 10, 0));
  T(splice(p[0], NULL, ev, NULL, 10, 0));
  T(close(ev));
  int null = F(open("/dev/null", O_WRONLY));
  T(splice(p[0], NULL, null, NULL, 2, 0));
  T(close(null));
  int zero = F(open("/dev/zero", O_RDONLY));
  T(splice(zero, NULL, p[1], NULL, 5, 0));
  show("p", p[0], 100);
  T(close(zero));
  T(sync_file_range(f, 0, 10, 0));
  T(sync_file_range(f, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
  T(sync_file_range(f, 1000000, 10, SYNC_FILE_RANGE_WRITE));
  T(sync_file_range(f, 0, 10, 8));
  T(sync_file_range(f, -1, 10, 0));
  T(sync_file_range(f, 10, -1, 0));
  T(sync_file_range(f, 0x7fffffffffffff00LL, 0x1000, 0));
  T(sync_file_range(ro, 0, 10, SYNC_FILE_RANGE_WRITE));
  T(sync_file_range(p[0], 0, 10, 0));
  T(sync_file_range(p[0], 0, 10, 8));
  T(sync_file_range(-1, 0, 10, 0));
  T(sync_file_range(-1, 0, 10, 8));
  int s[2];
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
  T(sync_file_range(s[0], 0, 10, 0));
  T(close(s[0]));
  T(close(s[1]));
  T(close(f));
  T(close(g));
  T(close(ro));
  T(close(app));
  T(close(p[0]));
  T(close(p[1]));
}

static void sockets(void) {
  int p[2], s[2];
  T(pipe(p));
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
  T(write(s[1], "over the socket", 15));
  T(splice(s[0], NULL, p[1], NULL, 100, 0));
  show("p", p[0], 100);
  T(write(p[1], "back again", 10));
  T(splice(p[0], NULL, s[0], NULL, 100, 0));
  char buf[32] = {0};
  T(read(s[1], buf, sizeof buf));
  printf("socket: \"%s\"\n", buf);
  T(splice(s[0], NULL, p[1], NULL, 100, SPLICE_F_NONBLOCK));
  T(fcntl(s[0], F_SETFL, O_NONBLOCK));
  T(splice(s[0], NULL, p[1], NULL, 100, 0));
  loff_t off = 0;
  T(splice(s[0], &off, p[1], NULL, 100, 0));
  T(write(p[1], "x", 1));
  T(splice(p[0], NULL, s[0], &off, 100, 0));
  T(close(s[1]));
  T(splice(s[0], NULL, p[1], NULL, 100, 0));
  T(splice(p[0], NULL, s[0], NULL, 100, 0));
  printf("sigpipes = %d\n", sigpipes);
  T(close(s[0]));
  T(close(p[0]));
  T(close(p[1]));
}

/** A child that sleeps ms, then writes text to fd (or reads n bytes from it when text is NULL). */
static pid_t later(int fd, long ms, const char *text, long n) {
  pid_t c = fork();
  if (c == 0) {
    usleep(ms * 1000);
    if (text != NULL) {
      if (write(fd, text, strlen(text)) < 0) _exit(1);
    } else {
      static char buf[1 << 16];
      if (read(fd, buf, n) < 0) _exit(1);
    }
    _exit(0);
  }
  return c;
}

static void blocking(void) {
  int p[2], q[2];
  T(pipe(p));
  T(pipe(q));
  int out = F(open("bout", O_RDWR | O_CREAT | O_TRUNC, 0644));
  // Waits for the data of a writer that comes later.
  pid_t c = later(p[1], 100, "late data", 0);
  T(splice(p[0], NULL, out, NULL, 100, 0));
  waitpid(c, NULL, 0);
  c = later(p[1], 100, "piped", 0);
  T(splice(p[0], NULL, q[1], NULL, 100, 0));
  waitpid(c, NULL, 0);
  show("q", q[0], 100);
  c = later(p[1], 100, "teed", 0);
  T(tee(p[0], q[1], 100, 0));
  waitpid(c, NULL, 0);
  show("q", q[0], 100);
  show("p", p[0], 100);
  char x[16] = {0};
  struct iovec iov = {x, sizeof x};
  c = later(p[1], 100, "vm", 0);
  T(vmsplice(p[0], &iov, 1, 0));
  waitpid(c, NULL, 0);
  printf("x = \"%s\"\n", x);
  // Waits for room in a full pipe that a reader empties later.
  int f = make_file("bsrc", 100000);
  T(fcntl(q[1], F_SETPIPE_SZ, 4096));
  T(splice(f, NULL, q[1], NULL, 4096, 0));
  c = later(q[0], 100, NULL, 4096);
  T(splice(f, NULL, q[1], NULL, 4096, 0));
  waitpid(c, NULL, 0);
  drain("after the reader", q[0], 4096);
  T(write(q[1], "full", 4));
  c = later(q[0], 100, NULL, 4);
  T(vmsplice(q[1], &iov, 1, 0));
  waitpid(c, NULL, 0);
  show("q", q[0], 100);
  // A signal ends a wait: EINTR without SA_RESTART; with it the call goes on until the data comes.
  soon();
  T(splice(p[0], NULL, out, NULL, 100, 0));
  soon();
  T(tee(p[0], q[1], 100, 0));
  soon();
  T(vmsplice(p[0], &iov, 1, 0));
  T(write(q[1], "full", 4));
  soon();
  T(splice(f, NULL, q[1], NULL, 100, 0));
  printf("alarms = %d\n", alarms);
  show("q", q[0], 100);
  handle_alarm(1);
  c = later(p[1], 600, "after the alarm", 0);
  soon();
  T(splice(p[0], NULL, q[1], NULL, 100, 0));
  waitpid(c, NULL, 0);
  printf("alarms = %d\n", alarms);
  show("q", q[0], 100);
  T(close(f));
  T(close(out));
  T(close(p[0]));
  T(close(p[1]));
  T(close(q[0]));
  T(close(q[1]));
}

int main(int argc, char **argv) {
  enter(argc, argv);
  signal(SIGPIPE, on_sigpipe);
  file_to_pipe();
  pipe_to_file();
  pipe_to_pipe();
  tee_cases();
  vmsplice_cases();
  errors();
  sockets();
  blocking();
  return 0;
}
