/* Files in flight in Unix sockets that nothing can reach any more, compared with the host kernel:
 * sockets sent over each other (a cycle) and then closed everywhere are collected when another Unix
 * socket goes, as Linux's unix_gc does, and a socket they carried goes with them (its peer reads end
 * of file); sockets still reachable from one held by the program are not. Stream, seqpacket and
 * datagram queues alike. */
#include "fs_common.h"
#include "net_common.h"
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

/* Another Unix socket made and closed: Linux runs its collector when one goes. */
static void kick(void) {
  int p[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, p);
  close(p[0]);
  close(p[1]);
}

static void wait_end(const char *what, int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int r = poll(&p, 1, 1000);
  printf("%s: poll=%d revents=%#x\n", what, r, r > 0 ? p.revents : 0);
  fflush(stdout);
}

static void no_end(const char *what, int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int r = poll(&p, 1, 100);
  printf("%s: poll=%d revents=%#x\n", what, r, r > 0 ? p.revents : 0);
  fflush(stdout);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* A pair sent over itself, each end in the other's queue, with a third socket in flight. */
  int ab[2], cd[2];
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, ab));
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, cd));
  int a_and_c[2] = {ab[0], cd[0]};
  T(send_fds(ab[0], "x", a_and_c, 2));
  T(send_fds(ab[1], "x", &ab[1], 1));
  close(ab[0]);
  close(ab[1]);
  close(cd[0]);
  /* (Not checked before the kick: Linux's collector is one for the whole host, and any Unix socket
   * closed anywhere may have run it already.) */
  kick();
  wait_end("collected", cd[1]);
  show_recv("its peer", cd[1], 10, 0);
  close(cd[1]);

  /* One socket sent over itself (in its own queue), carrying another. */
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, ab));
  T(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, cd));
  int b_and_c[2] = {ab[1], cd[0]};
  T(send_fds(ab[0], "x", b_and_c, 2));
  close(ab[0]);
  close(ab[1]);
  close(cd[0]);
  kick();
  wait_end("self", cd[1]);
  show_recv("its peer", cd[1], 10, 0);
  close(cd[1]);

  /* Still reachable: a socket held by the program reads the cycle, so nothing is collected. */
  int held[2];
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, held));
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, ab));
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, cd));
  T(send_fds(ab[0], "x", &ab[1], 1));
  int a_c[2] = {ab[0], cd[0]};
  T(send_fds(held[0], "x", a_c, 2));
  close(ab[0]);
  close(ab[1]);
  close(cd[0]);
  kick();
  no_end("reachable", cd[1]);
  /* Closing the reader of the outer queue frees it all. */
  close(held[0]);
  close(held[1]);
  kick();
  wait_end("then freed", cd[1]);
  show_recv("its peer", cd[1], 10, 0);
  close(cd[1]);

  /* Datagram sockets: one sent to itself, carrying a stream socket; a pair sent to each other. */
  int dg[2];
  T(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg));
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, cd));
  int d_c[2] = {dg[1], cd[0]};
  T(send_fds(dg[0], "x", d_c, 2));
  close(dg[1]);
  close(cd[0]);
  close(dg[0]);
  wait_end("datagram", cd[1]);
  show_recv("its peer", cd[1], 10, 0);
  close(cd[1]);
  T(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg));
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, cd));
  int d0_c[2] = {dg[0], cd[0]};
  T(send_fds(dg[0], "x", d0_c, 2));
  T(send_fds(dg[1], "x", &dg[1], 1));
  close(dg[0]);
  close(dg[1]);
  close(cd[0]);
  kick();
  wait_end("datagram pair", cd[1]);
  close(cd[1]);

    /* A connection's client in its own queue: collected when the listener goes (a Unix socket going). */
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  memcpy(sa.sun_path, "\0gc-listener", 12);
  T(bind(l, (struct sockaddr *)&sa, sizeof(sa_family_t) + 12));
  T(listen(l, 1));
  int cl = socket(AF_UNIX, SOCK_STREAM, 0);
  T(connect(cl, (struct sockaddr *)&sa, sizeof(sa_family_t) + 12));
  int sv = accept(l, NULL, NULL);
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, cd));
  int l_c[2] = {cl, cd[0]};
  T(send_fds(sv, "x", l_c, 2));
  close(cl);
  close(cd[0]);
  close(l);
  wait_end("after the listener", cd[1]);
  show_recv("its peer", cd[1], 10, 0);
  close(sv);
  close(cd[1]);
  return 0;
}
