// O_TMPFILE and linkat(AT_EMPTY_PATH) compared with the host kernel: the flag checks, the walk's errors,
// an unnamed file's mode, links, contents and /proc/self/fd name, naming it with linkat(fd, "",
// AT_EMPTY_PATH) or through /proc/self/fd/N with AT_SYMLINK_FOLLOW, O_EXCL's refusal, linking an
// ordinary open file by its fd, and EXDEV across mounts.
//
// `fs_tmpfile DIR` runs everything; `fs_tmpfile DIR generic` only what Linux checks before the
// filesystem is asked (flags, the walk), which answers the same on a filesystem without O_TMPFILE, and
// linkat(AT_EMPTY_PATH) of ordinary files; `fs_tmpfile DIR removed` adds one in a removed directory;
// `fs_tmpfile DIR gofer` only tries one in DIR, which must exist (the sandbox's --mount directories
// have none: EOPNOTSUPP, or EROFS read-only).
#include "fs_common.h"
#include <dirent.h>

/* O_TMPFILE without the O_DIRECTORY that O_TMPFILE includes (glibc's __O_TMPFILE has both). */
#define TMPFILE_BIT 020000000

static char cwd[4096];

static void show_fd(const char *what, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    printf("fstat %s: -1 %s\n", what, strerrorname_np(errno));
    return;
  }
  show_stat(what, &st);
}

/* /proc/self/fd/N as the program sees it, the working directory taken off and digits after '#' as N. */
static void show_link(int fd) {
  char path[64], target[4096], out[4096];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0) {
    printf("readlink fd: -1 %s\n", strerrorname_np(errno));
    return;
  }
  target[n] = 0;
  const char *t = target;
  size_t len = strlen(cwd);
  if (strncmp(t, cwd, len) == 0) t += len;
  size_t o = 0;
  for (size_t i = 0; t[i] != 0 && o < sizeof out - 2; i++) {
    if (t[i] >= '0' && t[i] <= '9' && i > 0 && (t[i - 1] == '#' || (t[i - 1] >= '0' && t[i - 1] <= '9' && o > 0 && out[o - 1] == 'N'))) {
      if (out[o - 1] != 'N') out[o++] = 'N';
      continue;
    }
    out[o++] = t[i];
  }
  out[o] = 0;
  printf("fd link: CWD%s\n", out);
  fflush(stdout);
}

static int entries(void) {
  DIR *d = opendir(".");
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

static void same_inode(const char *name, int fd) {
  struct stat a, b;
  if (stat(name, &a) != 0 || fstat(fd, &b) != 0) {
    printf("same inode %s: -1 %s\n", name, strerrorname_np(errno));
    return;
  }
  printf("same inode %s: %d\n", name, a.st_ino == b.st_ino && a.st_dev == b.st_dev);
  fflush(stdout);
}

static void generic(void) {
  int fd;
  T(open(".", O_TMPFILE | O_RDONLY, 0600));
  T(open(".", O_TMPFILE | O_RDWR | O_CREAT, 0600));
  T(open(".", TMPFILE_BIT | O_RDWR, 0600));
  T(open("missing", O_TMPFILE | O_RDWR, 0600));
  T(open("missing/x", O_TMPFILE | O_RDWR, 0600));
  T(close(T(open("f", O_CREAT | O_WRONLY, 0644))));
  T(open("f", O_TMPFILE | O_RDWR, 0600));
  T(open("f/", O_TMPFILE | O_RDWR, 0600));
  T(symlink("f", "lf"));
  T(open("lf", O_TMPFILE | O_RDWR, 0600));
  T(open("/proc/self/fd", O_TMPFILE | O_WRONLY, 0600));

  // linkat(AT_EMPTY_PATH) of a file that has a name (CAP_DAC_READ_SEARCH: root may).
  fd = T(open("f", O_RDONLY));
  T(linkat(fd, "", AT_FDCWD, "f2", AT_EMPTY_PATH));
  show_fd("f after linkat", fd);
  same_inode("f2", fd);
  T(linkat(fd, "", AT_FDCWD, "f2", AT_EMPTY_PATH));
  T(linkat(fd, "", AT_FDCWD, "f3", 0));
  T(linkat(fd, "", AT_FDCWD, "f3", AT_EMPTY_PATH | AT_SYMLINK_FOLLOW));
  T(linkat(fd, "", AT_FDCWD, "f3", 0x10000));
  T(linkat(fd, "", AT_FDCWD, "", AT_EMPTY_PATH));
  T(linkat(fd, "", AT_FDCWD, "missing/x", AT_EMPTY_PATH));
  T(linkat(fd, "", AT_FDCWD, "/dev/tsvisor-x", AT_EMPTY_PATH));
  T(linkat(fd, "", fd, "x", AT_EMPTY_PATH));
  T(linkat(99, "", AT_FDCWD, "x", AT_EMPTY_PATH));
  T(linkat(-1, "", AT_FDCWD, "x", AT_EMPTY_PATH));
  T(linkat(AT_FDCWD, "", AT_FDCWD, "x", AT_EMPTY_PATH));
  T(close(fd));
  // An O_PATH fd links as well; a removed file's fd does not (no links left, not O_TMPFILE's).
  fd = T(open("f2", O_PATH));
  T(linkat(fd, "", AT_FDCWD, "f4", AT_EMPTY_PATH));
  T(close(fd));
  fd = T(open("g", O_CREAT | O_RDWR, 0644));
  T(unlink("g"));
  show_fd("g removed", fd);
  T(linkat(fd, "", AT_FDCWD, "g2", AT_EMPTY_PATH));
  T(close(fd));
  // A directory's fd: EPERM; other mounts' files: EXDEV.
  T(mkdir("d", 0755));
  fd = T(open("d", O_RDONLY | O_DIRECTORY));
  T(linkat(fd, "", AT_FDCWD, "d2", AT_EMPTY_PATH));
  T(close(fd));
  int p[2];
  T(pipe(p));
  T(linkat(p[0], "", AT_FDCWD, "pipe", AT_EMPTY_PATH));
  T(close(p[0]));
  T(close(p[1]));
  fd = T(open("/proc/self/status", O_RDONLY));
  T(linkat(fd, "", AT_FDCWD, "status", AT_EMPTY_PATH));
  T(close(fd));
  fd = T(open("/dev/null", O_RDONLY));
  T(linkat(fd, "", AT_FDCWD, "null", AT_EMPTY_PATH));
  T(close(fd));
  printf("entries: %d\n", entries());
}

static void tmpfile_cases(void) {
  char proc[64];
  char buf[16] = {0};
  int before = entries();
  int fd = T(open(".", O_TMPFILE | O_RDWR, 0640));
  show_fd("tmpfile", fd);
  printf("entries added: %d\n", entries() - before);
  printf("flags: %#o\n", fcntl(fd, F_GETFL));
  show_link(fd);
  T(write(fd, "hello", 5));
  T(pread(fd, buf, sizeof buf, 0));
  printf("read: %s\n", buf);
  T(ftruncate(fd, 3));
  T(fchmod(fd, 0600));
  show_fd("tmpfile changed", fd);
  T(linkat(fd, "", AT_FDCWD, "named", AT_EMPTY_PATH));
  show_fd("tmpfile named", fd);
  same_inode("named", fd);
  show_path("named", 0);
  show_link(fd);
  T(linkat(fd, "", AT_FDCWD, "named", AT_EMPTY_PATH));
  T(linkat(fd, "", AT_FDCWD, "named2", AT_EMPTY_PATH));
  show_fd("tmpfile twice", fd);
  T(unlink("named"));
  T(unlink("named2"));
  show_fd("tmpfile unnamed again", fd);
  // Only the first naming is O_TMPFILE's: once its links are gone it is a removed file.
  T(linkat(fd, "", AT_FDCWD, "named3", AT_EMPTY_PATH));
  T(close(fd));

  // Through /proc/self/fd/N: AT_SYMLINK_FOLLOW names the file, without it the link itself (another mount).
  fd = T(open(".", O_TMPFILE | O_WRONLY, 0777));
  show_fd("tmpfile umask", fd);
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  T(linkat(AT_FDCWD, proc, AT_FDCWD, "viaproc", 0));
  T(linkat(AT_FDCWD, proc, AT_FDCWD, "viaproc", AT_SYMLINK_FOLLOW));
  same_inode("viaproc", fd);
  T(close(fd));
  fd = T(open("viaproc", O_RDONLY));
  show_fd("viaproc", fd);
  T(close(fd));

  // O_EXCL: never to be named.
  fd = T(open(".", O_TMPFILE | O_WRONLY | O_EXCL, 0600));
  show_fd("tmpfile excl", fd);
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  T(linkat(fd, "", AT_FDCWD, "excl", AT_EMPTY_PATH));
  T(linkat(AT_FDCWD, proc, AT_FDCWD, "excl", AT_SYMLINK_FOLLOW));
  T(write(fd, "x", 1));
  T(read(fd, buf, 1));
  T(close(fd));

  // Through a symlink to the directory, and in a subdirectory; O_NOFOLLOW stops at the link.
  T(mkdir("sub", 0755));
  T(symlink("sub", "lsub"));
  fd = T(open("lsub", O_TMPFILE | O_RDWR, 0600));
  show_link(fd);
  T(linkat(fd, "", AT_FDCWD, "sub/x", AT_EMPTY_PATH));
  show_path("sub/x", 0);
  T(close(fd));
  T(open("lsub", O_TMPFILE | O_RDWR | O_NOFOLLOW, 0600));
  fd = T(open("sub/", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  printf("cloexec: %d\n", fcntl(fd, F_GETFD));
  T(close(fd));
  printf("entries: %d\n", entries());
}

/*
 * Linux's tmpfs makes one even in a removed directory (ext4 refuses with EPERM); the directory's fd
 * still stats as the directory it was.
 */
static void removed_dir(void) {
  T(mkdir("gone", 0755));
  int dir = T(open("gone", O_RDONLY | O_DIRECTORY));
  T(rmdir("gone"));
  T(mkdir("after", 0700));
  struct stat st;
  T(fstat(dir, &st));
  printf("removed directory: %s %04o\n", type_name(st.st_mode), st.st_mode & 07777);
  int fd = T(openat(dir, ".", O_TMPFILE | O_RDWR, 0600));
  show_fd("in removed directory", fd);
  T(close(fd));
  T(close(dir));
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[2], "gofer") == 0) {
    if (chdir(argv[1]) != 0) return 2;
    T(open(".", O_TMPFILE | O_RDWR, 0600));
    T(open(".", O_TMPFILE | O_WRONLY | O_EXCL, 0600));
    return 0;
  }
  enter(argc, argv);
  if (getcwd(cwd, sizeof cwd) == NULL) return 2;
  generic();
  if (argc > 2 && strcmp(argv[2], "generic") == 0) return 0;
  tmpfile_cases();
  if (argc > 2 && strcmp(argv[2], "removed") == 0) removed_dir();
  return 0;
}
