// Sleeps 2 s in nanosleep between two markers, so a test can measure the sandbox's CPU time meanwhile.
#include <stdio.h>
#include <time.h>

int main(void) {
  printf("sleeping\n");
  fflush(stdout);
  struct timespec ts = {2, 0};
  int r = nanosleep(&ts, NULL);
  printf("awake %d\n", r);
  return 0;
}
