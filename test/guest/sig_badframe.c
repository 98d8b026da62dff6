/* rt_sigreturn checks what a handler hands back, compared with the host kernel: a bad code or stack
 * segment, a non-canonical rip, reserved MXCSR bits, a bad XSAVE header or an unreadable FPU state pointer
 * end the program with SIGSEGV (139), or reach a SIGSEGV handler that leaves with siglongjmp ("caught");
 * flags beyond what a program may set are dropped, and a frame without the XSAVE magic still restores the
 * legacy FPU state. The first argument says what the SIGUSR1 handler changes in its ucontext. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static const char *what;
static sigjmp_buf env;

static void corrupt(int sig, siginfo_t *si, void *ucv) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ucv;
  greg_t *g = uc->uc_mcontext.gregs;
  uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
  if (strcmp(what, "cs") == 0 || strcmp(what, "caught") == 0) g[REG_CSGSFS] = (g[REG_CSGSFS] & ~0xffffLL) | 0x2b;
  if (strcmp(what, "ss") == 0) g[REG_CSGSFS] = (g[REG_CSGSFS] & ~(0xffffLL << 48)) | (0x33LL << 48);
  if (strcmp(what, "rip") == 0) g[REG_RIP] = 0x800000000000LL;
  if (strcmp(what, "mxcsr") == 0) uc->uc_mcontext.fpregs->mxcsr = 0xffffffff;
  if (strcmp(what, "xcomp") == 0) *(uint64_t *)(fp + 520) = 1;
  if (strcmp(what, "xstate-bv") == 0) *(uint64_t *)(fp + 512) |= 1ULL << 62;
  if (strcmp(what, "fpstate") == 0) uc->uc_mcontext.fpregs = (void *)8;
  if (strcmp(what, "misaligned") == 0) uc->uc_mcontext.fpregs = (void *)(fp + 16);
  if (strcmp(what, "flags") == 0) g[REG_EFL] = 0xffffffff;
  if (strcmp(what, "legacy") == 0) *(uint32_t *)(fp + 464) = 0;
}

static void caught(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  printf("caught %s code %#x\n", strsignal(sig), si->si_code);
  siglongjmp(env, 1);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  what = argc > 1 ? argv[1] : "";
  printf("%s\n", what);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = corrupt;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);
  if (strcmp(what, "caught") == 0) {
    sa.sa_sigaction = caught;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(env, 1) != 0) {
      printf("after siglongjmp\n");
      return 0;
    }
  }
  double x = 1.25;
  __asm__ volatile("movsd %0, %%xmm6" ::"m"(x) : "xmm6");
  raise(SIGUSR1);
  double y;
  __asm__ volatile("movsd %%xmm6, %0" : "=m"(y));
  unsigned long flags;
  __asm__ volatile("pushfq\npop %0" : "=r"(flags));
  printf("returned: xmm6 %g, IOPL %lu, AC %lu\n", y, (flags >> 12) & 3, (flags >> 18) & 1);
  return 0;
}
