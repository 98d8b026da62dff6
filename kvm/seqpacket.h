// One SOCK_SEQPACKET message with fds beside it (SCM_RIGHTS), sent and received: the Gofer's socket,
// used by the addon (the Sentry's Gofer client) and by the Gofer executable alike.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace tsvisor {
// Most fds one message carries; the protocol uses one.
constexpr size_t kMaxMessageFds = 8;

// Sends data[0, length) as one message with nfds fds (at most kMaxMessageFds): bytes sent or -errno.
// Blocks while the peer's queue is full; MSG_NOSIGNAL turns a closed peer into -EPIPE.
ssize_t SendMessage(int fd, const void* data, size_t length, const int* fds, size_t nfds);

// Receives one message into buf: bytes (0 = the peer closed) or -errno. fds_out[0, max_fds) gets the
// fds received (close-on-exec), then -1s. timeout_ms < 0 waits forever, else -ETIMEDOUT after that
// long. A message larger than buf, or with more than max_fds fds, is dropped whole (its fds closed)
// and gives -EMSGSIZE.
ssize_t ReceiveMessage(int fd, void* buf, size_t capacity, int* fds_out, size_t max_fds, int64_t timeout_ms);
}  // namespace tsvisor
