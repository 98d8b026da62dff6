// Extended attributes compared with the host kernel: setxattr's flags (XATTR_CREATE, XATTR_REPLACE),
// getxattr and listxattr's size queries and ERANGE, removexattr, name checks (length, namespaces),
// value sizes, the user.* rules (regular files and directories only, write permission, sticky
// directories), trusted.* for root only, the l* calls on symlinks and the f* calls on fds.
//
// `fs_xattr DIR` runs everything; `fs_xattr DIR generic` only the checks Linux makes before the
// filesystem is asked (flags, names, sizes, bad pointers, missing files, bad fds), which answer the
// same on a filesystem without extended attributes; `fs_xattr DIR gofer` what the calls answer on
// DIR/f, an existing file (the sandbox's --mount directories keep no attributes).
#include "fs_common.h"
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

static char buf[70000];
/* NULL, without the compiler knowing. */
static char *volatile nowhere;

/* getxattr's result and the value, printable. */
static void show_value(const char *what, long n) {
  if (n < 0) {
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
  } else {
    printf("%s = %ld [", what, n);
    for (long i = 0; i < n && i < 64; i++) putchar(buf[i] >= 32 && buf[i] < 127 ? buf[i] : '.');
    printf("]\n");
  }
  fflush(stdout);
}
#define V(expr) show_value(#expr, (long)(expr))

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * listxattr's names, sorted: Linux's tmpfs keeps them in name order, other filesystems in their own,
 * and what matters here is which names are listed.
 */
static void show_list(const char *what, long n) {
  if (n < 0) {
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
    fflush(stdout);
    return;
  }
  char *names[64];
  int count = 0;
  for (long i = 0; i < n && count < 64; i += strlen(buf + i) + 1) names[count++] = buf + i;
  qsort(names, count, sizeof names[0], by_name);
  printf("%s = %ld:", what, n);
  for (int i = 0; i < count; i++) printf(" %s", names[i]);
  printf("\n");
  fflush(stdout);
}
#define L(expr) show_list(#expr, (long)(expr))

static void generic(void) {
  char name[300];
  T(setxattr("f", "user.a", "1", 1, 4));
  T(setxattr("f", "user.a", "1", 1, XATTR_CREATE | XATTR_REPLACE | 8));
  T(setxattr("f", "", "1", 1, 0));
  T(getxattr("f", "", buf, sizeof buf));
  T(removexattr("f", ""));
  memset(name, 'n', sizeof name);
  memcpy(name, "user.", 5);
  name[256] = 0;
  T(setxattr("f", name, "1", 1, 0));
  T(getxattr("f", name, buf, sizeof buf));
  T(removexattr("f", name));
  T(setxattr("f", "user.big", buf, 65537, 0));
  T(setxattr("f", "user.a", nowhere, 1, 0));
  T(setxattr("f", "user.a", (void *)1, 1, 0));
  T(setxattr("f", (char *)1, "1", 1, 0));
  T(getxattr("f", (char *)1, buf, sizeof buf));
  T(getxattr("missing", "user.a", buf, sizeof buf));
  T(getxattr("", "user.a", buf, sizeof buf));
  T(getxattr((char *)1, "user.a", buf, sizeof buf));
  T(listxattr("missing", buf, sizeof buf));
  T(setxattr("missing", "user.a", "1", 1, 0));
  T(removexattr("missing", "user.a"));
  T(getxattr("f/x", "user.a", buf, sizeof buf));
  T(fgetxattr(-1, "user.a", buf, sizeof buf));
  T(fgetxattr(999, "user.a", buf, sizeof buf));
  T(flistxattr(999, buf, sizeof buf));
  T(fsetxattr(999, "user.a", "1", 1, 0));
  T(fremovexattr(999, "user.a"));
  // Unknown namespaces, and system.* names no filesystem here knows.
  T(setxattr("f", "foo.bar", "1", 1, 0));
  T(getxattr("f", "foo.bar", buf, sizeof buf));
  T(removexattr("f", "foo.bar"));
  T(setxattr("f", "system.foo", "1", 1, 0));
  T(getxattr("f", "system.foo", buf, sizeof buf));
  T(setxattr("f", "user", "1", 1, 0));
}

/* What a user without privilege may do: uid and gid 65534, in a child. */
static void unprivileged(void) {
  pid_t c = fork();
  if (c == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    printf("-- as 65534\n");
    V(getxattr("f", "user.a", buf, sizeof buf));
    T(setxattr("f", "user.n", "1", 1, 0));
    T(removexattr("f", "user.a"));
    V(getxattr("secret", "user.s", buf, sizeof buf));
    L(listxattr("secret", buf, sizeof buf));
    V(getxattr("f", "trusted.t", buf, sizeof buf));
    T(setxattr("f", "trusted.n", "1", 1, 0));
    T(removexattr("f", "trusted.t"));
    L(listxattr("f", buf, sizeof buf));
    V(getxattr("f", "security.s", buf, sizeof buf));
    T(setxattr("f", "security.n", "1", 1, 0));
    // Write permission alone lets anyone set user.* on a file...
    T(setxattr("open", "user.o", "1", 1, 0));
    V(getxattr("open", "user.o", buf, sizeof buf));
    // ... but in a sticky directory only its owner may.
    T(setxattr("sticky", "user.o", "1", 1, 0));
    T(removexattr("sticky", "user.s"));
    V(getxattr("sticky", "user.s", buf, sizeof buf));
    T(setxattr("opendir", "user.o", "1", 1, 0));
    // An fd open for writing does not stand for write permission: the inode's mode decides.
    int fd = T(open("f", O_RDONLY));
    T(fsetxattr(fd, "user.n", "1", 1, 0));
    V(fgetxattr(fd, "user.a", buf, sizeof buf));
    T(close(fd));
    T(mkdir("mine", 0700));
    T(setxattr("mine", "user.m", "1", 1, 0));
    L(listxattr("mine", buf, sizeof buf));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(c, &status, 0);
  printf("child: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* An existing file "f" on a filesystem that may be read-only. */
static void existing(void) {
  T(setxattr("f", "user.a", "1", 1, 0));
  V(getxattr("f", "user.a", buf, sizeof buf));
  L(listxattr("f", buf, sizeof buf));
  T(removexattr("f", "user.a"));
  T(lsetxattr("f", "trusted.t", "1", 1, 0));
  T(getxattr("f", "foo.bar", buf, sizeof buf));
  int fd = T(open("f", O_RDONLY));
  T(fsetxattr(fd, "user.a", "1", 1, 0));
  V(fgetxattr(fd, "user.a", buf, sizeof buf));
  L(flistxattr(fd, buf, sizeof buf));
  T(fremovexattr(fd, "user.a"));
  T(close(fd));
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[2], "gofer") == 0) {
    if (chdir(argv[1]) != 0) return 2;
    existing();
    return 0;
  }
  enter(argc, argv);
  T(close(T(open("f", O_CREAT | O_WRONLY, 0644))));
  generic();
  if (argc > 2 && strcmp(argv[2], "generic") == 0) return 0;

  printf("-- set, get, replace\n");
  T(setxattr("f", "user.a", "hello", 5, 0));
  V(getxattr("f", "user.a", NULL, 0));
  V(getxattr("f", "user.a", buf, 0));
  V(getxattr("f", "user.a", buf, sizeof buf));
  V(getxattr("f", "user.a", buf, 5));
  V(getxattr("f", "user.a", buf, 4));
  V(getxattr("f", "user.b", buf, sizeof buf));
  V(getxattr("f", "user.a", (void *)1, 5));
  T(setxattr("f", "user.a", "x", 1, XATTR_CREATE));
  T(setxattr("f", "user.b", "x", 1, XATTR_REPLACE));
  T(setxattr("f", "user.a", "bye", 3, XATTR_REPLACE));
  V(getxattr("f", "user.a", buf, sizeof buf));
  T(setxattr("f", "user.b", "b", 1, XATTR_CREATE));
  T(setxattr("f", "user.empty", "", 0, 0));
  T(setxattr("f", "user.null", NULL, 0, 0));
  V(getxattr("f", "user.empty", buf, sizeof buf));
  V(getxattr("f", "user.null", buf, sizeof buf));
  T(setxattr("f", "user.", "1", 1, 0));
  T(getxattr("f", "user.", buf, sizeof buf));
  T(setxattr("f", "trusted.", "1", 1, 0));
  T(setxattr("f", "security.", "1", 1, 0));
  T(setxattr("f", "trusted.t", "tt", 2, 0));
  T(setxattr("f", "security.s", "ss", 2, 0));
  V(getxattr("f", "trusted.t", buf, sizeof buf));
  V(getxattr("f", "security.s", buf, sizeof buf));
  // The longest name, and the largest value.
  char name[300];
  memset(name, 'n', sizeof name);
  memcpy(name, "user.", 5);
  name[255] = 0;
  T(setxattr("f", name, "1", 1, 0));
  T(getxattr("f", name, NULL, 0));
  T(removexattr("f", name));
  memset(buf, 'v', sizeof buf);
  T(setxattr("f", "user.big", buf, 65536, 0));
  T(getxattr("f", "user.big", NULL, 0));
  T(getxattr("f", "user.big", buf, 65535));
  T(getxattr("f", "user.big", buf, sizeof buf));
  T(removexattr("f", "user.big"));

  printf("-- list, remove\n");
  L(listxattr("f", buf, sizeof buf));
  T(listxattr("f", NULL, 0));
  T(listxattr("f", buf, 10));
  T(listxattr("f", (void *)1, 100));
  T(removexattr("f", "user.b"));
  T(removexattr("f", "user.b"));
  T(removexattr("f", "trusted.nothing"));
  L(listxattr("f", buf, sizeof buf));
  T(close(T(open("plain", O_CREAT | O_WRONLY, 0644))));
  L(listxattr("plain", buf, sizeof buf));
  T(listxattr("plain", NULL, 0));

  printf("-- directories, symlinks, special files\n");
  T(mkdir("d", 0755));
  T(setxattr("d", "user.dir", "d", 1, 0));
  V(getxattr("d", "user.dir", buf, sizeof buf));
  L(listxattr("d", buf, sizeof buf));
  T(symlink("f", "l"));
  T(symlink("missing", "dangling"));
  V(getxattr("l", "user.a", buf, sizeof buf));
  V(lgetxattr("l", "user.a", buf, sizeof buf));
  T(lsetxattr("l", "user.x", "1", 1, 0));
  T(lremovexattr("l", "user.a"));
  L(listxattr("l", buf, sizeof buf));
  L(llistxattr("l", buf, sizeof buf));
  T(lsetxattr("l", "trusted.x", "lt", 2, 0));
  V(lgetxattr("l", "trusted.x", buf, sizeof buf));
  L(llistxattr("l", buf, sizeof buf));
  V(getxattr("l", "trusted.x", buf, sizeof buf));
  T(setxattr("l", "user.via", "v", 1, 0));
  V(getxattr("f", "user.via", buf, sizeof buf));
  T(removexattr("l", "user.via"));
  T(getxattr("dangling", "user.a", buf, sizeof buf));
  T(lgetxattr("dangling", "user.a", buf, sizeof buf));
  T(setxattr("dangling", "user.a", "1", 1, 0));
  T(mkfifo("p", 0644));
  T(setxattr("p", "user.x", "1", 1, 0));
  T(getxattr("p", "user.x", buf, sizeof buf));
  T(setxattr("p", "trusted.x", "1", 1, 0));
  L(listxattr("p", buf, sizeof buf));
  T(mknod("c", S_IFCHR | 0644, makedev(1, 3)));
  T(setxattr("c", "user.x", "1", 1, 0));
  T(setxattr("c", "security.x", "1", 1, 0));
  L(listxattr("c", buf, sizeof buf));

  printf("-- fds\n");
  int fd = T(open("f", O_RDONLY));
  V(fgetxattr(fd, "user.a", buf, sizeof buf));
  T(fsetxattr(fd, "user.fd", "fd", 2, 0));
  L(flistxattr(fd, buf, sizeof buf));
  T(fremovexattr(fd, "user.fd"));
  T(fremovexattr(fd, "user.fd"));
  T(close(fd));
  int path = T(open("f", O_PATH));
  V(fgetxattr(path, "user.a", buf, sizeof buf));
  T(fsetxattr(path, "user.p", "1", 1, 0));
  T(flistxattr(path, buf, sizeof buf));
  T(fremovexattr(path, "user.p"));
  T(close(path));
  int lpath = T(open("l", O_PATH | O_NOFOLLOW));
  T(fgetxattr(lpath, "trusted.x", buf, sizeof buf));
  T(close(lpath));
  int dfd = T(open("d", O_RDONLY | O_DIRECTORY));
  V(fgetxattr(dfd, "user.dir", buf, sizeof buf));
  T(close(dfd));
  int pfd[2];
  T(pipe(pfd));
  T(fgetxattr(pfd[0], "user.a", buf, sizeof buf));
  T(fsetxattr(pfd[1], "user.a", "1", 1, 0));
  T(flistxattr(pfd[0], buf, sizeof buf));
  // A file's attributes stay with its inode: through a hard link, after a rename, and while open
  // after unlink.
  T(link("f", "hard"));
  V(getxattr("hard", "user.a", buf, sizeof buf));
  T(rename("hard", "moved"));
  V(getxattr("moved", "user.a", buf, sizeof buf));
  int gone = T(open("moved", O_RDONLY));
  T(unlink("moved"));
  V(fgetxattr(gone, "user.a", buf, sizeof buf));
  T(fsetxattr(gone, "user.late", "1", 1, 0));
  T(close(gone));
  // A new file with an old name has none.
  T(unlink("plain"));
  T(close(T(open("plain", O_CREAT | O_WRONLY, 0644))));
  L(listxattr("plain", buf, sizeof buf));

  printf("-- permissions\n");
  T(close(T(open("secret", O_CREAT | O_WRONLY, 0600))));
  T(setxattr("secret", "user.s", "s", 1, 0));
  T(close(T(open("open", O_CREAT | O_WRONLY, 0666))));
  T(chmod("open", 0666));
  T(mkdir("sticky", 0777));
  T(chmod("sticky", 01777));
  T(setxattr("sticky", "user.s", "s", 1, 0));
  T(mkdir("opendir", 0777));
  T(chmod("opendir", 0777));
  T(chmod(".", 0777));
  unprivileged();
  T(chmod(".", 0755));
  L(listxattr("opendir", buf, sizeof buf));
  L(listxattr("open", buf, sizeof buf));
  return 0;
}
