// Syscall sites of the form `mov $nr, %eax; syscall`, each called several times: the first call traps,
// later ones (in the sandbox's exitless mode) go through the rewritten site. Each must behave exactly
// as the trapped call and as Linux: registers kept, the red zone untouched, rcx = the return address,
// blocking calls, FS base changes, page-table changes, and the trampoline page mapped over. Then
// glibc's syscall(), whose site takes the number in rax and the sixth argument from the stack, and
// sites called from several threads at once, each of which must reach the stub of its own vCPU.
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SITE(nr, a1, a2, a3)                                                                         \
  ({                                                                                                 \
    long ret_;                                                                                       \
    register long r10_ __asm__("r10") = 0;                                                           \
    __asm__ volatile(".byte 0xb8; .long " #nr "\n\tsyscall"                                          \
                     : "=a"(ret_)                                                                    \
                     : "D"((long)(a1)), "S"((long)(a2)), "d"((long)(a3)), "r"(r10_)                  \
                     : "rcx", "r11", "memory");                                                      \
    ret_;                                                                                            \
  })

static long do_getpid(void) { return SITE(39, 0, 0, 0); }
static long do_nanosleep(const struct timespec *ts) { return SITE(35, ts, 0, 0); }
static long do_arch_prctl(long code, long addr) { return SITE(158, code, addr, 0); }
static long do_munmap(void *p, long len) { return SITE(11, p, len, 0); }
static long do_write(int fd, const void *buf, long len) { return SITE(1, fd, buf, len); }
static long do_gettid(void) { return SITE(186, 0, 0, 0); }

// Each thread's own tid through one shared site, many times over, while the others do the same.
static void *tid_loop(void *arg) {
  long tid = syscall(SYS_gettid);
  int ok = 1;
  for (int i = 0; i < 2000; i++) ok &= do_gettid() == tid;
  *(int *)arg = ok;
  return NULL;
}

static int threads_share_sites(void) {
  enum { N = 4 };
  pthread_t threads[N];
  int ok[N] = {0};
  for (int i = 0; i < N; i++) pthread_create(&threads[i], NULL, tid_loop, &ok[i]);
  int mine = 1;
  tid_loop(&mine);
  for (int i = 0; i < N; i++) pthread_join(threads[i], NULL), mine &= ok[i];
  return mine;
}

// syscall(SYS_mmap, ...) of the program file at offset 4096: the sixth argument must arrive.
static int syscall_wrapper(void) {
  int fd = open("/proc/self/exe", O_RDONLY);
  if (fd < 0) return 0;
  char want[64], *got;
  int ok = pread(fd, want, sizeof want, 4096) == sizeof want;
  for (int i = 0; ok && i < 20; i++) {
    got = (char *)syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 4096);
    ok &= got != MAP_FAILED && memcmp(got, want, sizeof want) == 0;
    ok &= syscall(SYS_munmap, got, 4096) == 0;
    ok &= syscall(SYS_getpid) == getpid();
  }
  close(fd);
  return ok;
}

// Every general register but rax, rcx and r11 survives; the 128 bytes below rsp too; rcx is the
// address right after the syscall instruction.
static unsigned long out[16];  // static: a leaf function may keep its locals in the red zone itself

static int registers_and_red_zone(void) {
  __asm__ volatile(
      "push %%rbx; push %%rbp; push %%r12; push %%r13; push %%r14; push %%r15\n\t"
      "sub $256, %%rsp\n\t"
      "mov %[out], %%rax; mov %%rax, 200(%%rsp)\n\t"
      "lea 128(%%rsp), %%rsp\n\t"              // the syscall sees rsp + 128: its red zone is [rsp, rsp + 128)
      "movq $0x5151, -8(%%rsp)\n\t"
      "movq $0x5252, -128(%%rsp)\n\t"
      "mov $0xb0b0, %%rbx; mov $0xd0d0, %%rdx; mov $0x5050, %%rsi; mov $0xd1d1, %%rdi; mov $0xb1b1, %%rbp\n\t"
      "mov $0x8888, %%r8; mov $0x9999, %%r9; mov $0x1010, %%r10; mov $0x1212, %%r12; mov $0x1313, %%r13\n\t"
      "mov $0x1414, %%r14; mov $0x1515, %%r15\n\t"
      ".byte 0xb8; .long 39\n\t"
      "syscall\n\t"
      "1:\n\t"
      "lea -128(%%rsp), %%rsp\n\t"
      "mov 200(%%rsp), %%rax\n\t"
      "mov %%rbx, 0(%%rax); mov %%rdx, 8(%%rax); mov %%rsi, 16(%%rax); mov %%rdi, 24(%%rax)\n\t"
      "mov %%rbp, 32(%%rax); mov %%r8, 40(%%rax); mov %%r9, 48(%%rax); mov %%r10, 56(%%rax)\n\t"
      "mov %%r12, 64(%%rax); mov %%r13, 72(%%rax); mov %%r14, 80(%%rax); mov %%r15, 88(%%rax)\n\t"
      "mov 120(%%rsp), %%rbx; mov %%rbx, 96(%%rax)\n\t"
      "mov 0(%%rsp), %%rbx; mov %%rbx, 104(%%rax)\n\t"
      "mov %%rcx, 112(%%rax)\n\t"
      "lea 1b(%%rip), %%rbx; mov %%rbx, 120(%%rax)\n\t"
      "add $256, %%rsp\n\t"
      "pop %%r15; pop %%r14; pop %%r13; pop %%r12; pop %%rbp; pop %%rbx\n\t"
      :
      : [out] "r"(out)
      : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
  const unsigned long want[12] = {0xb0b0, 0xd0d0, 0x5050, 0xd1d1, 0xb1b1, 0x8888, 0x9999, 0x1010, 0x1212, 0x1313, 0x1414, 0x1515};
  int ok = memcmp(out, want, sizeof want) == 0;
  ok = ok && out[12] == 0x5151 && out[13] == 0x5252;  // -8(%rsp) and -128(%rsp) as seen by the syscall
  return ok && out[14] == out[15];                     // rcx: the address after the syscall
}

// do_getpid with rsp at `sp`, a fresh stack: the rewritten site's trampoline steps 128 bytes down and
// calls the stub, whose first push then lands in the page below. Placed so that this push, not an
// earlier one, is the first touch of that page: a page fault inside the stub's user entry, which
// must not lose the syscall number.
static long getpid_on_stack(char *sp) {
  long ret;
  __asm__ volatile(
      "mov %%rsp, %%rbx\n\t"
      "mov %[sp], %%rsp\n\t"
      "call *%[fn]\n\t"
      "mov %%rbx, %%rsp\n\t"
      : "=a"(ret)
      : [sp] "r"(sp), [fn] "r"(do_getpid)
      : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
  return ret;
}

static int fault_in_user_entry(long pid) {
  // 256 KiB: no aligned 2 MiB slot, so each fault maps a 64 KiB window and the one below stays absent.
  const unsigned long window = 64 * 1024;
  char *region = mmap(NULL, 4 * window, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) return 0;
  char *base = (char *)(((unsigned long)region + 2 * window) & ~(window - 1));
  base[0] = 1;
  long (*volatile trap_first)(void) = do_getpid;  // the out-of-line copy's site, rewritten after this
  if (trap_first() != pid) return 0;
  // At the syscall rsp is base + 0x88 (do_getpid pushes nothing); the trampoline's call writes
  // [base, base + 8), the stub's first push base - 8.
  long got = getpid_on_stack(base + 0x90);
  munmap(region, 4 * window);
  return got == pid;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  long pid = getpid();
  int same = 1;
  for (int i = 0; i < 1000; i++) same &= do_getpid() == pid;
  printf("getpid x1000: %s\n", same ? "ok" : "wrong");
  printf("a fault on the stack inside the site's call: %s\n", fault_in_user_entry(pid) ? "ok" : "wrong");

  int regs = 1;
  for (int i = 0; i < 5; i++) regs &= registers_and_red_zone();
  printf("registers, red zone and rcx: %s\n", regs ? "ok" : "wrong");

  int slept = 1;
  for (int i = 0; i < 3; i++) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    double t0 = now();
    slept &= do_nanosleep(&ts) == 0 && now() - t0 >= 0.099;
  }
  printf("nanosleep 100 ms x3: %s\n", slept ? "ok" : "wrong");

  unsigned long fs = 0;
  int fs_ok = 1;
  for (int i = 0; i < 3; i++) {
    fs_ok &= do_arch_prctl(ARCH_GET_FS, (long)&fs) == 0;
    fs_ok &= do_arch_prctl(ARCH_SET_FS, (long)fs) == 0;
    fs_ok &= getpid() == pid;  // TLS still works
  }
  printf("arch_prctl SET_FS x3: %s\n", fs_ok ? "ok" : "wrong");

  int mm_ok = 1;
  for (int i = 0; i < 20; i++) {
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { mm_ok = 0; break; }
    p[0] = 1;
    p[4096] = 2;
    mm_ok &= p[0] + p[4096] == 3;
    mm_ok &= do_munmap(p, 8192) == 0;
  }
  printf("mmap, touch, munmap x20: %s\n", mm_ok ? "ok" : "wrong");

  const char msg[] = "write through a site\n";
  for (int i = 0; i < 2; i++) do_write(1, msg, sizeof msg - 1);

  // Map over every executable anonymous page that is not ours to know (the sandbox's trampolines,
  // if any), then call the sites again: they must still work.
  FILE *maps = fopen("/proc/self/maps", "r");
  char line[512];
  int covered = 0;
  while (maps && fgets(line, sizeof line, maps)) {
    unsigned long lo, hi;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && strstr(line, "[syscall-trampolines]")) {
      void *p = mmap((void *)lo, hi - lo, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      covered += p == (void *)lo;
    }
  }
  if (maps) fclose(maps);
  same = 1;
  for (int i = 0; i < 100; i++) same &= do_getpid() == pid;
  regs = registers_and_red_zone();
  printf("after the trampolines are mapped over: %s\n", same && regs ? "ok" : "wrong");
  (void)covered;

  printf("syscall() with six arguments: %s\n", syscall_wrapper() ? "ok" : "wrong");
  printf("5 threads through shared sites: %s\n", threads_share_sites() ? "ok" : "wrong");
  return 0;
}
