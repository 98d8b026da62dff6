// Terminal calls on stdin, a terminal (run under script(1), natively and in the sandbox): isatty and
// ttyname, tcgetattr/tcsetattr round trips, window sizes, the foreground process group from the
// foreground and from a background child, and the errors of bad requests. With "portable", the
// terminal's own settings (which differ between the host's pty and the sandbox's) are not printed.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int portable;

static void check(const char *what, int r) {
  if (r < 0) printf("%s: -1 %s\n", what, strerror(errno));
  else printf("%s: %d\n", what, r);
}

static int same_termios(const struct termios *a, const struct termios *b) {
  return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag && a->c_lflag == b->c_lflag &&
         memcmp(a->c_cc, b->c_cc, NCCS) == 0;
}

int main(int argc, char **argv) {
  portable = argc > 1 && strcmp(argv[1], "portable") == 0;
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("isatty: %d %d %d\n", isatty(0), isatty(1), isatty(2));
  int null = open("/dev/null", O_RDWR);
  errno = 0;
  printf("isatty(/dev/null): %d %s\n", isatty(null), strerror(errno));
  const char *name = ttyname(0);
  printf("ttyname is /dev/pts/N: %d\n", name != NULL && strncmp(name, "/dev/pts/", 9) == 0);
  printf("ttyname(1) same: %d\n", name != NULL && ttyname(1) != NULL && strcmp(ttyname(1), name) == 0);

  struct termios before, changed, after;
  check("tcgetattr", tcgetattr(0, &before));
  if (!portable) printf("termios: iflag %o oflag %o cflag %o lflag %o\n", before.c_iflag, before.c_oflag, before.c_cflag, before.c_lflag);
  changed = before;
  changed.c_lflag &= ~(ECHO | ICANON);
  changed.c_cc[VMIN] = 1;
  changed.c_cc[VTIME] = 0;
  check("tcsetattr TCSANOW", tcsetattr(0, TCSANOW, &changed));
  check("tcgetattr again", tcgetattr(0, &after));
  printf("changes kept: %d\n", same_termios(&changed, &after));
  check("tcsetattr TCSADRAIN", tcsetattr(0, TCSADRAIN, &before));
  check("tcsetattr TCSAFLUSH", tcsetattr(0, TCSAFLUSH, &before));
  tcgetattr(0, &after);
  printf("restored: %d\n", same_termios(&before, &after));
  check("tcsetattr bad action", tcsetattr(0, 42, &before));
  check("TCGETS to a bad pointer", ioctl(0, TCGETS, (void *)8));

  struct winsize ws, set = {.ws_row = 33, .ws_col = 77}, got;
  check("TIOCGWINSZ", ioctl(0, TIOCGWINSZ, &ws));
  if (!portable) printf("winsize: %d %d\n", ws.ws_row, ws.ws_col);
  check("TIOCSWINSZ", ioctl(0, TIOCSWINSZ, &set));
  ioctl(1, TIOCGWINSZ, &got);
  printf("winsize set: %d %d\n", got.ws_row, got.ws_col);
  ioctl(0, TIOCSWINSZ, &ws);

  pid_t pgrp = getpgrp();
  printf("tcgetpgrp is getpgrp: %d\n", tcgetpgrp(0) == pgrp);
  printf("tcgetsid is getsid: %d\n", tcgetsid(0) == getsid(0));
  check("tcsetpgrp to itself", tcsetpgrp(0, pgrp));
  check("tcsetpgrp to no group", tcsetpgrp(0, 0x3ffffff0));
  check("tcsetpgrp on /dev/null", tcsetpgrp(null, pgrp));
  check("tcgetpgrp on /dev/null", tcgetpgrp(null));
  int n = -1;
  check("FIONREAD", ioctl(0, FIONREAD, &n));
  check("TIOCOUTQ", ioctl(1, TIOCOUTQ, &n));
  check("tcflush TCIFLUSH", tcflush(0, TCIFLUSH));
  check("tcflush bad queue", tcflush(0, 7));
  check("tcflow TCOON", tcflow(1, TCOON));
  check("tcdrain", tcdrain(1));
  check("unknown request", ioctl(0, 0x54ff, &n));

  pid_t child = fork();
  if (child == 0) {
    // In a group of its own: the background of the terminal.
    setpgid(0, 0);
    printf("child in the background: %d\n", tcgetpgrp(0) != getpgrp());
    check("child write without TOSTOP", (int)write(1, "", 0));
    signal(SIGTTIN, SIG_IGN);
    char c;
    check("child read with SIGTTIN ignored", (int)read(0, &c, 1));
    signal(SIGTTOU, SIG_IGN);
    check("child tcsetattr with SIGTTOU ignored", tcsetattr(0, TCSANOW, &before));
    check("child tcsetpgrp to itself", tcsetpgrp(0, getpgrp()));
    printf("child now in the foreground: %d\n", tcgetpgrp(0) == getpgrp());
    check("child tcsetpgrp back", tcsetpgrp(0, pgrp));
    _exit(0);
  }
  int status;
  waitpid(child, &status, 0);
  printf("child status: %d\n", status);
  printf("parent in the foreground again: %d\n", tcgetpgrp(0) == pgrp);

  // A background child that reads with SIGTTIN at its default is stopped by it.
  child = fork();
  if (child == 0) {
    setpgid(0, 0);
    char c;
    read(0, &c, 1);
    _exit(3);
  }
  setpgid(child, child);
  waitpid(child, &status, WUNTRACED);
  printf("background reader: stopped %d by %d\n", WIFSTOPPED(status), WIFSTOPPED(status) ? WSTOPSIG(status) : 0);
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  return 0;
}
