/* _exit from a nested call: exit_group with status 42, no stdio flush involved. */
#include <unistd.h>

__attribute__((noinline)) static void leave(int status) { _exit(status); }

int main(void) {
  static const char msg[] = "leaving with 42\n";
  if (write(1, msg, sizeof msg - 1) != (ssize_t)(sizeof msg - 1)) return 1;
  leave(42);
  return 0;
}
