// Signal delivery round trips: N times tgkill(self, SIGUSR1) (glibc's raise without its mask dance),
// the handler runs and returns through rt_sigreturn; timed inside the program after N/4 untimed ones.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile long handled;
static void on_usr1(int sig) {
  (void)sig;
  handled++;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  struct sigaction sa = {.sa_handler = on_usr1};
  sigaction(SIGUSR1, &sa, NULL);
  pid_t pid = getpid(), tid = gettid();
  for (long i = 0; i < n / 4; i++) syscall(SYS_tgkill, pid, tid, SIGUSR1);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) syscall(SYS_tgkill, pid, tid, SIGUSR1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("%ld round trips %.1f ns/op (handled %ld)\n", n, ns / n, handled);
  return handled == n + n / 4 ? 0 : 1;
}
