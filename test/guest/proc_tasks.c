// /proc/PID/task/TID: one directory per live thread, whose status, stat and comm are that thread's
// (its tid as Pid and as stat's first field, its own name), and which goes when the thread ends.
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_barrier_t ready, done;

static void *worker(void *arg) {
  char name[16];
  snprintf(name, sizeof name, "worker-%ld", (long)arg);
  prctl(PR_SET_NAME, name);
  pthread_barrier_wait(&ready);
  pthread_barrier_wait(&done);
  return NULL;
}

static int count_tasks(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

static void read_file(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(buf, 1, size - 1, f) : 0;
  buf[n] = 0;
  if (f) fclose(f);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
  pthread_barrier_init(&ready, NULL, 4);
  pthread_barrier_init(&done, NULL, 4);
  pthread_t t[3];
  for (long i = 0; i < 3; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  pthread_barrier_wait(&ready);
  printf("threads listed: %d\n", count_tasks());

  char *names[8];
  int n = 0, pids_ok = 1, stat_ok = 1;
  DIR *d = opendir("/proc/self/task");
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char path[128], buf[4096];
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    read_file(path, buf, sizeof buf);
    buf[strcspn(buf, "\n")] = 0;
    names[n++] = strdup(buf);
    snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
    read_file(path, buf, sizeof buf);
    char want[64];
    snprintf(want, sizeof want, "\nPid:\t%s\n", e->d_name);
    pids_ok &= strstr(buf, want) != NULL;
    snprintf(want, sizeof want, "\nTgid:\t%d\n", getpid());
    pids_ok &= strstr(buf, want) != NULL;
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
    read_file(path, buf, sizeof buf);
    stat_ok &= strncmp(buf, e->d_name, strlen(e->d_name)) == 0 && buf[strlen(e->d_name)] == ' ';
  }
  closedir(d);
  qsort(names, n, sizeof names[0], cmp);
  for (int i = 0; i < n; i++) printf("comm: %s\n", names[i]);
  printf("status: Pid is the tid, Tgid the pid: %s\n", pids_ok ? "yes" : "no");
  printf("stat starts with the tid: %s\n", stat_ok ? "yes" : "no");
  char self[64];
  snprintf(self, sizeof self, "/proc/self/task/%ld", (long)syscall(SYS_gettid));
  printf("the main thread's own directory: %s\n", access(self, F_OK) == 0 ? "yes" : "no");

  pthread_barrier_wait(&done);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  // pthread_join returns once the thread's tid word is cleared, a moment before Linux forgets the
  // thread: the ended threads leave the listing soon after, not necessarily at once.
  int left = count_tasks();
  for (int i = 0; i < 200 && left != 1; i++) usleep(10 * 1000), left = count_tasks();
  printf("after the joins: %d\n", left);
  return 0;
}
