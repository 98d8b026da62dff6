/* Threads that map, fill, check and unmap anonymous memory of mixed sizes (2 MiB pages and 4 KiB
   pages, areas that merge across threads, half unmaps that split huge pages), and read a file into it,
   all at once. Each thread's memory must hold what it wrote: page-table changes made for one vCPU must
   never undo another's, and no page may be copied while another thread writes it. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define THREADS 8
#define ITERATIONS 300

static const long sizes[] = {4096, 65536, 262144, 1 << 20, 3 << 20};
static unsigned char *file;
static long file_len;
static volatile int bad;

static void *worker(void *arg) {
  long id = (long)arg;
  unsigned seed = (unsigned)id;
  for (int i = 0; i < ITERATIONS && !bad; i++) {
    long len = sizes[rand_r(&seed) % 5];
    unsigned char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(2); }
    unsigned char tag = (unsigned char)(id * 31 + i + 1);
    memset(p, tag, len);
    for (long j = 0; j < len; j += 512) {
      if (p[j] != tag) { fprintf(stderr, "thread %ld: memory at +%ld lost what the thread wrote\n", id, j); bad = 1; break; }
    }
    if (len >= file_len) {
      int fd = open("/proc/self/exe", O_RDONLY);
      long got = read(fd, p, file_len);
      close(fd);
      if (got != file_len || memcmp(p, file, file_len) != 0) { fprintf(stderr, "thread %ld: a file read differs\n", id); bad = 1; }
    }
    if (rand_r(&seed) % 3 == 0) {
      munmap(p, len / 2);
      munmap(p + len / 2, len - len / 2);
    } else {
      munmap(p, len);
    }
  }
  return 0;
}

int main(void) {
  int fd = open("/proc/self/exe", O_RDONLY);
  file_len = lseek(fd, 0, SEEK_END);
  if (file_len > 1 << 20) file_len = 1 << 20;
  file = malloc(file_len);
  if (pread(fd, file, file_len, 0) != file_len) return 2;
  close(fd);
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++) pthread_create(&t[i], 0, worker, (void *)i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], 0);
  printf("%s\n", bad ? "corrupted" : "every thread's memory held what it wrote");
  return bad;
}
