// pidfd_open, pidfd_send_signal, poll on a pidfd and waitid(P_PIDFD): a child signalled and reaped
// through its pidfd, a PIDFD_NONBLOCK pidfd, pidfd_send_signal through an open /proc/PID directory,
// and the errors for bad pids, flags and fds.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int pidfd_send(int fd, int sig, siginfo_t *info, unsigned flags) { return syscall(SYS_pidfd_send_signal, fd, sig, info, flags); }
static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static int readable(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int n = poll(&p, 1, timeout_ms);
  return n == 1 && (p.revents & POLLIN) != 0;
}

static volatile int usr1;
static void on_usr1(int sig) { usr1 += sig == SIGUSR1; }

static pid_t thread_tid;
static void *thread_main(void *arg) {
  thread_tid = syscall(SYS_gettid);
  pause();
  return arg;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pid_t a = fork();
  if (a == 0) {
    for (;;) pause();
  }
  int fd = pidfd_open(a, 0);
  printf("pidfd_open: %s, close-on-exec: %s\n", err(fd), fcntl(fd, F_GETFD) == FD_CLOEXEC ? "yes" : "no");
  char link[64], target[64] = {0};
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  readlink(link, target, sizeof target - 1);
  printf("/proc/self/fd: %s\n", target);
  printf("readable while it runs: %s\n", readable(fd, 0) ? "yes" : "no");
  siginfo_t claim = {0};
  claim.si_signo = SIGTERM;
  claim.si_code = SI_USER;
  printf("claiming SI_USER for another process: %s\n", err(pidfd_send(fd, SIGTERM, &claim, 0)));
  printf("flags 8: %s\n", err(pidfd_send(fd, SIGTERM, NULL, 8)));
  printf("two scopes at once: %s\n", err(pidfd_send(fd, SIGTERM, NULL, 3)));
  printf("signal 0: %s\n", err(pidfd_send(fd, 0, NULL, 0)));
  printf("SIGTERM: %s\n", err(pidfd_send(fd, SIGTERM, NULL, 0)));
  printf("readable once it ended: %s\n", readable(fd, 5000) ? "yes" : "no");
  siginfo_t info = {0};
  printf("waitid P_PIDFD: %s", err(waitid(P_PIDFD, fd, &info, WEXITED)));
  printf(", the child: %s, killed by SIGTERM: %s\n", info.si_pid == a ? "yes" : "no",
         info.si_code == CLD_KILLED && info.si_status == SIGTERM ? "yes" : "no");
  printf("signal after the reap: %s\n", err(pidfd_send(fd, SIGTERM, NULL, 0)));
  printf("waitid again: %s\n", err(waitid(P_PIDFD, fd, &info, WEXITED)));
  close(fd);

  pid_t b = fork();
  if (b == 0) {
    usleep(200 * 1000);
    _exit(3);
  }
  fd = pidfd_open(b, PIDFD_NONBLOCK);
  printf("PIDFD_NONBLOCK waitid before the exit: %s\n", err(waitid(P_PIDFD, fd, &info, WEXITED)));
  info.si_pid = -1;
  printf("with WNOHANG: %s, nobody: %s\n", err(waitid(P_PIDFD, fd, &info, WEXITED | WNOHANG)), info.si_pid == 0 ? "yes" : "no");
  printf("readable once it ended: %s\n", readable(fd, 5000) ? "yes" : "no");
  long r = waitid(P_PIDFD, fd, &info, WEXITED);
  printf("waitid: %s, exit status 3: %s\n", err(r), info.si_code == CLD_EXITED && info.si_status == 3 ? "yes" : "no");
  close(fd);

  // clone3 with CLONE_PIDFD: the pidfd comes with the child; the child's own fd table lacks it.
  struct clone_args_v0 { unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; };
  int cfd = -1;
  struct clone_args_v0 ca = {.flags = CLONE_PIDFD, .pidfd = (unsigned long long)(unsigned long)&cfd, .exit_signal = SIGCHLD};
  long c = syscall(SYS_clone3, &ca, sizeof ca);
  if (c == 0) _exit(fcntl(cfd, F_GETFD) < 0 && errno == EBADF ? 4 : 5);
  printf("clone3 CLONE_PIDFD: %s, close-on-exec: %s\n", err(c), fcntl(cfd, F_GETFD) == FD_CLOEXEC ? "yes" : "no");
  printf("its pidfd readable once it ended: %s\n", readable(cfd, 5000) ? "yes" : "no");
  r = waitid(P_PIDFD, cfd, &info, WEXITED);
  printf("waitid: %s, the child had no such fd: %s\n", err(r), info.si_status == 4 ? "yes" : "no");
  close(cfd);
  ca.pidfd = 8;
  ca.flags = CLONE_PIDFD;
  printf("clone3 CLONE_PIDFD to a bad address: %s\n", err(syscall(SYS_clone3, &ca, sizeof ca)));
  printf("clone CLONE_PIDFD with CLONE_PARENT_SETTID: %s\n", err(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &cfd, 0, 0)));

  pthread_t t;
  pthread_create(&t, NULL, thread_main, NULL);
  while (__atomic_load_n(&thread_tid, __ATOMIC_ACQUIRE) == 0) usleep(1000);
  // Refused: EINVAL before Linux 6.9, ENOENT since (which tsvisor follows).
  int r2 = pidfd_open(thread_tid, 0);
  printf("pidfd_open of a thread that leads nothing: %s\n", r2 < 0 && (errno == EINVAL || errno == ENOENT) ? "refused" : "taken");
  printf("pidfd_open of itself: %s\n", err(fd = pidfd_open(getpid(), 0)));
  close(fd);
  printf("pidfd_open(-1): %s\n", err(pidfd_open(-1, 0)));
  printf("pidfd_open with flag 1: %s\n", err(pidfd_open(getpid(), 1)));
  printf("pidfd_open of no process: %s\n", err(pidfd_open(4000000, 0)));
  printf("pidfd_send_signal on stdin: %s\n", err(pidfd_send(0, SIGTERM, NULL, 0)));
  printf("waitid P_PIDFD on stdin: %s\n", err(waitid(P_PIDFD, 0, &info, WEXITED)));

  // A /proc/PID directory stands for its process in pidfd_send_signal (not in waitid), a thread's not.
  signal(SIGUSR1, on_usr1);
  int self = open("/proc/self", O_RDONLY | O_DIRECTORY);
  const char *sent = err(pidfd_send(self, SIGUSR1, NULL, 0));
  printf("/proc/self as a pidfd: %s, handler ran: %d\n", sent, usr1);
  printf("waitid P_PIDFD on it: %s\n", err(waitid(P_PIDFD, self, &info, WEXITED | WNOHANG)));
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d", (int)thread_tid);
  int tdir = open(path, O_RDONLY | O_DIRECTORY);
  printf("a thread's directory: %s\n", err(pidfd_send(tdir, SIGUSR1, NULL, 0)));
  int proc = open("/proc", O_RDONLY | O_DIRECTORY);
  printf("/proc itself: %s\n", err(pidfd_send(proc, SIGUSR1, NULL, 0)));
  pid_t d = fork();
  if (d == 0) {
    for (;;) pause();
  }
  snprintf(path, sizeof path, "/proc/%d", (int)d);
  int ddir = open(path, O_RDONLY | O_DIRECTORY);
  printf("a child's /proc directory, SIGKILL: %s\n", err(pidfd_send(ddir, SIGKILL, NULL, 0)));
  printf("the child killed: %s\n", waitpid(d, &r2, 0) == d && WIFSIGNALED(r2) && WTERMSIG(r2) == SIGKILL ? "yes" : "no");
  printf("after the reap: %s\n", err(pidfd_send(ddir, SIGKILL, NULL, 0)));
  return 0;
}
