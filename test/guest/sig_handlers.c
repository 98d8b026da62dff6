/* Signal handlers and masks, compared with the host kernel: siginfo of kill, tgkill and sigqueue, the
 * mask inside a handler (sa_mask, the signal itself, SA_NODEFER), SA_RESETHAND, signals pending while
 * blocked and the order they arrive in once unblocked, real-time signals queueing, SIG_IGN discarding,
 * the alternate stack (SA_ONSTACK, SS_AUTODISARM, SS_ONSTACK, EPERM), and the error cases. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

/* One call and its result, with errno read after the call (not as another printf argument). */
#define TRY(label, call)                                                    \
  do {                                                                      \
    errno = 0;                                                              \
    long r_ = (long)(call);                                                 \
    printf("  %s: %ld%s%s\n", label, r_, r_ < 0 ? " " : "", r_ < 0 ? strerror(errno) : ""); \
  } while (0)

static char order[64];
static int norder;
static volatile int depth, maxdepth, calls;

/* Letters for the standard signals (A = SIGHUP), digits for real-time ones (SIGRTMIN + n), with the value. */
static void record(int sig, siginfo_t *si, void *ucv) {
  (void)ucv;
  if (norder > 56) return;
  if (sig >= SIGRTMIN) {
    order[norder++] = (char)('0' + sig - SIGRTMIN);
    order[norder++] = (char)('0' + si->si_value.sival_int);
  } else {
    order[norder++] = (char)('A' + sig - 1);
  }
  order[norder++] = ' ';
}

static void show(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  printf("  sig %d code %d pid_ok %d uid_ok %d value %d; blocked: self %d USR2 %d; saved mask has USR2 %d\n", sig,
         si->si_code, si->si_pid == getpid(), si->si_uid == getuid(), si->si_code == SI_QUEUE ? si->si_value.sival_int : -1,
         sigismember(&now, sig), sigismember(&now, SIGUSR2), sigismember(&uc->uc_sigmask, SIGUSR2));
}

/* Raises its own signal again from inside, twice: blocked, it waits for the handler's return. */
static void nested(int sig) {
  depth++;
  if (depth > maxdepth) maxdepth = depth;
  if (++calls < 3) raise(sig);
  depth--;
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags, int masked) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | flags;
  sigemptyset(&sa.sa_mask);
  if (masked) sigaddset(&sa.sa_mask, masked);
  if (sigaction(sig, &sa, NULL) != 0) printf("sigaction %d: %s\n", sig, strerror(errno));
}

static char *altstack_base;
static size_t altstack_size = 65536;
static void on_alt(int sig) {
  char here;
  stack_t now;
  sigaltstack(NULL, &now);
  int inside = &here >= altstack_base && &here < altstack_base + altstack_size;
  stack_t other = {.ss_sp = altstack_base, .ss_size = altstack_size, .ss_flags = 0};
  int r = sigaltstack(&other, NULL);
  int e = errno;
  printf("  handler %d on the alternate stack: %d; ss_flags %d; changing it: %d %s\n", sig, inside, now.ss_flags, r,
         r ? strerror(e) : "");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("siginfo and masks:\n");
  install(SIGUSR1, show, 0, SIGUSR2);
  kill(getpid(), SIGUSR1);
  syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
  sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 42});
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_int = 7;
  printf("  rt_tgsigqueueinfo: %ld\n", syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGUSR1, &si));
  install(SIGUSR1, show, SA_NODEFER, 0);
  raise(SIGUSR1);

  printf("nesting without and with SA_NODEFER:\n");
  signal(SIGUSR2, nested);
  raise(SIGUSR2);
  printf("  depth %d calls %d\n", maxdepth, calls);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = nested;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGUSR2, &sa, NULL);
  maxdepth = calls = 0;
  raise(SIGUSR2);
  printf("  depth %d calls %d\n", maxdepth, calls);

  printf("SA_RESETHAND:\n");
  sa.sa_handler = nested;
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGHUP, &sa, NULL);
  struct sigaction now;
  sigaction(SIGHUP, NULL, &now);
  printf("  before: handler set %d, flags %#x\n", now.sa_handler == nested, now.sa_flags & ~SA_RESTORER);
  maxdepth = depth = 0;
  calls = 2;
  raise(SIGHUP);
  sigaction(SIGHUP, NULL, &now);
  printf("  after: default %d, flags %#x, depth %d\n", now.sa_handler == SIG_DFL, now.sa_flags & ~SA_RESTORER, maxdepth);

  printf("pending while blocked, then in order:\n");
  for (int s = SIGHUP; s <= SIGTERM; s++) install(s, record, 0, 0);
  install(SIGRTMIN + 1, record, 0, 0);
  install(SIGRTMIN + 2, record, 0, 0);
  sigset_t all, old, pending;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  kill(getpid(), SIGTERM);
  kill(getpid(), SIGUSR2);
  kill(getpid(), SIGUSR2);
  kill(getpid(), SIGHUP);
  for (int i = 0; i < 3; i++) sigqueue(getpid(), SIGRTMIN + 2, (union sigval){.sival_int = i});
  sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 9});
  syscall(SYS_tgkill, getpid(), gettid(), SIGALRM);
  sigpending(&pending);
  printf("  pending: TERM %d USR2 %d HUP %d ALRM %d RT1 %d RT2 %d INT %d\n", sigismember(&pending, SIGTERM),
         sigismember(&pending, SIGUSR2), sigismember(&pending, SIGHUP), sigismember(&pending, SIGALRM),
         sigismember(&pending, SIGRTMIN + 1), sigismember(&pending, SIGRTMIN + 2), sigismember(&pending, SIGINT));
  sigprocmask(SIG_SETMASK, &old, NULL);
  order[norder] = 0;
  printf("  delivered: %s\n", order);

  printf("SIG_IGN discards a pending signal:\n");
  sigprocmask(SIG_BLOCK, &all, &old);
  kill(getpid(), SIGUSR1);
  signal(SIGUSR1, SIG_IGN);
  sigpending(&pending);
  printf("  pending after SIG_IGN: %d\n", sigismember(&pending, SIGUSR1));
  sigprocmask(SIG_SETMASK, &old, NULL);
  kill(getpid(), SIGUSR1);
  printf("  still running after an ignored SIGUSR1\n");
  signal(SIGCHLD, SIG_DFL);
  kill(getpid(), SIGCHLD);
  signal(SIGWINCH, SIG_DFL);
  raise(SIGWINCH);
  printf("  still running after SIGCHLD and SIGWINCH (default: ignore)\n");

  printf("alternate stack:\n");
  altstack_base = malloc(altstack_size);
  stack_t ss = {.ss_sp = altstack_base, .ss_size = altstack_size, .ss_flags = 0}, got;
  printf("  set: %d\n", sigaltstack(&ss, NULL));
  sigaltstack(NULL, &got);
  printf("  query: same sp %d size %zu flags %d\n", got.ss_sp == altstack_base, got.ss_size, got.ss_flags);
  sa.sa_handler = on_alt;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR2, &sa, NULL);
  raise(SIGUSR2);
  sa.sa_flags = 0;
  sigaction(SIGUSR2, &sa, NULL);
  raise(SIGUSR2);
  ss.ss_flags = SS_AUTODISARM;
  printf("  SS_AUTODISARM: %d\n", sigaltstack(&ss, NULL));
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR2, &sa, NULL);
  raise(SIGUSR2);
  sigaltstack(NULL, &got);
  printf("  after: flags %#x\n", (unsigned)got.ss_flags);
  ss.ss_size = 1024;
  ss.ss_flags = 0;
  TRY("too small", sigaltstack(&ss, NULL));
  ss.ss_flags = 5;
  ss.ss_size = altstack_size;
  TRY("bad flags", sigaltstack(&ss, NULL));
  ss.ss_flags = SS_DISABLE;
  printf("  disable: %d\n", sigaltstack(&ss, NULL));
  sigaltstack(NULL, &got);
  printf("  query: sp %p size %zu flags %d\n", got.ss_sp, got.ss_size, got.ss_flags);

  printf("errors:\n");
  sa.sa_handler = SIG_IGN;
  TRY("sigaction(SIGKILL)", sigaction(SIGKILL, &sa, NULL));
  TRY("sigaction(SIGSTOP)", sigaction(SIGSTOP, &sa, NULL));
  printf("  query SIGKILL: %d\n", sigaction(SIGKILL, NULL, &now));
  TRY("rt_sigaction(65)", syscall(SYS_rt_sigaction, 65, NULL, &now, 8));
  TRY("rt_sigaction(0)", syscall(SYS_rt_sigaction, 0, NULL, &now, 8));
  TRY("rt_sigaction sigsetsize 4", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &now, 4));
  TRY("rt_sigaction bad pointer", syscall(SYS_rt_sigaction, SIGUSR1, (void *)8, NULL, 8));
  TRY("rt_sigprocmask how 7", syscall(SYS_rt_sigprocmask, 7, &all, NULL, 8));
  printf("  rt_sigprocmask how 7, no set: %ld\n", syscall(SYS_rt_sigprocmask, 7, NULL, &old, 8));
  TRY("rt_sigpending size 9", syscall(SYS_rt_sigpending, &pending, 9));
  printf("  rt_sigpending size 4: %ld\n", syscall(SYS_rt_sigpending, &pending, 4));
  TRY("kill(self, 65)", kill(getpid(), 65));
  printf("  kill(self, 0): %d\n", kill(getpid(), 0));
  TRY("kill(99999, 0)", kill(99999, 0));
  TRY("tkill(0)", syscall(SYS_tkill, 0, SIGUSR1));
  TRY("tgkill(self, 99999)", syscall(SYS_tgkill, getpid(), 99999, SIGUSR1));
  TRY("tgkill(-1, tid)", syscall(SYS_tgkill, -1, gettid(), SIGUSR1));
  si.si_code = SI_USER;
  printf("  rt_sigqueueinfo(SI_USER, self): %ld\n", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si));
  TRY("rt_sigqueueinfo(bad pointer)", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, (void *)8));
  TRY("sigaltstack(bad pointer)", sigaltstack((void *)8, NULL));
  /* Unknown flag bits are dropped, so a program can tell what the kernel supports. */
  sa.sa_handler = nested;
  sa.sa_flags = 0x400 | SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGUSR1, NULL, &now);
  printf("  unknown flag kept: %d, SA_RESTART kept: %d\n", (now.sa_flags & 0x400) != 0, (now.sa_flags & SA_RESTART) != 0);
  return 0;
}
