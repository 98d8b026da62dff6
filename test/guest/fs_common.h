// Shared by the fs_*.c behaviour programs: each step prints its result ("= value" or "= -1 ENAME"),
// so that the native run and the sandboxed one can be compared line by line. Nothing printed may
// depend on the filesystem's own numbers (inode numbers, times, block counts, directory sizes).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((unused)) static long report(const char *what, long r) {
  if (r < 0) printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else printf("%s = %ld\n", what, r);
  fflush(stdout);
  return r;
}
#define T(expr) report(#expr, (long)(expr))

/* The directory to work in (argv[1]), created if missing, and made the working directory. */
__attribute__((unused)) static void enter(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    exit(2);
  }
  mkdir(argv[1], 0755);
  if (chdir(argv[1]) != 0) {
    perror(argv[1]);
    exit(2);
  }
  umask(022);
}

__attribute__((unused)) static const char *type_name(mode_t m) {
  switch (m & S_IFMT) {
    case S_IFREG: return "reg";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "lnk";
    case S_IFIFO: return "fifo";
    case S_IFCHR: return "chr";
    case S_IFSOCK: return "sock";
    default: return "?";
  }
}

/* Mode, links (not for directories: filesystems count them differently) and size (files, links). */
__attribute__((unused)) static void show_stat(const char *what, const struct stat *st) {
  printf("%s: %s %04o", what, type_name(st->st_mode), st->st_mode & 07777);
  if (!S_ISDIR(st->st_mode)) printf(" nlink=%lu", (unsigned long)st->st_nlink);
  if (S_ISREG(st->st_mode) || S_ISLNK(st->st_mode)) printf(" size=%lld", (long long)st->st_size);
  printf(" uid=%u gid=%u\n", st->st_uid, st->st_gid);
  fflush(stdout);
}

__attribute__((unused)) static void show_path(const char *path, int follow) {
  struct stat st;
  int r = follow ? stat(path, &st) : lstat(path, &st);
  if (r != 0) {
    printf("%s %s: -1 %s\n", follow ? "stat" : "lstat", path, strerrorname_np(errno));
    return;
  }
  show_stat(path, &st);
}
