// Blocks for ever, as Linux lets a program do, on something only the program itself could release:
//   pipe  a read of its own empty pipe while it holds the write end;
//   lock  F_OFD_SETLKW on a file (argv[2]) whose write lock its other open file description holds.
// Prints a marker just before it blocks; never returns.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const char* how = argc > 1 ? argv[1] : "pipe";
  if (strcmp(how, "pipe") == 0) {
    int p[2];
    char c;
    if (pipe(p) != 0) return 1;
    printf("blocking\n");
    fflush(stdout);
    ssize_t n = read(p[0], &c, 1);
    printf("read returned %zd\n", n);
    return 0;
  }
  if (argc < 3) return 2;
  int a = open(argv[2], O_RDWR | O_CREAT, 0644);
  int b = open(argv[2], O_RDWR);
  if (a < 0 || b < 0) return 1;
  struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  if (fcntl(a, F_OFD_SETLK, &lock) != 0) return 1;
  printf("blocking\n");
  fflush(stdout);
  int r = fcntl(b, F_OFD_SETLKW, &lock);
  printf("lock returned %d\n", r);
  return 0;
}
