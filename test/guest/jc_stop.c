/* Job control, compared with the host kernel: a child stopped and continued (SIGSTOP, SIGTSTP with and
 * without a handler, raise(SIGSTOP) from inside), seen by waitpid(WUNTRACED/WCONTINUED), waitid
 * (CLD_STOPPED/CLD_CONTINUED, WNOWAIT) and SIGCHLD's si_code (or not, with SA_NOCLDSTOP); /proc state T;
 * a stopped child killed by SIGKILL, and by SIGTERM once continued; sleeps and pipe reads that a stop does not break; a
 * pending stop discarded by SIGCONT; a multi-threaded child whose threads all stop. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Each child is a job of its own, in a session of the test's own (main calls setsid): its process
 * group then has a parent in another group of the same session, so it is not orphaned and SIGTSTP
 * stops it. Otherwise whether it stops would depend on how the test was started (Linux discards
 * SIGTSTP sent to an orphaned group, as under a non-interactive shell). Both sides call setpgid, as a
 * shell does, so that no signal finds the child still in the parent's group. */
static pid_t fork_job(void) {
  pid_t pid = fork();
  if (pid == 0) setpgid(0, 0);
  else if (pid > 0) setpgid(pid, pid);
  return pid;
}

static volatile sig_atomic_t chld_codes[16];
static volatile sig_atomic_t chld_status[16];
static volatile sig_atomic_t nchld;

static void on_chld(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)uc;
  if (nchld < 16) {
    chld_codes[nchld] = si->si_code;
    chld_status[nchld] = si->si_status;
    nchld++;
  }
}

static void sleep_ms(int ms) {
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static void show(const char *what, int st) {
  if (WIFSTOPPED(st)) printf("%s: stopped by %d (status 0x%x)\n", what, WSTOPSIG(st), st);
  else if (WIFCONTINUED(st)) printf("%s: continued (status 0x%x)\n", what, st);
  else if (WIFSIGNALED(st)) printf("%s: killed by %d\n", what, WTERMSIG(st));
  else if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
}

static char proc_state(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return '?';
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  return p && p[1] ? p[2] : '?';
}

static void wait_for(pid_t pid, int options, const char *what) {
  int st = 0;
  pid_t r = waitpid(pid, &st, options);
  if (r != pid) printf("%s: waitpid returned %d (%s)\n", what, r, r < 0 ? strerror(errno) : "");
  else show(what, st);
}

static void print_chld(void) {
  for (int i = 0; i < nchld; i++) printf("SIGCHLD si_code %d si_status %d\n", chld_codes[i], chld_status[i]);
  nchld = 0;
}

static void install_chld(int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_chld;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | flags;
  sigaction(SIGCHLD, &sa, NULL);
}

static pid_t child_sleeping(void) {
  pid_t pid = fork_job();
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}

/* SIGSTOP and SIGCONT seen by waitpid, waitid and SIGCHLD. */
static void basic(int nocldstop) {
  install_chld(nocldstop ? SA_NOCLDSTOP : 0);
  pid_t pid = child_sleeping();
  sleep_ms(20);
  int st;
  printf("WNOHANG before: %d\n", waitpid(pid, &st, WNOHANG | WUNTRACED));
  kill(pid, SIGSTOP);
  wait_for(pid, WUNTRACED, "waitpid WUNTRACED");
  printf("state %c\n", proc_state(pid));
  printf("WUNTRACED again (collected): %d\n", waitpid(pid, &st, WNOHANG | WUNTRACED));
  kill(pid, SIGCONT);
  wait_for(pid, WCONTINUED, "waitpid WCONTINUED");
  sleep_ms(20);
  printf("state %c\n", proc_state(pid));
  kill(pid, SIGSTOP);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r = waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT);
  printf("waitid WNOWAIT: %d code %d status %d pid ok %d\n", r, si.si_code, si.si_status, si.si_pid == pid);
  memset(&si, 0, sizeof si);
  r = waitid(P_PID, pid, &si, WSTOPPED);
  printf("waitid WSTOPPED: %d code %d status %d\n", r, si.si_code, si.si_status);
  memset(&si, 0, sizeof si);
  r = waitid(P_PID, pid, &si, WSTOPPED | WNOHANG);
  printf("waitid again: %d pid %d\n", r, si.si_pid);
  kill(pid, SIGCONT);
  memset(&si, 0, sizeof si);
  r = waitid(P_PID, pid, &si, WCONTINUED);
  printf("waitid WCONTINUED: %d code %d status %d\n", r, si.si_code, si.si_status);
  /* Let the child run first: Linux sends CLD_CONTINUED from the child, and two SIGCHLDs coalesce. */
  sleep_ms(20);
  /* A stopped child's stop is not an exit: waitid(WEXITED | WNOHANG) finds nothing. */
  kill(pid, SIGSTOP);
  wait_for(pid, WUNTRACED, "stopped again");
  memset(&si, 0, sizeof si);
  printf("waitid WEXITED while stopped: %d pid %d\n", waitid(P_PID, pid, &si, WEXITED | WNOHANG), si.si_pid);
  kill(pid, SIGKILL);
  wait_for(pid, 0, "after SIGKILL");
  sleep_ms(10);
  print_chld();
}

static volatile sig_atomic_t got_tstp, got_cont;
static void on_tstp(int sig) { (void)sig; got_tstp++; }
static void on_cont(int sig) { (void)sig; got_cont++; }

/* SIGTSTP with a handler runs it; with SIG_DFL it stops; SIGCONT's handler runs once continued. */
static void tstp(void) {
  install_chld(0);
  int to_parent[2];
  if (pipe(to_parent) != 0) return;
  pid_t pid = fork_job();
  if (pid == 0) {
    signal(SIGTSTP, on_tstp);
    signal(SIGCONT, on_cont);
    write(to_parent[1], "r", 1);
    while (!got_tstp) pause();
    dprintf(1, "child: SIGTSTP handler ran %d\n", (int)got_tstp);
    signal(SIGTSTP, SIG_DFL);
    write(to_parent[1], "d", 1);
    while (!got_cont) pause();
    dprintf(1, "child: SIGCONT handler ran %d\n", (int)got_cont);
    write(to_parent[1], "c", 1);
    for (;;) pause();
  }
  char c;
  read(to_parent[0], &c, 1);
  kill(pid, SIGTSTP);
  read(to_parent[0], &c, 1);
  int st;
  printf("WUNTRACED after handled SIGTSTP: %d\n", waitpid(pid, &st, WNOHANG | WUNTRACED));
  kill(pid, SIGTSTP);
  wait_for(pid, WUNTRACED, "default SIGTSTP");
  kill(pid, SIGCONT);
  read(to_parent[0], &c, 1);
  wait_for(pid, WCONTINUED, "SIGCONT");
  kill(pid, SIGTERM);
  wait_for(pid, 0, "after SIGTERM");
  print_chld();
}

/* The child stops itself; the parent continues it; raise returns 0. A stopped child killed by SIGTERM. */
static void self_stop(void) {
  pid_t pid = fork_job();
  if (pid == 0) {
    int r = raise(SIGSTOP);
    dprintf(1, "child: raise returned %d\n", r);
    _exit(7);
  }
  wait_for(pid, WUNTRACED, "raise(SIGSTOP)");
  kill(pid, SIGCONT);
  wait_for(pid, 0, "after SIGCONT");
  pid = child_sleeping();
  kill(pid, SIGSTOP);
  wait_for(pid, WUNTRACED, "stopped");
  /* SIGTERM waits while the child is stopped, and kills it once continued. */
  kill(pid, SIGTERM);
  sleep_ms(30);
  int st;
  printf("SIGTERM to a stopped child: waitpid WNOHANG %d\n", waitpid(pid, &st, WNOHANG));
  kill(pid, SIGCONT);
  wait_for(pid, 0, "SIGCONT after SIGTERM");
}

/* Blocked calls are not broken by a stop: a sleep ends on time, a pipe read gets its data. */
static void blocked(void) {
  int to_child[2], to_parent[2];
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) return;
  pid_t pid = fork_job();
  if (pid == 0) {
    struct timespec ts = { 0, 150 * 1000000L };
    int r = nanosleep(&ts, NULL);
    dprintf(1, "child: nanosleep returned %d\n", r);
    char buf[8];
    write(to_parent[1], "s", 1);
    ssize_t n = read(to_child[0], buf, sizeof buf);
    dprintf(1, "child: read returned %zd\n", n);
    _exit(0);
  }
  sleep_ms(30);
  kill(pid, SIGSTOP);
  wait_for(pid, WUNTRACED, "stopped in nanosleep");
  sleep_ms(30);
  kill(pid, SIGCONT);
  char c;
  read(to_parent[0], &c, 1);
  sleep_ms(20);
  kill(pid, SIGSTOP);
  wait_for(pid, WUNTRACED, "stopped in read");
  write(to_child[1], "data", 4);
  sleep_ms(20);
  int st;
  printf("still stopped: %d\n", waitpid(pid, &st, WNOHANG));
  kill(pid, SIGCONT);
  wait_for(pid, 0, "after SIGCONT");
}

/* A blocked SIGTSTP stays pending; SIGCONT discards it; a later SIGSTOP discards a pending SIGCONT. */
static void discard(void) {
  int to_parent[2], to_child[2];
  if (pipe(to_parent) != 0 || pipe(to_child) != 0) return;
  pid_t pid = fork_job();
  if (pid == 0) {
    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGTSTP);
    sigaddset(&set, SIGCONT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    write(to_parent[1], "r", 1);
    char c;
    read(to_child[0], &c, 1);
    sigpending(&pend);
    dprintf(1, "child: pending TSTP %d CONT %d\n", sigismember(&pend, SIGTSTP), sigismember(&pend, SIGCONT));
    write(to_parent[1], "p", 1);
    read(to_child[0], &c, 1);
    sigpending(&pend);
    dprintf(1, "child: pending TSTP %d CONT %d\n", sigismember(&pend, SIGTSTP), sigismember(&pend, SIGCONT));
    write(to_parent[1], "q", 1);
    read(to_child[0], &c, 1);
    sigpending(&pend);
    dprintf(1, "child: pending TSTP %d CONT %d\n", sigismember(&pend, SIGTSTP), sigismember(&pend, SIGCONT));
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    dprintf(1, "child: unblocked\n");
    _exit(0);
  }
  char c;
  read(to_parent[0], &c, 1);
  kill(pid, SIGTSTP);
  write(to_child[1], "1", 1);
  read(to_parent[0], &c, 1);
  kill(pid, SIGCONT);
  write(to_child[1], "2", 1);
  read(to_parent[0], &c, 1);
  kill(pid, SIGTSTP);
  write(to_child[1], "3", 1);
  /* The child unblocks SIGTSTP and stops. */
  wait_for(pid, WUNTRACED, "pending SIGTSTP unblocked");
  kill(pid, SIGCONT);
  wait_for(pid, 0, "after SIGCONT");
}

static volatile long *counters;
static void *spin(void *arg) {
  long i = (long)arg;
  for (;;) counters[i]++;
  return NULL;
}

/* Every thread of a multi-threaded child stops, spinning ones and one blocked in pause(). */
static void threads(void) {
  counters = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int ready[2];
  if (pipe(ready) != 0) return;
  pid_t pid = fork_job();
  if (pid == 0) {
    pthread_t t[3];
    for (long i = 0; i < 3; i++) pthread_create(&t[i], NULL, spin, (void *)i);
    while (!counters[0] || !counters[1] || !counters[2]) sched_yield();
    write(ready[1], "r", 1);
    for (;;) pause();
  }
  char c;
  read(ready[0], &c, 1);
  kill(pid, SIGSTOP);
  wait_for(pid, WUNTRACED, "threads stopped");
  long before[3], after[3];
  for (int i = 0; i < 3; i++) before[i] = counters[i];
  sleep_ms(50);
  int frozen = 1;
  for (int i = 0; i < 3; i++) {
    after[i] = counters[i];
    if (after[i] != before[i]) frozen = 0;
  }
  printf("counters frozen while stopped: %d\n", frozen);
  printf("state %c\n", proc_state(pid));
  kill(pid, SIGCONT);
  wait_for(pid, WCONTINUED, "threads continued");
  /* Each thread runs again (given up to 5 s on a busy machine). */
  int moving = 0;
  for (int tries = 0; tries < 500 && !moving; tries++) {
    sleep_ms(10);
    moving = 1;
    for (int i = 0; i < 3; i++) if (counters[i] == after[i]) moving = 0;
  }
  printf("counters moving after SIGCONT: %d\n", moving);
  kill(pid, SIGKILL);
  wait_for(pid, 0, "threads killed");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  setsid();
  const char *what = argc > 1 ? argv[1] : "basic";
  if (strcmp(what, "basic") == 0) basic(0);
  else if (strcmp(what, "nocldstop") == 0) basic(1);
  else if (strcmp(what, "tstp") == 0) tstp();
  else if (strcmp(what, "self") == 0) self_stop();
  else if (strcmp(what, "blocked") == 0) blocked();
  else if (strcmp(what, "discard") == 0) discard();
  else if (strcmp(what, "threads") == 0) threads();
  else return 2;
  return 0;
}
