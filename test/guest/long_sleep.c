// Sleeps for argv[2] seconds (default 35 days, past the 2^31 ms that one Node.js timer holds) with the
// call named in argv[1]: nanosleep, clock_nanosleep on CLOCK_MONOTONIC, or clock_nanosleep until an
// absolute CLOCK_REALTIME time. Prints a marker before and the result after.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char** argv) {
  const char* how = argc > 1 ? argv[1] : "nanosleep";
  struct timespec ts = {argc > 2 ? atol(argv[2]) : 35L * 24 * 3600, 0};
  printf("sleeping\n");
  fflush(stdout);
  int r;
  if (strcmp(how, "nanosleep") == 0) {
    r = nanosleep(&ts, NULL);
  } else if (strcmp(how, "monotonic") == 0) {
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
  } else {
    struct timespec at;
    clock_gettime(CLOCK_REALTIME, &at);
    at.tv_sec += ts.tv_sec;
    r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, NULL);
  }
  printf("returned %d\n", r);
  return 0;
}
