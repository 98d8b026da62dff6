/* Faults as signals a handler catches, compared with the host kernel: SIGSEGV (SEGV_MAPERR, SEGV_ACCERR,
 * si_addr, the sigcontext's trapno, err and cr2), recovered from with siglongjmp or by fixing the page and
 * returning; SIGBUS past the end of a mapped file; SIGFPE (FPE_INTDIV) and SIGILL (ILL_ILLOPN) with the
 * faulting instruction's address; SIGTRAP from int3 with rip after it; a fault while its signal is blocked
 * (or, with the argument "ignored", ignored) ends the program. The program is static and not PIE, so code addresses
 * are the same natively and in the sandbox and can be printed; data addresses are printed relative. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile uintptr_t base;
static volatile int fix_and_return;
static volatile long page_size;
static volatile int *volatile null_page = (volatile int *)16;

static void on_fault(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  mcontext_t *mc = &uc->uc_mcontext;
  uintptr_t addr = (uintptr_t)si->si_addr;
  printf("  %s code %d addr %s%#lx trapno %lld write %lld cr2=addr %d\n", strsignal(sig), si->si_code,
         base && addr >= base ? "base+" : "", (unsigned long)(base && addr >= base ? addr - base : addr),
         (long long)mc->gregs[REG_TRAPNO], (long long)((mc->gregs[REG_ERR] >> 1) & 1),
         (uintptr_t)mc->gregs[REG_CR2] == addr);
  if (fix_and_return) {
    fix_and_return = 0;
    mprotect((void *)(addr & ~(page_size - 1)), page_size, PROT_READ | PROT_WRITE);
    return;
  }
  siglongjmp(env, 1);
}

static void on_trap(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  extern char after_int3[];
  printf("  %s code %#x rip after int3 %d\n", strsignal(sig), si->si_code, (char *)uc->uc_mcontext.gregs[REG_RIP] == after_int3);
}

extern char div_insn[], ud2_insn[];

static int divide(int a, int b) {
  int q;
  __asm__ volatile("div_insn: idivl %2" : "=a"(q) : "a"(a), "r"(b), "d"(a >> 31));
  return q;
}

#define TRY(what, body)                                     \
  do {                                                      \
    printf("%s\n", what);                                   \
    if (sigsetjmp(env, 1) == 0) {                           \
      body;                                                 \
      printf("  no fault\n");                               \
    } else {                                                \
      printf("  recovered\n");                              \
    }                                                       \
  } while (0)

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  page_size = sysconf(_SC_PAGESIZE);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO;
  for (int s = SIGILL; s <= SIGSEGV; s++) sigaction(s, &sa, NULL);
  sa.sa_sigaction = on_trap;
  sigaction(SIGTRAP, &sa, NULL);

  char *p = mmap(NULL, 3 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  base = (uintptr_t)p;
  munmap(p + page_size, page_size);
  mprotect(p + 2 * page_size, page_size, PROT_READ);
  TRY("write to an unmapped page", p[page_size + 8] = 1);
  TRY("read from an unmapped page", (void)*(volatile char *)(p + page_size + 16));
  TRY("write to a read-only page", p[2 * page_size + 24] = 1);
  TRY("write to a read-only page, fixed by the handler", { fix_and_return = 1; p[2 * page_size + 32] = 5; printf("  wrote %d\n", p[2 * page_size + 32]); });
  base = 0;
  TRY("write through NULL", *null_page = 1);
  TRY("jump to an unmapped address", ((void (*)(void))0x10)());

  char path[] = "/tmp/sig_fault_XXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  ftruncate(fd, 100);
  char *m = mmap(NULL, 2 * page_size, PROT_READ, MAP_SHARED, fd, 0);
  base = (uintptr_t)m;
  TRY("read past the end of a mapped file", (void)*(volatile char *)(m + page_size + 40));
  base = 0;

  TRY("divide by zero", printf("  %d\n", divide(7, 0)));
  TRY("ud2", __asm__ volatile("ud2_insn: ud2"));
  printf("int3\n");
  __asm__ volatile("int3\nafter_int3:");

  /* Linux gives a fault whose signal is blocked or ignored to SIG_DFL: the program ends (status 139). */
  if (argc > 1 && strcmp(argv[1], "ignored") == 0) {
    printf("an ignored SIGSEGV still ends the program\n");
    signal(SIGSEGV, SIG_IGN);
  } else {
    printf("a blocked SIGSEGV still ends the program\n");
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGSEGV);
    sigprocmask(SIG_BLOCK, &block, NULL);
  }
  *null_page = 1;
  printf("  still alive\n");
  return 0;
}
