// What a process learns about itself and its machine, compared with the host kernel: the auxiliary
// vector (and /proc/self/auxv), /proc/self/{cmdline,environ,stat,status,statm,exe,cgroup,mountinfo},
// sysinfo(2) against /proc/meminfo, and the CPU count by every road (sched_getaffinity, sysconf,
// get_nprocs, /sys/devices/system/cpu/online, /proc/cpuinfo). Only facts that hold on any machine are
// printed ("matches", "yes"), never the numbers themselves, except those Linux fixes.
// With the argument "values" it prints the machine's figures instead, for checks against --cpus and
// --memory.
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
extern const ElfW(Ehdr) __ehdr_start;
extern void _start(void);

static size_t slurp(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return 0;
  size_t n = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[n] = 0;
  return n;
}

static const char *yes(int ok) {
  return ok ? "yes" : "no";
}

static char buf[1 << 20];
static char text_of_child[4096];

/** The value of "Key:" in a /proc file of that form, or -1. */
static long field(const char *path, const char *key) {
  slurp(path, buf, sizeof buf);
  size_t len = strlen(key);
  for (char *line = buf; line != NULL && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, key, len) == 0 && line[len] == ':') return strtol(line + len + 1, NULL, 10);
  }
  return -1;
}

static int count_cpus_in_list(const char *list) {
  int n = 0;
  for (const char *p = list; *p && *p != '\n';) {
    char *end;
    long a = strtol(p, &end, 10), b = a;
    if (*end == '-') b = strtol(end + 1, &end, 10);
    n += b - a + 1;
    p = *end == ',' ? end + 1 : end;
  }
  return n;
}

static int cpuinfo_processors(void) {
  slurp("/proc/cpuinfo", buf, sizeof buf);
  int n = 0;
  for (char *p = buf; (p = strstr(p, "processor\t:")) != NULL; p++) n++;
  return n;
}

static int online_cpus(void) {
  char list[256];
  if (slurp("/sys/devices/system/cpu/online", list, sizeof list) == 0) return -1;
  return count_cpus_in_list(list);
}

static int values(void) {
  cpu_set_t set;
  sched_getaffinity(0, sizeof set, &set);
  struct sysinfo si;
  sysinfo(&si);
  char text[256] = "";
  printf("sched_getaffinity: %d\n", CPU_COUNT(&set));
  printf("nprocs: %ld %d\n", sysconf(_SC_NPROCESSORS_ONLN), get_nprocs());
  printf("online: %d cpuinfo: %d\n", online_cpus(), cpuinfo_processors());
  printf("sysinfo totalram: %lu MiB\n", si.totalram * si.mem_unit >> 20);
  printf("MemTotal: %ld MiB\n", field("/proc/meminfo", "MemTotal") >> 10);
  slurp("/sys/fs/cgroup/memory.max", text, sizeof text);
  printf("memory.max: %s", text);
  slurp("/sys/fs/cgroup/cpu.max", text, sizeof text);
  printf("cpu.max: %s", text);
  slurp("/sys/fs/cgroup/cpuset.cpus.effective", text, sizeof text);
  printf("cpuset.cpus.effective: %s", text);
  slurp("/proc/self/status", buf, sizeof buf);
  char *allowed = strstr(buf, "Cpus_allowed_list:");
  if (allowed != NULL) printf("%.*s\n", (int)strcspn(allowed, "\n"), allowed);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "values") == 0) return values();

  // The auxiliary vector: /proc/self/auxv holds what getauxval reads, in Linux's order.
  FILE *f = fopen("/proc/self/auxv", "rb");
  unsigned long pair[2];
  int same = 1, ended = 0;
  char order[512] = "";
  while (f != NULL && fread(pair, sizeof pair, 1, f) == 1) {
    if (pair[0] == AT_NULL) { ended = 1; break; }
    // glibc's x86 start-up replaces its copy of AT_HWCAP with its own bits: that one is not compared.
    if (pair[0] != AT_HWCAP && getauxval(pair[0]) != pair[1]) same = 0;
    // The vDSO and restartable sequences are not everywhere: their entries are left out of the order.
    if (pair[0] != AT_SYSINFO_EHDR && pair[0] != 27 && pair[0] != 28) sprintf(order + strlen(order), " %lu", pair[0]);
  }
  if (f != NULL) fclose(f);
  printf("/proc/self/auxv matches getauxval: %s, ends with AT_NULL: %s\n", yes(same), yes(ended));
  printf("auxv order:%s\n", order);
  printf("AT_PAGESZ %lu AT_PHENT %lu AT_FLAGS %lu AT_SECURE %lu AT_BASE %lu\n", getauxval(AT_PAGESZ), getauxval(AT_PHENT),
         getauxval(AT_FLAGS), getauxval(AT_SECURE), getauxval(AT_BASE));
  printf("AT_PHDR is the program's headers: %s\n", yes(getauxval(AT_PHDR) == (unsigned long)&__ehdr_start + __ehdr_start.e_phoff));
  printf("AT_PHNUM is e_phnum: %s\n", yes(getauxval(AT_PHNUM) == __ehdr_start.e_phnum));
  printf("AT_ENTRY is _start: %s\n", yes(getauxval(AT_ENTRY) == (unsigned long)&_start));
  printf("AT_EXECFN %s AT_PLATFORM %s\n", (char *)getauxval(AT_EXECFN), (char *)getauxval(AT_PLATFORM));
  printf("AT_RANDOM set: %s AT_HWCAP2 %#lx AT_MINSIGSTKSZ set: %s AT_CLKTCK %lu\n", yes(getauxval(AT_RANDOM) != 0),
         getauxval(AT_HWCAP2), yes(getauxval(AT_MINSIGSTKSZ) != 0), getauxval(AT_CLKTCK));
  printf("AT_UID/EUID/GID/EGID are the ids: %s\n", yes(getauxval(AT_UID) == getuid() && getauxval(AT_EUID) == geteuid() &&
         getauxval(AT_GID) == getgid() && getauxval(AT_EGID) == getegid()));

  uid_t r, e, saved;
  gid_t gr, ge, gsaved;
  getresuid(&r, &e, &saved);
  getresgid(&gr, &ge, &gsaved);
  printf("getresuid/getresgid are the ids: %s\n", yes(r == getuid() && e == geteuid() && saved == geteuid() &&
         gr == getgid() && ge == getegid() && gsaved == getegid()));
  printf("getgroups(0) counts what getgroups lists: %s\n", yes(getgroups(0, NULL) >= 0));

  // The arguments and environment as the process's memory holds them.
  size_t n = slurp("/proc/self/cmdline", buf, sizeof buf);
  size_t at = 0;
  int args_ok = 1;
  for (int i = 0; i < argc; i++) {
    if (at >= n || strcmp(buf + at, argv[i]) != 0) args_ok = 0;
    at += strlen(argv[i]) + 1;
  }
  printf("/proc/self/cmdline is argv: %s\n", yes(args_ok && at == n));
  n = slurp("/proc/self/environ", buf, sizeof buf);
  at = 0;
  int env_ok = 1;
  for (char **e = environ; *e != NULL; e++) {
    if (at >= n || strcmp(buf + at, *e) != 0) env_ok = 0;
    at += strlen(*e) + 1;
  }
  printf("/proc/self/environ is environ: %s\n", yes(env_ok && at == n));

  // A forked child has the same arguments, environment and auxiliary vector, at the same places.
  char *parent_copy = malloc(n);
  memcpy(parent_copy, buf, n);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    size_t m = slurp("/proc/self/environ", buf, sizeof buf);
    int same_env = m == n && memcmp(buf, parent_copy, n) == 0;
    m = slurp("/proc/self/auxv", buf, sizeof buf);
    printf("after fork: environ %s, cmdline %s, auxv %s\n", yes(same_env),
           yes(slurp("/proc/self/cmdline", text_of_child, sizeof text_of_child) > 0 && strcmp(text_of_child, argv[0]) == 0),
           yes(m > 0 && m % 16 == 0));
    fflush(stdout);
    _exit(0);
  }
  waitpid(child, NULL, 0);
  free(parent_copy);

  // /proc/self/stat: identity, and the addresses exec chose.
  slurp("/proc/self/stat", buf, sizeof buf);
  char *close = strrchr(buf, ')');
  char state;
  unsigned long v[52] = {0};
  int pid = atoi(buf);
  char *p = close + 2;
  state = *p;
  p += 2;
  for (int i = 3; i < 52 && *p; i++) v[i] = strtoul(p, &p, 10);
  printf("stat: pid %s, comm %.*s, state %c, threads %lu, exit signal %lu\n", yes(pid == getpid()),
         (int)(close - strchr(buf, '(') - 1), strchr(buf, '(') + 1, state, v[19], v[37]);
  printf("stat: code holds main: %s, arg_start is argv[0]: %s, env_start is environ[0]: %s, startstack above argv: %s\n",
         yes(v[25] <= (unsigned long)&main && (unsigned long)&main < v[26]), yes(v[47] == (unsigned long)argv[0]),
         yes(v[49] == (unsigned long)environ[0]), yes(v[27] < (unsigned long)argv[0] && v[27] >= (unsigned long)&argc));
  long vsize = v[22];

  // status and statm agree with each other and with stat.
  long vm_size = field("/proc/self/status", "VmSize");
  long vm_rss = field("/proc/self/status", "VmRSS");
  long threads = field("/proc/self/status", "Threads");
  long status_pid = field("/proc/self/status", "Pid");
  unsigned long sz = 0, res = 0;
  slurp("/proc/self/statm", buf, sizeof buf);
  sscanf(buf, "%lu %lu", &sz, &res);
  printf("status: Pid %s, Threads %ld, VmRSS > 0: %s, VmSize is stat's vsize: %s, statm size is VmSize: %s\n",
         yes(status_pid == getpid()), threads, yes(vm_rss > 0), yes(vm_size * 1024 == vsize), yes((long)sz * 4 == vm_size));

  // The executable and the mounts.
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[len < 0 ? 0 : len] = 0;
  char *real = realpath(argv[0], NULL);
  printf("/proc/self/exe is argv[0]'s real path: %s\n", yes(real != NULL && strcmp(real, exe) == 0));
  slurp("/proc/self/mountinfo", buf, sizeof buf);
  printf("mountinfo has / and /proc: %s %s\n", yes(strstr(buf, " / / ") != NULL), yes(strstr(buf, " / /proc ") != NULL && strstr(buf, " - proc ") != NULL));
  slurp("/proc/self/cgroup", buf, sizeof buf);
  printf("cgroup v2 entry: %s\n", yes(strncmp(buf, "0::/", 4) == 0 || strstr(buf, "\n0::/") != NULL));

  // The kernel, as uname and /proc/sys say.
  struct utsname u;
  uname(&u);
  char text[256];
  slurp("/proc/sys/kernel/osrelease", text, sizeof text);
  printf("osrelease is uname's: %s\n", yes(strncmp(text, u.release, strlen(u.release)) == 0));
  slurp("/proc/sys/kernel/ostype", text, sizeof text);
  printf("ostype %s", text);
  slurp("/proc/sys/vm/overcommit_memory", text, sizeof text);
  printf("overcommit_memory %s", text);

  // Memory and CPUs, by every road.
  struct sysinfo si;
  printf("sysinfo = %d\n", sysinfo(&si));
  printf("sysinfo totalram is MemTotal: %s, procs >= 1: %s, mem_unit %u\n",
         yes((long)(si.totalram * si.mem_unit / 1024) == field("/proc/meminfo", "MemTotal")), yes(si.procs >= 1), si.mem_unit);
  cpu_set_t set;
  sched_getaffinity(0, sizeof set, &set);
  int cpus = CPU_COUNT(&set);
  printf("CPUs agree (affinity, sysconf, get_nprocs, online, cpuinfo): %s\n",
         yes(cpus == sysconf(_SC_NPROCESSORS_ONLN) && cpus == get_nprocs() && cpus == online_cpus() && cpus == cpuinfo_processors()));
  return 0;
}
