// Writes argv[3] bytes (default 4 MiB) of 'x' to fd argv[2] (1 or 2), the way argv[1] names:
//   stdio     fwrite in 4 KiB pieces (glibc buffers, then writes), checking ferror at the end
//   write     write(2) of the whole buffer at once, which must not come back short
//   writev    writev(2) of 64 pieces of a 64th each, likewise
// A reader of the other end may be slow: on Linux the writes wait for it. Reports problems on the
// other fd and exits 1; prints nothing else.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const char* how = argc > 1 ? argv[1] : "stdio";
  int fd = argc > 2 ? atoi(argv[2]) : 1;
  long total = argc > 3 ? atol(argv[3]) : 4L << 20;
  FILE* report = fd == 1 ? stderr : stdout;
  char* buf = malloc(total);
  if (buf == NULL) return 2;
  memset(buf, 'x', total);
  if (strcmp(how, "stdio") == 0) {
    FILE* out = fd == 1 ? stdout : stderr;
    setvbuf(out, NULL, _IOFBF, 4096);
    for (long done = 0; done < total; done += 4096) fwrite(buf + done, 1, total - done < 4096 ? total - done : 4096, out);
    fflush(out);
    if (ferror(out)) {
      fprintf(report, "ferror on fd %d\n", fd);
      return 1;
    }
  } else if (strcmp(how, "write") == 0) {
    ssize_t n = write(fd, buf, total);
    if (n != total) {
      fprintf(report, "write returned %zd of %ld\n", n, total);
      return 1;
    }
  } else {
    struct iovec iov[64];
    for (int i = 0; i < 64; i++) iov[i] = (struct iovec){buf + i * (total / 64), total / 64};
    ssize_t n = writev(fd, iov, 64);
    if (n != total / 64 * 64) {
      fprintf(report, "writev returned %zd of %ld\n", n, total / 64 * 64);
      return 1;
    }
  }
  return 0;
}
