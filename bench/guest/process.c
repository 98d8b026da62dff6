// bench/process workloads: each mode runs N times and prints the time per operation.
//   fork      fork + _exit + waitpid
//   forkexec  fork + execve of this (static) program + waitpid
//   thread    pthread_create + pthread_join
//   futex     a round trip between two threads through two futex words
//   pipe      a 1-byte round trip between two processes through two pipes
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void *nothing(void *arg) { return arg; }

static int words[2];
static int rounds;

static void futex_wait(int *w, int v) { syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0); }
static void futex_wake(int *w) { syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

static void *ponger(void *arg) {
  (void)arg;
  for (int i = 1; i <= rounds; i++) {
    while (__atomic_load_n(&words[0], __ATOMIC_ACQUIRE) < i) futex_wait(&words[0], i - 1);
    __atomic_store_n(&words[1], i, __ATOMIC_RELEASE);
    futex_wake(&words[1]);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "exit") == 0) return 0;
  if (argc < 3) {
    fprintf(stderr, "usage: process fork|forkexec|thread|futex|pipe N\n");
    return 2;
  }
  const char *mode = argv[1];
  int n = atoi(argv[2]);
  double t0 = now_us();
  if (strcmp(mode, "fork") == 0) {
    for (int i = 0; i < n; i++) {
      pid_t p = fork();
      if (p == 0) _exit(0);
      waitpid(p, NULL, 0);
    }
  } else if (strcmp(mode, "forkexec") == 0) {
    for (int i = 0; i < n; i++) {
      pid_t p = fork();
      if (p == 0) {
        execl(argv[0], argv[0], "exit", (char *)NULL);
        _exit(127);
      }
      waitpid(p, NULL, 0);
    }
  } else if (strcmp(mode, "thread") == 0) {
    for (int i = 0; i < n; i++) {
      pthread_t t;
      pthread_create(&t, NULL, nothing, NULL);
      pthread_join(t, NULL);
    }
  } else if (strcmp(mode, "futex") == 0) {
    rounds = n;
    pthread_t t;
    pthread_create(&t, NULL, ponger, NULL);
    t0 = now_us();
    for (int i = 1; i <= n; i++) {
      __atomic_store_n(&words[0], i, __ATOMIC_RELEASE);
      futex_wake(&words[0]);
      while (__atomic_load_n(&words[1], __ATOMIC_ACQUIRE) < i) futex_wait(&words[1], i - 1);
    }
    pthread_join(t, NULL);
  } else if (strcmp(mode, "pipe") == 0) {
    int there[2], back[2];
    char c = 'x';
    if (pipe(there) != 0 || pipe(back) != 0) return 1;
    pid_t p = fork();
    if (p == 0) {
      for (int i = 0; i < n; i++) {
        if (read(there[0], &c, 1) != 1 || write(back[1], &c, 1) != 1) _exit(1);
      }
      _exit(0);
    }
    t0 = now_us();
    for (int i = 0; i < n; i++) {
      if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1) return 1;
    }
    waitpid(p, NULL, 0);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  printf("%.3f us/op\n", (now_us() - t0) / n);
  return 0;
}
