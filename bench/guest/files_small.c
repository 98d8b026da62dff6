// Reads every file of DIR (f0000 .. f0999, 4 KiB each) ROUNDS times after one untimed round: open,
// read, close per file.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int files = argc > 2 ? atoi(argv[2]) : 1000;
  int rounds = argc > 3 ? atoi(argv[3]) : 3;
  static char buf[8192];
  char path[4096];
  long total = 0;
  struct timespec t0, t1;
  // Round -1 is an untimed warm-up: the page cache natively, the dentry cache in the sandbox.
  for (int r = -1; r < rounds; r++) {
    if (r == 0) clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < files; i++) {
      snprintf(path, sizeof path, "%s/f%04d", argv[1], i);
      int fd = open(path, O_RDONLY);
      if (fd < 0) {
        perror(path);
        return 1;
      }
      long n;
      while ((n = read(fd, buf, sizeof buf)) > 0) if (r >= 0) total += n;
      close(fd);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("%d files x %d rounds, %ld bytes %.1f ns/op\n", files, rounds, total, ns / ((double)files * rounds));
  return 0;
}
