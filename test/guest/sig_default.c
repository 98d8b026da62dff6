/* Default actions, compared with the host kernel by exit status: abort() ends with SIGABRT (134) even when
 * a SIGABRT handler returns; raise(SIGTERM) terminates (143); SIGQUIT dumps core (131); an ignored SIGTERM
 * or a handled one lets the program go on; an alarm with nothing to catch it terminates (142). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void note(int sig) { printf("handler %d returns\n", sig); }

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *what = argc > 1 ? argv[1] : "";
  printf("%s\n", what);
  if (strcmp(what, "abort") == 0) abort();
  if (strcmp(what, "abort-handler") == 0) {
    signal(SIGABRT, note);
    abort();
  }
  if (strcmp(what, "term") == 0) raise(SIGTERM);
  if (strcmp(what, "quit") == 0) kill(getpid(), SIGQUIT);
  if (strcmp(what, "ignored") == 0) {
    signal(SIGTERM, SIG_IGN);
    raise(SIGTERM);
  }
  if (strcmp(what, "handled") == 0) {
    signal(SIGTERM, note);
    raise(SIGTERM);
  }
  if (strcmp(what, "alarm") == 0) {
    alarm(1);
    pause();
  }
  printf("still running\n");
  return 3;
}
