// Scheduling calls: policy, parameters, priorities, membarrier, subreaper, prlimit of a pid.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/membarrier.h>
int main(void) {
  struct sched_param p = {0};
  printf("policy %d\n", sched_getscheduler(0));
  printf("param %d prio %d\n", sched_getparam(0, &p), p.sched_priority);
  printf("max %d min %d\n", sched_get_priority_max(SCHED_FIFO), sched_get_priority_min(SCHED_OTHER));
  errno = 0; printf("getpriority %d errno %d\n", getpriority(PRIO_PROCESS, 0), errno);
  printf("setpriority %d\n", setpriority(PRIO_PROCESS, 0, 5));
  errno = 0; printf("getpriority %d\n", getpriority(PRIO_PROCESS, 0));
  printf("sched_setscheduler batch %d\n", sched_setscheduler(0, SCHED_BATCH, &p));
  printf("membarrier query %ld\n", syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0) & 1);
  int v = -1;
  printf("subreaper %d", prctl(PR_SET_CHILD_SUBREAPER, 1)); prctl(PR_GET_CHILD_SUBREAPER, &v); printf(" -> %d\n", v);
  int bad = sched_getscheduler(999999);
  printf("bad pid %d %s\n", bad, strerror(errno));
  struct rlimit r; printf("prlimit self %d\n", prlimit(getpid(), RLIMIT_NOFILE, NULL, &r));
  return 0;
}
