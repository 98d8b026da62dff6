/* File mappings: MAP_SHARED writes reach the file (and read(2) after msync), MAP_PRIVATE writes do not,
 * the mapping outlives close(), a read-only file refuses PROT_WRITE sharing, and the program image maps. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const long page = 4096;
  char path[] = "/tmp/tsvisor-mem-file-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 1;
  char *data = malloc(3 * page + 100);
  for (long i = 0; i < 3 * page + 100; i++) data[i] = (char)('a' + i % 26);
  if (write(fd, data, 3 * page + 100) != 3 * page + 100) return 2;

  char *shared = mmap(0, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  char *priv = mmap(0, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (shared == MAP_FAILED || priv == MAP_FAILED) return 3;
  printf("mapped: %.5s %.5s, last page ends %d%d\n", shared + page, priv + 2 * page, shared[3 * page + 99] != 0, shared[3 * page + 100]);
  shared[page] = 'X';
  printf("private mapping sees the shared write: %c\n", priv[page]);
  priv[2 * page] = 'Y';
  printf("shared mapping does not see the private write: %c\n", shared[2 * page]);
  printf("msync: %d\n", msync(shared, 4 * page, MS_SYNC));
  char buf[8] = {0};
  pread(fd, buf, 5, page);
  printf("file after msync: %.5s\n", buf);
  pread(fd, buf, 5, 2 * page);
  printf("file keeps its own bytes where the private copy changed: %.5s\n", buf);
  close(fd);
  shared[page + 1] = 'Z';
  printf("the mapping outlives close: %.5s\n", shared + page);
  munmap(shared, 4 * page);
  munmap(priv, 4 * page);
  fd = open(path, O_RDONLY);
  pread(fd, buf, 5, page);
  printf("file after munmap: %.5s\n", buf);
  void *bad = mmap(0, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  printf("shared writable map of a read-only fd: %s\n", bad == MAP_FAILED ? strerrorname_np(errno) : "mapped");
  char *ro = mmap(0, page, PROT_READ, MAP_SHARED, fd, 0);
  printf("mprotect it writable: %s\n", mprotect(ro, page, PROT_READ | PROT_WRITE) ? strerrorname_np(errno) : "ok");
  char *cow = mmap(0, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  cow[0] = '!';
  printf("private writable map of a read-only fd: %c\n", cow[0]);
  close(fd);
  unlink(path);

  int self = open(argv[0], O_RDONLY);
  char *image = mmap(0, page, PROT_READ, MAP_PRIVATE, self, 0);
  printf("own image: %s\n", image != MAP_FAILED && memcmp(image, "\177ELF", 4) == 0 ? "ELF" : "?");
  if (argc > 1) {
    /* Past the end of the file, in the mapping: SIGBUS. */
    fd = open(argv[0], O_RDONLY);
    off_t size = lseek(fd, 0, SEEK_END);
    char *tail = mmap(0, (size / page + 2) * page, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("touching past the end\n");
    fflush(stdout);
    return tail[(size / page + 1) * page];
  }
  return 0;
}
