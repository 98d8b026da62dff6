/* Integer division by zero raises #DE, which Linux delivers as SIGFPE (status 136).
 * volatile stops gcc from seeing the zero at compile time. */
#include <stdio.h>

int main(void) {
  volatile int zero = 0;
  printf("about to divide by zero\n");
  fflush(stdout);
  volatile int q = 42 / zero;
  printf("q=%d\n", q);
  return 0;
}
