// open, openat, creat, close, close_range, read/write and their positioned and vector forms, lseek,
// dup family and fcntl flags, compared with the host kernel.
#include "fs_common.h"
#include <sys/syscall.h>
#include <sys/uio.h>

int main(int argc, char **argv) {
  enter(argc, argv);
  char buf[64];
  int fd = T(open("f", O_CREAT | O_EXCL | O_RDWR, 0644));
  T(open("f", O_CREAT | O_EXCL | O_RDWR, 0644));
  T(write(fd, "hello world", 11));
  T(lseek(fd, 0, SEEK_CUR));
  T(lseek(fd, -5, SEEK_END));
  memset(buf, 0, sizeof buf);
  T(read(fd, buf, sizeof buf));
  printf("read: %s\n", buf);
  T(pwrite(fd, "HELLO", 5, 0));
  T(lseek(fd, 0, SEEK_CUR));
  memset(buf, 0, sizeof buf);
  T(pread(fd, buf, 5, 0));
  printf("pread: %s\n", buf);
  T(pread(fd, buf, 5, -1));
  T(lseek(fd, -1, SEEK_SET));
  T(lseek(fd, 0, 99));
  T(lseek(fd, 100, SEEK_SET));
  T(write(fd, "!", 1));
  struct stat st;
  fstat(fd, &st);
  show_stat("after hole", &st);
  T(lseek(fd, 0, SEEK_DATA));
  T(lseek(fd, 200, SEEK_DATA));
  T(lseek(fd, 0, SEEK_HOLE) >= 11);
  T(ftruncate(fd, 4));
  fstat(fd, &st);
  show_stat("after ftruncate", &st);

  struct iovec iov[3] = {{"ab", 2}, {"", 0}, {"cdef", 4}};
  T(lseek(fd, 0, SEEK_SET));
  T(writev(fd, iov, 3));
  T(pwritev(fd, iov, 3, 10));
  char a[3] = {0}, b[5] = {0};
  struct iovec in[2] = {{a, 2}, {b, 4}};
  T(preadv(fd, in, 2, 0));
  printf("preadv: %s %s\n", a, b);
  T(lseek(fd, 10, SEEK_SET));
  T(readv(fd, in, 2));
  printf("readv: %s %s\n", a, b);
  int bad = -1;
  T(readv(fd, in, bad));
  T(close(fd));
  T(close(fd));
  T(read(fd, buf, 1));

  // Access modes and flags.
  fd = T(open("f", O_RDONLY));
  T(write(fd, "x", 1));
  T(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
  T(close(fd));
  fd = T(open("f", O_WRONLY | O_APPEND));
  T(read(fd, buf, 1));
  T(write(fd, "END", 3));
  T(lseek(fd, 0, SEEK_CUR));
  T(pwrite(fd, "Z", 1, 0));
  T(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
  T(fcntl(fd, F_SETFL, O_NONBLOCK));
  T(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
  T(write(fd, "mid", 3));
  T(close(fd));
  fd = T(open("f", O_RDONLY));
  memset(buf, 0, sizeof buf);
  T(read(fd, buf, sizeof buf));
  for (int i = 0; i < 32; i++) if (buf[i] == 0) buf[i] = '.';
  printf("content: %.*s\n", 24, buf);
  T(close(fd));
  fd = T(open("f", O_RDWR | O_TRUNC));
  fstat(fd, &st);
  show_stat("after O_TRUNC", &st);
  T(close(fd));
  fd = T(creat("c", 0600));
  T(read(fd, buf, 1));
  T(close(fd));
  show_path("c", 0);

  // Errors of open.
  T(open("missing", O_RDONLY));
  T(open("missing/x", O_RDONLY));
  T(open("f/x", O_RDONLY));
  T(mkdir("d", 0755));
  T(open("d", O_WRONLY));
  T(open("d", O_RDWR | O_CREAT, 0644));
  T(open("f", O_RDONLY | O_DIRECTORY));
  T(open("d/", O_CREAT | O_RDWR, 0644));
  T(open("new/", O_CREAT | O_RDWR, 0644));
  T(open("", O_RDONLY));
  T(symlink("f", "lf"));
  T(open("lf", O_RDONLY | O_NOFOLLOW));
  fd = T(open("lf", O_RDONLY | O_NOFOLLOW | O_PATH));
  T(read(fd, buf, 1));
  T(fstat(fd, &st));
  show_stat("O_PATH of link", &st);
  T(close(fd));
  T(symlink("dangling-target", "dang"));
  fd = T(open("dang", O_CREAT | O_WRONLY, 0640));
  T(close(fd));
  show_path("dangling-target", 0);
  T(open("dang", O_CREAT | O_EXCL | O_WRONLY, 0640));

  // openat from a directory fd, and with a file fd.
  int dfd = T(open("d", O_RDONLY | O_DIRECTORY));
  fd = T(openat(dfd, "inner", O_CREAT | O_RDWR, 0600));
  T(close(fd));
  show_path("d/inner", 0);
  int ffd = T(open("f", O_RDONLY));
  T(openat(ffd, "x", O_RDONLY));
  T(openat(ffd, "/dev/null", O_RDONLY) >= 0);
  T(openat(-5, "f", O_RDONLY));

  // The dup family and close-on-exec.
  int d1 = T(dup(ffd));
  T(fcntl(d1, F_GETFD));
  int d2 = T(fcntl(ffd, F_DUPFD_CLOEXEC, 20));
  T(fcntl(d2, F_GETFD));
  T(dup2(ffd, 30));
  T(dup2(ffd, ffd));
  T(dup3(ffd, ffd, 0));
  T(dup3(ffd, 31, O_CLOEXEC));
  T(fcntl(31, F_GETFD));
  T(fcntl(31, F_SETFD, 0));
  T(fcntl(31, F_GETFD));
  T(lseek(ffd, 3, SEEK_SET));
  T(lseek(30, 0, SEEK_CUR));
  T(dup2(99999, 5));
  T(syscall(SYS_close_range, 20, 31, 0));
  T(fcntl(30, F_GETFD));
  T(fcntl(d1, F_GETFD));
  T(syscall(SYS_close_range, 31, 20, 0));
  T(close(d1));
  fd = T(open("f", O_RDONLY | O_CLOEXEC));
  T(fcntl(fd, F_GETFD));
  return 0;
}
