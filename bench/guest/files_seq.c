// One sequential read of FILE with 128 KiB reads; ns/op is the whole read.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  static char buf[128 * 1024];
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  long total = 0, n;
  while ((n = read(fd, buf, sizeof buf)) > 0) total += n;
  close(fd);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("%ld bytes %.1f MB/s %.1f ns/op\n", total, total / (ns / 1e9) / 1e6, ns);
  return 0;
}
