/* Prints the offsets of struct vvar as JSON (guest/build.sh runs it on the build host), so that the
   Sentry's writer never repeats the layout by hand. */
#include <stddef.h>
#include <stdio.h>

#include "vvar.h"

#define FIELD(name) printf("  \"%s\": %zu,\n", #name, offsetof(struct vvar, name))

int main(void) {
  printf("{\n");
  FIELD(seq);
  FIELD(clock_mode);
  FIELD(getcpu_mode);
  FIELD(tsc_base);
  FIELD(mult);
  FIELD(raw_mult);
  FIELD(coarse_res);
  FIELD(tz_minuteswest);
  FIELD(tz_dsttime);
  FIELD(base);
  printf("  \"base_size\": %zu,\n", sizeof(struct vvar_base));
  printf("  \"bases\": %d,\n", VVAR_BASES);
  printf("  \"CLOCK_NONE\": %d,\n  \"CLOCK_TSC\": %d,\n", VVAR_CLOCK_NONE, VVAR_CLOCK_TSC);
  printf("  \"GETCPU_SYSCALL\": %d,\n  \"GETCPU_RDTSCP\": %d,\n", VVAR_GETCPU_SYSCALL, VVAR_GETCPU_RDTSCP);
  printf("  \"size\": %zu\n}\n", sizeof(struct vvar));
  return 0;
}
