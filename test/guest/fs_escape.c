// Attempts to leave the sandbox's root through the VFS: `..` walks, absolute and relative symlinks,
// symlink loops, over-long names, /proc links. Run with --rootfs on a directory whose etc/secret says
// "inside"; the host's own files must never be reached.
#include "fs_common.h"

static void cat(const char *path) {
  char buf[64];
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("cat %s: -1 %s\n", path, strerrorname_np(errno));
    return;
  }
  long n = read(fd, buf, sizeof buf);
  close(fd);
  while (n > 0 && buf[n - 1] == '\n') n--;
  printf("cat %s: %.*s\n", path, (int)(n < 0 ? 0 : n), buf);
}

static void where(void) {
  char buf[4096];
  printf("cwd: %s\n", getcwd(buf, sizeof buf) ? buf : strerrorname_np(errno));
}

int main(void) {
  cat("/etc/secret");
  cat("/../../../../etc/secret");
  cat("../../../../../../etc/secret");
  cat("/etc/../../etc/secret");
  T(chdir("/etc"));
  cat("../../../etc/secret");
  T(chdir("../../../../.."));
  where();
  cat("/link-abs");
  cat("/link-up");
  cat("/dir-link/secret");
  cat("/deep/a/b/c/escape");
  T(chdir("/deep/a/b/c"));
  T(chdir("up-link"));
  where();
  cat("/etc/hostname");
  cat("/etc/passwd");
  cat("/proc/self/root/etc/secret");
  cat("/proc/self/root/../../etc/secret");
  cat("/proc/1/cwd/etc/secret");
  T(open("/loop-a", O_RDONLY));
  T(open("/loop-self/x", O_RDONLY));
  char name[300];
  memset(name, 'n', sizeof name - 1);
  name[sizeof name - 1] = 0;
  T(open(name, O_RDONLY));
  static char longpath[5000];
  memset(longpath, 'a', sizeof longpath - 1);
  for (int i = 100; i < (int)sizeof longpath - 1; i += 100) longpath[i] = '/';
  T(open(longpath, O_RDONLY));
  // Creating through an absolute symlink lands inside the root.
  int fd = T(open("/link-new", O_CREAT | O_WRONLY, 0644));
  T(write(fd, "made\n", 5));
  T(close(fd));
  cat("/made-by-link");
  T(symlink("/../../..", "/tmp/up"));
  cat("/tmp/up/etc/secret");
  return 0;
}
