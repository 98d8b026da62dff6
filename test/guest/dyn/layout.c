// Where a dynamic program, its break and its dynamic linker (AT_BASE) are: random with ASLR, and
// without it where Linux puts them.
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

int global;

int main(void) {
  printf("image %p\nbrk %p\ninterp %#lx\n", (void *)&global, (void *)syscall(SYS_brk, 0), getauxval(AT_BASE));
  return 0;
}
