// A library with zero-initialised and initialised thread-local storage of its own, over-aligned.
static __thread char b_buf[64] __attribute__((aligned(64)));
static __thread int b_value = 100;

int b_bump(void) {
  b_buf[0]++;
  return b_value += 5 + b_buf[0];
}
