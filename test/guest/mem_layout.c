/* Prints where the program, the break, an mmap and the stack are: random with ASLR, fixed without. */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int global;

int main(void) {
  void *brk = (void *)syscall(SYS_brk, 0);
  void *map = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int local;
  printf("image %p\nbrk %p\nmmap %p\nstack %p\n", (void *)&global, brk, map, (void *)&local);
  return 0;
}
