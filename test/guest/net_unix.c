/* Unix-domain sockets step by step, compared with the host kernel: socket(2)'s errors, bind to a path
 * (in argv[1], the working directory), to an abstract name and autobind, listen, accept and connect
 * (blocking and not, a full backlog, a closed listener), names and SO_PEERCRED, sendmsg and recvmsg
 * with iovecs, SCM_RIGHTS and SCM_CREDENTIALS, MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT, MSG_NOSIGNAL, and
 * seqpacket message boundaries. Nothing printed may differ between runs: no fd numbers, pids or
 * autobind names (only their shape). */
#include "fs_common.h"
#include "net_common.h"
#include <poll.h>
#include <signal.h>
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

static int sock(void) {
  return socket(AF_UNIX, SOCK_STREAM, 0);
}

static int bind_path(int s, const char *path) {
  struct sockaddr_un a;
  socklen_t len = path_addr(&a, path);
  return bind(s, (struct sockaddr *)&a, len);
}

static int connect_path(int s, const char *path) {
  struct sockaddr_un a;
  socklen_t len = path_addr(&a, path);
  return connect(s, (struct sockaddr *)&a, len);
}

/* getsockname or getpeername: the length, and the path (or "abstract" with its length). */
static void show_name(const char *what, int s, int peer) {
  struct sockaddr_un a;
  memset(&a, 0x55, sizeof a);
  socklen_t len = sizeof a;
  int r = peer ? getpeername(s, (struct sockaddr *)&a, &len) : getsockname(s, (struct sockaddr *)&a, &len);
  if (r < 0) {
    printf("%s: -1 %s\n", what, strerrorname_np(errno));
  } else if (len <= offsetof(struct sockaddr_un, sun_path)) {
    printf("%s: len=%u family=%d unnamed\n", what, len, a.sun_family);
  } else if (a.sun_path[0] == 0) {
    printf("%s: len=%u abstract\n", what, len);
  } else {
    printf("%s: len=%u path=%s\n", what, len, a.sun_path);
  }
  fflush(stdout);
}

static void show_peercred(const char *what, int s) {
  struct ucred c;
  socklen_t len = sizeof c;
  if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &c, &len) < 0) {
    printf("%s: -1 %s\n", what, strerrorname_np(errno));
  } else if (c.pid == 0) {
    printf("%s: len=%u pid=0 uid=%d gid=%d\n", what, len, (int)c.uid, (int)c.gid);
  } else {
    printf("%s: len=%u pid=%s uid=%s gid=%s\n", what, len, c.pid == getpid() ? "self" : "other",
           c.uid == geteuid() ? "self" : "other", c.gid == getegid() ? "self" : "other");
  }
  fflush(stdout);
}

static int sockopt(int s, int opt) {
  int v = -1;
  socklen_t len = sizeof v;
  if (getsockopt(s, SOL_SOCKET, opt, &v, &len) < 0) return -1;
  return v;
}

static void show_read(const char *what, int fd, size_t n) {
  char buf[256];
  ssize_t r = read(fd, buf, n < sizeof buf ? n : sizeof buf);
  if (r < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
  else printf("%s: %zd \"%.*s\"\n", what, r, (int)r, buf);
  fflush(stdout);
}


/* Receives into a buffer with ctllen bytes of control room: what came, and the files (closed after). */
static void recv_fds(const char *what, int s, size_t ctllen, int flags) {
  char data[64];
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  union { char buf[256]; struct cmsghdr align; } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctllen ? ctl.buf : NULL, .msg_controllen = ctllen};
  ssize_t r = recvmsg(s, &m, flags);
  if (r < 0) {
    printf("%s: -1 %s\n", what, strerrorname_np(errno));
    fflush(stdout);
    return;
  }
  printf("%s: %zd \"%.*s\" flags=%#x controllen=%zu", what, r, (int)r, data, m.msg_flags, (size_t)m.msg_controllen);
  for (struct cmsghdr *c = m.msg_controllen ? CMSG_FIRSTHDR(&m) : NULL; c != NULL; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      printf(" rights(len=%zu):", (size_t)c->cmsg_len);
      for (int i = 0; i < n; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        struct stat st;
        int cloexec = fcntl(fd, F_GETFD) & FD_CLOEXEC;
        printf(" %s%s", fstat(fd, &st) == 0 ? type_name(st.st_mode) : "bad", cloexec ? "+cloexec" : "");
        close(fd);
      }
    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      struct ucred u;
      memcpy(&u, CMSG_DATA(c), sizeof u);
      printf(" creds(len=%zu): pid=%s uid=%s gid=%s", (size_t)c->cmsg_len, u.pid == getpid() ? "self" : "other",
             u.uid == geteuid() ? "self" : "other", u.gid == getegid() ? "self" : "other");
    } else {
      printf(" cmsg(%d,%d)", c->cmsg_level, c->cmsg_type);
    }
  }
  printf("\n");
  fflush(stdout);
}

static void sockets_and_errors(void) {
  printf("-- socket(2)\n");
  int s = F(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  T(fcntl(s, F_GETFL) & O_NONBLOCK);
  T(fcntl(s, F_GETFD));
  T(sockopt(s, SO_TYPE));
  T(sockopt(s, SO_DOMAIN));
  T(sockopt(s, SO_ACCEPTCONN));
  close(s);
  F(socket(AF_UNIX, 12, 0));
  F(socket(AF_UNIX, SOCK_STREAM | 0x100000, 0));
  F(socket(AF_UNIX, 4 /* SOCK_RDM */, 0));
  F(socket(AF_UNIX, 0, 0));
  F(socket(AF_UNIX, SOCK_STREAM, 5));
  F(socket(AF_UNIX, SOCK_STREAM, AF_UNIX));
  F(socket(99, SOCK_STREAM, 0));
  F(socket(-1, SOCK_STREAM, 0));
  F(socket(99, 12, 0));
  int p[2];
  T(pipe(p));
  F(bind(p[0], NULL, 0));
  F(listen(p[0], 1));
  F(accept(p[0], NULL, NULL));
  F(connect(p[0], NULL, 0));
  F(send(p[1], "x", 1, 0));
  close(p[0]);
  close(p[1]);
}

static void binding(void) {
  printf("-- bind\n");
  struct stat st;
  int s = sock();
  show_name("unbound name", s, 0);
  show_name("unbound peer", s, 1);
  show_peercred("unbound peercred", s);
  show_poll("unbound", s);
  T(bind_path(s, "sock"));
  show_path("sock", 0);
  show_name("bound name", s, 0);
  T(bind_path(s, "other"));
  T(stat("other", &st));
  int s2 = sock();
  T(bind_path(s2, "sock"));
  T(bind_path(s2, "nodir/sock"));
  T(close(open("file", O_CREAT | O_WRONLY, 0644)));
  T(bind_path(s2, "file/sock"));
  T(bind_path(s2, "file"));
  T(symlink("dangling-target", "link"));
  T(bind_path(s2, "link"));
  T(lstat("dangling-target", &st));
  umask(077);
  T(bind_path(s2, "private"));
  umask(022);
  show_path("private", 0);
  T(open("private", O_RDWR));
  T(unlink("private"));
  close(s2);

  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_INET;
  strcpy(a.sun_path, "x");
  s2 = sock();
  T(bind(s2, (struct sockaddr *)&a, sizeof a));
  a.sun_family = AF_UNIX;
  T(bind(s2, (struct sockaddr *)&a, 1));
  T(bind(s2, (struct sockaddr *)&a, 200));
  T(bind(s2, (struct sockaddr *)&a, sizeof a + 1));
  T(bind(s2, (struct sockaddr *)8, sizeof a));
  T(connect(s2, (struct sockaddr *)&a, sizeof(sa_family_t)));

  /* Autobind: a five-hex-digit abstract name. */
  T(bind(s2, (struct sockaddr *)&a, sizeof(sa_family_t)));
  socklen_t len = sizeof a;
  memset(&a, 0, sizeof a);
  T(getsockname(s2, (struct sockaddr *)&a, &len));
  int hex = 1;
  for (int i = 1; i < 6; i++) hex &= strchr("0123456789abcdef", a.sun_path[i]) != NULL && a.sun_path[i] != 0;
  printf("autobind: len=%u first=%d hex=%d\n", len, a.sun_path[0], hex);
  struct sockaddr_un before = a;
  T(bind(s2, (struct sockaddr *)&a, sizeof(sa_family_t)));
  len = sizeof a;
  T(getsockname(s2, (struct sockaddr *)&a, &len));
  T(memcmp(&a, &before, sizeof a) == 0);
  close(s2);

  /* The abstract namespace: every byte of the length counts. */
  int x = sock(), y = sock(), z = sock();
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "tsvisor-net-test-%010d", (int)getpid());
  socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 1 + n;
  T(bind(x, (struct sockaddr *)&a, alen));
  T(bind(x, (struct sockaddr *)&a, alen));
  T(bind(y, (struct sockaddr *)&a, alen));
  T(bind(y, (struct sockaddr *)&a, alen + 1));
  show_name("abstract name", x, 0);
  show_name("abstract name + NUL", y, 0);
  T(listen(x, 1));
  T(connect(z, (struct sockaddr *)&a, alen));
  show_name("abstract peer", z, 1);
  close(x);
  close(y);
  close(z);
  z = sock();
  T(connect(z, (struct sockaddr *)&a, alen));
  close(z);
  close(s);
}

static void connecting(void) {
  printf("-- listen, connect, accept\n");
  int l = sock();
  T(listen(l, 4));
  T(accept(l, NULL, NULL));
  T(bind_path(l, "listener"));
  T(accept(l, NULL, NULL));
  int c = sock();
  T(connect_path(c, "listener"));
  T(listen(l, 4));
  T(listen(l, 8));
  T(sockopt(l, SO_ACCEPTCONN));
  show_peercred("listener peercred", l);
  show_poll("listener idle", l);
  T(fcntl(l, F_SETFL, O_NONBLOCK));
  T(accept(l, NULL, NULL));
  T(accept4(l, NULL, NULL, 0x1234));
  show_poll("client before", c);
  T(connect_path(c, "listener"));
  show_poll("listener with one waiting", l);
  show_poll("client connected", c);
  T(connect_path(c, "listener"));
  T(connect_path(c, "nonexistent"));
  T(listen(c, 1));
  show_name("client name", c, 0);
  show_name("client peer", c, 1);
  show_peercred("client peercred", c);
  T(write(c, "hello", 5));
  struct sockaddr_un a;
  socklen_t len = sizeof a;
  memset(&a, 0x55, sizeof a);
  int s = F(accept4(l, (struct sockaddr *)&a, &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
  printf("accepted: len=%u family=%d\n", len, a.sun_family);
  T(fcntl(s, F_GETFL) & O_NONBLOCK);
  T(fcntl(s, F_GETFD));
  T(sockopt(s, SO_ACCEPTCONN));
  show_name("server name", s, 0);
  show_name("server peer", s, 1);
  show_peercred("server peercred", s);
  show_read("server read", s, 100);
  show_read("server read again", s, 100);
  T(write(s, "world", 5));
  show_recv("client recv", c, 100, 0);
  T(shutdown(c, SHUT_WR));
  show_poll("server after client SHUT_WR", s);
  show_read("server at EOF", s, 100);
  T(shutdown(c, 7));
  close(c);
  show_poll("server after client close", s);
  close(s);
  show_poll("listener after accept", l);

  /* What connect finds at other names. */
  int d = sock();
  T(connect_path(d, "file"));
  T(mkdir("dir", 0755));
  T(connect_path(d, "dir"));
  T(connect_path(d, "dir/none"));
  T(connect_path(d, "file/none"));
  T(connect_path(d, "sock"));
  T(mknod("mknod-sock", S_IFSOCK | 0644, 0));
  T(connect_path(d, "mknod-sock"));
  int u = sock();
  T(bind_path(u, "unlistened"));
  T(connect_path(d, "unlistened"));
  close(u);
  T(connect_path(d, "unlistened"));
  int q = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  T(bind_path(q, "seqpacket"));
  T(listen(q, 1));
  T(connect_path(d, "seqpacket"));
  close(q);
  T(symlink("listener", "to-listener"));
  T(connect_path(d, "to-listener"));
  s = F(accept(l, NULL, NULL));
  close(s);
  close(d);

  /* Unlinking the node leaves the listener; the name can be bound again. */
  c = sock();
  T(connect_path(c, "listener"));
  T(unlink("listener"));
  show_name("unlinked listener name", l, 0);
  d = sock();
  T(connect_path(d, "listener"));
  int l2 = sock();
  T(bind_path(l2, "listener"));
  T(connect_path(d, "listener"));
  T(listen(l2, 1));
  T(connect_path(d, "listener"));
  s = F(accept(l, NULL, NULL));
  T(accept(l, NULL, NULL));
  close(s);
  T(fcntl(l2, F_SETFL, O_NONBLOCK));
  s = F(accept(l2, NULL, NULL));
  close(s);
  close(c);
  close(d);
  close(l2);

  /* The backlog: one more than it says may wait; then connect waits, or says EAGAIN. */
  T(listen(l, 0));
  c = sock();
  d = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int e = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  T(bind_path(l2 = sock(), "backlog"));
  T(listen(l2, 0));
  T(connect_path(c, "backlog"));
  T(connect_path(d, "backlog"));
  show_poll("refused nonblocking client", d);
  pid_t child = fork();
  if (child == 0) {
    usleep(100000);
    int a2 = accept(l2, NULL, NULL);
    write(a2, "late", 4);
    _exit(0);
  }
  int b = sock();
  T(connect_path(b, "backlog"));
  T(waitpid(child, NULL, 0) == child);
  T(connect_path(e, "backlog"));
  int a1 = F(accept(l2, NULL, NULL));
  show_read("first client reads", c, 10);
  show_read("first client after the server closed", c, 10);
  T(write(b, "to a1", 5));
  show_read("accepted reads", a1, 10);
  T(connect_path(e, "backlog"));

  /* Closing the listener resets the connections it did not accept. */
  T(write(e, "unread", 6));
  close(l2);
  show_poll("queued client after listener close", e);
  show_read("queued client", e, 10);
  show_read("queued client again", e, 10);
  T(send(e, "x", 1, MSG_NOSIGNAL));
  T(sockopt(e, SO_ERROR));
  show_poll("reset client, error taken", e);
  close(a1);
  T(unlink("backlog"));
  close(b);
  close(c);
  close(d);
  close(e);

  close(l);
}

static void blocking_accept(void) {
  printf("-- blocking accept and names\n");
  int l = sock();
  T(bind_path(l, "blocking"));
  T(listen(l, 1));
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
  T(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev));
  T(epoll_wait(ep, &ev, 1, 0));
  pid_t child = fork();
  if (child == 0) {
    usleep(50000);
    int k = sock();
    bind_path(k, "named-client");
    connect_path(k, "blocking");
    write(k, "from child", 10);
    char buf[8];
    read(k, buf, sizeof buf);
    _exit(0);
  }
  ev.events = 0;
  T(epoll_wait(ep, &ev, 1, 5000));
  printf("epoll events=%#x data=%u\n", ev.events, ev.data.u32);
  struct sockaddr_un a;
  socklen_t len = sizeof a;
  int s = F(accept(l, (struct sockaddr *)&a, &len));
  printf("accepted from: len=%u path=%s\n", len, a.sun_path);
  show_peercred("server peercred (child)", s);
  char buf[32];
  struct sockaddr_un from;
  socklen_t flen = sizeof from;
  memset(&from, 0, sizeof from);
  ssize_t r = recvfrom(s, buf, 10, MSG_WAITALL, (struct sockaddr *)&from, &flen);
  printf("recvfrom: %zd \"%.*s\" addrlen=%u path=%s\n", r, (int)(r > 0 ? r : 0), buf, flen, from.sun_path);
  T(write(s, "bye", 3));
  T(waitpid(child, NULL, 0) == child);
  show_read("after child exit", s, 10);
  close(s);
  close(ep);
  close(l);
}

static void messages(void) {
  printf("-- sendmsg, recvmsg\n");
  signal(SIGPIPE, on_sigpipe);
  int sv[2];
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  struct iovec out[3] = {{"ab", 2}, {"cd", 2}, {"ef", 2}};
  struct msghdr m = {.msg_iov = out, .msg_iovlen = 3};
  T(sendmsg(sv[0], &m, 0));
  char x[3], y[3];
  struct iovec in[2] = {{x, 3}, {y, 3}};
  struct msghdr mi = {.msg_iov = in, .msg_iovlen = 2};
  T(recvmsg(sv[1], &mi, 0));
  printf("iovecs: %.3s %.3s flags=%#x\n", x, y, mi.msg_flags);
  struct sockaddr_un from;
  socklen_t flen = sizeof from;
  T(send(sv[0], "q", 1, 0));
  T(recvfrom(sv[1], x, 3, 0, (struct sockaddr *)&from, &flen));
  printf("recvfrom a pair: addrlen=%u\n", flen);
  T(sendto(sv[0], "q", 1, 0, (struct sockaddr *)&from, sizeof(struct sockaddr_un)));
  show_recv("dontwait on empty", sv[1], 10, MSG_DONTWAIT);

  /* SCM_RIGHTS */
  int p[2];
  T(pipe(p));
  int fds[3] = {p[0], p[1], open("file", O_RDONLY)};
  T(send_fds(sv[0], "fds", fds, 3));
  recv_fds("three files", sv[1], 256, 0);
  T(send_fds(sv[0], "cloexec", fds, 1));
  recv_fds("MSG_CMSG_CLOEXEC", sv[1], 256, MSG_CMSG_CLOEXEC);
  T(send_fds(sv[0], "short", fds, 3));
  recv_fds("room for one", sv[1], CMSG_LEN(sizeof(int)), 0);
  T(send_fds(sv[0], "none", fds, 2));
  recv_fds("no control buffer", sv[1], 0, 0);
  T(send_fds(sv[0], "tiny", fds, 2));
  recv_fds("control smaller than a header", sv[1], 8, 0);
  T(send_fds(sv[0], "read", fds, 2));
  show_read("read(2) of data with files", sv[1], 100);
  /* Files end a read: what came before them comes along, what follows waits. */
  T(send(sv[0], "aaa", 3, 0));
  T(send_fds(sv[0], "bbb", fds, 1));
  T(send(sv[0], "ccc", 3, 0));
  recv_fds("up to the files", sv[1], 256, 0);
  recv_fds("after the files", sv[1], 256, 0);
  T(send_fds(sv[0], "peek", fds, 1));
  recv_fds("peek", sv[1], 256, MSG_PEEK);
  recv_fds("after peek", sv[1], 256, 0);
  /* A passed pipe works in the receiver. */
  T(send_fds(sv[0], "p", &p[0], 1));
  T(write(p[1], "through", 7));
  {
    char d;
    union { char buf[64]; struct cmsghdr align; } ctl;
    struct iovec iov = {&d, 1};
    struct msghdr mm = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    T(recvmsg(sv[1], &mm, 0));
    int got;
    memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&mm)), sizeof got);
    show_read("read from the passed pipe", got, 100);
    close(got);
  }
  int bad = 999;
  T(send_fds(sv[0], "badfd", &bad, 1));
  {
    char ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {"z", 1};
    struct msghdr mm = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mm);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = 77;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    T(sendmsg(sv[0], &mm, 0));
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = sizeof ctl + 8;
    T(sendmsg(sv[0], &mm, 0));
    c->cmsg_len = CMSG_LEN(0);
    T(sendmsg(sv[0], &mm, 0));
    recv_fds("zero files", sv[1], 256, 0);
    c->cmsg_level = 99;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    T(sendmsg(sv[0], &mm, 0));
    recv_fds("other level ignored", sv[1], 256, 0);
    mm.msg_iovlen = 2000;
    T(sendmsg(sv[0], &mm, 0));
    T(sendmsg(sv[0], (struct msghdr *)8, 0));
  }

  /* SCM_CREDENTIALS */
  int on = 1;
  T(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
  T(sockopt(sv[1], SO_PASSCRED));
  T(send(sv[0], "cred", 4, 0));
  recv_fds("passcred", sv[1], 256, 0);
  {
    char ctl[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec iov = {"mine", 4};
    struct msghdr mm = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mm);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
    struct ucred u = {getpid(), geteuid(), getegid()};
    memcpy(CMSG_DATA(c), &u, sizeof u);
    T(sendmsg(sv[0], &mm, 0));
    recv_fds("sent credentials", sv[1], 256, 0);
    c->cmsg_len = CMSG_LEN(4);
    T(sendmsg(sv[0], &mm, 0));
  }
  T(send_fds(sv[0], "both", fds, 1));
  recv_fds("credentials and files", sv[1], 256, 0);
  T(send_fds(sv[0], "both", fds, 1));
  recv_fds("room for credentials only", sv[1], CMSG_SPACE(sizeof(struct ucred)), 0);
  on = 0;
  T(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));

  /* MSG_PEEK, MSG_WAITALL */
  T(send(sv[0], "peekaboo", 8, 0));
  show_recv("peek", sv[1], 4, MSG_PEEK);
  show_recv("peek again", sv[1], 100, MSG_PEEK);
  show_recv("recv", sv[1], 100, 0);
  pid_t child = fork();
  if (child == 0) {
    write(sv[0], "12", 2);
    usleep(50000);
    write(sv[0], "345", 3);
    _exit(0);
  }
  show_recv("waitall", sv[1], 4, MSG_WAITALL);
  T(waitpid(child, NULL, 0) == child);
  show_recv("rest", sv[1], 4, 0);
  T(send(sv[0], "ab", 2, 0));
  shutdown(sv[0], SHUT_WR);
  show_recv("waitall at EOF", sv[1], 10, MSG_WAITALL);

  /* EPIPE, SIGPIPE, ECONNRESET */
  T(send(sv[1], "x", 1, 0));
  close(sv[0]);
  T(send(sv[1], "x", 1, MSG_NOSIGNAL));
  printf("sigpipes=%d\n", sigpipes);
  T(send(sv[1], "x", 1, 0));
  printf("sigpipes=%d\n", sigpipes);
  T(write(sv[1], "x", 1));
  printf("sigpipes=%d\n", sigpipes);
  show_read("read after the peer closed with data unread", sv[1], 10);
  close(sv[1]);
  T(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  T(write(sv[0], "unread", 6));
  T(write(sv[1], "for 0", 5));
  close(sv[0]);
  show_poll("peer closed with data unread", sv[1]);
  show_read("pending data first", sv[1], 10);
  show_read("then", sv[1], 10);
  show_read("then", sv[1], 10);
  close(sv[1]);

  int u = sock();
  T(send(u, "x", 1, 0));
  T(write(u, "x", 1));
  show_read("read unconnected", u, 1);
  T(shutdown(u, SHUT_RDWR));
  show_poll("unconnected after shutdown", u);
  close(u);
  close(p[0]);
  close(p[1]);
  close(fds[2]);
  signal(SIGPIPE, SIG_DFL);
}

static void seqpacket(void) {
  printf("-- seqpacket\n");
  int sv[2];
  T(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
  T(sockopt(sv[0], SO_TYPE));
  T(send(sv[0], "abc", 3, 0));
  T(send(sv[0], "defgh", 5, 0));
  T(send(sv[0], "", 0, 0));
  T(send(sv[0], "ijkl", 4, 0));
  T(send(sv[0], "mnop", 4, 0));
  show_poll("seqpacket with messages", sv[1]);
  show_recv("one message", sv[1], 100, 0);
  show_recv("a short buffer", sv[1], 2, 0);
  show_recv("empty message", sv[1], 100, 0);
  show_recv("MSG_TRUNC", sv[1], 2, MSG_TRUNC);
  {
    char buf[2];
    struct iovec iov = {buf, 2};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    T(recvmsg(sv[1], &m, MSG_PEEK));
    printf("peeked flags=%#x\n", m.msg_flags);
    T(recvmsg(sv[1], &m, 0));
    printf("truncated flags=%#x\n", m.msg_flags);
  }
  int p[2];
  T(pipe(p));
  T(send_fds(sv[0], "withfd", p, 2));
  T(send(sv[0], "after", 5, 0));
  recv_fds("message with files", sv[1], 256, 0);
  recv_fds("next message", sv[1], 256, 0);
  show_recv("dontwait on empty", sv[1], 10, MSG_DONTWAIT);
  close(p[0]);
  close(p[1]);
  close(sv[0]);
  show_recv("after the peer closed", sv[1], 10, 0);
  T(send(sv[1], "x", 1, MSG_NOSIGNAL));
  close(sv[1]);

  int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  T(send(c, "x", 1, 0));
  show_recv("unconnected", c, 10, 0);
  T(bind_path(l, "seq"));
  T(listen(l, 2));
  T(connect_path(c, "seq"));
  T(send(c, "one", 3, 0));
  T(send(c, "two", 3, 0));
  int s = F(accept(l, NULL, NULL));
  T(sockopt(s, SO_TYPE));
  show_recv("server", s, 100, 0);
  show_recv("server", s, 100, 0);
  int stream = sock();
  T(connect_path(stream, "seq"));
  close(stream);
  close(s);
  close(c);
  close(l);
}

int main(int argc, char **argv) {
  enter(argc, argv);
  sockets_and_errors();
  binding();
  connecting();
  blocking_accept();
  messages();
  seqpacket();
  return 0;
}
