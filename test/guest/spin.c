// Computes forever after a marker: only the sandbox being stopped ends it.
#include <stdio.h>

int main(void) {
  printf("spinning\n");
  fflush(stdout);
  volatile unsigned long x = 0;
  for (;;) x++;
}
