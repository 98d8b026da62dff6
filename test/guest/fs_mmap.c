// mmap of files: a shared mapping and the file see each other's writes; a private one is a copy;
// mappings outlive close() and unlink(); compared with the host kernel.
#include "fs_common.h"
#include <sys/mman.h>

int main(int argc, char **argv) {
  enter(argc, argv);
  int fd = T(open("m", O_CREAT | O_RDWR, 0644));
  T(ftruncate(fd, 8192));
  char *shared = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  T(shared == MAP_FAILED);
  memcpy(shared + 4096, "through memory", 14);
  char buf[32] = {0};
  T(pread(fd, buf, 14, 4096));
  printf("read sees: %s\n", buf);
  T(pwrite(fd, "through write", 13, 100));
  printf("memory sees: %.13s\n", shared + 100);
  char *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  T(priv == MAP_FAILED);
  printf("private sees: %.13s\n", priv + 100);
  memcpy(priv + 100, "PRIVATE", 7);
  T(pread(fd, buf, 13, 100));
  printf("file after private write: %.13s\n", buf);
  T(msync(shared, 8192, MS_SYNC));
  T(close(fd));
  T(unlink("m"));
  memcpy(shared, "after unlink", 12);
  printf("still mapped: %.12s\n", shared);
  T(munmap(shared, 8192));
  T(munmap(priv, 4096));
  int ro = T(open("ro", O_CREAT | O_RDWR, 0644));
  T(write(ro, "readonly", 8));
  T(close(ro));
  ro = T(open("ro", O_RDONLY));
  T(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED);
  char *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
  T(r == MAP_FAILED);
  printf("ro: %.8s\n", r);
  int p[2];
  T(pipe(p));
  T(mmap(NULL, 4096, PROT_READ, MAP_SHARED, p[0], 0) == MAP_FAILED);
  int z = T(open("/dev/zero", O_RDWR));
  char *zero = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
  T(zero == MAP_FAILED);
  printf("zero: %d\n", zero[10]);
  return 0;
}
