/* signalfd, compared with the host kernel: non-blocking reads (EAGAIN), short buffers (EINVAL), the
 * siginfo of kill, tgkill, sigqueue and SIGCHLD, several records in one read, a mask changed on the same
 * fd, a blocking read woken by another process's kill, a blocking read interrupted by a handler (EINTR),
 * and the errors of signalfd4. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void show_read(int fd, size_t size, pid_t me) {
  struct signalfd_siginfo si[4];
  memset(si, 0, sizeof si);
  ssize_t n = read(fd, si, size);
  if (n < 0) {
    printf("read(%zu): %s\n", size, strerror(errno));
    return;
  }
  printf("read(%zu) = %zd\n", size, n);
  for (int i = 0; i < n / (ssize_t)sizeof si[0]; i++) {
    printf("  signo %u code %d pid %s uid %u int %d status %d\n", si[i].ssi_signo, si[i].ssi_code,
           si[i].ssi_pid == (unsigned)me ? "self" : si[i].ssi_pid == 0 ? "0" : "other", si[i].ssi_uid, si[i].ssi_int,
           si[i].ssi_status);
  }
}

static void on_alarm(int sig) { (void)sig; }

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pid_t me = getpid();
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGUSR2);
  sigaddset(&block, SIGRTMIN);
  sigaddset(&block, SIGCHLD);
  sigprocmask(SIG_BLOCK, &block, NULL);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  printf("signalfd: %s, cloexec %d, nonblock %d\n", fd >= 0 ? "ok" : strerror(errno),
         (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
  char link[64], target[64] = "";
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t tl = readlink(link, target, sizeof target - 1);
  if (tl > 0) target[tl] = 0;
  printf("link %s\n", target);
  show_read(fd, sizeof(struct signalfd_siginfo), me);
  kill(me, SIGUSR1);
  show_read(fd, sizeof(struct signalfd_siginfo) - 1, me);
  show_read(fd, sizeof(struct signalfd_siginfo), me);

  /* SIGUSR2 is not in the mask until the mask changes on the same fd. */
  raise(SIGUSR2);
  show_read(fd, sizeof(struct signalfd_siginfo), me);
  sigaddset(&mask, SIGUSR2);
  sigaddset(&mask, SIGRTMIN);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGKILL);
  printf("update returns the fd: %d\n", signalfd(fd, &mask, 0) == fd);
  show_read(fd, sizeof(struct signalfd_siginfo), me);

  /* Two queued real-time signals and a thread-directed one in one read. */
  union sigval v = { .sival_int = 42 };
  sigqueue(me, SIGRTMIN, v);
  v.sival_int = 43;
  sigqueue(me, SIGRTMIN, v);
  syscall(SYS_tgkill, me, syscall(SYS_gettid), SIGUSR1);
  show_read(fd, 4 * sizeof(struct signalfd_siginfo), me);

  /* A blocking read (a second fd without SFD_NONBLOCK), woken by a child's kill; then its SIGCHLD. */
  int bfd = signalfd(-1, &mask, 0);
  pid_t child = fork();
  if (child == 0) {
    struct timespec ts = { 0, 50 * 1000000L };
    nanosleep(&ts, NULL);
    kill(getppid(), SIGUSR2);
    _exit(3);
  }
  show_read(bfd, sizeof(struct signalfd_siginfo), me);
  waitpid(child, NULL, 0);
  show_read(bfd, sizeof(struct signalfd_siginfo), me);

  /* A handler interrupts the blocking read: EINTR. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = { { 0, 0 }, { 0, 50000 } };
  setitimer(ITIMER_REAL, &it, NULL);
  show_read(bfd, sizeof(struct signalfd_siginfo), me);

  /* Errors. */
  long r = signalfd(-1, &mask, 1);
  printf("bad flags: %ld %s\n", r, strerror(errno));
  r = syscall(SYS_signalfd4, -1, &mask, 4, 0);
  printf("bad size: %ld %s\n", r, strerror(errno));
  r = signalfd(0, &mask, 0);
  printf("not a signalfd: %ld %s\n", r, strerror(errno));
  r = signalfd(999, &mask, 0);
  printf("bad fd: %ld %s\n", r, strerror(errno));
  r = signalfd(-1, (sigset_t *)8, 0);
  printf("bad mask pointer: %ld %s\n", r, strerror(errno));
  r = write(fd, "x", 1);
  printf("write: %ld %s\n", r, strerror(errno));
  struct signalfd_siginfo one;
  r = pread(fd, &one, sizeof one, 0);
  printf("pread: %ld %s\n", r, strerror(errno));
  close(fd);
  close(bfd);
  return 0;
}
