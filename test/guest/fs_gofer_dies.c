// The Gofer serving DIR dies while the program runs (the test kills it after "ready"): metadata calls
// then fail with EIO, while a file opened before keeps working (its host fd is the Sentry's own).
#include "fs_common.h"
#include <time.h>

int main(int argc, char **argv) {
  if (argc < 2 || chdir(argv[1]) != 0) return 2;
  int fd = T(open("a", O_RDONLY));
  struct stat st;
  T(stat("b", &st));
  printf("ready\n");
  fflush(stdout);
  // The test kills the Gofer now; wait until a call notices (at most ~10 s).
  for (int i = 0; i < 100 && !(stat("c", &st) == -1 && errno == EIO); i++) nanosleep(&(struct timespec){0, 100000000}, NULL);
  T(stat("b", &st));
  T(open("a", O_RDONLY));
  T(mkdir("d", 0755));
  char buf[16] = {0};
  T(pread(fd, buf, 5, 0));
  printf("still readable: %s\n", buf);
  T(close(fd));
  return 0;
}
