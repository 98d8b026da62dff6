// Loaded with dlopen: its TLS block is allocated at run time (__tls_get_addr), and it calls liba.
int a_bump(void);

__thread int plugin_tls = 1000;

int plugin_tls_add(int x) {
  return plugin_tls += x;
}

int plugin_calls_liba(void) {
  return a_bump();
}
