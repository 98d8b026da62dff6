// A file that changes on the host while the program runs: the next mapping of it shows the change.
// The test rewrites DIR/f (same size, new times) after "waiting" and then creates DIR/go.
#include "fs_common.h"
#include <sys/mman.h>
#include <time.h>

static void show(const char *when) {
  int fd = open("f", O_RDONLY);
  if (fd < 0) {
    perror("f");
    exit(1);
  }
  char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  printf("%s: %.8s\n", when, m);
  fflush(stdout);
  munmap(m, 4096);
  close(fd);
}

int main(int argc, char **argv) {
  enter(argc, argv);
  show("before");
  printf("waiting\n");
  fflush(stdout);
  struct stat st;
  struct timespec tick = {0, 10 * 1000 * 1000};
  // Up to 100 s: the test's own wait for the first line is 90 s on a loaded machine.
  for (int i = 0; i < 10000 && stat("go", &st) != 0; i++) nanosleep(&tick, NULL);
  show("after");
  return 0;
}
