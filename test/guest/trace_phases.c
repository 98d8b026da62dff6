/* Three phases of calls, each after a line on stdin: getppid, then getuid, then getgid, three of each,
 * with a marker on stdout after each phase, so that a test can switch tracing between them. */
#include <stdio.h>
#include <unistd.h>

static void wait_for_line(void) {
  char line[16];
  if (fgets(line, sizeof line, stdin) == NULL) _exit(3);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int i = 0; i < 3; i++) getppid();
  printf("phase 1\n");
  wait_for_line();
  for (int i = 0; i < 3; i++) getuid();
  printf("phase 2\n");
  wait_for_line();
  for (int i = 0; i < 3; i++) getgid();
  printf("phase 3\n");
  return 0;
}
