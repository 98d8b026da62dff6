// Page tables shared by threads on several vCPUs stay coherent: once mprotect (or fork, which makes
// private pages copy-on-write) has returned in one thread, another thread that spins writing the page
// without a syscall must not write it through what its CPU cached before. Linux waits for a TLB
// shootdown before the call returns; so the spinning thread's first write after it sees the call done
// faults (mprotect) or lands in its own copy (fork: the child must not see it).
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int *page;
static volatile int changed;
static volatile long writes;
static volatile long late_writes;
static volatile int faulted;
static sigjmp_buf out;

static void on_segv(int sig) {
  (void)sig;
  faulted = 1;
  siglongjmp(out, 1);
}

/** Writes the page until a write after `changed` faults, or 100000 such writes went through. */
static void *spin(void *arg) {
  (void)arg;
  if (sigsetjmp(out, 1) != 0) return NULL;
  for (;;) {
    int seen = changed;
    page[1] = page[1] + 1;
    writes++;
    if (seen && ++late_writes >= 100000) return NULL;
  }
}

static void wait_for_writes(void) {
  while (writes < 100000) sched_yield();
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sigaction(SIGSEGV, &sa, NULL);

  for (int round = 0; round < 3; round++) {
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    changed = 0, writes = 0, late_writes = 0, faulted = 0;
    pthread_t t;
    pthread_create(&t, NULL, spin, NULL);
    wait_for_writes();
    mprotect((void *)page, 4096, PROT_READ);
    changed = 1;
    pthread_join(t, NULL);
    printf("mprotect round %d: faulted %d, writes after it returned %ld\n", round, faulted, late_writes);
    munmap((void *)page, 4096);
  }

  for (int round = 0; round < 3; round++) {
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    changed = 0, writes = 0, late_writes = 0, faulted = 0;
    page[0] = 0;
    pthread_t t;
    pthread_create(&t, NULL, spin, NULL);
    wait_for_writes();
    int pipefd[2];
    pipe(pipefd);
    pid_t child = fork();
    if (child == 0) {
      // The value at the fork, then what the parent's thread may have written into this copy since.
      int at_fork = page[1];
      char go;
      read(pipefd[0], &go, 1);
      _exit(page[1] == at_fork ? 0 : 1);
    }
    changed = 1;
    pthread_join(t, NULL);
    write(pipefd[1], "x", 1);
    int st;
    waitpid(child, &st, 0);
    printf("fork round %d: the child's copy %s\n", round, WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "unchanged" : "written by the parent's thread");
    close(pipefd[0]);
    close(pipefd[1]);
    munmap((void *)page, 4096);
  }
  return 0;
}
