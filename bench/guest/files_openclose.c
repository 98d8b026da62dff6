// N open+close pairs of one file, after N/4 untimed ones: on tmpfs the Sentry answers alone; on a Gofer-backed directory
// each open is a round trip to the Gofer.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  long n = argc > 2 ? atol(argv[2]) : 10000;
  int fd = open(argv[1], O_CREAT | O_RDWR, 0644);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  close(fd);
  // Untimed warm-up (caches, and the JIT of the Sentry and of the Gofer), then the timed loop.
  for (long i = 0; i < n / 4; i++) close(open(argv[1], O_RDONLY));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) {
    fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
      perror("open");
      return 1;
    }
    close(fd);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("%ld open+close %.1f ns/op\n", n, ns / n);
  return 0;
}
