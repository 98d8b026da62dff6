// Changes to files that already exist (on the sandbox's root they are the lower layer of the overlay:
// each change copies up, hides behind a whiteout or makes an opaque directory), compared with the
// host kernel changing a copy of the same tree. The tree: a ("lower-a\n"), b (0600, "bbbb"),
// d/x, d/y, e/f, s -> a. The lower layer shows no extended attributes, and setting one copies up.
#include "fs_common.h"
#include <dirent.h>
#include <sys/xattr.h>

static void cat(const char *path) {
  char buf[128];
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("cat %s: -1 %s\n", path, strerrorname_np(errno));
    return;
  }
  long n = read(fd, buf, sizeof buf);
  close(fd);
  printf("cat %s: [%.*s]\n", path, (int)(n < 0 ? 0 : n), buf);
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *path) {
  DIR *d = opendir(path);
  if (d == NULL) {
    printf("list %s: -1 %s\n", path, strerrorname_np(errno));
    return;
  }
  char *names[64];
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL && n < 64;) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof names[0], cmp);
  printf("list %s:", path);
  for (int i = 0; i < n; i++) printf(" %s", names[i]);
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || chdir(argv[1]) != 0) return 2;
  cat("a");
  show_path("a", 0);
  show_path("s", 0);
  cat("s");
  char value[16];
  T(getxattr("a", "user.x", value, sizeof value));
  T(listxattr("a", value, sizeof value));
  T(getxattr("a", "foo.bar", value, sizeof value));
  T(removexattr("a", "user.x"));
  T(setxattr("a", "user.x", "1", 1, XATTR_REPLACE));
  T(setxattr("a", "user.x", "xa", 2, XATTR_CREATE));
  T(getxattr("a", "user.x", value, sizeof value));
  T(listxattr("a", value, sizeof value));
  printf("list: [%s]\n", value);
  T(setxattr("e", "user.e", "e", 1, 0));
  T(getxattr("e", "user.e", value, sizeof value));
  cat("a");
  int fd = T(open("a", O_WRONLY | O_APPEND));
  T(write(fd, "more\n", 5));
  T(close(fd));
  cat("a");
  show_path("a", 0);
  int ro = T(open("b", O_RDONLY));
  T(chmod("b", 0644));
  show_path("b", 0);
  T(truncate("b", 2));
  cat("b");
  char buf[8] = {0};
  T(pread(ro, buf, 4, 0));
  T(close(ro));

  list("d");
  T(unlink("d/x"));
  list("d");
  T(rmdir("d"));
  T(unlink("d/y"));
  list("d");
  T(rmdir("d"));
  show_path("d", 0);
  T(mkdir("d", 0700));
  list("d");
  show_path("d", 0);
  T(close(open("d/new", O_CREAT | O_WRONLY, 0600)));
  list("d");

  T(rename("a", "a2"));
  cat("a");
  cat("a2");
  cat("s");
  T(link("a2", "a3"));
  show_path("a2", 0);
  T(unlink("a2"));
  show_path("a3", 0);
  T(symlink("a3", "a"));
  cat("s");
  T(rename("e/f", "f-moved"));
  list("e");
  cat("f-moved");
  T(utimensat(AT_FDCWD, "f-moved", (struct timespec[2]){{10, 0}, {20, 0}}, 0));
  struct stat st;
  stat("f-moved", &st);
  printf("mtime: %ld\n", (long)st.st_mtime);
  T(chown("e", 7, 8));
  show_path("e", 0);
  list(".");
  return 0;
}
