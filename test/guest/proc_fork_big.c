// fork of a process with 200 MiB touched: nothing is copied at fork; each side copies only the pages it
// writes afterwards. Prints what both sides see; the test reads the sandbox's guest memory peak.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024 * 1024)

int main(void) {
  size_t size = 200 * MIB;
  unsigned char *p = malloc(size);
  if (p == NULL) return 1;
  memset(p, 1, size);
  pid_t pid = fork();
  if (pid == 0) {
    memset(p, 2, 8 * MIB);  // the child writes 8 MiB: those pages, and only those, are copied
    long sum = 0;
    for (size_t i = 0; i < size; i += 4096) sum += p[i];
    printf("child sum %ld\n", sum);
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  long sum = 0;
  for (size_t i = 0; i < size; i += 4096) sum += p[i];
  printf("parent sum %ld, child status %d\n", sum, WEXITSTATUS(status));
  return 0;
}
