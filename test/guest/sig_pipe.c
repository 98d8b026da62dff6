/* SIGPIPE with EPIPE, compared with the host kernel: a write to a pipe whose read end is closed kills
 * the program by default (141); with a handler the write returns EPIPE after it ran, with SIG_IGN too. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static void on_pipe(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  printf("  handler %d code %d from self %d\n", sig, si->si_code, si->si_pid == getpid());
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *what = argc > 1 ? argv[1] : "";
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
