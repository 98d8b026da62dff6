// Directories and names: mkdir, rmdir, getdents64, unlink, rename(at2), link, symlink, readlink,
// getcwd, chdir, fchdir, symlink loops and trailing slashes, compared with the host kernel.
#include "fs_common.h"
#include <dirent.h>
#include <sys/syscall.h>

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of a directory, sorted, with their types (getdents64 order is the filesystem's). */
static void list(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    printf("list %s: -1 %s\n", path, strerrorname_np(errno));
    return;
  }
  char buf[512];
  char *names[256];
  int n = 0;
  for (;;) {
    long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (got <= 0) break;
    for (long pos = 0; pos < got;) {
      struct { unsigned long ino; long off; unsigned short reclen; unsigned char type; char name[]; } *d = (void *)(buf + pos);
      char *e = malloc(300);
      snprintf(e, 300, "%s:%d", d->name, d->type);
      if (n < 256) names[n++] = e;
      pos += d->reclen;
    }
  }
  close(fd);
  qsort(names, n, sizeof names[0], cmp);
  printf("list %s:", path);
  for (int i = 0; i < n; i++) printf(" %s", names[i]);
  printf("\n");
}

static void cwd(const char *base) {
  char buf[4096];
  if (getcwd(buf, sizeof buf) == NULL) {
    printf("getcwd: -1 %s\n", strerrorname_np(errno));
    return;
  }
  size_t n = strlen(base);
  printf("cwd: %s\n", strncmp(buf, base, n) == 0 ? buf + n : buf);
}

int main(int argc, char **argv) {
  enter(argc, argv);
  char base[4096];
  getcwd(base, sizeof base);
  T(mkdir("a", 0750));
  T(mkdir("a", 0750));
  T(mkdir("a/b", 0700));
  T(mkdir("missing/b", 0700));
  T(mkdir("a/b/", 0700));
  T(mkdir("a/c/", 0700));
  T(mkdirat(AT_FDCWD, "e", 0777));
  show_path("a", 0);
  show_path("e", 0);
  T(close(open("a/f", O_CREAT | O_WRONLY, 0644)));
  T(mkdir("a/f/g", 0755));
  list("a");
  list(".");
  list("a/f");
  T(rmdir("a"));
  T(rmdir("a/f"));
  T(rmdir("a/c"));
  T(rmdir("a/c/."));
  T(rmdir("."));
  T(rmdir("nothere"));
  T(unlink("a/b"));
  T(unlink("a/f/"));
  T(unlinkat(AT_FDCWD, "a/b", 0));
  T(unlinkat(AT_FDCWD, "a/f", AT_REMOVEDIR));
  T(unlinkat(AT_FDCWD, "a/c", AT_REMOVEDIR));
  T(unlinkat(AT_FDCWD, "a/c", 0x8000));
  list("a");

  // Hard links and symbolic links.
  T(link("a/f", "hard"));
  show_path("a/f", 0);
  T(link("a/f", "hard"));
  T(link("a", "hard-dir"));
  T(link("nothere", "x"));
  T(symlink("a/f", "soft"));
  T(symlink("", "empty"));
  T(symlink("x", "soft"));
  show_path("soft", 0);
  show_path("soft", 1);
  char target[64];
  long n = T(readlink("soft", target, sizeof target));
  if (n >= 0) printf("readlink: %.*s\n", (int)n, target);
  n = T(readlink("soft", target, 3));
  if (n >= 0) printf("readlink short: %.*s\n", (int)n, target);
  T(readlink("a/f", target, sizeof target));
  T(readlink("soft", target, 0));
  T(readlinkat(AT_FDCWD, "soft", target, sizeof target));
  T(symlink("soft", "soft2"));
  T(linkat(AT_FDCWD, "soft2", AT_FDCWD, "hard-to-link", 0));
  show_path("hard-to-link", 0);
  T(linkat(AT_FDCWD, "soft2", AT_FDCWD, "hard-to-file", AT_SYMLINK_FOLLOW));
  show_path("hard-to-file", 0);
  T(symlink("loop2", "loop1"));
  T(symlink("loop1", "loop2"));
  T(open("loop1", O_RDONLY));
  T(open("loop1/x", O_RDONLY));
  show_path("loop1", 0);
  T(symlink("self", "self"));
  T(open("self", O_RDONLY));
  T(symlink("a", "to-dir"));
  T(open("to-dir/f", O_RDONLY) >= 0);
  show_path("to-dir/", 0);
  show_path("soft/", 0);
  T(unlink("to-dir/"));
  T(rmdir("to-dir"));
  T(unlink("to-dir"));
  show_path("a", 0);

  // Renames.
  T(close(open("r1", O_CREAT | O_WRONLY, 0600)));
  T(close(open("r2", O_CREAT | O_WRONLY, 0644)));
  T(rename("r1", "r2"));
  show_path("r2", 0);
  show_path("r1", 0);
  T(rename("r2", "r2"));
  T(rename("hard", "a/f"));
  show_path("hard", 0);
  T(mkdir("d1", 0755));
  T(mkdir("d2", 0755));
  T(mkdir("d3", 0755));
  T(close(open("d3/x", O_CREAT | O_WRONLY, 0644)));
  T(rename("d1", "d2"));
  T(rename("d2", "d3"));
  T(rename("d2", "r2"));
  T(rename("r2", "d2"));
  T(rename("d2", "d2/sub"));
  T(rename("d3", "d3/x/y"));
  T(rename("nothere", "x"));
  T(rename("d3/x/", "y"));
  T(rename(".", "y"));
  T(rename("d3", "."));
  T(syscall(SYS_renameat2, AT_FDCWD, "d3", AT_FDCWD, "d2", RENAME_NOREPLACE));
  T(syscall(SYS_renameat2, AT_FDCWD, "d3", AT_FDCWD, "zz", RENAME_NOREPLACE));
  T(syscall(SYS_renameat2, AT_FDCWD, "zz", AT_FDCWD, "r2", RENAME_EXCHANGE));
  show_path("zz", 0);
  show_path("r2", 0);
  T(syscall(SYS_renameat2, AT_FDCWD, "zz", AT_FDCWD, "nothere", RENAME_EXCHANGE));
  T(syscall(SYS_renameat2, AT_FDCWD, "zz", AT_FDCWD, "r2", RENAME_EXCHANGE | RENAME_NOREPLACE));
  list(".");
  list("r2");

  // Working directory.
  cwd(base);
  T(chdir("a"));
  cwd(base);
  T(chdir("f"));
  T(chdir("nothere"));
  T(chdir(".."));
  cwd(base);
  int dfd = T(open("r2", O_RDONLY | O_DIRECTORY));
  T(fchdir(dfd));
  cwd(base);
  T(close(open("made-in-r2", O_CREAT | O_WRONLY, 0644)));
  T(chdir("../soft2"));
  T(chdir("../e"));
  cwd(base);
  T(rmdir("../e"));
  cwd(base);
  T(chdir(base));
  list("r2");
  int ffd = open("a/f", O_RDONLY);
  T(fchdir(ffd));
  char small[2];
  T(getcwd(small, sizeof small) == NULL);
  T(errno == ERANGE);
  return 0;
}
