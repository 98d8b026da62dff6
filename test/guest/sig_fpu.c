/* The FPU and vector registers survive a signal handler that clobbers them all, as on Linux: XMM, and
 * where the CPU has them YMM and the AVX-512 ZMM and mask registers; MXCSR and the x87 control word and
 * stack. The handler itself starts from the initial state (MXCSR 0x1f80, FCW 0x37f), and a change it
 * makes to the saved XMM registers in its ucontext is what the program gets back. The registers are
 * loaded, the signal raised (tgkill in the same asm block) and the registers stored, so no compiled
 * code of the program touches them in between. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static uint8_t in[32][64] __attribute__((aligned(64)));
static uint8_t out[32][64] __attribute__((aligned(64)));
static uint64_t kin[8], kout[8];
static int have_avx, have_avx512, edit_frame;
static unsigned handler_mxcsr, handler_fcw;
static int handled;

#define R8(m) m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7)
#define R16(m) R8(m) m(8) m(9) m(10) m(11) m(12) m(13) m(14) m(15)
#define R32(m) R16(m) m(16) m(17) m(18) m(19) m(20) m(21) m(22) m(23) m(24) m(25) m(26) m(27) m(28) m(29) m(30) m(31)
#define STR(x) #x
#define LOAD_X(n) "movdqu " STR(n) "*64(%[in]), %%xmm" STR(n) "\n"
#define STORE_X(n) "movdqu %%xmm" STR(n) ", " STR(n) "*64(%[out])\n"
#define LOAD_Y(n) "vmovdqu " STR(n) "*64(%[in]), %%ymm" STR(n) "\n"
#define STORE_Y(n) "vmovdqu %%ymm" STR(n) ", " STR(n) "*64(%[out])\n"
#define LOAD_Z(n) "vmovdqu64 " STR(n) "*64(%[in]), %%zmm" STR(n) "\n"
#define STORE_Z(n) "vmovdqu64 %%zmm" STR(n) ", " STR(n) "*64(%[out])\n"
#define LOAD_K(n) "kmovq " STR(n) "*8(%[kin]), %%k" STR(n) "\n"
#define STORE_K(n) "kmovq %%k" STR(n) ", " STR(n) "*8(%[kout])\n"
#define CLOBBER_X(n) "pcmpeqd %%xmm" STR(n) ", %%xmm" STR(n) "\n"
#define CLOBBER_Y(n) "vpcmpeqd %%ymm" STR(n) ", %%ymm" STR(n) ", %%ymm" STR(n) "\n"
#define CLOBBER_Z(n) "vpternlogd $0xff, %%zmm" STR(n) ", %%zmm" STR(n) ", %%zmm" STR(n) "\n"
#define CLOBBER_K(n) "kxnorq %%k0, %%k0, %%k" STR(n) "\n"

/* tgkill(getpid(), gettid(), SIGUSR1) between a load and a store of the registers. */
#define SIGNAL_BETWEEN(load, store, ...)                                                          \
  do {                                                                                            \
    long pid_ = getpid(), tid_ = gettid(); /* before the register variables: calls clobber them */  \
    register long rax __asm__("rax") = SYS_tgkill;                                                \
    register long rdi __asm__("rdi") = pid_;                                                      \
    register long rsi __asm__("rsi") = tid_;                                                      \
    register long rdx __asm__("rdx") = SIGUSR1;                                                   \
    __asm__ volatile(load "syscall\n" store                                                       \
                     : "+r"(rax)                                                                  \
                     : [in] "r"(in), [out] "r"(out), [kin] "r"(kin), [kout] "r"(kout), "r"(rdi), "r"(rsi), "r"(rdx) \
                     : "rcx", "r11", "memory", __VA_ARGS__);                                      \
  } while (0)

#define XMM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
  "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

__attribute__((target("avx512f,avx512bw"))) static void clobber_avx512(void) {
  __asm__ volatile(R32(CLOBBER_Z) R8(CLOBBER_K) ::: "memory");
}
__attribute__((target("avx"))) static void clobber_avx(void) { __asm__ volatile(R16(CLOBBER_Y) ::: "memory"); }

static void handler(int sig, siginfo_t *si, void *ucv) {
  (void)sig;
  (void)si;
  handled++;
  unsigned short fcw;
  __asm__ volatile("stmxcsr %0\nfnstcw %1" : "=m"(handler_mxcsr), "=m"(fcw));
  handler_fcw = fcw;
  /* Wreck everything the program had: vectors, MXCSR, the x87 control word and stack. */
  __asm__ volatile(R16(CLOBBER_X) ::: "memory");
  if (have_avx) clobber_avx();
  if (have_avx512) clobber_avx512();
  unsigned wild = 0x7f80;
  unsigned short wild_cw = 0x0c7f;
  __asm__ volatile("ldmxcsr %0\nfldcw %1\nfld1\nfldpi\nfldz" ::"m"(wild), "m"(wild_cw));
  if (edit_frame) {
    ucontext_t *uc = ucv;
    uc->uc_mcontext.fpregs->_xmm[1].element[0] = 0xdeadbeef;
  }
}

static void fill(void) {
  for (int r = 0; r < 32; r++)
    for (int b = 0; b < 64; b++) in[r][b] = (uint8_t)(r * 64 + b + 1);
  for (int k = 0; k < 8; k++) kin[k] = 0x0123456789abcdefULL * (k + 1);
  memset(out, 0, sizeof out);
  memset(kout, 0, sizeof kout);
}

static int same(int regs, int bytes) {
  int bad = 0;
  for (int r = 0; r < regs; r++)
    if (memcmp(in[r], out[r], bytes) != 0) bad++;
  return bad;
}

__attribute__((target("avx"))) static void test_avx(void) {
  fill();
  SIGNAL_BETWEEN(R16(LOAD_Y), R16(STORE_Y), XMM_CLOBBERS);
  printf("ymm0-15: %d differ\n", same(16, 32));
}

__attribute__((target("avx512f,avx512bw"))) static void test_avx512(void) {
  fill();
  SIGNAL_BETWEEN(R32(LOAD_Z) R8(LOAD_K), R32(STORE_Z) R8(STORE_K), XMM_CLOBBERS, "xmm16", "xmm17", "xmm18",
                 "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29",
                 "xmm30", "xmm31", "k1", "k2", "k3", "k4", "k5", "k6", "k7");
  int kbad = 0;
  for (int k = 1; k < 8; k++) kbad += kin[k] != kout[k];
  printf("zmm0-31: %d differ; k1-7: %d differ\n", same(32, 64), kbad);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  __builtin_cpu_init();
  have_avx = __builtin_cpu_supports("avx");
  have_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);

  fill();
  SIGNAL_BETWEEN(R16(LOAD_X), R16(STORE_X), XMM_CLOBBERS);
  printf("xmm0-15: %d differ\n", same(16, 16));
  if (have_avx) test_avx();
  if (have_avx512) test_avx512();

  /* The program's own MXCSR (round toward zero, all exceptions masked) and x87 state. */
  unsigned mine = 0x7f80, after;
  unsigned short cw = 0x027f, cw_after;
  double x = 2.5, top = 0;
  __asm__ volatile("ldmxcsr %0\nfldcw %1" ::"m"(mine), "m"(cw));
  __asm__ volatile("fldl %0" ::"m"(x));
  raise(SIGUSR1);
  __asm__ volatile("fstpl %0" : "=m"(top));
  __asm__ volatile("stmxcsr %0\nfnstcw %1" : "=m"(after), "=m"(cw_after));
  printf("handler started with MXCSR %#x FCW %#x\n", handler_mxcsr, handler_fcw);
  printf("after: MXCSR %#x FCW %#x st(0) %g\n", after, cw_after, top);
  unsigned dflt = 0x1f80;
  unsigned short dcw = 0x037f;
  __asm__ volatile("ldmxcsr %0\nfldcw %1" ::"m"(dflt), "m"(dcw));

  /* What the handler writes into the saved state comes back. */
  edit_frame = 1;
  fill();
  SIGNAL_BETWEEN(R16(LOAD_X), R16(STORE_X), XMM_CLOBBERS);
  uint32_t first;
  memcpy(&first, out[1], 4);
  printf("xmm1 edited in the frame: %#x; others: %d differ\n", first, same(16, 16) - 1);
  printf("handler ran %d times\n", handled);
  return 0;
}
