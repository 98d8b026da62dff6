/* Signals reach a program that computes without making syscalls, compared with the host kernel: an
 * interval timer's SIGALRM interrupts a busy loop ten times (the handler counts), and a last alarm with
 * the default action ends the loop (status 142). The loops do no syscalls, so only an interrupt of the running program delivers; without
 * one the program would spin until the test gives up. */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

static volatile int alarms;
static void on_alarm(int sig) {
  (void)sig;
  alarms++;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  signal(SIGALRM, on_alarm);
  struct itimerval it = {.it_interval = {0, 20000}, .it_value = {0, 20000}};
  setitimer(ITIMER_REAL, &it, NULL);
  volatile unsigned long spins = 0;
  while (alarms < 10) spins++;
  printf("10 alarms of a 20 ms timer while computing\n");
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  signal(SIGALRM, SIG_DFL);
  alarm(1);
  for (;;) spins++;
}
