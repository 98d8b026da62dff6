// memfd_create and file seals: the flags and the name, the file as /proc and fstat show it, reads,
// writes, truncation and mappings (shared, private, across fork), each seal and what it refuses,
// and the seal commands on other files; compared with the host kernel.
#include "fs_common.h"
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x8U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x10U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x10
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x20
#endif

static void show_link(int fd) {
  char path[64], target[512] = {0};
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  long n = readlink(path, target, sizeof target - 1);
  printf("fd link: %s\n", n < 0 ? strerrorname_np(errno) : target);
}

/** The /proc/self/maps line of the mapping at addr: its permissions and name. */
static void show_map(void *addr) {
  char line[512], want[32];
  snprintf(want, sizeof want, "%lx-", (unsigned long)addr);
  FILE *f = fopen("/proc/self/maps", "r");
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, want, strlen(want)) != 0) continue;
    char perms[8], name[256] = "";
    sscanf(line, "%*s %7s %*s %*s %*s %255[^\n]", perms, name);
    printf("maps: %s %s\n", perms, name);
  }
  if (f != NULL) fclose(f);
  fflush(stdout);
}

static int reopen(int fd, int flags) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  return open(path, flags);
}

int main(void) {
  // Flags, then the name, as mm/memfd.c checks them.
  T(memfd_create("x", 0x100));
  T(memfd_create("x", MFD_EXEC | MFD_NOEXEC_SEAL));
  T(memfd_create((const char *)8, 0));
  char name[300];
  memset(name, 'n', sizeof name);
  name[249] = 0;
  int longest = T(memfd_create(name, 0));
  show_link(longest);
  T(close(longest));
  name[249] = 'n';
  name[250] = 0;
  T(memfd_create(name, 0));
  // A name running into an unmapped page.
  char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  T(munmap(pages + 4096, 4096));
  memset(pages + 4096 - 10, 'e', 10);
  T(memfd_create(pages + 4096 - 10, 0));
  T(memfd_create("", 0) >= 0);

  // The file: a regular file with no links, read and written like any other.
  int fd = T(memfd_create("data", MFD_CLOEXEC));
  show_link(fd);
  T(fcntl(fd, F_GETFD));
  T(fcntl(fd, F_GETFL));
  struct stat st;
  T(fstat(fd, &st));
  show_stat("fstat", &st);
  T(st.st_uid == geteuid() && st.st_gid == getegid());
  struct statfs sfs;
  T(fstatfs(fd, &sfs));
  printf("f_type: %lx\n", (long)sfs.f_type);
  T(fcntl(fd, F_GET_SEALS));
  T(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  T(write(fd, "hello, memfd", 12));
  T(lseek(fd, 0, SEEK_CUR));
  char buf[64] = {0};
  T(pread(fd, buf, sizeof buf, 0));
  printf("pread: %s\n", buf);
  T(lseek(fd, 7, SEEK_SET));
  memset(buf, 0, sizeof buf);
  T(read(fd, buf, 5));
  printf("read: %s\n", buf);
  T(pwrite(fd, "M", 1, 7));
  T(lseek(fd, 0, SEEK_END));
  T(ftruncate(fd, 8192));
  T(lseek(fd, 0, SEEK_HOLE));
  T(fstat(fd, &st));
  show_stat("grown", &st);
  T(fchmod(fd, 0640));
  T(fstat(fd, &st));
  show_stat("fchmod", &st);
  T(fchmod(fd, 0777));

  // Shared and private mappings see the file's pages as tmpfs files do.
  char *shared = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  T(shared == MAP_FAILED);
  show_map(shared);
  printf("memory sees: %.12s\n", shared);
  memcpy(shared + 4096, "through memory", 14);
  memset(buf, 0, sizeof buf);
  T(pread(fd, buf, 14, 4096));
  printf("read sees: %s\n", buf);
  char *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  T(priv == MAP_FAILED);
  show_map(priv);
  memcpy(priv, "PRIVATE", 7);
  memset(buf, 0, sizeof buf);
  T(pread(fd, buf, 7, 0));
  printf("file after private write: %s\n", buf);
  T(munmap(priv, 4096));
  // /proc/self/fd/N opens the same file with an offset of its own.
  int again = T(reopen(fd, O_RDWR));
  T(lseek(again, 0, SEEK_CUR));
  memset(buf, 0, sizeof buf);
  T(read(again, buf, 5));
  printf("reopened reads: %s\n", buf);
  show_link(again);
  T(close(again));
  // A child writes through the shared mapping it inherited; the mapping outlives the fd.
  pid_t child = fork();
  if (child == 0) {
    memcpy(shared, "from child", 10);
    _exit(0);
  }
  int status;
  T(waitpid(child, &status, 0) == child && WIFEXITED(status));
  memset(buf, 0, sizeof buf);
  T(pread(fd, buf, 10, 0));
  printf("after child: %s\n", buf);
  T(close(fd));
  printf("after close: %.10s\n", shared);
  T(munmap(shared, 8192));

  // Without MFD_ALLOW_SEALING the file is sealed against seals; with it, it starts without any.
  int s = T(memfd_create("seals", MFD_ALLOW_SEALING));
  T(fcntl(s, F_GET_SEALS));
  T(fcntl(s, F_ADD_SEALS, 0x1000));
  int ro = T(reopen(s, O_RDONLY));
  T(fcntl(ro, F_ADD_SEALS, F_SEAL_SHRINK));
  T(fcntl(ro, F_GET_SEALS));
  T(ftruncate(s, 5000));
  T(fcntl(s, F_ADD_SEALS, F_SEAL_SHRINK));
  T(ftruncate(s, 4000));
  T(ftruncate(s, 6000));
  T(ftruncate(s, 5000));
  T(reopen(s, O_RDWR | O_TRUNC));
  T(fcntl(s, F_ADD_SEALS, F_SEAL_GROW));
  T(fcntl(ro, F_GET_SEALS));
  T(ftruncate(s, 5001));
  T(pwrite(s, "in", 2, 100));
  T(pwrite(s, "end", 3, 5997));
  T(pwrite(s, "past", 4, 5998));
  T(pwrite(s, "past", 4, 6000));
  static char big[8192];
  memset(big, 'g', sizeof big);
  // Page-sized steps: those that end inside the file go, the first that would grow it stops the write.
  T(pwrite(s, big, 6000, 0));
  T(pwrite(s, big, 6000, 3000));
  T(pwrite(s, big, 2000, 4096));
  T(fallocate(s, 0, 0, 5000));
  T(fallocate(s, 0, 0, 6000));
  T(fallocate(s, FALLOC_FL_KEEP_SIZE, 4096, 8192));
  T(fallocate(s, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
  T(lseek(s, 0, SEEK_END));
  // F_SEAL_WRITE waits for no writable shared mapping, a read-only one of a writable fd included.
  char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  T(w == MAP_FAILED);
  T(fcntl(s, F_ADD_SEALS, F_SEAL_WRITE));
  T(mprotect(w, 4096, PROT_READ));
  T(fcntl(s, F_ADD_SEALS, F_SEAL_WRITE));
  T(munmap(w, 4096));
  char *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
  T(r == MAP_FAILED);
  T(fcntl(s, F_ADD_SEALS, F_SEAL_WRITE));
  T(fcntl(s, F_GET_SEALS));
  T(write(s, "x", 1));
  T(pwrite(s, "x", 1, 0));
  T(write(s, "", 0));
  T(fallocate(s, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
  T(fallocate(s, 0, 0, 4096));
  T(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0) == MAP_FAILED);
  char *rs = mmap(NULL, 4096, PROT_READ, MAP_SHARED, s, 0);
  T(rs == MAP_FAILED);
  T(mprotect(rs, 4096, PROT_READ | PROT_WRITE));
  char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, s, 0);
  T(p == MAP_FAILED);
  p[0] = 'P';
  printf("private copy: %c, shared: %d\n", p[0], rs[0]);
  T(mprotect(p, 4096, PROT_READ));
  T(mprotect(p, 4096, PROT_READ | PROT_WRITE));
  T(munmap(p, 4096));
  T(munmap(rs, 4096));
  T(munmap(r, 4096));
  T(fcntl(s, F_ADD_SEALS, F_SEAL_SEAL));
  T(fcntl(s, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
  T(fcntl(s, F_GET_SEALS));
  memset(buf, 0, sizeof buf);
  T(pread(s, buf, 3, 5997));
  printf("sealed contents: %s\n", buf);
  T(close(ro));
  T(close(s));

  // F_SEAL_FUTURE_WRITE: mappings made before keep writing, nothing new may write.
  int fw = T(memfd_create("future", MFD_ALLOW_SEALING));
  T(ftruncate(fw, 4096));
  char *before = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fw, 0);
  T(before == MAP_FAILED);
  T(fcntl(fw, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
  memcpy(before, "still", 5);
  memset(buf, 0, sizeof buf);
  T(pread(fw, buf, 5, 0));
  printf("old mapping wrote: %s\n", buf);
  T(write(fw, "x", 1));
  T(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fw, 0) == MAP_FAILED);
  T(ftruncate(fw, 100));
  T(fcntl(fw, F_ADD_SEALS, F_SEAL_WRITE));
  T(munmap(before, 4096));
  // The fork child's copy of a mapping goes with the child.
  char *inherited = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fw, 0);
  T(inherited == MAP_FAILED);
  T(close(fw));
  T(munmap(inherited, 4096));
  int fk = T(memfd_create("forked", MFD_ALLOW_SEALING));
  T(ftruncate(fk, 4096));
  char *fm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fk, 0);
  child = fork();
  if (child == 0) _exit(fm[0]);
  T(waitpid(child, &status, 0) == child && WIFEXITED(status));
  T(munmap(fm, 4096));
  T(fcntl(fk, F_ADD_SEALS, F_SEAL_WRITE));
  T(close(fk));

  // MFD_NOEXEC_SEAL: not executable, and F_SEAL_EXEC keeps it so; F_SEAL_EXEC on an executable
  // file seals its contents too, writable mappings or not.
  int nx = T(memfd_create("noexec", MFD_NOEXEC_SEAL));
  T(fstat(nx, &st));
  show_stat("noexec", &st);
  T(fcntl(nx, F_GET_SEALS));
  T(fchmod(nx, 0755));
  T(fchmod(nx, 0600));
  T(write(nx, "w", 1));
  T(fcntl(nx, F_ADD_SEALS, F_SEAL_SEAL));
  T(fcntl(nx, F_GET_SEALS));
  T(close(nx));
  int ex = T(memfd_create("exec", MFD_EXEC | MFD_ALLOW_SEALING));
  T(ftruncate(ex, 4096));
  char *exm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ex, 0);
  T(exm == MAP_FAILED);
  T(fcntl(ex, F_ADD_SEALS, F_SEAL_EXEC));
  T(fcntl(ex, F_GET_SEALS));
  T(write(ex, "w", 1));
  T(ftruncate(ex, 0));
  T(fchmod(ex, 0666));
  T(munmap(exm, 4096));
  T(fchmod(ex, 0755));
  T(fcntl(ex, F_ADD_SEALS, F_SEAL_EXEC));
  T(fcntl(ex, F_GET_SEALS));
  T(write(ex, "w", 1));
  T(ftruncate(ex, 0));
  T(fchmod(ex, 0644));
  T(fchmod(ex, 0700));
  T(close(ex));

  // Seals on other files: a tmpfs file has F_SEAL_SEAL alone; pipes, devices and /proc files none.
  // A name of its own: the test runs natively more than once at a time.
  char shm_path[64];
  snprintf(shm_path, sizeof shm_path, "/dev/shm/tsvisor-memfd-%d", (int)getpid());
  int shm = T(open(shm_path, O_CREAT | O_RDWR | O_TRUNC, 0600));
  T(unlink(shm_path));
  T(fcntl(shm, F_GET_SEALS));
  T(fcntl(shm, F_ADD_SEALS, F_SEAL_WRITE));
  T(close(shm));
  int pp[2];
  T(pipe(pp));
  T(fcntl(pp[0], F_GET_SEALS));
  T(fcntl(pp[0], F_ADD_SEALS, F_SEAL_WRITE));
  T(fcntl(pp[1], F_ADD_SEALS, F_SEAL_WRITE));
  int null = T(open("/dev/null", O_RDWR));
  T(fcntl(null, F_GET_SEALS));
  T(fcntl(null, F_ADD_SEALS, F_SEAL_WRITE));
  int proc = T(open("/proc/self/status", O_RDONLY));
  T(fcntl(proc, F_GET_SEALS));
  T(fcntl(100, F_GET_SEALS));
  return 0;
}
