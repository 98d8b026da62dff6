#include "seqpacket.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace tsvisor {
namespace {
int64_t MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}
}  // namespace

ssize_t SendMessage(int fd, const void* data, size_t length, const int* fds, size_t nfds) {
  if (nfds > kMaxMessageFds) return -EINVAL;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxMessageFds)];
  struct iovec iov = {const_cast<void*>(data), length};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    std::memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    // SAFETY: CMSG_DATA has room for nfds ints (cmsg_len above); memcpy because it may be unaligned.
    std::memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
  }
  for (;;) {
    // SAFETY: msg points at iov (the caller's length bytes) and control, both alive for the call.
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? -errno : n;
  }
}

ssize_t ReceiveMessage(int fd, void* buf, size_t capacity, int* fds_out, size_t max_fds, int64_t timeout_ms) {
  for (size_t i = 0; i < max_fds; i++) fds_out[i] = -1;
  max_fds = std::min(max_fds, kMaxMessageFds);
  int64_t deadline = timeout_ms >= 0 ? MonotonicMs() + timeout_ms : 0;
  for (;;) {
    if (timeout_ms >= 0) {
      int64_t left = std::max<int64_t>(0, deadline - MonotonicMs());
      struct pollfd p = {fd, POLLIN, 0};
      // SAFETY: one pollfd on the stack.
      int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX)));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return -errno;
      if (r == 0) return -ETIMEDOUT;
    }
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxMessageFds)];
    struct iovec iov = {buf, capacity};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    // SAFETY: msg points at buf (capacity bytes) and control, both alive for the call.
    ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | (timeout_ms >= 0 ? MSG_DONTWAIT : 0));
    if (n < 0 && (errno == EINTR || (errno == EAGAIN && timeout_ms >= 0))) continue;
    if (n < 0) return -errno;
    size_t got = 0;
    bool dropped = false;
    for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
        int value;
        // SAFETY: the kernel wrote count ints after the header (cmsg_len); memcpy as it may be unaligned.
        std::memcpy(&value, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
        if (got < max_fds) {
          fds_out[got++] = value;
        } else {
          close(value);
          dropped = true;
        }
      }
    }
    if (dropped || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
      for (size_t i = 0; i < got; i++) {
        close(fds_out[i]);
        fds_out[i] = -1;
      }
      return -EMSGSIZE;
    }
    return n;
  }
}
}  // namespace tsvisor
