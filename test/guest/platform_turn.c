// Threads in the states a sandbox of mode kvm meets when it turns from VM exits to exitless: one
// blocked in read(2) on a pipe, a context left idle by a thread that ended, a signal pending for a
// handler. Then either a loop of syscalls (argv[1] "calls": the event count turns the sandbox) or two
// threads that compute without syscalls ("compute": the time-slice rule turns it). The output is the
// same natively.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fds[2];
static volatile unsigned long results[2];
static volatile sig_atomic_t signals;

static void *reader(void *arg) {
  char c = 0;
  ssize_t n = read(fds[0], &c, 1);
  return (void *)(long)(n == 1 ? c : '?');
}

static void *ends_at_once(void *arg) {
  return arg;
}

static void *compute(void *arg) {
  long k = (long)arg;
  unsigned long x = k + 1;
  for (long i = 0; i < 200000000L; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
  results[k] = x;
  return NULL;
}

static void on_usr1(int sig) {
  signals++;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "calls";
  pthread_t r, idle, c[2];
  if (pipe(fds) != 0 || signal(SIGUSR1, on_usr1) == SIG_ERR) return 1;
  pthread_create(&r, NULL, reader, NULL);
  pthread_create(&idle, NULL, ends_at_once, NULL);
  pthread_join(idle, NULL);
  if (strcmp(mode, "compute") == 0) {
    for (long k = 0; k < 2; k++) pthread_create(&c[k], NULL, compute, (void *)k);
    for (long k = 0; k < 2; k++) pthread_join(c[k], NULL);
    printf("computed %lx %lx\n", results[0], results[1]);
  } else {
    long ok = 0;
    for (int i = 0; i < 5000; i++) ok += getppid() >= 0;
    printf("%ld calls answered\n", ok);
  }
  raise(SIGUSR1);
  if (write(fds[1], "x", 1) != 1) return 1;
  void *got;
  pthread_join(r, &got);
  printf("reader got %c, %d signal(s) handled\n", (char)(long)got, (int)signals);
  return 0;
}
