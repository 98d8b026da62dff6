// FIFOs as fifo(7) and fs/pipe.c's fifo_open have them: a blocking open of one end waits until the
// other end is opened (by another process, and with a writer that comes and goes), a non-blocking
// reader goes on at once and sees no hang-up until a writer has been, a non-blocking writer without
// a reader gets ENXIO, O_RDWR never waits, a signal ends a waiting open with EINTR (no SA_RESTART) or
// restarts it (SA_RESTART), and the data and end of file through the FIFO.
#include "fs_common.h"
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/** A child that opens the FIFO with flags after ms, writes text (if any) and exits. */
static pid_t opener(int flags, long ms, const char *text) {
  pid_t c = fork();
  if (c == 0) {
    usleep(ms * 1000);
    int fd = open("f", flags);
    if (fd < 0) _exit(1);
    if (text != NULL && write(fd, text, strlen(text)) < 0) _exit(2);
    _exit(0);
  }
  return c;
}

static int child_status(pid_t c) {
  int st;
  waitpid(c, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static short revents(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  poll(&p, 1, 0);
  return p.revents;
}

static volatile int alarms;
static void on_alarm(int sig) { alarms += sig == SIGALRM; }

static void on_alarm_with(int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = flags;
  sigaction(SIGALRM, &sa, NULL);
}

int main(int argc, char **argv) {
  enter(argc, argv);
  unlink("f");
  T(mkfifo("f", 0644));
  struct stat st;
  T(stat("f", &st));
  printf("type %s\n", type_name(st.st_mode));

  printf("a blocking reader waits for the writer:\n");
  long t0 = now_ms();
  pid_t c = opener(O_WRONLY, 200, "hello");
  int r = T(open("f", O_RDONLY));
  printf("  waited: %d\n", now_ms() - t0 >= 150);
  char buf[32] = {0};
  T(read(r, buf, sizeof buf - 1));
  printf("  read '%s'\n", buf);
  printf("  writer: %d\n", child_status(c));
  T(read(r, buf, sizeof buf));
  T(close(r));

  printf("a blocking writer waits for the reader:\n");
  t0 = now_ms();
  c = opener(O_RDONLY, 200, NULL);
  int w = T(open("f", O_WRONLY));
  printf("  waited: %d\n", now_ms() - t0 >= 150);
  printf("  reader: %d\n", child_status(c));
  signal(SIGPIPE, SIG_IGN);
  T(write(w, "x", 1));
  T(close(w));

  printf("a writer that comes and goes still lets the reader through:\n");
  c = opener(O_WRONLY, 200, NULL);
  r = T(open("f", O_RDONLY));
  printf("  writer: %d\n", child_status(c));
  T(read(r, buf, sizeof buf));
  T(close(r));

  printf("non-blocking ends:\n");
  T(open("f", O_WRONLY | O_NONBLOCK));
  r = T(open("f", O_RDONLY | O_NONBLOCK));
  T(read(r, buf, sizeof buf));
  printf("  revents before any writer %#x\n", revents(r));
  w = T(open("f", O_WRONLY | O_NONBLOCK));
  printf("  revents with a writer %#x\n", revents(r));
  T(write(w, "ab", 2));
  printf("  revents with data %#x\n", revents(r));
  T(close(w));
  printf("  revents after the writer %#x\n", revents(r));
  T(read(r, buf, sizeof buf));
  T(read(r, buf, sizeof buf));
  T(close(r));

  printf("O_RDWR never waits:\n");
  int rw = T(open("f", O_RDWR));
  T(write(rw, "xy", 2));
  T(read(rw, buf, sizeof buf));
  T(close(rw));

  printf("a signal ends a waiting open:\n");
  on_alarm_with(0);
  alarm(1);
  t0 = now_ms();
  T(open("f", O_RDONLY));
  printf("  alarms %d, waited: %d\n", alarms, now_ms() - t0 >= 500);
  alarm(1);
  T(open("f", O_WRONLY));
  printf("  alarms %d\n", alarms);
  printf("restarted under SA_RESTART:\n");
  on_alarm_with(SA_RESTART);
  alarm(1);
  c = opener(O_WRONLY, 1500, "late");
  r = T(open("f", O_RDONLY));
  printf("  alarms %d\n", alarms);
  memset(buf, 0, sizeof buf);
  T(read(r, buf, sizeof buf - 1));
  printf("  read '%s', writer %d\n", buf, child_status(c));
  T(close(r));
  printf("nobody waits on at the end:\n");
  T(open("f", O_WRONLY | O_NONBLOCK));
  T(unlink("f"));
  return 0;
}
