/* __builtin_trap() is ud2 on x86-64: #UD must become SIGILL (status 132). */
#include <stdio.h>

int main(void) {
  printf("about to execute ud2\n");
  fflush(stdout);
  __builtin_trap();
}
