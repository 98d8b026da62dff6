// openat2's RESOLVE_* flags compared with the host kernel: RESOLVE_NO_SYMLINKS, RESOLVE_NO_MAGICLINKS,
// RESOLVE_NO_XDEV, RESOLVE_BENEATH, RESOLVE_IN_ROOT and RESOLVE_CACHED, on plain walks, `..`, absolute
// paths, relative and absolute symlinks, /proc's magic links, mount points, and with O_CREAT, O_PATH
// and O_TMPFILE. Only walks inside DIR are relative; absolute ones name /proc and the root, so that
// nothing printed depends on where DIR is mounted.
#include "fs_common.h"
#include <linux/openat2.h>
#include <sys/syscall.h>

static int sub = -1;

static const char *resolve_name(unsigned long long r) {
  static char out[200];
  out[0] = 0;
  if (r == 0) return "0";
  if (r & RESOLVE_NO_XDEV) strcat(out, "|NO_XDEV");
  if (r & RESOLVE_NO_MAGICLINKS) strcat(out, "|NO_MAGICLINKS");
  if (r & RESOLVE_NO_SYMLINKS) strcat(out, "|NO_SYMLINKS");
  if (r & RESOLVE_BENEATH) strcat(out, "|BENEATH");
  if (r & RESOLVE_IN_ROOT) strcat(out, "|IN_ROOT");
  if (r & RESOLVE_CACHED) strcat(out, "|CACHED");
  if (r & ~0x3fULL) strcat(out, "|unknown");
  return out + 1;
}

/* openat2 from dirfd (named by what), printing what it opened: the file's first bytes, or its type. */
static void o2(const char *what, int dirfd, const char *path, unsigned long long flags, unsigned long long mode, unsigned long long resolve) {
  struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
  long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  printf("openat2(%s, \"%s\", %#llo, %s) = ", what, path, flags, resolve_name(resolve));
  if (fd < 0) {
    printf("-1 %s\n", strerrorname_np(errno));
  } else {
    struct stat st;
    char buf[16] = {0};
    fstat(fd, &st);
    if (S_ISREG(st.st_mode) && (flags & O_PATH) == 0 && (flags & O_ACCMODE) != O_WRONLY) {
      long n = read(fd, buf, sizeof buf - 1);
      for (long i = 0; i < n; i++) if (buf[i] < 32) buf[i] = '.';
    }
    printf("fd %s%s%s\n", type_name(st.st_mode), buf[0] ? " " : "", buf);
    close(fd);
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  enter(argc, argv);
  int fd = open("f", O_CREAT | O_WRONLY, 0644);
  if (write(fd, "top", 3) != 3) return 2;
  close(fd);
  T(mkdir("sub", 0755));
  T(mkdir("sub/d", 0755));
  fd = open("sub/x", O_CREAT | O_WRONLY, 0644);
  if (write(fd, "in-sub", 6) != 6) return 2;
  close(fd);
  T(symlink("f", "lf"));
  T(symlink("sub", "lsub"));
  T(symlink("x", "sub/lx"));
  T(symlink("../f", "sub/up"));
  T(symlink("d/../x", "sub/down"));
  T(symlink("/x", "sub/abs"));
  T(symlink("/proc/self/status", "sub/proc"));
  T(symlink("/made", "sub/dangling"));
  sub = T(open("sub", O_RDONLY | O_DIRECTORY));
  int cwd = AT_FDCWD;
  char magic[64];
  snprintf(magic, sizeof magic, "/proc/self/fd/%d", sub);

  // The flags and the struct.
  o2("cwd", cwd, "f", O_RDONLY, 0, 0x40);
  o2("cwd", cwd, "f", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT);
  o2("cwd", cwd, "f", O_RDONLY, 0, RESOLVE_CACHED);
  o2("sub", sub, "x", O_RDONLY, 0, RESOLVE_CACHED | RESOLVE_BENEATH);
  o2("cwd", cwd, "new", O_CREAT | O_WRONLY, 0644, RESOLVE_CACHED);

  // RESOLVE_NO_SYMLINKS: no symlink is followed, ordinary or magic; one not followed is fine.
  o2("cwd", cwd, "f", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
  o2("cwd", cwd, "lf", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
  o2("cwd", cwd, "lsub/x", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
  o2("cwd", cwd, "lf", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS);
  o2("cwd", cwd, "lf", O_RDONLY | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS);
  o2("cwd", cwd, "sub/dangling", O_CREAT | O_WRONLY, 0644, RESOLVE_NO_SYMLINKS);
  o2("cwd", cwd, magic, O_RDONLY | O_DIRECTORY, 0, RESOLVE_NO_SYMLINKS);
  o2("cwd", cwd, "/proc/self/status", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);

  // RESOLVE_NO_MAGICLINKS: ordinary symlinks (/proc/self among them) are followed, /proc's fd links not.
  o2("cwd", cwd, "lsub/lx", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
  o2("cwd", cwd, "/proc/self/status", O_RDONLY | O_PATH, 0, RESOLVE_NO_MAGICLINKS);
  o2("cwd", cwd, magic, O_RDONLY | O_DIRECTORY, 0, RESOLVE_NO_MAGICLINKS);
  char through[80];
  snprintf(through, sizeof through, "%s/x", magic);
  o2("cwd", cwd, through, O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
  o2("cwd", cwd, through, O_RDONLY, 0, 0);
  o2("cwd", cwd, magic, O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_MAGICLINKS);
  o2("cwd", cwd, "/proc/self/exe", O_PATH, 0, RESOLVE_NO_MAGICLINKS);

  // RESOLVE_NO_XDEV: no mount crossed, down, up or by a link.
  o2("cwd", cwd, "sub/d/../x", O_RDONLY, 0, RESOLVE_NO_XDEV);
  o2("cwd", cwd, "/proc/self/status", O_RDONLY, 0, RESOLVE_NO_XDEV);
  o2("sub", sub, "proc", O_RDONLY, 0, RESOLVE_NO_XDEV);
  o2("sub", sub, "down", O_RDONLY, 0, RESOLVE_NO_XDEV);
  o2("cwd", cwd, through, O_RDONLY, 0, RESOLVE_NO_XDEV);
  int proc = T(open("/proc", O_RDONLY | O_DIRECTORY));
  o2("/proc", proc, "self/status", O_RDONLY | O_PATH, 0, RESOLVE_NO_XDEV);
  o2("/proc", proc, "..", O_RDONLY | O_PATH, 0, RESOLVE_NO_XDEV);
  o2("/proc", proc, "self/fd/3", O_RDONLY | O_PATH, 0, RESOLVE_NO_XDEV);
  T(close(proc));

  // RESOLVE_BENEATH: nothing outside the starting directory: no "..", absolute path or link out of it.
  o2("sub", sub, "x", O_RDONLY, 0, RESOLVE_BENEATH);
  o2("sub", sub, ".", O_RDONLY | O_DIRECTORY, 0, RESOLVE_BENEATH);
  o2("sub", sub, "d/../x", O_RDONLY, 0, RESOLVE_BENEATH);
  o2("sub", sub, "lx", O_RDONLY, 0, RESOLVE_BENEATH);
  o2("sub", sub, "down", O_RDONLY, 0, RESOLVE_BENEATH);
  o2("sub", sub, "..", O_RDONLY | O_DIRECTORY, 0, RESOLVE_BENEATH);
  o2("sub", sub, "../sub/x", O_RDONLY, 0, RESOLVE_BENEATH);
  o2("sub", sub, "d/../../f", O_RDONLY, 0, RESOLVE_BENEATH);
  o2("sub", sub, "up", O_RDONLY, 0, RESOLVE_BENEATH);
  o2("sub", sub, "abs", O_RDONLY, 0, RESOLVE_BENEATH);
  o2("sub", sub, "/proc/self/status", O_RDONLY, 0, RESOLVE_BENEATH);
  o2("sub", sub, "missing/..", O_RDONLY, 0, RESOLVE_BENEATH);
  o2("cwd", cwd, "sub/x", O_RDONLY, 0, RESOLVE_BENEATH);
  o2("cwd", cwd, "../f", O_RDONLY, 0, RESOLVE_BENEATH);
  o2("cwd", cwd, magic, O_RDONLY | O_DIRECTORY, 0, RESOLVE_BENEATH);
  o2("sub", sub, "../new", O_CREAT | O_WRONLY, 0644, RESOLVE_BENEATH);
  o2("sub", sub, "..", O_TMPFILE | O_RDWR, 0600, RESOLVE_BENEATH);
  o2("sub", sub, "dangling", O_CREAT | O_WRONLY, 0644, RESOLVE_BENEATH);

  // RESOLVE_IN_ROOT: the starting directory is the root: "/", ".." and absolute links stay in it.
  o2("sub", sub, "/x", O_RDONLY, 0, RESOLVE_IN_ROOT);
  o2("sub", sub, "../../x", O_RDONLY, 0, RESOLVE_IN_ROOT);
  o2("sub", sub, "/d/../../x", O_RDONLY, 0, RESOLVE_IN_ROOT);
  o2("sub", sub, "abs", O_RDONLY, 0, RESOLVE_IN_ROOT);
  o2("sub", sub, "up", O_RDONLY, 0, RESOLVE_IN_ROOT);
  o2("sub", sub, "proc", O_RDONLY, 0, RESOLVE_IN_ROOT);
  o2("sub", sub, "/", O_RDONLY | O_DIRECTORY, 0, RESOLVE_IN_ROOT);
  o2("cwd", cwd, "/f", O_RDONLY, 0, RESOLVE_IN_ROOT);
  o2("cwd", cwd, magic, O_RDONLY | O_DIRECTORY, 0, RESOLVE_IN_ROOT);
  o2("sub", sub, "dangling", O_CREAT | O_WRONLY, 0644, RESOLVE_IN_ROOT);
  show_path("sub/made", 0);
  o2("sub", sub, "/d/../created", O_CREAT | O_EXCL | O_WRONLY, 0644, RESOLVE_IN_ROOT);
  show_path("sub/created", 0);
  o2("sub", sub, "abs", O_RDONLY, 0, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
  o2("sub", sub, "/x", O_RDONLY, 0, RESOLVE_IN_ROOT | RESOLVE_NO_XDEV);
  T(close(sub));
  return 0;
}
