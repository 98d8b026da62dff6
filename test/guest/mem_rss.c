/* For the host-RSS test: allocate and touch 256 MiB, free it, with a pause (a line on stdin) between phases. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static void phase(const char *name) {
  char line[64];
  printf("%s\n", name);
  fflush(stdout);
  if (fgets(line, sizeof line, stdin) == NULL) return;
}

int main(void) {
  const long size = 256L << 20;
  phase("ready");
  char *p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 1;
  memset(p, 0x5a, size);
  phase("touched");
  munmap(p, size);
  phase("freed");
  return 0;
}
