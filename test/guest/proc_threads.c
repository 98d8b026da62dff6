// Threads: 8 pthreads increment a mutex-protected counter, a condition-variable ping-pong, 200 threads
// created and joined, and pthread_join's wake through clear_child_tid.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *increment(void *arg) {
  long n = (long)arg;
  for (long i = 0; i < n; i++) {
    pthread_mutex_lock(&lock);
    counter++;
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int turn, rounds = 1000;

static void *pong(void *arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < rounds; i++) {
    while (turn != 1) pthread_cond_wait(&cond, &lock);
    turn = 0;
    pthread_cond_signal(&cond);
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

static void *tid_of(void *arg) {
  *(long *)arg = syscall(SYS_gettid);
  return (void *)(long)(getpid() > 0);
}

int main(void) {
  pthread_t t[200];
  for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, increment, (void *)125000L);
  for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
  printf("counter %ld\n", counter);

  pthread_t p;
  pthread_create(&p, NULL, pong, NULL);
  pthread_mutex_lock(&lock);
  for (int i = 0; i < rounds; i++) {
    turn = 1;
    pthread_cond_signal(&cond);
    while (turn != 0) pthread_cond_wait(&cond, &lock);
  }
  pthread_mutex_unlock(&lock);
  pthread_join(p, NULL);
  printf("ping-pong %d rounds\n", rounds);

  long tids[200];
  int ok = 0, distinct = 1;
  for (int i = 0; i < 200; i++) pthread_create(&t[i], NULL, tid_of, &tids[i]);
  for (int i = 0; i < 200; i++) {
    void *r;
    pthread_join(t[i], &r);
    ok += (int)(long)r;
  }
  for (int i = 0; i < 200; i++) if (tids[i] == getpid()) distinct = 0;
  printf("200 threads joined: %d, tids differ from the pid: %d\n", ok, distinct);
  return 0;
}
