/* Permission to signal, compared with the host kernel (run as root): ids after setuid, setreuid and
 * setresuid; a process of another uid gets EPERM from kill, kill(pid, 0), tgkill and sigqueue, but may
 * send SIGCONT within its session; one of the same uid, and root, may signal; rt_sigqueueinfo with
 * si_code SI_USER or SI_TKILL to another process is EPERM even for root. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void ids(const char *what) {
  uid_t r, e, s;
  getresuid(&r, &e, &s);
  printf("%s: uid %u euid %u suid %u\n", what, r, e, s);
}

static void result(const char *what, long r) {
  printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

static pid_t sleeper(uid_t uid) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setuid(uid) != 0) _exit(1);
    for (;;) pause();
  }
  return pid;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (getuid() != 0) {
    printf("not root\n");
    return 0;
  }
  pid_t victim = sleeper(1000);
  pid_t same = sleeper(1001);
  struct timespec ts = { 0, 30 * 1000000L };
  nanosleep(&ts, NULL);
  pid_t pid = fork();
  if (pid == 0) {
    result("setresuid(-1, 1001, 0)", setresuid(-1, 1001, 0));
    ids("after setresuid");
    result("setreuid(1001, -1)", setreuid(1001, -1));
    ids("after setreuid");
    result("setuid(0) unprivileged", setuid(0));
    result("setuid(1001)", setuid(1001));
    ids("after setuid");
    result("setresuid(5, -1, -1)", setresuid(5, -1, -1));
    result("kill other uid", kill(victim, SIGTERM));
    result("kill other uid, 0", kill(victim, 0));
    result("tgkill other uid", syscall(SYS_tgkill, victim, victim, SIGTERM));
    union sigval v = { .sival_int = 1 };
    result("sigqueue other uid", sigqueue(victim, SIGUSR1, v));
    result("SIGCONT other uid, same session", kill(victim, SIGCONT));
    result("kill same uid, 0", kill(same, 0));
    result("kill no such pid", kill(999999, SIGTERM));
    result("kill bad signal", kill(victim, 99));
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_code = SI_USER;
  result("rt_sigqueueinfo SI_USER to another", syscall(SYS_rt_sigqueueinfo, victim, SIGUSR1, &si));
  si.si_code = SI_TKILL;
  result("rt_sigqueueinfo SI_TKILL to another", syscall(SYS_rt_sigqueueinfo, victim, SIGUSR1, &si));
  si.si_code = SI_QUEUE;
  result("rt_sigqueueinfo SI_QUEUE to another", syscall(SYS_rt_sigqueueinfo, victim, SIGCONT, &si));
  result("root kills uid 1000", kill(victim, SIGKILL));
  result("root kills uid 1001", kill(same, SIGKILL));
  int st;
  waitpid(victim, &st, 0);
  printf("victim killed by %d\n", WTERMSIG(st));
  waitpid(same, &st, 0);
  ids("parent");
  result("setgid(50)", setgid(50));
  printf("gid %u egid %u\n", getgid(), getegid());
  return 0;
}
