// sendfile, copy_file_range, fallocate, fsync, flock, fcntl record and OFD locks, ioctl, /dev and
// /proc/self files, compared with the host kernel.
#include "fs_common.h"
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/sysmacros.h>
#include <termios.h>

static void content(const char *path) {
  char buf[256];
  int fd = open(path, O_RDONLY);
  long n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) n = 0;
  for (long i = 0; i < n; i++) if (buf[i] == 0) buf[i] = '.';
  printf("%s: [%.*s]\n", path, (int)n, buf);
}

int main(int argc, char **argv) {
  enter(argc, argv);
  int src = T(open("src", O_CREAT | O_RDWR, 0644));
  T(write(src, "0123456789abcdef", 16));
  int dst = T(open("dst", O_CREAT | O_RDWR, 0644));
  off_t off = 4;
  T(sendfile(dst, src, &off, 6));
  printf("off: %ld\n", (long)off);
  T(lseek(src, 0, SEEK_CUR));
  T(lseek(src, 10, SEEK_SET));
  T(sendfile(dst, src, NULL, 100));
  T(lseek(src, 0, SEEK_CUR));
  content("dst");
  T(sendfile(dst, src, NULL, 10));
  int ap = T(open("dst", O_WRONLY | O_APPEND));
  T(sendfile(ap, src, &off, 1));
  T(close(ap));

  loff_t in = 0, out = 20;
  T(copy_file_range(src, &in, dst, &out, 5, 0));
  printf("in=%ld out=%ld\n", (long)in, (long)out);
  T(lseek(src, 2, SEEK_SET));
  T(lseek(dst, 0, SEEK_SET));
  T(copy_file_range(src, NULL, dst, NULL, 3, 0));
  T(lseek(src, 0, SEEK_CUR));
  T(lseek(dst, 0, SEEK_CUR));
  content("dst");
  T(copy_file_range(src, NULL, dst, NULL, 3, 1));
  in = 0; out = 2;
  T(copy_file_range(src, &in, src, &out, 5, 0));
  T(mkdir("dir", 0755));
  int dfd = T(open("dir", O_RDONLY));
  T(copy_file_range(dfd, NULL, dst, NULL, 3, 0));

  // fallocate and sync.
  int fa = T(open("falloc", O_CREAT | O_RDWR, 0644));
  T(fallocate(fa, 0, 0, 8192));
  struct stat st;
  T(fstat(fa, &st));
  show_stat("falloc", &st);
  T(fallocate(fa, FALLOC_FL_KEEP_SIZE, 8192, 4096));
  T(fstat(fa, &st));
  show_stat("falloc keep", &st);
  T(fallocate(fa, 0, -1, 10));
  T(fallocate(fa, 0, 0, 0));
  T(fallocate(dfd, 0, 0, 10));
  T(fsync(fa));
  T(fdatasync(fa));
  T(fsync(dfd));
  T(close(fa));

  // flock: a second description conflicts; the same one converts.
  int l1 = T(open("src", O_RDONLY));
  int l2 = T(open("src", O_RDONLY));
  T(flock(l1, LOCK_SH));
  T(flock(l2, LOCK_SH | LOCK_NB));
  T(flock(l2, LOCK_EX | LOCK_NB));
  T(flock(l2, LOCK_UN));
  T(flock(l1, LOCK_EX | LOCK_NB));
  T(flock(l2, LOCK_SH | LOCK_NB));
  int l3 = T(dup(l1));
  T(flock(l3, LOCK_EX | LOCK_NB));
  T(close(l1));
  T(flock(l2, LOCK_SH | LOCK_NB));
  T(close(l3));
  T(flock(l2, LOCK_EX | LOCK_NB));
  T(flock(l2, 99));

  // Record locks: one process never conflicts with itself; OFD locks of two descriptions do.
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  T(fcntl(src, F_SETLK, &fl));
  fl.l_type = F_RDLCK;
  T(fcntl(l2, F_GETLK, &fl));
  printf("getlk: type=%d\n", fl.l_type);
  struct flock ofd = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 5};
  T(fcntl(src, F_OFD_SETLK, &ofd));
  ofd.l_type = F_RDLCK;
  ofd.l_start = 0;
  ofd.l_len = 0;
  T(fcntl(l2, F_OFD_SETLK, &ofd));
  T(fcntl(l2, F_OFD_GETLK, &ofd));
  printf("ofd getlk: type=%d start=%ld len=%ld pid is mine=%d\n", ofd.l_type, (long)ofd.l_start, (long)ofd.l_len, ofd.l_pid == getpid());
  ofd.l_type = F_UNLCK;
  ofd.l_start = 0;
  ofd.l_len = 0;
  T(fcntl(src, F_OFD_SETLK, &ofd));
  ofd.l_type = F_WRLCK;
  T(fcntl(l2, F_OFD_SETLK, &ofd));
  ofd.l_pid = 1;
  T(fcntl(l2, F_OFD_SETLK, &ofd));
  struct flock wr = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  T(fcntl(l2, F_SETLK, &wr));
  wr.l_type = 7;
  T(fcntl(src, F_SETLK, &wr));

  // ioctl on files.
  int avail = -1;
  T(lseek(src, 3, SEEK_SET));
  T(ioctl(src, FIONREAD, &avail));
  printf("FIONREAD: %d\n", avail);
  struct termios tio;
  T(ioctl(src, TCGETS, &tio));
  T(ioctl(src, FIOCLEX));
  T(fcntl(src, F_GETFD));
  T(ioctl(src, FIONCLEX));
  T(fcntl(src, F_GETFD));
  T(ioctl(src, 0x12345678));
  int nb = 1;
  T(ioctl(src, FIONBIO, &nb));
  T(fcntl(src, F_GETFL) & O_NONBLOCK);

  // Devices.
  char buf[16] = "xxxxxxxxxxxxxxx";
  int null = T(open("/dev/null", O_RDWR));
  T(read(null, buf, sizeof buf));
  T(write(null, buf, sizeof buf));
  T(lseek(null, 100, SEEK_SET));
  int zero = T(open("/dev/zero", O_RDONLY));
  T(read(zero, buf, 8));
  printf("zero: %d %d\n", buf[0], buf[7]);
  int full = T(open("/dev/full", O_WRONLY));
  T(write(full, "x", 1));
  int urandom = T(open("/dev/urandom", O_RDONLY));
  T(read(urandom, buf, sizeof buf));
  fstat(null, &st);
  printf("null: %s %o rdev=%u:%u\n", type_name(st.st_mode), st.st_mode & 0777, major(st.st_rdev), minor(st.st_rdev));
  fstat(urandom, &st);
  printf("urandom: rdev=%u:%u\n", major(st.st_rdev), minor(st.st_rdev));

  // /proc/self.
  char link[4096], expect[4096];
  long n = readlink("/proc/self/cwd", link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  getcwd(expect, sizeof expect);
  printf("cwd link matches: %d\n", strcmp(link, expect) == 0);
  char fdpath[64];
  snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", dst);
  n = readlink(fdpath, link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  printf("fd link ends with /dst: %d\n", n > 4 && strcmp(link + n - 4, "/dst") == 0);
  T(unlink("dst"));
  n = readlink(fdpath, link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  printf("fd link deleted: %d\n", n > 14 && strcmp(link + n - 14, "/dst (deleted)") == 0);
  int again = T(open(fdpath, O_RDONLY));
  T(lseek(again, 0, SEEK_END));
  T(close(again));
  n = readlink("/proc/self/exe", link, sizeof link - 1);
  printf("exe readable: %d\n", n > 0);
  T(access("/proc/self/maps", R_OK));
  T(readlink("/proc/self/fd/999", link, sizeof link));
  return 0;
}
