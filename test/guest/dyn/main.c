// A dynamically linked program with thread-local storage in itself and in two libraries it links,
// a library loaded at run time with dlopen (dynamic TLS, a symbol of the libraries before it), and
// a symbol a preloaded library may replace (LD_PRELOAD). It prints its own mappings of the libraries.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

const char *greeting(void);
int a_bump(void);
int b_bump(void);
extern __thread int a_counter;

static __thread int main_tls = 40;
static __thread char aligned_tls[128] __attribute__((aligned(128)));

int main(void) {
  printf("%s\n", greeting());
  main_tls += 2;
  printf("main's TLS %d, aligned: %s\n", main_tls, ((uintptr_t)aligned_tls % 128) == 0 ? "yes" : "no");
  int first = a_bump();
  int second = a_bump();
  printf("liba's TLS %d %d, seen from main %d\n", first, second, a_counter);
  printf("libb's TLS %d\n", b_bump());
  void *plugin = dlopen("libdyn_plugin.so", RTLD_NOW);
  if (plugin == NULL) {
    printf("dlopen: %s\n", dlerror());
    return 1;
  }
  int (*add)(int) = (int (*)(int))dlsym(plugin, "plugin_tls_add");
  int (*calls_a)(void) = (int (*)(void))dlsym(plugin, "plugin_calls_liba");
  printf("plugin's dynamic TLS %d %d, liba through the plugin %d\n", add(5), add(6), calls_a());
  printf("dlsym of a missing symbol: %s\n", dlsym(plugin, "no_such_symbol") == NULL ? "null" : "found");
  dlclose(plugin);
  printf("dlopen of a missing library: %s\n", dlopen("libdyn_missing.so", RTLD_NOW) == NULL ? "fails" : "works");

  FILE *maps = fopen("/proc/self/maps", "r");
  char line[512];
  while (maps != NULL && fgets(line, sizeof line, maps) != NULL) {
    char perms[8], offset[32], path[400] = "";
    if (strstr(line, "libdyn_") == NULL) continue;
    sscanf(line, "%*s %7s %31s %*s %*s %399s", perms, offset, path);
    printf("mapped %s %s %s\n", perms, offset, strrchr(path, '/') + 1);
  }
  return 0;
}
