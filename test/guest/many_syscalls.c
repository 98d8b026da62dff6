// Makes N getuid calls (argv[1]) and checks that every answer is the same. glibc's getuid() is a
// `mov $102, %eax; syscall` site, which the exitless sandbox rewrites after its first trap, so both
// ways into the Sentry are used; --no-syscall-patching keeps every call trapping.
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  long first = syscall(SYS_getuid), bad = 0;
  for (long i = 0; i < n; i++) bad += getuid() != first;
  printf("%ld calls, %ld wrong answers, uid %ld\n", n, bad, first);
  return bad != 0;
}
