// Calls getppid twice and prints each result with errno: a Sentry that fails inside a handler must
// answer with an error and keep going.
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  for (int i = 0; i < 2; i++) {
    errno = 0;
    long r = syscall(SYS_getppid);
    printf("getppid %ld errno %d\n", r, errno);
  }
  return 0;
}
