// The socket calls on the sockets the sandbox has: Unix-domain stream pairs from socketpair(2)
// (src/net/unix-socket.ts). Every other fd is no socket (ENOTSOCK), as on Linux; socket(2) itself is not
// implemented yet, so no other kind exists.
import { EFAULT, EINVAL, EISCONN, ENOPROTOOPT, ENOTSOCK, EOPNOTSUPP, EPROTONOSUPPORT, Errno } from '../abi/errno.js';
import { O_CLOEXEC, O_NONBLOCK } from '../abi/fcntl.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry, SyscallResult } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import {
  AF_UNIX, newStreamPair, SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_STREAM, UnixStreamSocket,
} from '../net/unix-socket.js';
import { partial } from './define.js';
import { readAt, writeAt } from './read-write.js';

const SOCK_TYPE_MASK = 0xf;
const SOCK_NONBLOCK = O_NONBLOCK;
const SOCK_CLOEXEC = O_CLOEXEC;
const SOCK_DGRAM = 2;
const SOCK_SEQPACKET = 5;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const MSG_CMSG_CLOEXEC = 0x4000_0000;
const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SO_ERROR = 4;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_PEERCRED = 17;
const SO_ACCEPTCONN = 30;
const SO_PROTOCOL = 38;
const SO_DOMAIN = 39;
/** net.core.wmem_max and rmem_max's default. */
const DEFAULT_MAX_BUFFER = 212992;
/** struct sockaddr_un of an unnamed socket: sa_family alone. */
const UNNAMED_ADDRESS = new Uint8Array([AF_UNIX, 0]);

function socketOf(task: Task, fd: number): UnixStreamSocket | Errno {
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  return file instanceof UnixStreamSocket ? file : ENOTSOCK;
}

function socketpair(task: Task, a: SyscallArgs): number | Errno {
  const domain = a.int(0);
  const type = a.int(1);
  const protocol = a.int(2);
  if ((type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return EINVAL;
  // Linux: socketpair exists for AF_UNIX only (others EOPNOTSUPP); protocol 0 or PF_UNIX.
  if (domain !== AF_UNIX) return EOPNOTSUPP;
  if (protocol !== 0 && protocol !== AF_UNIX) return EPROTONOSUPPORT;
  const kind = type & SOCK_TYPE_MASK;
  if (kind === SOCK_DGRAM || kind === SOCK_SEQPACKET) return EOPNOTSUPP; // datagram pairs: not yet
  if (kind !== SOCK_STREAM) return EINVAL;
  const [x, y] = newStreamPair(type & SOCK_NONBLOCK, { pid: task.group.pid, uid: task.euid, gid: task.egid });
  const cloexec = (type & SOCK_CLOEXEC) !== 0;
  x.incRef();
  y.incRef();
  try {
    const fdX = task.fds.add(x, cloexec);
    if (fdX instanceof Errno) return fdX;
    const fdY = task.fds.add(y, cloexec);
    if (fdY instanceof Errno) {
      task.fds.remove(fdX);
      return fdY;
    }
    const out = new Uint8Array(new Int32Array([fdX, fdY]).buffer);
    if (task.mm.copyOut(a.ptr(3), out) !== 8) {
      task.fds.remove(fdX);
      task.fds.remove(fdY);
      return EFAULT;
    }
    return 0;
  } finally {
    x.decRef();
    y.decRef();
  }
}

/** A call with MSG_DONTWAIT runs as if the description were O_NONBLOCK, for this call only. */
function withFlags(sock: UnixStreamSocket, dontWait: boolean, call: () => SyscallResult): SyscallResult {
  if (!dontWait || (sock.flags & O_NONBLOCK) !== 0) return call();
  sock.flags |= O_NONBLOCK;
  try {
    return call();
  } finally {
    sock.flags &= ~O_NONBLOCK;
  }
}

function sendto(task: Task, a: SyscallArgs): SyscallResult {
  const fd = a.int(0);
  const sock = socketOf(task, fd);
  if (sock instanceof Errno) return sock;
  const flags = a.uint(3);
  if ((flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) !== 0) return EOPNOTSUPP;
  // A connected stream socket takes no address (Linux unix_stream_sendmsg).
  if (a.ptr(4) !== 0) return EISCONN;
  return withFlags(sock, (flags & MSG_DONTWAIT) !== 0, () => writeAt(task, fd, a.ptr(1), a.size(2), null, (flags & MSG_NOSIGNAL) === 0));
}

/**
 * A value into a buffer whose size the int at lenVa gives, truncated to it, and lenVa then set to
 * the length reported: what was copied (getsockopt), or the whole value's (an address, which may be
 * cut short, as Linux's move_addr_to_user tells).
 */
function copyOutSized(task: Task, va: number, lenVa: number, value: Uint8Array, reportWhole: boolean): Errno | null {
  const lenBytes = new Uint8Array(4);
  const len = new DataView(lenBytes.buffer);
  if (task.mm.copyIn(lenVa, lenBytes) !== 4) return EFAULT;
  const room = len.getInt32(0, true);
  if (room < 0) return EINVAL;
  const n = Math.min(room, value.length);
  if (task.mm.copyOut(va, value.subarray(0, n)) !== n) return EFAULT;
  len.setInt32(0, reportWhole ? value.length : n, true);
  return task.mm.copyOut(lenVa, lenBytes) === 4 ? null : EFAULT;
}

function putAddress(task: Task, addrVa: number, lenVa: number): Errno | null {
  if (addrVa === 0 || lenVa === 0) return null;
  return copyOutSized(task, addrVa, lenVa, UNNAMED_ADDRESS, true);
}

function recvfrom(task: Task, a: SyscallArgs): SyscallResult {
  const fd = a.int(0);
  const sock = socketOf(task, fd);
  if (sock instanceof Errno) return sock;
  const flags = a.uint(3);
  // MSG_PEEK and MSG_WAITALL are not there yet; MSG_CMSG_CLOEXEC has nothing to act on without control data.
  if ((flags & ~(MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) !== 0) return EOPNOTSUPP;
  const r = withFlags(sock, (flags & MSG_DONTWAIT) !== 0, () => readAt(task, fd, a.ptr(1), a.size(2), null));
  if (typeof r !== 'number') return r;
  return putAddress(task, a.ptr(4), a.ptr(5)) ?? r;
}

function shutdown(task: Task, a: SyscallArgs): number | Errno {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  const how = a.int(1);
  if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return EINVAL;
  sock.shutdown(how);
  return 0;
}

function getsockopt(task: Task, a: SyscallArgs): number | Errno {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  if (a.int(1) !== SOL_SOCKET) return ENOPROTOOPT;
  let value: Uint8Array;
  const int = (n: number): Uint8Array => new Uint8Array(new Int32Array([n]).buffer);
  switch (a.int(2)) {
    case SO_TYPE: value = int(SOCK_STREAM); break;
    case SO_DOMAIN: value = int(AF_UNIX); break;
    case SO_PROTOCOL: case SO_ERROR: case SO_ACCEPTCONN: value = int(0); break;
    case SO_SNDBUF: value = int(sock.sendBufferBytes); break;
    case SO_RCVBUF: value = int(sock.receiveBufferBytes); break;
    case SO_PEERCRED: {
      const c = sock.peerCredentials;
      value = new Uint8Array(new Int32Array([c.pid, c.uid, c.gid]).buffer);
      break;
    }
    default: return ENOPROTOOPT;
  }
  return copyOutSized(task, a.ptr(3), a.ptr(4), value, false) ?? 0;
}

function setsockopt(task: Task, a: SyscallArgs): number | Errno {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  if (a.int(1) !== SOL_SOCKET) return ENOPROTOOPT;
  const option = a.int(2);
  if (option !== SO_SNDBUF && option !== SO_RCVBUF) return ENOPROTOOPT;
  if (a.int(4) < 4) return EINVAL;
  const raw = new Uint8Array(4);
  if (task.mm.copyIn(a.ptr(3), raw) !== 4) return EFAULT;
  // Linux doubles the value asked for (for its bookkeeping) and reports that; the ring stays 208 KiB.
  const bytes = Math.max(4608, Math.min(2 * new DataView(raw.buffer).getInt32(0, true), 2 * DEFAULT_MAX_BUFFER));
  if (option === SO_SNDBUF) sock.sendBufferBytes = bytes;
  else sock.receiveBufferBytes = bytes;
  return 0;
}

/** getsockname and getpeername: a socketpair's ends are unnamed. */
function socketName(task: Task, a: SyscallArgs): number | Errno {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  return putAddress(task, a.ptr(1), a.ptr(2)) ?? 0;
}

export const socketSyscalls: SyscallEntry[] = [
  partial('socketpair', socketpair, 'AF_UNIX SOCK_STREAM (SOCK_DGRAM and SOCK_SEQPACKET: EOPNOTSUPP)', 'iiip'),
  partial('sendto', sendto, 'on socketpair ends: MSG_DONTWAIT, MSG_NOSIGNAL; other fds ENOTSOCK', 'iBzxpi'),
  partial('recvfrom', recvfrom, 'on socketpair ends: MSG_DONTWAIT (no MSG_PEEK, MSG_WAITALL); other fds ENOTSOCK', 'ibzxpp'),
  partial('shutdown', shutdown, 'on socketpair ends; other fds ENOTSOCK', 'ii'),
  partial('getsockopt', getsockopt, 'SOL_SOCKET: SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_ACCEPTCONN, SO_SNDBUF, SO_RCVBUF, SO_PEERCRED', 'iiipp'),
  partial('setsockopt', setsockopt, 'SOL_SOCKET: SO_SNDBUF, SO_RCVBUF (recorded; the buffer stays 208 KiB)', 'iiipi'),
  partial('getsockname', socketName, 'socketpair ends (unnamed); other fds ENOTSOCK', 'ipp'),
  partial('getpeername', socketName, 'socketpair ends (unnamed); other fds ENOTSOCK', 'ipp'),
];
