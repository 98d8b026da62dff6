/* SIGPIPE with EPIPE, compared with the host kernel: a write to a pipe whose read end is closed kills
 * the program by default (141); with a handler the write returns EPIPE after it ran, with SIG_IGN too.
 * "blocked": a write blocked on a full pipe whose reader then goes, with an SA_RESTART handler: after
 * part of it went (it returns that part) and with none (EPIPE), one SIGPIPE each, many times over. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_pipe(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  printf("  handler %d code %d from self %d\n", sig, si->si_code, si->si_pid == getpid());
}

static volatile sig_atomic_t pipes;
static void count_pipe(int sig) { (void)sig; pipes++; }

/* A child's write blocks on a full pipe (partly: a 1 MiB write whose first 64 KiB fit; otherwise a
 * 100-byte write into a pipe already full) until the parent closes the read end; the child reports
 * the write's result and the SIGPIPEs it got in its exit status. */
static int blocked_write(int partly) {
  int p[2], ready[2];
  if (pipe(p) != 0 || pipe(ready) != 0) return -1;
  pid_t child = fork();
  if (child == 0) {
    close(p[0]);
    close(ready[0]);
    static char big[1 << 20];
    ssize_t r;
    if (partly) {
      write(ready[1], "r", 1);
      r = write(p[1], big, sizeof big);
    } else {
      fcntl(p[1], F_SETFL, O_NONBLOCK);
      while (write(p[1], big, 4096) > 0) {}
      fcntl(p[1], F_SETFL, 0);
      write(ready[1], "r", 1);
      r = write(p[1], big, 100);
    }
    int code = r == 65536 ? 1 : (r < 0 && errno == EPIPE) ? 2 : 3;
    _exit(code * 10 + pipes);
  }
  close(p[1]);
  close(ready[1]);
  char c;
  read(ready[0], &c, 1);
  /* Close once the pipe is full, so that the write is blocked (or about to be) with 64 KiB gone. */
  for (int queued = 0; queued < 65536; usleep(1000)) ioctl(p[0], FIONREAD, &queued);
  usleep(2000);
  close(p[0]);
  close(ready[0]);
  int status;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *what = argc > 1 ? argv[1] : "";
  if (strcmp(what, "blocked") == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_pipe;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGPIPE, &sa, NULL);
    for (int partly = 1; partly >= 0; partly--) {
      int same = 0, first = -1;
      for (int i = 0; i < 10; i++) {
        int r = blocked_write(partly);
        if (first < 0) first = r;
        same += r == first;
      }
      /* 11: returned 65536, one SIGPIPE; 21: EPIPE, one SIGPIPE; 1xx: killed by signal xx. */
      printf("blocked write, %s: result %d, the same %d times of 10\n", partly ? "part went" : "nothing went", first, same);
    }
    return 0;
  }
  int p[2];
  pipe(p);
  close(p[0]);
  printf("%s\n", what);
  if (strcmp(what, "handler") == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_pipe;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGPIPE, &sa, NULL);
  }
  if (strcmp(what, "ignore") == 0) signal(SIGPIPE, SIG_IGN);
  ssize_t r = write(p[1], "x", 1);
  printf("  write: %zd %s\n", r, r < 0 ? strerror(errno) : "");
  struct iovec iov = {.iov_base = "yz", .iov_len = 2};
  r = writev(p[1], &iov, 1);
  printf("  writev: %zd %s\n", r, r < 0 ? strerror(errno) : "");
  return 0;
}
