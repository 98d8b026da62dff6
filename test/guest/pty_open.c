// A program's own pseudo-terminal through /dev/ptmx: posix_openpt, grantpt, unlockpt, ptsname; the
// locked slave; input typed at the master read line by line at the slave, output with ONLCR; the window
// size set through the master; TIOCGPTPEER; a child that makes the slave its controlling terminal, and
// children that take it by opening it (or not, with O_NOCTTY); EIO
// at the master once the slave is closed; the slave's hang-up and its node going with the master.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static ssize_t read_some(int fd, char *buf, size_t n) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, 5000) != 1) return -2;
  ssize_t r = read(fd, buf, n);
  if (r >= 0) buf[r] = 0;
  return r;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  printf("posix_openpt: %s, a terminal: %s\n", err(m), isatty(m) ? "yes" : "no");
  char *name = ptsname(m);
  printf("ptsname under /dev/pts: %s\n", name != NULL && strncmp(name, "/dev/pts/", 9) == 0 ? "yes" : "no");
  char slave_path[64];
  snprintf(slave_path, sizeof slave_path, "%s", name);
  printf("slave before unlockpt: %s\n", err(open(slave_path, O_RDWR | O_NOCTTY)));
  printf("grantpt: %s, unlockpt: %s\n", err(grantpt(m)), err(unlockpt(m)));
  int s = open(slave_path, O_RDWR | O_NOCTTY);
  printf("slave: %s, a terminal: %s, ttyname matches: %s\n", err(s), isatty(s) ? "yes" : "no",
         ttyname(s) != NULL && strcmp(ttyname(s), slave_path) == 0 ? "yes" : "no");

  char buf[256];
  struct termios t;
  tcgetattr(s, &t);
  t.c_lflag &= ~ECHO;
  tcsetattr(s, TCSANOW, &t);
  write(m, "hello\n", 6);
  ssize_t n = read_some(s, buf, sizeof buf);
  printf("typed at the master, read at the slave: %zd \"%.*s\"\n", n, (int)(n > 0 ? n - 1 : 0), buf);
  write(s, "out\n", 4);
  n = read_some(m, buf, sizeof buf);
  printf("written at the slave, read at the master: %zd, with ONLCR: %s\n", n, n == 5 && memcmp(buf, "out\r\n", 5) == 0 ? "yes" : "no");
  t.c_lflag |= ECHO;
  tcsetattr(s, TCSANOW, &t);
  write(m, "ab\n", 3);
  size_t got_echo = 0;
  while (got_echo < 4 && (n = read_some(m, buf + got_echo, sizeof buf - got_echo)) > 0) got_echo += n;
  printf("echo back to the master: %s\n", got_echo == 4 && memcmp(buf, "ab\r\n", 4) == 0 ? "yes" : "no");
  read_some(s, buf, sizeof buf);

  struct winsize w = {.ws_row = 33, .ws_col = 111}, got = {0};
  ioctl(m, TIOCSWINSZ, &w);
  ioctl(s, TIOCGWINSZ, &got);
  printf("window size set at the master, seen at the slave: %dx%d\n", got.ws_row, got.ws_col);
  t.c_lflag &= ~ECHO;
  tcsetattr(s, TCSANOW, &t);
  struct termios tm;
  tcgetattr(m, &tm);
  printf("ECHO off at the slave, seen at the master: %s\n", (tm.c_lflag & ECHO) == 0 ? "yes" : "no");

  int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  printf("TIOCGPTPEER: %s, a terminal: %s\n", err(peer), isatty(peer) ? "yes" : "no");
  close(peer);

  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    int c = open(slave_path, O_RDWR);
    ioctl(c, TIOCSCTTY, 0);
    int fd = open("/dev/tty", O_RDWR);
    printf("child: /dev/tty opens: %s, its foreground group is it: %s\n", err(fd), tcgetpgrp(c) == getpid() ? "yes" : "no");
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  printf("the master's foreground group is the child's: %s\n", tcgetpgrp(m) == pid ? "yes" : "no");

  // A session leader without a terminal that opens one without O_NOCTTY takes it (tty_open); with
  // O_NOCTTY it does not.
  for (int noctty = 0; noctty <= 1; noctty++) {
    pid = fork();
    if (pid == 0) {
      setsid();
      int c = open(slave_path, O_RDWR | (noctty ? O_NOCTTY : 0));
      pid_t sid = tcgetsid(c);
      int fd = open("/dev/tty", O_RDWR);
      printf("child, open %s: the slave's session is its own: %s, /dev/tty opens: %s\n",
             noctty ? "with O_NOCTTY" : "without O_NOCTTY", sid == getpid() ? "yes" : "no", err(fd));
      _exit(0);
    }
    waitpid(pid, &status, 0);
  }

  close(s);
  n = read(m, buf, sizeof buf);
  printf("master read with every slave closed: %s\n", err(n));

  s = open(slave_path, O_RDWR | O_NOCTTY);
  close(m);
  n = read(s, buf, sizeof buf);
  printf("slave read after the master closed: %zd\n", n);
  printf("slave write after the master closed: %s\n", err(write(s, "x", 1)));
  close(s);
  printf("the slave's node after both closed: %s\n", access(slave_path, F_OK) == 0 ? "still there" : "gone");
  return 0;
}
