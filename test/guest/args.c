/* Checks what the loader builds on the initial stack: argv, envp and the auxiliary vector.
 * Every value printed here must be the same natively and in the sandbox. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>

static void env(const char *name) {
  const char *v = getenv(name);
  printf("env %s=%s\n", name, v ? v : "(unset)");
}

int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d]=[%s]\n", i, argv[i]);
  env("TSVISOR_TEST_A");
  env("TSVISOR_TEST_B");
  printf("AT_PAGESZ=%lu\n", getauxval(AT_PAGESZ));
  printf("AT_PHENT=%lu\n", getauxval(AT_PHENT));
  printf("AT_PHNUM=%lu\n", getauxval(AT_PHNUM));
  printf("AT_UID=%lu\n", getauxval(AT_UID));
  printf("AT_EUID=%lu\n", getauxval(AT_EUID));
  printf("AT_GID=%lu\n", getauxval(AT_GID));
  printf("AT_EGID=%lu\n", getauxval(AT_EGID));
  printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
  printf("AT_CLKTCK=%lu\n", getauxval(AT_CLKTCK));
  /* The 16 random bytes differ per run; only their presence is comparable. */
  printf("AT_RANDOM=%s\n", getauxval(AT_RANDOM) != 0 ? "present" : "missing");
  const char *execfn = (const char *)getauxval(AT_EXECFN);
  printf("AT_EXECFN=%s\n", execfn ? execfn : "(none)");
  return 7;
}
