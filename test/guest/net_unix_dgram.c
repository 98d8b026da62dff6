/* Unix-domain datagram sockets, compared with the host kernel: socketpair, bind to a path (in argv[1])
 * or an abstract name or autobind, connect (and EPROTOTYPE to a stream socket), sendto and recvfrom
 * with the sender's address, message boundaries, MSG_PEEK, MSG_TRUNC, truncation, MSG_DONTWAIT,
 * SCM_RIGHTS and SCM_CREDENTIALS, a full receive queue, a peer that is gone, poll and epoll, shutdown.
 * Nothing printed may differ between runs: no fd numbers, pids or autobind names (only their shape). */
#include "fs_common.h"
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static socklen_t path_addr(struct sockaddr_un *a, const char *path) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  strcpy(a->sun_path, path);
  return offsetof(struct sockaddr_un, sun_path) + strlen(path);
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  strcpy(a->sun_path + 1, name);
  return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static int dgram(void) {
  return socket(AF_UNIX, SOCK_DGRAM, 0);
}

/* The address a recvfrom gave: its length, and the path, the abstract name's shape, or nothing. */
static void show_from(const char *what, struct sockaddr_un *a, socklen_t len) {
  if (len <= offsetof(struct sockaddr_un, sun_path)) printf("%s: from len %u\n", what, len);
  else if (a->sun_path[0] == 0) printf("%s: from len %u abstract\n", what, len);
  else printf("%s: from len %u %s\n", what, len, a->sun_path);
  fflush(stdout);
}

static void recv_show(const char *what, int s, size_t room, int flags) {
  char buf[256];
  struct sockaddr_un from;
  socklen_t len = sizeof from;
  memset(&from, 0x55, sizeof from);
  ssize_t n = recvfrom(s, buf, room, flags, (struct sockaddr *)&from, &len);
  if (n < 0) {
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
  } else {
    printf("%s = %zd [%.*s]\n", what, n, (int)(n < (ssize_t)room ? n : (ssize_t)room), buf);
    show_from(what, &from, len);
  }
  fflush(stdout);
}

static void show_poll(const char *what, int s) {
  struct pollfd p = {s, POLLIN | POLLOUT | POLLRDHUP, 0};
  T(poll(&p, 1, 0));
  printf("%s: revents %#x\n", what, p.revents);
  fflush(stdout);
}

static void pairs(void) {
  int sv[2];
  T(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
  T(send(sv[0], "one", 3, 0));
  T(send(sv[0], "", 0, 0));
  T(send(sv[0], "three", 5, 0));
  show_poll("pair with data", sv[1]);
  recv_show("peek", sv[1], 100, MSG_PEEK);
  recv_show("first", sv[1], 100, 0);
  recv_show("empty", sv[1], 100, 0);
  recv_show("truncated with MSG_TRUNC", sv[1], 2, MSG_TRUNC);
  recv_show("nothing left", sv[1], 100, MSG_DONTWAIT);
  int type = 0;
  socklen_t tl = sizeof type;
  T(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &tl));
  printf("SO_TYPE %d\n", type);

  /* recvmsg sees MSG_TRUNC in msg_flags; a read takes one datagram. */
  T(send(sv[1], "abcdefgh", 8, 0));
  char small[4];
  struct iovec iov = {small, sizeof small};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  T(recvmsg(sv[0], &m, 0));
  printf("msg_flags %#x\n", m.msg_flags);
  T(send(sv[1], "xy", 2, 0));
  T(send(sv[1], "zw", 2, 0));
  char buf[16];
  T(read(sv[0], buf, sizeof buf));
  T(read(sv[0], buf, sizeof buf));

  /* A too large datagram; a full socket pair. */
  static char big[300000];
  T(send(sv[0], big, sizeof big, 0));
  int sent = 0;
  while (send(sv[0], "x", 1, MSG_DONTWAIT) == 1) sent++;
  printf("filled: %s after %s\n", strerrorname_np(errno), sent > 10 ? "many" : "few");
  show_poll("full pair writer", sv[0]);
  T(recv(sv[1], buf, sizeof buf, 0));
  T(send(sv[0], "x", 1, MSG_DONTWAIT));

  /* shutdown: own side only. */
  T(shutdown(sv[1], SHUT_RD));
  recv_show("after SHUT_RD", sv[1], 100, MSG_DONTWAIT);
  T(shutdown(sv[1], SHUT_WR));
  T(send(sv[1], "x", 1, MSG_NOSIGNAL));
  show_poll("shut both", sv[1]);
  close(sv[1]);
  T(send(sv[0], "x", 1, MSG_NOSIGNAL));
  T(send(sv[0], "x", 1, MSG_NOSIGNAL));
  recv_show("peer gone", sv[0], 100, MSG_DONTWAIT);
  close(sv[0]);
}

static void named(void) {
  struct sockaddr_un a, b;
  socklen_t alen = path_addr(&a, "srv.sock");
  int srv = dgram();
  T(bind(srv, (struct sockaddr *)&a, alen));
  int cli = dgram();
  T(sendto(cli, "unnamed", 7, 0, (struct sockaddr *)&a, alen));
  recv_show("from unnamed", srv, 100, 0);
  socklen_t blen = path_addr(&b, "cli.sock");
  T(bind(cli, (struct sockaddr *)&b, blen));
  T(sendto(cli, "named", 5, 0, (struct sockaddr *)&a, alen));
  recv_show("from named", srv, 100, 0);
  T(send(cli, "x", 1, 0));
  T(connect(cli, (struct sockaddr *)&a, alen));
  T(send(cli, "connected", 9, 0));
  recv_show("from connected", srv, 100, 0);
  struct sockaddr_un p;
  socklen_t plen = sizeof p;
  T(getpeername(cli, (struct sockaddr *)&p, &plen));
  printf("peer %s\n", p.sun_path);

  /* A socket connected elsewhere takes nothing from others. */
  int other = dgram();
  T(sendto(other, "x", 1, 0, (struct sockaddr *)&b, blen));
  T(connect(srv, (struct sockaddr *)&b, blen));
  T(sendto(other, "x", 1, 0, (struct sockaddr *)&a, alen));
  T(sendto(cli, "reply?", 6, 0, (struct sockaddr *)&a, alen));
  recv_show("connected pair", srv, 100, MSG_DONTWAIT);

  /* The queue of a receiver not connected back: ten datagrams and one more. */
  struct sockaddr_un q;
  socklen_t qlen = abstract_addr(&q, "tsvisor-dgram-queue");
  int rcv = dgram();
  T(bind(rcv, (struct sockaddr *)&q, qlen));
  int n = 0;
  while (sendto(other, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&q, qlen) == 1) n++;
  printf("queue full after %d: %s\n", n, strerrorname_np(errno));
  T(connect(other, (struct sockaddr *)&q, qlen));
  show_poll("writer to a full queue", other);
  pid_t child = fork();
  if (child == 0) {
    usleep(100000);
    char c;
    recv(rcv, &c, 1, 0);
    _exit(0);
  }
  T(send(other, "blocked", 7, 0));
  waitpid(child, NULL, 0);
  show_poll("reader of a full queue", rcv);

  /* Autobind, a stream socket, a name gone. */
  int ab = dgram();
  struct sockaddr_un any = {.sun_family = AF_UNIX};
  T(bind(ab, (struct sockaddr *)&any, sizeof(sa_family_t)));
  T(sendto(ab, "auto", 4, 0, (struct sockaddr *)&a, alen));
  recv_show("from autobound", srv, 100, MSG_DONTWAIT);
  T(connect(srv, (struct sockaddr *)&any, 0) == 0 ? 0 : -1);
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  T(connect(srv, &unspec, sizeof unspec));
  T(sendto(ab, "auto", 4, 0, (struct sockaddr *)&a, alen));
  recv_show("after disconnect", srv, 100, MSG_DONTWAIT);
  int stream = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un s;
  socklen_t slen = path_addr(&s, "stream.sock");
  T(bind(stream, (struct sockaddr *)&s, slen));
  T(listen(stream, 1));
  T(connect(ab, (struct sockaddr *)&s, slen));
  T(sendto(ab, "x", 1, 0, (struct sockaddr *)&s, slen));
  T(listen(srv, 1));
  T(accept(srv, NULL, NULL));
  close(rcv);
  T(sendto(ab, "x", 1, 0, (struct sockaddr *)&q, qlen));
  T(connect(ab, (struct sockaddr *)&a, alen));
  close(srv);
  T(send(ab, "x", 1, 0));
  T(send(ab, "x", 1, 0));
  T(sendto(ab, "x", 1, 0, (struct sockaddr *)&a, alen));
  T(unlink("srv.sock"));
  T(sendto(ab, "x", 1, 0, (struct sockaddr *)&a, alen));
  close(ab);
  close(cli);
  close(other);
  close(stream);
  unlink("cli.sock");
  unlink("stream.sock");
}

static void ancillary(void) {
  int sv[2];
  T(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
  int one = 1;
  T(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
  int pipefd[2];
  T(pipe(pipefd));
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct iovec iov = {"fd", 2};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &pipefd[1], sizeof(int));
  T(sendmsg(sv[0], &m, 0));
  T(send(sv[0], "plain", 5, 0));

  char data[16];
  char in[256];
  struct iovec riov = {data, sizeof data};
  struct msghdr r = {0};
  r.msg_iov = &riov;
  r.msg_iovlen = 1;
  r.msg_control = in;
  r.msg_controllen = sizeof in;
  T(recvmsg(sv[1], &r, 0));
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&r); h != NULL; h = CMSG_NXTHDR(&r, h)) {
    if (h->cmsg_type == SCM_CREDENTIALS) {
      struct ucred u;
      memcpy(&u, CMSG_DATA(h), sizeof u);
      printf("credentials: pid %s uid %u gid %u\n", u.pid == getpid() ? "self" : "other", u.uid, u.gid);
    } else if (h->cmsg_type == SCM_RIGHTS) {
      int fd;
      memcpy(&fd, CMSG_DATA(h), sizeof fd);
      T(write(fd, "p", 1));
      char got;
      T(read(pipefd[0], &got, 1));
      close(fd);
    }
  }
  r.msg_controllen = sizeof in;
  T(recvmsg(sv[1], &r, 0));
  printf("second: controllen %s\n", r.msg_controllen > 0 ? "some" : "none");

  /* epoll sees a datagram arrive. */
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
  T(epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev));
  T(epoll_wait(ep, &ev, 1, 0));
  T(send(sv[0], "e", 1, 0));
  T(epoll_wait(ep, &ev, 1, 1000));
  printf("epoll events %#x data %u\n", ev.events, ev.data.u32);

  /* A blocked recv wakes for a datagram from a child. */
  pid_t child = fork();
  if (child == 0) {
    usleep(100000);
    send(sv[0], "late", 4, 0);
    _exit(0);
  }
  recv(sv[1], data, sizeof data, 0);
  recv_show("blocked recv", sv[1], 100, 0);
  waitpid(child, NULL, 0);
  close(ep);
  close(sv[0]);
  close(sv[1]);
  close(pipefd[0]);
  close(pipefd[1]);
}

/* A fault, a SIGPIPE, FIONREAD, the peer's name, a sender that passes credentials, a blocked writer. */
static void edges(void) {
  int sv[2];
  T(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv));
  T(send(sv[0], "lost", 4, 0));
  T(send(sv[0], "kept", 4, 0));
  T(recv(sv[1], (void *)8, 4, 0));
  recv_show("after a fault", sv[1], 100, 0);
  T(send(sv[0], "12345", 5, 0));
  int avail = -1;
  T(ioctl(sv[1], FIONREAD, &avail));
  printf("FIONREAD %d\n", avail);
  struct sockaddr_un p;
  socklen_t plen = sizeof p;
  T(getpeername(sv[0], (struct sockaddr *)&p, &plen));
  printf("pair peer len %u\n", plen);
  T(send(sv[0], (void *)8, 4, 0));
  signal(SIGPIPE, SIG_IGN);
  T(shutdown(sv[0], SHUT_WR));
  T(send(sv[0], "x", 1, 0));
  signal(SIGPIPE, SIG_DFL);
  pid_t child = fork();
  if (child == 0) {
    send(sv[0], "x", 1, 0);
    _exit(0);
  }
  int status;
  waitpid(child, &status, 0);
  printf("send after SHUT_WR: %s\n", WIFSIGNALED(status) ? "killed" : "exited");
  close(sv[0]);
  close(sv[1]);

  struct sockaddr_un a;
  socklen_t alen = abstract_addr(&a, "tsvisor-dgram-edges");
  int rcv = dgram();
  T(bind(rcv, (struct sockaddr *)&a, alen));
  int snd = dgram();
  int one = 1;
  T(setsockopt(snd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
  T(sendto(snd, "cred", 4, 0, (struct sockaddr *)&a, alen));
  recv_show("from a sender with SO_PASSCRED", rcv, 100, 0);
  T(connect(snd, (struct sockaddr *)&a, alen));
  T(connect(rcv, (struct sockaddr *)&a, alen));
  T(send(rcv, "self", 4, 0));
  recv_show("to itself", rcv, 100, 0);

  /* A writer blocked in poll for room in a full queue wakes when it is read. */
  int w = dgram();
  T(connect(rcv, (struct sockaddr *)&(struct sockaddr){.sa_family = AF_UNSPEC}, sizeof(struct sockaddr)));
  T(connect(w, (struct sockaddr *)&a, alen));
  while (send(w, "f", 1, MSG_DONTWAIT) == 1) {}
  child = fork();
  if (child == 0) {
    usleep(100000);
    char c;
    recv(rcv, &c, 1, 0);
    _exit(0);
  }
  struct pollfd pf = {w, POLLOUT, 0};
  T(poll(&pf, 1, 5000));
  printf("woken writer: revents %#x\n", pf.revents);
  waitpid(child, NULL, 0);
  close(w);
  close(snd);
  close(rcv);
}

int main(int argc, char **argv) {
  enter(argc, argv);
  pairs();
  named();
  ancillary();
  edges();
  return 0;
}
