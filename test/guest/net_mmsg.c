// sendmmsg(2) and recvmmsg(2) on Unix datagram pairs and UDP on the loopback: each message's msg_len,
// a batch cut short by a full queue or by an error after the first message, MSG_DONTWAIT and
// MSG_WAITFORONE, a blocking recvmmsg that waits for every message (fed by a child), the timeout,
// vlen 0 and the errors for bad fds and addresses. Compared with the host kernel.
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 8

static void result(const char *what, long r) {
  printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(errno) : "");
}

static struct mmsghdr msgs[N];
static struct iovec iovs[N];
static char bufs[N][32];

/** msgs[i] carries "msg i" (sending) or has room for 32 bytes (receiving). */
static void prepare(int sending) {
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < N; i++) {
    if (sending) snprintf(bufs[i], sizeof bufs[i], "msg %d", i);
    else memset(bufs[i], 0, sizeof bufs[i]);
    iovs[i].iov_base = bufs[i];
    iovs[i].iov_len = sending ? strlen(bufs[i]) : sizeof bufs[i];
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_len = 999;
  }
}

static void show(int n) {
  for (int i = 0; i < n; i++) printf("  [%d] len %u '%.*s'\n", i, msgs[i].msg_len, (int)msgs[i].msg_len, bufs[i]);
}

static void batches(const char *what, int a, int b) {
  printf("%s:\n", what);
  prepare(1);
  result("sendmmsg 4", sendmmsg(a, msgs, 4, 0));
  printf("  lengths %u %u %u %u, untouched %u\n", msgs[0].msg_len, msgs[1].msg_len, msgs[2].msg_len, msgs[3].msg_len, msgs[4].msg_len);
  prepare(0);
  result("recvmmsg 8, MSG_DONTWAIT", recvmmsg(b, msgs, N, MSG_DONTWAIT, NULL));
  show(4);
  result("recvmmsg of nothing, MSG_DONTWAIT", recvmmsg(b, msgs, N, MSG_DONTWAIT, NULL));
  prepare(1);
  result("sendmmsg 2", sendmmsg(a, msgs, 2, 0));
  prepare(0);
  result("recvmmsg 8, MSG_WAITFORONE", recvmmsg(b, msgs, N, MSG_WAITFORONE, NULL));
  show(2);
  prepare(1);
  result("sendmmsg vlen 0", sendmmsg(a, msgs, 0, 0));
  msgs[1].msg_hdr.msg_iov = (void *)8;
  result("sendmmsg with a bad second message", sendmmsg(a, msgs, 3, 0));
  msgs[0].msg_hdr.msg_iov = (void *)8;
  result("sendmmsg with a bad first message", sendmmsg(a, msgs, 3, 0));
  prepare(0);
  result("recvmmsg of what got through", recvmmsg(b, msgs, N, MSG_DONTWAIT, NULL));
  show(1);
  // A blocking recvmmsg waits until every message came (a child sends them one by one).
  pid_t c = fork();
  if (c == 0) {
    prepare(1);
    for (int i = 0; i < 3; i++) {
      usleep(50000);
      sendmmsg(a, msgs + i, 1, 0);
    }
    _exit(0);
  }
  prepare(0);
  result("blocking recvmmsg 3", recvmmsg(b, msgs, 3, 0, NULL));
  show(3);
  waitpid(c, NULL, 0);
  // The timeout is looked at after each message: with messages queued, a zero timeout takes one.
  prepare(1);
  sendmmsg(a, msgs, 3, 0);
  prepare(0);
  struct timespec zero = {0, 0};
  result("recvmmsg with a zero timeout", recvmmsg(b, msgs, N, 0, &zero));
  result("the rest", recvmmsg(b, msgs, N, MSG_DONTWAIT, NULL));
  struct timespec bad = {0, 1000000000};
  result("recvmmsg with a bad timeout", recvmmsg(b, msgs, N, 0, &bad));
  result("recvmmsg with a timeout at a bad address", recvmmsg(b, msgs, N, 0, (void *)8));
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int sv[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  batches("unix datagrams", sv[0], sv[1]);
  // Batches until the send buffer is full: the last one that sent anything may stop part way.
  prepare(1);
  int sent = 0, partial = 0;
  for (int r; (r = sendmmsg(sv[0], msgs, N, MSG_DONTWAIT)) > 0;) {
    sent += r;
    partial += r < N;
  }
  printf("sent until full: %s, short batches at most one: %s, then: ", sent > N ? "many" : "few", partial <= 1 ? "yes" : "no");
  result("sendmmsg", sendmmsg(sv[0], msgs, N, MSG_DONTWAIT));
  close(sv[0]);
  close(sv[1]);

  int u = socket(AF_INET, SOCK_DGRAM, 0), v = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(v, (struct sockaddr *)&at, sizeof at);
  socklen_t len = sizeof at;
  getsockname(v, (struct sockaddr *)&at, &len);
  connect(u, (struct sockaddr *)&at, sizeof at);
  batches("udp", u, v);

  prepare(1);
  result("sendmmsg on a bad fd", sendmmsg(99, msgs, 1, 0));
  result("recvmmsg on a bad fd", recvmmsg(99, msgs, 1, 0, NULL));
  int p[2];
  pipe(p);
  result("sendmmsg on a pipe", sendmmsg(p[1], msgs, 1, 0));
  result("sendmmsg of messages at a bad address", sendmmsg(u, (void *)8, 1, 0));
  return 0;
}
