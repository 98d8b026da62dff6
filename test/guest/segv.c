/* A write through NULL must end the program with SIGSEGV (status 139), after the line below. */
#include <stdio.h>

int main(void) {
  printf("about to write through NULL\n");
  fflush(stdout);
  *(volatile int *)0 = 1;
  printf("still alive\n");
  return 0;
}
