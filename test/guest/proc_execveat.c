// execveat(2): a program run from an open fd (AT_EMPTY_PATH, as fexecve does), also through an O_PATH
// fd; its AT_EXECFN; a #! script from an fd, and refused when that fd closes on exec; the errors for
// bad flags, a symlink with AT_SYMLINK_NOFOLLOW and an fd that is not a file.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static long execveat_(int fd, const char *path, char *const argv[], int flags) {
  return syscall(SYS_execveat, fd, path, argv, environ, flags);
}

// Runs fn in a child and returns its exit status (its output goes to our stdout).
static int in_child(void (*fn)(const char *), const char *arg) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    fn(arg);
    _exit(99);
  }
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void run_fd(const char *self) {
  int fd = open(self, O_RDONLY);
  char *argv[] = {"proc_execveat", "child", NULL};
  fexecve(fd, argv, environ);
  printf("fexecve: %s\n", strerror(errno));
}

static void run_opath(const char *self) {
  int fd = open(self, O_PATH);
  char *argv[] = {"proc_execveat", "child", NULL};
  execveat_(fd, "", argv, AT_EMPTY_PATH);
  printf("execveat O_PATH: %s\n", strerror(errno));
}

static void run_script(const char *script) {
  int fd = open(script, O_RDONLY);
  char *argv[] = {"script", "arg1", NULL};
  execveat_(fd, "", argv, AT_EMPTY_PATH);
  printf("execveat script: %s\n", strerror(errno));
}

static void run_script_cloexec(const char *script) {
  int fd = open(script, O_RDONLY | O_CLOEXEC);
  char *argv[] = {"script", NULL};
  execveat_(fd, "", argv, AT_EMPTY_PATH);
  printf("execveat script, close-on-exec fd: %s\n", strerror(errno));
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0) {
    printf("child runs, AT_EXECFN %s\n", (const char *)getauxval(AT_EXECFN));
    return 7;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *self = "/proc/self/exe";
  char exe[4096];
  ssize_t n = readlink(self, exe, sizeof exe - 1);
  if (n <= 0) return 1;
  exe[n] = 0;

  printf("fexecve child status %d\n", in_child(run_fd, exe));
  printf("O_PATH child status %d\n", in_child(run_opath, exe));

  char dir[] = "/tmp/execveat-XXXXXX";
  if (mkdtemp(dir) == NULL) return 1;
  char script[4200], link[4200];
  snprintf(script, sizeof script, "%s/script", dir);
  snprintf(link, sizeof link, "%s/link", dir);
  FILE *f = fopen(script, "w");
  fprintf(f, "#!/bin/sh\necho \"script runs as $0 with $1\"\nexit 5\n");
  fclose(f);
  chmod(script, 0755);
  printf("script child status %d\n", in_child(run_script, script));
  printf("cloexec script child status %d\n", in_child(run_script_cloexec, script));

  char *args[] = {"x", NULL};
  symlink(exe, link);
  printf("AT_SYMLINK_NOFOLLOW on a symlink: %s\n", execveat_(AT_FDCWD, link, args, AT_SYMLINK_NOFOLLOW) < 0 ? strerror(errno) : "ran");
  printf("unknown flag: %s\n", execveat_(AT_FDCWD, exe, args, 0x4) < 0 ? strerror(errno) : "ran");
  printf("empty path without AT_EMPTY_PATH: %s\n", execveat_(AT_FDCWD, "", args, 0) < 0 ? strerror(errno) : "ran");
  int p[2];
  pipe(p);
  printf("AT_EMPTY_PATH on a pipe: %s\n", execveat_(p[0], "", args, AT_EMPTY_PATH) < 0 ? strerror(errno) : "ran");
  printf("AT_EMPTY_PATH on a closed fd: %s\n", execveat_(100, "", args, AT_EMPTY_PATH) < 0 ? strerror(errno) : "ran");
  unlink(link);
  unlink(script);
  rmdir(dir);
  return 0;
}
