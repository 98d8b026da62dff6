// Processes: fork+exit+wait with statuses, copy-on-write isolation, fork+exec+wait of 100 children,
// vfork+exec, a signal-ended child, orphans reparented to pid 1, waitid, and a futex shared between
// two processes through MAP_SHARED memory.
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int page[1024];

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0) return atoi(argv[2]);
  setvbuf(stdout, NULL, _IONBF, 0);

  pid_t pid = fork();
  if (pid == 0) _exit(7);
  int status;
  int got = waitpid(pid, &status, 0) == pid;
  printf("waited %d, exited %d, status %d\n", got, WIFEXITED(status), WEXITSTATUS(status));

  page[10] = 1;
  pid = fork();
  if (pid == 0) {
    page[10] = 2;
    usleep(20000);
    _exit(page[10]);
  }
  page[10] = 3;
  waitpid(pid, &status, 0);
  printf("cow: parent sees %d, child saw %d\n", page[10], WEXITSTATUS(status));

  int sum = 0;
  for (int i = 0; i < 100; i++) {
    pid = fork();
    if (pid == 0) {
      char n[8];
      snprintf(n, sizeof n, "%d", i % 50);
      execl("/proc/self/exe", argv[0], "child", n, (char *)NULL);
      _exit(127);
    }
    waitpid(pid, &status, 0);
    sum += WEXITSTATUS(status);
  }
  printf("100 fork+exec+wait: sum of statuses %d\n", sum);

  pid = vfork();
  if (pid == 0) {
    execl("/proc/self/exe", argv[0], "child", "9", (char *)NULL);
    _exit(127);
  }
  waitpid(pid, &status, 0);
  printf("vfork+exec: %d\n", WEXITSTATUS(status));

  pid = fork();
  if (pid == 0) {
    *(volatile int *)8 = 1;
    _exit(0);
  }
  waitpid(pid, &status, 0);
  printf("child signalled %d by %d\n", WIFSIGNALED(status), WTERMSIG(status));

  int none = waitpid(-1, &status, WNOHANG);
  printf("no child: %d %s\n", none, strerror(errno));

  // The orphan waits (up to 5 s) for its parent to end, and the top process for the orphan to end:
  // its end of the pipe closes then. No sleep decides the order on a loaded machine.
  int done[2];
  pipe(done);
  pid = fork();
  if (pid == 0) {
    pid_t middle = getpid();
    if (fork() == 0) {
      close(done[0]);
      for (int i = 0; i < 5000 && getppid() == middle; i++) usleep(1000);
      printf("orphan reparented: %d\n", getppid() != middle);
      fflush(stdout);
      _exit(0);
    }
    _exit(0);
  }
  close(done[1]);
  waitpid(pid, &status, 0);
  char end;
  while (read(done[0], &end, 1) > 0) {}
  close(done[0]);

  siginfo_t info;
  pid = fork();
  if (pid == 0) _exit(5);
  memset(&info, 0, sizeof info);
  waitid(P_PID, pid, &info, WEXITED);
  printf("waitid: code %d status %d right pid %d\n", info.si_code, info.si_status, info.si_pid == pid);

  int *word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  pid = fork();
  if (pid == 0) {
    while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == 0) syscall(SYS_futex, word, FUTEX_WAIT, 0, NULL, NULL, 0);
    _exit(*word);
  }
  usleep(20000);
  __atomic_store_n(word, 6, __ATOMIC_SEQ_CST);
  syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
  waitpid(pid, &status, 0);
  printf("shared futex: %d\n", WEXITSTATUS(status));
  return 0;
}
