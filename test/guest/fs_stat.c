// File status and attributes: stat family, statx, access, chmod, chown, truncate, utimensat, umask,
// statfs, compared with the host kernel.
#include "fs_common.h"
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <utime.h>

static void times_of(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    printf("times %s: -1 %s\n", path, strerrorname_np(errno));
    return;
  }
  printf("times %s: atime=%ld.%09ld mtime=%ld.%09ld\n", path, (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
         (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

int main(int argc, char **argv) {
  enter(argc, argv);
  struct stat st;
  int fd = T(open("f", O_CREAT | O_RDWR, 0666));
  T(write(fd, "0123456789", 10));
  T(fstat(fd, &st));
  show_stat("fstat f", &st);
  T(symlink("f", "l"));
  T(mkdir("d", 0777));
  show_path("f", 1);
  show_path("l", 0);
  show_path("l", 1);
  show_path("d", 1);
  T(stat("nothere", &st));
  T(stat("f/x", &st));
  T(stat("", &st));
  T(fstatat(AT_FDCWD, "l", &st, AT_SYMLINK_NOFOLLOW));
  show_stat("fstatat nofollow", &st);
  T(fstatat(fd, "", &st, AT_EMPTY_PATH));
  show_stat("fstatat empty", &st);
  T(fstatat(fd, "", &st, 0));
  T(fstatat(AT_FDCWD, "f", &st, 0x4000000));
  struct statx sx;
  T(statx(AT_FDCWD, "l", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
  printf("statx l: mode=%o size=%llu nlink=%u mask_has_basic=%d\n", sx.stx_mode, (unsigned long long)sx.stx_size,
         sx.stx_nlink, (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
  T(statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx));
  printf("statx f: mode=%o size=%llu\n", sx.stx_mode, (unsigned long long)sx.stx_size);
  T(statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
  T(statx(AT_FDCWD, "f", 0, 0x80000000u, &sx));

  // Access checks (root passes read and write; execute needs an x bit).
  T(access("f", F_OK));
  T(access("f", R_OK | W_OK));
  T(access("f", X_OK));
  T(access("d", X_OK));
  T(access("nothere", F_OK));
  T(access("f", 8));
  T(faccessat(AT_FDCWD, "l", R_OK, AT_SYMLINK_NOFOLLOW));
  T(syscall(SYS_faccessat2, AT_FDCWD, "f", R_OK, AT_EACCESS));
  T(syscall(SYS_faccessat2, fd, "", R_OK, AT_EMPTY_PATH));

  // chmod family.
  T(chmod("f", 04755));
  show_path("f", 1);
  T(access("f", X_OK));
  T(fchmod(fd, 0640));
  show_path("f", 1);
  T(fchmodat(AT_FDCWD, "l", 0600, 0));
  show_path("f", 1);
  T(fchmodat(AT_FDCWD, "l", 0600, AT_SYMLINK_NOFOLLOW));
  T(chmod("nothere", 0600));
  T(chmod("d", 01777));
  show_path("d", 1);

  // chown family (as root: any ids; S_ISUID goes when the owner changes).
  T(chmod("f", 06755));
  T(chown("f", 1234, 5678));
  show_path("f", 1);
  T(chown("f", -1, -1));
  T(fchown(fd, 4321, -1));
  show_path("f", 1);
  T(lchown("l", 11, 12));
  show_path("l", 0);
  show_path("f", 1);
  T(fchownat(AT_FDCWD, "l", 0, 0, 0));
  show_path("f", 1);
  T(fchownat(AT_FDCWD, "l", 0, 0, 0x4));

  // Sizes.
  T(truncate("f", 3));
  show_path("f", 1);
  T(truncate("f", 100000));
  show_path("f", 1);
  T(truncate("d", 0));
  T(truncate("f", -1));
  T(truncate("nothere", 0));
  T(ftruncate(fd, 5));
  show_path("f", 1);
  int ro = T(open("f", O_RDONLY));
  T(ftruncate(ro, 1));
  T(ftruncate(fd, -1));
  T(close(ro));

  // Times: explicit values read back exactly; UTIME_OMIT leaves one.
  struct timespec ts[2] = {{1000000000, 123456789}, {1234567890, 987654321}};
  T(utimensat(AT_FDCWD, "f", ts, 0));
  times_of("f");
  struct timespec omit[2] = {{5, UTIME_OMIT}, {1500000000, 5}};
  T(utimensat(AT_FDCWD, "f", omit, 0));
  times_of("f");
  T(utimensat(AT_FDCWD, "l", ts, AT_SYMLINK_NOFOLLOW));
  times_of("l");
  struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
  T(utimensat(AT_FDCWD, "f", bad, 0));
  T(futimens(fd, ts));
  times_of("f");
  struct timeval tv[2] = {{1100000000, 5}, {1200000000, 999999}};
  T(utimes("f", tv));
  times_of("f");
  struct utimbuf ub = {1300000000, 1400000000};
  T(utime("f", &ub));
  times_of("f");
  T(utimensat(AT_FDCWD, "nothere", ts, 0));

  // umask.
  T(umask(0));
  T(close(open("u0", O_CREAT | O_WRONLY, 0666)));
  show_path("u0", 1);
  T(umask(077));
  T(close(open("u77", O_CREAT | O_WRONLY, 0666)));
  T(mkdir("du77", 0777));
  show_path("u77", 1);
  show_path("du77", 1);
  T(umask(022));

  // statfs works on every kind of path; the numbers are the filesystem's own.
  struct statfs sfs;
  T(statfs(".", &sfs));
  T(fstatfs(fd, &sfs));
  T(statfs("nothere", &sfs));
  T(close(fd));
  return 0;
}
