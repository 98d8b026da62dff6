// Non-canonical reads of a host terminal (stdin, run without -t) by VMIN and VTIME, as n_tty_read:
// MIN 0 TIME > 0 waits TIME for a byte and returns 0 when none comes; MIN > 0 TIME 0 waits until MIN
// bytes came; MIN > 0 TIME > 0 returns at the gap; MIN 0 TIME 0 takes what is there. The other end of
// the terminal (test/helpers/tty_typist.py) types on cue: the program says "ready N" before read N.
// It prints what each read returns, and for a timed-out wait only whether it waited at all.
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void set_mode(int min, int time) {
  struct termios t;
  tcgetattr(0, &t);
  t.c_lflag &= ~(ICANON | ECHO | ISIG | IEXTEN);
  t.c_iflag &= ~(IXON | ICRNL);
  t.c_cc[VMIN] = min;
  t.c_cc[VTIME] = time;
  tcsetattr(0, TCSANOW, &t);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void timed_read(int n, int min, int time, int size) {
  char buf[64];
  set_mode(min, time);
  printf("ready %d\n", n);
  fflush(stdout);
  double t0 = now();
  ssize_t r = read(0, buf, size);
  double waited = now() - t0;
  printf("read %d (MIN %d TIME %d, %d bytes asked): %zd", n, min, time, size, r);
  if (r > 0) printf(" \"%.*s\"", (int)r, buf);
  if (r == 0) printf(", after %s", waited >= 0.15 ? "waiting" : "no wait");
  printf("\n");
  fflush(stdout);
}

int main(void) {
  struct termios saved;
  if (tcgetattr(0, &saved) != 0) {
    perror("stdin is not a terminal");
    return 1;
  }
  timed_read(1, 0, 2, 10);  // nothing typed: 0 after 0.2 s
  timed_read(2, 0, 0, 10);  // nothing typed: 0 at once
  timed_read(3, 2, 0, 10);  // "a", then "bc" 0.3 s later: both pieces
  timed_read(4, 5, 2, 10);  // "xy", then "z" 0.6 s later: the gap ends it at "xy"
  timed_read(5, 0, 10, 10); // "z" comes
  timed_read(6, 3, 0, 2);   // "pqr": a buffer of 2 ends it at 2
  timed_read(7, 0, 0, 10);  // the "r" left
  tcsetattr(0, TCSANOW, &saved);
  return 0;
}
