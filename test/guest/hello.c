/* The smallest behaviour test: static glibc start-up, stdio, exit status 0. */
#include <stdio.h>

int main(void) {
  printf("hello, world\n");
  return 0;
}
