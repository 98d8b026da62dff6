/* Syscall numbers Linux does not have must fail with ENOSYS, not kill the program.
 * 999 is past the table; 400 is in the unused gap between 334 and 424. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void try(long nr) {
  errno = 0;
  long r = syscall(nr);
  printf("syscall(%ld) = %ld (%s)\n", nr, r, strerror(errno));
}

int main(void) {
  try(999);
  try(400);
  return 0;
}
