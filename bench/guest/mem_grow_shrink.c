/* A program whose memory grows to PEAK MiB in STEP MiB steps and shrinks back, twice, pausing between
 * steps so that an observer can sample its RSS over time. Touches every page it allocates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

int main(int argc, char **argv) {
  long peak = argc > 1 ? atol(argv[1]) : 512;
  long step = argc > 2 ? atol(argv[2]) : 32;
  long pause_ms = argc > 3 ? atol(argv[3]) : 60;
  long steps = peak / step;
  char **blocks = calloc(steps, sizeof *blocks);
  struct timespec pause = { pause_ms / 1000, (pause_ms % 1000) * 1000000L };
  for (int cycle = 0; cycle < 2; cycle++) {
    for (long i = 0; i < steps; i++) {
      blocks[i] = mmap(0, step << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (blocks[i] == MAP_FAILED) return 1;
      memset(blocks[i], 1, step << 20);
      nanosleep(&pause, NULL);
    }
    for (long i = steps - 1; i >= 0; i--) {
      munmap(blocks[i], step << 20);
      nanosleep(&pause, NULL);
    }
  }
  nanosleep(&pause, NULL);
  printf("done\n");
  return 0;
}
