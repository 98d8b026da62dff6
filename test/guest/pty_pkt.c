// Packet mode on a pty master (TIOCPKT): each read of the master starts with a status byte, TIOCPKT_DATA
// (0) before the slave's output, or a control byte alone: TIOCPKT_FLUSHREAD and TIOCPKT_FLUSHWRITE from
// tcflush of the slave (and an ISIG character), TIOCPKT_STOP and TIOCPKT_START from ^S/^Q and tcflow,
// TIOCPKT_NOSTOP and TIOCPKT_DOSTOP when the slave's IXON (with ^S/^Q) changes. poll of the master shows
// POLLPRI for a pending control byte; a blocked read or poll wakes for one. TIOCGPKT reads the mode back,
// TIOCGPTLCK the lock, TIOCGPTN the number; the slave refuses the master's requests. tcflow and tcflush
// at the master act on its own side; TIOCSIG signals the slave's foreground group.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int m, s;

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static int getint(int fd, unsigned long req) {
  int v = -1;
  if (ioctl(fd, req, &v) < 0) return -errno;
  return v;
}

/** What poll says of the master now, then what one read takes (bytes in hex). */
static void show(const char *what, size_t len) {
  struct pollfd p = {m, POLLIN | POLLPRI, 0};
  int r = poll(&p, 1, 0);
  printf("%-36s poll %d:%s%s%s", what, r, (p.revents & POLLIN) ? " IN" : "", (p.revents & POLLPRI) ? " PRI" : "",
         (p.revents & POLLHUP) ? " HUP" : "");
  if (r == 1 && (p.revents & (POLLIN | POLLHUP))) {
    unsigned char buf[64];
    ssize_t n = read(m, buf, len);
    printf(", read %zd:", n);
    if (n < 0) printf(" %s", strerror(errno));
    for (ssize_t i = 0; i < n; i++) printf(" %02x", buf[i]);
  }
  printf("\n");
}

/** Types c at the master; a poll of the slave then waits until Linux has taken it in (its flip buffer's work). */
static void typed(const char *c) {
  write(m, c, strlen(c));
  struct pollfd p = {s, POLLIN, 0};
  poll(&p, 1, 0);
}

static int sig_report = -1;

static void on_signal(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  int got[2] = {sig, si->si_code};
  write(sig_report, got, sizeof got);
}

static void setflags(tcflag_t iflag_on, tcflag_t iflag_off, int vstop) {
  struct termios t;
  tcgetattr(s, &t);
  t.c_iflag = (t.c_iflag | iflag_on) & ~iflag_off;
  if (vstop >= 0) t.c_cc[VSTOP] = vstop;
  tcsetattr(s, TCSANOW, &t);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  m = posix_openpt(O_RDWR | O_NOCTTY);
  printf("posix_openpt: %s\n", err(m));
  printf("TIOCGPTLCK before unlockpt: %d\n", getint(m, TIOCGPTLCK));
  grantpt(m);
  unlockpt(m);
  printf("TIOCGPTLCK after unlockpt: %d\n", getint(m, TIOCGPTLCK));
  int lock = 1;
  const char *r = err(ioctl(m, TIOCSPTLCK, &lock));
  printf("TIOCSPTLCK 1: %s, now %d\n", r, getint(m, TIOCGPTLCK));
  printf("open while locked: %s\n", err(open(ptsname(m), O_RDWR | O_NOCTTY)));
  lock = 0;
  ioctl(m, TIOCSPTLCK, &lock);
  char name[64];
  snprintf(name, sizeof name, "/dev/pts/%d", getint(m, TIOCGPTN));
  printf("TIOCGPTN names ptsname: %s\n", strcmp(name, ptsname(m)) == 0 ? "yes" : "no");
  s = open(name, O_RDWR | O_NOCTTY);
  printf("slave: %s\n", err(s));
  struct termios t;
  tcgetattr(s, &t);
  t.c_lflag &= ~ECHO;
  tcsetattr(s, TCSANOW, &t);

  printf("TIOCGPKT at first: %d\n", getint(m, TIOCGPKT));
  int on = 1;
  r = err(ioctl(s, TIOCPKT, &on));
  printf("TIOCPKT at the slave: %s, TIOCGPKT at the slave: %d\n", r, getint(s, TIOCGPKT));
  printf("TIOCPKT bad pointer: %s\n", err(ioctl(m, TIOCPKT, (void *)8)));
  on = 42;
  r = err(ioctl(m, TIOCPKT, &on));
  printf("TIOCPKT 42: %s, TIOCGPKT: %d\n", r, getint(m, TIOCGPKT));
  show("nothing yet", 64);

  write(s, "ab", 2);
  show("slave wrote ab", 64);
  write(s, "xy", 2);
  show("slave wrote xy, read of 1", 1);
  show("then", 64);

  // readv: the status byte starts the first buffer, the data goes on into the next.
  write(s, "uvw", 3);
  {
    unsigned char a[1], b[8];
    struct iovec iov[2] = {{a, 1}, {b, sizeof b}};
    ssize_t n = readv(m, iov, 2);
    printf("readv of 1 + 8 after uvw: %zd: %02x %.*s\n", n, a[0], (int)(n > 1 ? n - 1 : 0), (char *)b);
  }

  tcflush(s, TCIFLUSH);
  show("tcflush TCIFLUSH", 64);
  show("again", 64);
  tcflush(s, TCOFLUSH);
  show("tcflush TCOFLUSH", 64);
  tcflush(s, TCIOFLUSH);
  show("tcflush TCIOFLUSH", 64);
  write(s, "d", 1);
  tcflush(s, TCIFLUSH);
  show("data, then TCIFLUSH", 64);
  show("then", 64);

  tcflow(s, TCOOFF);
  show("tcflow TCOOFF", 64);
  tcflow(s, TCOOFF);
  show("tcflow TCOOFF again", 64);
  typed("\x11");
  show("^Q typed after TCOOFF", 64);
  tcflow(s, TCOON);
  show("tcflow TCOON", 64);
  tcflow(s, TCOON);
  show("tcflow TCOON again", 64);
  tcflow(s, TCOOFF);
  tcflow(s, TCOON);
  show("TCOOFF then TCOON", 64);
  typed("\x13");
  show("^S typed", 64);
  typed("\x13");
  show("^S typed again", 64);
  typed("\x11");
  show("^Q typed", 64);

  setflags(0, IXON, -1);
  show("IXON off", 64);
  setflags(0, IXON, -1);
  show("IXON off again", 64);
  setflags(IXON, 0, -1);
  show("IXON on", 64);
  setflags(0, 0, 1);
  show("VSTOP ^A", 64);
  setflags(0, 0, 0x13);
  show("VSTOP ^S", 64);
  typed("\x13");
  show("^S typed", 64);
  setflags(0, IXON, -1);
  show("IXON off while stopped", 64);
  setflags(IXON, 0, -1);
  show("IXON on", 64);
  typed("\x03");
  show("^C typed (ISIG)", 64);
  tcflow(s, TCIOFF);
  show("tcflow TCIOFF", 64);
  typed("\x13");
  show("^S typed", 64);
  tcflow(s, TCIOFF);
  show("tcflow TCIOFF while ^S holds", 64);
  show("then", 64);
  typed("\x11");
  show("^Q typed", 64);
  tcflow(s, TCOOFF);
  show("tcflow TCOOFF", 64);
  tcflow(s, TCION);
  show("tcflow TCION while TCOOFF holds", 64);
  tcflow(s, TCOON);
  show("tcflow TCOON", 64);

  // tcflow and tcflush at the master: its own side.
  tcflow(m, TCIOFF);
  struct pollfd sp = {s, POLLIN, 0};
  poll(&sp, 1, 0);
  show("master TCIOFF (^S typed)", 64);
  tcflow(m, TCION);
  poll(&sp, 1, 0);
  show("master TCION (^Q typed)", 64);
  tcflow(m, TCOOFF);
  fcntl(m, F_SETFL, O_NONBLOCK);
  struct pollfd mp = {m, POLLOUT, 0};
  poll(&mp, 1, 0);
  printf("master TCOOFF: POLLOUT %s", (mp.revents & POLLOUT) ? "yes" : "no");
  printf(", write: %s\n", err(write(m, "k", 1)));
  tcflow(m, TCIOFF);
  poll(&sp, 1, 0);
  show("master TCIOFF while TCOOFF holds", 64);
  tcflow(m, TCOON);
  mp.revents = 0;
  poll(&mp, 1, 0);
  printf("master TCOON: POLLOUT %s", (mp.revents & POLLOUT) ? "yes" : "no");
  printf(", write: %s\n", err(write(m, "k", 1)));
  fcntl(m, F_SETFL, 0);
  tcflush(s, TCIFLUSH);
  show("slave TCIFLUSH", 64);
  write(s, "zz", 2);
  tcflush(m, TCIFLUSH);
  show("slave wrote zz, master TCIFLUSH", 64);
  printf("master tcflush bad queue: %s, tcflow bad action: %s\n", err(tcflush(m, 9)), err(tcflow(m, 9)));

  on = 0;
  ioctl(m, TIOCPKT, &on);
  printf("TIOCPKT 0: TIOCGPKT %d\n", getint(m, TIOCGPKT));
  write(s, "z", 1);
  show("not in packet mode, slave wrote z", 64);
  tcflush(s, TCIFLUSH);
  show("not in packet mode, TCIFLUSH", 64);
  on = 1;
  ioctl(m, TIOCPKT, &on);
  show("packet mode again", 64);

  // A blocked read of the master, and a blocked poll for POLLPRI alone, woken by a control byte.
  for (int round = 0; round < 2; round++) {
    pid_t pid = fork();
    if (pid == 0) {
      usleep(200000);
      if (round == 0) tcflow(s, TCOOFF);
      else tcflush(s, TCIFLUSH);
      _exit(0);
    }
    unsigned char buf[16];
    if (round == 0) {
      ssize_t n = read(m, buf, sizeof buf);
      printf("blocked read woken: %zd, byte %02x\n", n, n > 0 ? buf[0] : 0);
      tcflow(s, TCOON);
      read(m, buf, sizeof buf);
    } else {
      struct pollfd p = {m, POLLPRI, 0};
      int r = poll(&p, 1, 5000);
      printf("blocked poll for POLLPRI woken: %d, revents %s%s\n", r, (p.revents & POLLPRI) ? "PRI" : "",
             (p.revents & POLLIN) ? " IN" : "");
      show("then", 64);
    }
    waitpid(pid, NULL, 0);
  }

  // TIOCSIG: the characters' signals to the slave's foreground group (a child's session on the slave).
  printf("TIOCSIG with no session on the slave: %s, at the slave: %s\n", err(ioctl(m, TIOCSIG, SIGINT)),
         err(ioctl(s, TIOCSIG, SIGINT)));
  int ready[2], report[2];
  pipe(ready);
  pipe(report);
  pid_t child = fork();
  if (child == 0) {
    sig_report = report[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    int sigs[] = {SIGINT, SIGQUIT, SIGTSTP, SIGTERM, SIGHUP};
    for (int i = 0; i < 5; i++) sigaction(sigs[i], &sa, NULL);
    setsid();
    open(name, O_RDWR);
    write(ready[1], "r", 1);
    for (;;) pause();
  }
  char c;
  read(ready[0], &c, 1);
  int tries[] = {SIGINT, SIGQUIT, SIGTSTP, SIGTERM, SIGHUP, 0, 99};
  for (int i = 0; i < 7; i++) {
    const char *r = err(ioctl(m, TIOCSIG, tries[i]));
    printf("TIOCSIG %d: %s", tries[i], r);
    int got[2];
    if (strcmp(r, "ok") == 0 && read(report[0], got, sizeof got) == sizeof got) printf(", the child got %d, si_code %d", got[0], got[1]);
    printf("\n");
  }
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);

  close(s);
  show("slave closed", 64);
  return 0;
}
