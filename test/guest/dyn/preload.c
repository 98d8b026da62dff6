// LD_PRELOAD: replaces liba's greeting for the whole program.
const char *greeting(void) {
  return "hello from the preloaded library";
}
