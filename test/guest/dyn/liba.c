// A library with initialised thread-local storage that the program reads directly (initial-exec TLS).
__thread int a_counter = 10;

int a_bump(void) {
  return ++a_counter;
}

const char *greeting(void) {
  return "hello from libdyn_a";
}
