// File pages shared by mappings and exec (the page cache of host files): private mappings and exec
// see the file as the program's own writes and truncations left it; compared with the host kernel.
#include "fs_common.h"
#include <sys/mman.h>
#include <sys/wait.h>

#define PAGE 4096
/* What the child run of this program prints; the parent rewrites its last digit in a copy of itself. */
static const char marker[] = "pagecache-marker-version-1";

static void fill(int fd, char c, int pages) {
  char b[PAGE];
  memset(b, c, sizeof b);
  for (int i = 0; i < pages; i++) T(write(fd, b, sizeof b));
}

/* Runs ./prog child and waits for it: it prints its marker. */
static void run_copy(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    execl("./prog", "./prog", "child", (char *)NULL);
    _exit(127);
  }
  int status;
  T(waitpid(pid, &status, 0) == pid);
  printf("child status %d\n", WEXITSTATUS(status));
}

/* A copy of this program at ./prog; returns the offset of the marker's last digit in it. */
static long copy_self(void) {
  int in = T(open("/proc/self/exe", O_RDONLY));
  int out = T(open("prog", O_CREAT | O_WRONLY | O_TRUNC, 0755));
  static char image[4 << 20];
  long size = 0, n;
  while ((n = read(in, image + size, sizeof image - size)) > 0) size += n;
  T(write(out, image, size) == size);
  T(close(in));
  T(close(out));
  char *at = memmem(image, size, marker, sizeof marker - 1);
  return at == NULL ? -1 : at - image + (long)sizeof marker - 2;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "child") == 0) {
    printf("%s\n", marker);
    return 0;
  }
  enter(argc, argv);
  int fd = T(open("c", O_CREAT | O_RDWR | O_TRUNC, 0644));
  fill(fd, 'a', 3);
  T(close(fd));
  fd = T(open("c", O_RDONLY));
  char *ro = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
  T(ro == MAP_FAILED);
  printf("ro: %c %c %c\n", ro[0], ro[PAGE], ro[2 * PAGE]);
  int w = T(open("c", O_WRONLY));
  T(pwrite(w, "XYZ", 3, PAGE + 10));
  printf("ro after pwrite: %.3s\n", ro + PAGE + 10);
  char *wp = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  T(wp == MAP_FAILED);
  printf("new private mapping: %.3s\n", wp + PAGE + 10);
  memcpy(wp, "mine", 4);
  printf("private write: %.4s, ro: %.4s\n", wp, ro);
  char buf[8] = {0};
  T(pread(fd, buf, 4, 0));
  printf("file after private write: %.4s\n", buf);
  T(munmap(wp, 3 * PAGE));
  T(ftruncate(w, PAGE + 12));
  printf("ro after truncate: %.2s then %d\n", ro + PAGE + 10, ro[PAGE + 12]);
  T(ftruncate(w, 3 * PAGE));
  printf("ro after growing: %d %d\n", ro[PAGE + 12], ro[PAGE + 100]);
  char *again = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
  T(again == MAP_FAILED);
  printf("new mapping after growing: %c %d %d\n", again[0], again[PAGE + 12], again[2 * PAGE]);
  T(munmap(again, 3 * PAGE));
  T(munmap(ro, 3 * PAGE));
  T(close(w));
  T(close(fd));

  // The program's pages come from the same cache: a rewrite of the file is what the next exec runs.
  long digit = copy_self();
  T(digit > 0);
  run_copy();
  int prog = T(open("prog", O_WRONLY));
  T(pwrite(prog, "2", 1, digit));
  T(close(prog));
  run_copy();
  T(unlink("prog"));
  T(unlink("c"));
  return 0;
}
