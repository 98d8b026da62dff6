// Supplementary groups: setgroups/getgroups and their errors, inheritance by fork and execve,
// /proc/self/status's Groups: line, and group permission through a supplementary group; the real,
// effective and saved ids in status, the capabilities they leave (set or not), privilege following
// the effective id (mlock past RLIMIT_MEMLOCK) and access(2) the real one. Must start as root.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what) {
  gid_t list[16];
  int n = getgroups(16, list);
  printf("%s: %d:", what, n);
  for (int i = 0; i < n; i++) printf(" %u", list[i]);
  printf("\n");
}

static void status_groups(void) {
  char line[512];
  FILE *f = fopen("/proc/self/status", "r");
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "Groups:", 7) == 0) printf("status [%.*s]\n", (int)strcspn(line, "\n"), line);
  if (f != NULL) fclose(f);
}

/** status's id lines as they are, and each capability set as set or empty (the host's may lack some). */
static void status_ids(const char *what) {
  char line[512];
  FILE *f = fopen("/proc/self/status", "r");
  printf("%s:", what);
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = 0;
    if (strncmp(line, "Uid:", 4) == 0 || strncmp(line, "Gid:", 4) == 0) printf(" [%s]", line);
    else if (strncmp(line, "Cap", 3) == 0) printf(" %.6s %s", line, strtoull(strchr(line, '\t') + 1, NULL, 16) != 0 ? "set" : "empty");
  }
  if (f != NULL) fclose(f);
  printf("\n");
}

/** mlock past a zero RLIMIT_MEMLOCK: CAP_IPC_LOCK, which follows the effective id. */
static const char *lock_a_page(void) {
  static char page[4096] __attribute__((aligned(4096)));
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_MEMLOCK, &none);
  int r = mlock(page, sizeof page);
  const char *result = r == 0 ? "ok" : strerror(errno);
  munlock(page, sizeof page);
  return result;
}

// Raw syscalls: glibc's setgroups wrapper broadcasts to every thread, and the errors must be the kernel's.
static long raw_setgroups(long n, const void *list) {
  long r = syscall(SYS_setgroups, n, list);
  return r < 0 ? -errno : r;
}
static long raw_getgroups(long n, void *list) {
  long r = syscall(SYS_getgroups, n, list);
  return r < 0 ? -errno : r;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1 && strcmp(argv[1], "exec") == 0) {
    show("after exec");
    status_groups();
    return 0;
  }
  gid_t many[4] = {1000, 5, 5, 70000};
  printf("setgroups(-1) %ld\n", raw_setgroups(-1, many));
  printf("setgroups(65537) %ld\n", raw_setgroups(65537, many));
  printf("setgroups(bad ptr) %ld\n", raw_setgroups(2, (void *)8));
  gid_t invalid[2] = {7, (gid_t)-1};
  printf("setgroups(-1 gid) %ld\n", raw_setgroups(2, invalid));
  printf("setgroups(0) %ld\n", raw_setgroups(0, NULL));
  printf("count %ld\n", raw_getgroups(0, NULL));
  printf("setgroups(4) %ld\n", raw_setgroups(4, many));
  printf("count %ld\n", raw_getgroups(0, NULL));
  gid_t two[2];
  printf("getgroups(2) %ld\n", raw_getgroups(2, two));
  printf("getgroups(-1) %ld\n", raw_getgroups(-1, two));
  printf("getgroups(bad ptr) %ld\n", raw_getgroups(4, (void *)8));
  show("sorted");
  status_groups();

  pid_t child = fork();
  if (child == 0) {
    show("fork child");
    _exit(0);
  }
  waitpid(child, NULL, 0);
  child = fork();
  if (child == 0) {
    execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
    _exit(127);
  }
  waitpid(child, NULL, 0);

  // A file of group 4242 with group read only: readable through a supplementary group, once not root.
  char dir[] = "/tmp/creds-groups-XXXXXX";
  if (mkdtemp(dir) == NULL) return 1;
  chmod(dir, 0777);
  char path[64];
  snprintf(path, sizeof path, "%s/f", dir);
  int fd = open(path, O_CREAT | O_WRONLY, 0640);
  close(fd);
  chown(path, 0, 4242);
  child = fork();
  if (child == 0) {
    gid_t g[1] = {4242};
    printf("setgroups([4242]) %ld\n", raw_setgroups(1, g));
    if (setresgid(1000, 1000, 1000) != 0 || setresuid(1000, 1000, 1000) != 0) _exit(2);
    show("after setuid");
    fd = open(path, O_RDONLY);
    printf("open for reading: %s\n", fd >= 0 ? "ok" : strerror(errno));
    fd = open(path, O_WRONLY);
    printf("open for writing: %s\n", fd >= 0 ? "ok" : strerror(errno));
    char mine[80];
    snprintf(mine, sizeof mine, "%s/mine", dir);
    close(open(mine, O_CREAT | O_WRONLY, 0600));
    printf("chown to group 4242: %s\n", chown(mine, -1, 4242) == 0 ? "ok" : strerror(errno));
    printf("chown to group 4243: %s\n", chown(mine, -1, 4243) == 0 ? "ok" : strerror(errno));
    unlink(mine);
    printf("setgroups unprivileged %ld\n", raw_setgroups(0, NULL));
    _exit(0);
  }
  waitpid(child, NULL, 0);
  child = fork();
  if (child == 0) {
    if (setresgid(1000, 1000, 1000) != 0 || setresuid(1000, 1000, 1000) != 0) _exit(2);
    raw_setgroups(0, NULL);
    fd = open(path, O_RDONLY);
    printf("without the group: %s\n", fd >= 0 ? "ok" : strerror(errno));
    _exit(0);
  }
  waitpid(child, NULL, 0);
  unlink(path);
  rmdir(dir);

  char secret[] = "/tmp/creds-secret-XXXXXX";
  close(mkstemp(secret));
  chmod(secret, 0600);
  child = fork();
  if (child == 0) {
    status_ids("root");
    if (setresgid(5, 6, 7) != 0 || setresuid(1, 0, 0) != 0) _exit(2);
    status_ids("uid 1, euid 0");
    // access(2) asks as the real ids, AT_EACCESS as the effective ones (which open uses).
    printf("  access of a 0600 root file: %s\n", access(secret, R_OK) == 0 ? "ok" : strerror(errno));
    printf("  with AT_EACCESS: %s\n", faccessat(AT_FDCWD, secret, R_OK, AT_EACCESS) == 0 ? "ok" : strerror(errno));
    fd = open(secret, O_RDONLY);
    printf("  open: %s\n", fd >= 0 ? "ok" : strerror(errno));
    printf("  mlock past RLIMIT_MEMLOCK: %s\n", lock_a_page());
    if (setresuid(1, 2, 0) != 0) _exit(3);
    status_ids("euid 2, saved 0");
    printf("  mlock past RLIMIT_MEMLOCK: %s\n", lock_a_page());
    if (setresuid(1, 2, 2) != 0) _exit(4);
    status_ids("no id 0");
    _exit(0);
  }
  waitpid(child, NULL, 0);
  unlink(secret);
  return 0;
}
