/* Thread pidfds (Linux 6.9: PIDFD_THREAD, CLONE_PIDFD with CLONE_THREAD) and pidfd_getfd: what a
 * thread pidfd signals and waits for, when it and a process pidfd become readable (a leader that ends
 * before its process, a reaped process), and the errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef PIDFD_SIGNAL_THREAD
#define PIDFD_SIGNAL_THREAD 1
#define PIDFD_SIGNAL_THREAD_GROUP 2
#define PIDFD_SIGNAL_PROCESS_GROUP 4
#endif

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int pidfd_send(int fd, int sig, unsigned flags) { return syscall(SYS_pidfd_send_signal, fd, sig, NULL, flags); }
static int pidfd_getfd(int pidfd, int fd, unsigned flags) { return syscall(SYS_pidfd_getfd, pidfd, fd, flags); }
static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

/* What poll says of fd now, or after waiting up to timeout_ms for it to become readable. */
static const char *state(int fd, int timeout_ms) {
  static char out[64];
  struct pollfd p = {fd, POLLIN, 0};
  int n = poll(&p, 1, timeout_ms);
  if (n < 0) return strerrorname_np(errno);
  snprintf(out, sizeof out, "%s%s%s", n == 0 ? "not readable" : "", p.revents & POLLIN ? "POLLIN" : "",
           p.revents & POLLHUP ? "|POLLHUP" : "");
  return out;
}

static volatile pid_t handled_by;
static void on_usr1(int sig) { (void)sig; handled_by = syscall(SYS_gettid); }

static int go[2];
static volatile pid_t thread_tid;
static void *waiter(void *arg) {
  thread_tid = syscall(SYS_gettid);
  char c;
  while (read(go[0], &c, 1) < 0 && errno == EINTR) {}
  return arg;
}

static int raw_thread(void *arg) { (void)arg; return 0; }

/* A process whose leader thread ends first; its other thread ends the process when told to. */
static void *finisher(void *arg) {
  char c;
  read(go[0], &c, 1);
  exit((int)(long)arg);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  pipe(go);

  pthread_t t;
  pthread_create(&t, NULL, waiter, NULL);
  while (thread_tid == 0) sched_yield();
  printf("pidfd_open of a thread: %s\n", err(pidfd_open(thread_tid, 0)));
  int tfd = pidfd_open(thread_tid, PIDFD_THREAD);
  printf("pidfd_open with PIDFD_THREAD: %s, F_GETFL has PIDFD_THREAD: %s\n", err(tfd),
         (fcntl(tfd, F_GETFL) & PIDFD_THREAD) ? "yes" : "no");
  int lfd = pidfd_open(getpid(), PIDFD_THREAD);
  int pfd = pidfd_open(getpid(), 0);
  printf("the leader's thread pidfd: %s, F_GETFL has PIDFD_THREAD: %s; the process pidfd has it: %s\n", err(lfd),
         (fcntl(lfd, F_GETFL) & PIDFD_THREAD) ? "yes" : "no", (fcntl(pfd, F_GETFL) & PIDFD_THREAD) ? "yes" : "no");
  printf("bad flags: %s, no such thread: %s\n", err(pidfd_open(thread_tid, PIDFD_THREAD | 1)), err(pidfd_open(99999, PIDFD_THREAD)));
  printf("the thread's pidfd while it runs: %s\n", state(tfd, 0));

  printf("signal through the thread pidfd: %s", err(pidfd_send(tfd, SIGUSR1, 0)));
  for (int i = 0; i < 1000 && handled_by == 0; i++) usleep(1000);
  printf(", handled by that thread: %s\n", handled_by == thread_tid ? "yes" : "no");
  handled_by = 0;
  printf("PIDFD_SIGNAL_THREAD: %s", err(pidfd_send(tfd, SIGUSR1, PIDFD_SIGNAL_THREAD)));
  for (int i = 0; i < 1000 && handled_by == 0; i++) usleep(1000);
  printf(", handled by that thread: %s\n", handled_by == thread_tid ? "yes" : "no");
  printf("its thread group: %s, its process group: %s\n", err(pidfd_send(tfd, SIGUSR1, PIDFD_SIGNAL_THREAD_GROUP)),
         err(pidfd_send(tfd, SIGUSR1, PIDFD_SIGNAL_PROCESS_GROUP)));
  siginfo_t si;
  printf("waitid(P_PIDFD) of a thread pidfd: %s\n", err(waitid(P_PIDFD, tfd, &si, WEXITED | WNOHANG)));

  int got = pidfd_getfd(tfd, go[1], 0);
  printf("pidfd_getfd: %s, close-on-exec: %s\n", err(got), fcntl(got, F_GETFD) == FD_CLOEXEC ? "yes" : "no");
  printf("pidfd_getfd flags 1: %s, a bad fd: %s, not a pidfd: %s, a bad pidfd: %s\n", err(pidfd_getfd(tfd, go[1], 1)),
         err(pidfd_getfd(tfd, 999, 0)), err(pidfd_getfd(go[0], 0, 0)), err(pidfd_getfd(999, 0, 0)));
  write(got, "x", 1);
  pthread_join(t, NULL);
  printf("after the thread ended: %s; signal: %s, pidfd_getfd: %s\n", state(tfd, 1000), err(pidfd_send(tfd, 0, 0)),
         err(pidfd_getfd(tfd, 0, 0)));
  printf("the leader's thread pidfd meanwhile: %s\n", state(lfd, 0));

  /* CLONE_PIDFD with CLONE_THREAD: the pidfd names the new thread. */
  static char stack[64 * 1024];
  int cfd = -1;
  int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_PIDFD;
  int ctid = clone(raw_thread, stack + sizeof stack, flags, NULL, &cfd);
  printf("clone(CLONE_PIDFD|CLONE_THREAD): %s, F_GETFL has PIDFD_THREAD: %s\n", ctid > 0 ? "ok" : strerrorname_np(errno),
         (fcntl(cfd, F_GETFL) & PIDFD_THREAD) ? "yes" : "no");
  printf("once it has ended: %s\n", state(cfd, 2000));

  /* A leader that ends before its process: its thread pidfd is readable, its process pidfd not yet. */
  pid_t child = fork();
  if (child == 0) {
    pthread_t f;
    pthread_create(&f, NULL, finisher, (void *)3L);
    syscall(SYS_exit, 0);
  }
  int clead = pidfd_open(child, PIDFD_THREAD);
  int cproc = pidfd_open(child, 0);
  printf("child's leader thread after it ended: %s\n", state(clead, 2000));
  printf("child's process meanwhile: %s; pidfd_getfd through it: %s\n", state(cproc, 0), err(pidfd_getfd(cproc, 1, 0)));
  write(go[1], "x", 1);
  printf("child's process after its last thread ended: %s\n", state(cproc, 2000));
  printf("and its leader's thread pidfd: %s\n", state(clead, 0));
  int status;
  waitpid(child, &status, 0);
  printf("reaped, exit status %d; then the process pidfd: %s, the thread pidfd: %s\n", WEXITSTATUS(status),
         state(cproc, 0), state(clead, 0));
  printf("signal to the reaped process: %s, its process group: %s\n", err(pidfd_send(cproc, 0, 0)),
         err(pidfd_send(cproc, 0, PIDFD_SIGNAL_PROCESS_GROUP)));
  return 0;
}
