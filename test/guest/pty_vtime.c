// Non-canonical reads of a pty slave by VMIN and VTIME (Linux n_tty_read): MIN 0 TIME 0 takes what is
// there; MIN > 0 TIME 0 waits for MIN bytes (fewer for a shorter buffer, what is there with O_NONBLOCK);
// MIN 0 TIME > 0 waits TIME from the call for one byte; MIN > 0 TIME > 0 waits for the first byte, then
// returns at MIN bytes or when TIME passes between two. A signal ends the wait with the bytes read so
// far, else EINTR (or a restart under SA_RESTART). A forked child types at the master, timed with
// usleep; the program prints what each read returns (counts and bytes), never how long it took.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int m, s;

static void set_mode(int min, int time) {
  struct termios t;
  tcgetattr(s, &t);
  t.c_lflag &= ~(ICANON | ECHO | ISIG | IEXTEN);
  t.c_iflag &= ~(IXON | ICRNL);
  t.c_cc[VMIN] = min;
  t.c_cc[VTIME] = time;
  tcsetattr(s, TCSAFLUSH, &t);
}

/** A child that types each piece at the master after its delay (ms after the one before). */
static pid_t typist(const int *delays, const char *const *pieces, int n, int signal_at) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < n; i++) {
      usleep(delays[i] * 1000);
      if (i == signal_at) kill(parent, SIGUSR1);
      if (pieces[i] != NULL) write(m, pieces[i], strlen(pieces[i]));
    }
    _exit(0);
  }
  return pid;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/** One read of the slave, printed; waited: whether it took at least that many seconds (a lower bound only). */
static void show(const char *what, size_t len, double waited) {
  char buf[64];
  double t0 = now();
  ssize_t n = read(s, buf, len);
  double took = now() - t0;
  printf("%-44s %zd", what, n);
  if (n < 0) printf(" %s", strerror(errno));
  else printf(" \"%.*s\"", (int)n, buf);
  if (waited > 0) printf(", waited %.1f s: %s", waited, took >= waited ? "yes" : "no");
  printf("\n");
}

static void reap(pid_t pid) {
  waitpid(pid, NULL, 0);
}

static void on_usr1(int sig) { (void)sig; }

static void handle_usr1(int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = flags;
  sigaction(SIGUSR1, &sa, NULL);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  m = posix_openpt(O_RDWR | O_NOCTTY);
  grantpt(m);
  unlockpt(m);
  s = open(ptsname(m), O_RDWR | O_NOCTTY);
  pid_t pid;

  // MIN 0, TIME 0: a poll.
  set_mode(0, 0);
  show("MIN 0 TIME 0, nothing typed", 10, 0);
  write(m, "abc", 3);
  show("MIN 0 TIME 0, abc typed, read of 2", 2, 0);
  show("MIN 0 TIME 0, then", 10, 0);
  fcntl(s, F_SETFL, O_NONBLOCK);
  show("MIN 0 TIME 0, O_NONBLOCK, nothing", 10, 0);
  fcntl(s, F_SETFL, 0);

  // MIN > 0, TIME 0: MIN bytes, however long they take.
  set_mode(3, 0);
  {
    int d[] = {100, 100, 100};
    const char *p[] = {"a", "b", "cd"};
    pid = typist(d, p, 3, -1);
    show("MIN 3 TIME 0, a b cd typed apart", 10, 0);
    reap(pid);
  }
  write(m, "uvwxyz", 6);
  show("MIN 3 TIME 0, uvwxyz there, read of 2", 2, 0);
  show("MIN 3 TIME 0, then", 10, 0);
  {
    int d[] = {100, 100};
    const char *p[] = {"a", "bc"};
    pid = typist(d, p, 2, -1);
    char x[2], y[8];
    struct iovec iov[2] = {{x, 2}, {y, sizeof y}};
    ssize_t n = readv(s, iov, 2);
    printf("MIN 3 TIME 0, readv of 2 + 8, a bc typed: %zd \"%.2s%.*s\"\n", n, x, (int)(n > 2 ? n - 2 : 0), y);
    reap(pid);
  }
  write(m, "q", 1);
  fcntl(s, F_SETFL, O_NONBLOCK);
  show("MIN 3 TIME 0, O_NONBLOCK, q there", 10, 0);
  show("MIN 3 TIME 0, O_NONBLOCK, nothing", 10, 0);
  fcntl(s, F_SETFL, 0);

  // MIN 0, TIME > 0: one byte, or 0 once TIME passed from the call.
  set_mode(0, 5);
  show("MIN 0 TIME 5, nothing typed", 10, 0.45);
  set_mode(0, 20);
  {
    int d[] = {100, 100};
    const char *p[] = {"x", "y"};
    pid = typist(d, p, 2, -1);
    show("MIN 0 TIME 20, x typed at 0.1 s", 10, 0);
    reap(pid);
    show("MIN 0 TIME 20, then", 10, 0);
  }
  fcntl(s, F_SETFL, O_NONBLOCK);
  show("MIN 0 TIME 20, O_NONBLOCK, nothing", 10, 0);
  fcntl(s, F_SETFL, 0);

  // MIN > 0, TIME > 0: no timer before the first byte; then TIME between bytes.
  set_mode(5, 8);
  {
    int d[] = {1000, 100, 2000, 100, 100};
    const char *p[] = {"a", "b", "c", "de", "fgh"};
    pid = typist(d, p, 5, -1);
    show("MIN 5 TIME 8, a at 1 s, b, then a gap", 10, 1.0);
    show("MIN 5 TIME 8, c, de, fgh apart", 10, 0);
    reap(pid);
  }
  write(m, "123456", 6);
  show("MIN 5 TIME 8, 123456 there, read of 2", 2, 0);
  show("MIN 5 TIME 8, then 4 there", 10, 0.75);

  // A signal: the bytes so far, else EINTR; SA_RESTART restarts an empty read.
  set_mode(5, 0);
  handle_usr1(0);
  {
    int d[] = {100, 300};
    const char *p[] = {"ab", NULL};
    pid = typist(d, p, 2, 1);
    show("MIN 5 TIME 0, ab typed, then a signal", 10, 0);
    reap(pid);
  }
  {
    int d[] = {200};
    const char *p[] = {NULL};
    pid = typist(d, p, 1, 0);
    show("MIN 5 TIME 0, a signal, nothing typed", 10, 0);
    reap(pid);
  }
  handle_usr1(SA_RESTART);
  {
    int d[] = {200, 200};
    const char *p[] = {NULL, "vwxyz"};
    pid = typist(d, p, 2, 0);
    show("MIN 5 TIME 0, SA_RESTART signal, then vwxyz", 10, 0);
    reap(pid);
  }
  set_mode(0, 10);
  {
    int d[] = {200};
    const char *p[] = {NULL};
    pid = typist(d, p, 1, 0);
    show("MIN 0 TIME 10, SA_RESTART signal, nothing", 10, 1.15);
    reap(pid);
  }
  set_mode(0, 20);
  handle_usr1(0);
  {
    int d[] = {200};
    const char *p[] = {NULL};
    pid = typist(d, p, 1, 0);
    show("MIN 0 TIME 20, a signal, nothing", 10, 0);
    reap(pid);
  }

  // Canonical mode ignores MIN and TIME.
  struct termios t;
  tcgetattr(s, &t);
  t.c_lflag |= ICANON;
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  tcsetattr(s, TCSANOW, &t);
  {
    int d[] = {200};
    const char *p[] = {"line\n"};
    pid = typist(d, p, 1, -1);
    show("canonical, MIN 0 TIME 0, a line at 0.2 s", 10, 0);
    reap(pid);
  }
  return 0;
}
