// The socket calls, over the sandbox's sockets (src/net): socket(2) and socketpair(2) of AF_UNIX
// stream, seqpacket and datagram sockets, and AF_INET and AF_INET6 TCP and UDP sockets on the
// sandbox's own loopback; bind (a socket node through src/fs, an abstract name, autobind, an IP
// address and port), listen, accept, connect, the send and receive calls with SCM_RIGHTS and
// SCM_CREDENTIALS, the socket options, names and shutdown. Every other family answers EAFNOSUPPORT;
// an fd that is no socket answers ENOTSOCK, as on Linux.
import {
  EADDRINUSE, EAFNOSUPPORT, EAGAIN, ECONNREFUSED, EDOM, EEXIST, EFAULT, EINVAL, EIO, EISCONN, EMFILE, EMSGSIZE, ENOBUFS, ENOPROTOOPT,
  ENOTCONN, ENOTSOCK, EOPNOTSUPP, EPERM, EPIPE, EPROTONOSUPPORT, ERESTARTSYS, ESOCKTNOSUPPORT, Errno,
} from '../abi/errno.js';
import { AT_FDCWD, O_CLOEXEC, O_NONBLOCK, POLLIN, POLLOUT, S_IFMT, S_IFSOCK } from '../abi/fcntl.js';
import { makeSocketNode, socketNodeAt, unlinkAt } from '../fs/ops.js';
import type { FileDescription } from '../fs/vfs.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry, SyscallResult } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { AF_INET, AF_INET6, parseAddress, routeTo } from '../net/inet-address.js';
import { InetDatagramSocket } from '../net/inet-dgram.js';
import { InetStreamSocket } from '../net/inet-socket.js';
import { IPPROTO_TCP, IPPROTO_UDP, type InetState } from '../net/inet-state.js';
import { newDatagramPair, UnixDatagramSocket } from '../net/unix-dgram.js';
import { autobind, bindAbstract, bindNode, socketAtAbstractName, socketAtNode } from '../net/unix-names.js';
import {
  AF_UNIX, type Ancillary, BACKLOG_ROOM, newSocketPair, type PeerCredentials, type Received, SHUT_RD, SHUT_RDWR, SHUT_WR,
  SOCK_SEQPACKET, SOCK_STREAM, UnixSocket,
} from '../net/unix-socket.js';
import { partial } from './define.js';
import { install } from './open.js';
import { startAt } from './path.js';
import { blockingIo, guestSink, iovecsLength, readIovecs, sendSigpipe, writeAt } from './read-write.js';
import { readTimespec } from './time.js';

const SOCK_TYPE_MASK = 0xf;
const SOCK_NONBLOCK = O_NONBLOCK;
const SOCK_CLOEXEC = O_CLOEXEC;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const AF_UNSPEC = 0;
/** Types above this are EINVAL for any family. */
const SOCK_MAX = 11;
/** Families at or above this are EAFNOSUPPORT before anything else. */
const AF_MAX = 46;
const MSG_OOB = 0x1;
const MSG_PEEK = 0x2;
const MSG_CTRUNC = 0x8;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const MSG_WAITALL = 0x100;
const MSG_NOSIGNAL = 0x4000;
const MSG_CMSG_CLOEXEC = 0x4000_0000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
/** Files one message may pass (SCM_MAX_FD). */
const SCM_MAX_FD = 253;
/** The control data a sendmsg may carry (net.core.optmem_max). */
const MAX_CONTROL = 131072;
const UIO_MAXIOV = 1024;
const SO_TYPE = 3;
const SO_ERROR = 4;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_OOBINLINE = 10;
const SO_PASSCRED = 16;
const SO_PEERCRED = 17;
const SO_RCVTIMEO = 20;
const SO_SNDTIMEO = 21;
const SO_ACCEPTCONN = 30;
/** The same with struct __kernel_sock_timeval, which on x86-64 is struct timeval's layout. */
const SO_RCVTIMEO_NEW = 66;
const SO_SNDTIMEO_NEW = 67;
const TIMEVAL_SIZE = 16;
const SO_PROTOCOL = 38;
const SO_DOMAIN = 39;
/** net.core.wmem_max and rmem_max's default. */
const DEFAULT_MAX_BUFFER = 212992;
/** The least SO_SNDBUF and SO_RCVBUF become (SOCK_MIN_SNDBUF, SOCK_MIN_RCVBUF). */
const SOCK_MIN_SNDBUF = 4608;
const SOCK_MIN_RCVBUF = 2304;
/** offsetof(struct sockaddr_un, sun_path), and sizeof(struct sockaddr_un). */
const SUN_PATH = 2;
const SOCKADDR_UN_SIZE = 110;
/** sizeof(struct sockaddr_storage): the most an address argument may be. */
const SOCKADDR_STORAGE_SIZE = 128;
/** struct sockaddr_un of an unnamed socket: sun_family alone. */
const UNNAMED_ADDRESS = new Uint8Array([AF_UNIX, 0]);
const NO_ADDRESS = new Uint8Array(0);
/** struct msghdr (x86-64): the offsets of its fields. */
const MSGHDR_SIZE = 56;
const CMSG_HEADER = 16;
const UCRED_SIZE = 12;

function socketOf(task: Task, fd: number): UnixSocket | Errno {
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  return file instanceof UnixSocket ? file : ENOTSOCK;
}

type InetSocket = InetStreamSocket | InetDatagramSocket;

function isInet(sock: UnixSocket): sock is InetSocket {
  return sock instanceof InetStreamSocket || sock instanceof InetDatagramSocket;
}

function credentialsOf(task: Task): PeerCredentials {
  return { pid: task.group.pid, uid: task.euid, gid: task.egid };
}

function int32(n: number): Uint8Array {
  return new Uint8Array(new Int32Array([n]).buffer);
}

/** Installs files as new fds: their numbers, or the error after undoing the ones made. */
function installAll(task: Task, files: FileDescription[], cloexec: boolean): number[] | Errno {
  const fds: number[] = [];
  for (const f of files) {
    f.incRef();
    const fd = task.fds.add(f, cloexec);
    f.decRef();
    if (fd instanceof Errno) {
      for (const made of fds) task.fds.remove(made);
      return fd;
    }
    fds.push(fd);
  }
  return fds;
}

/** The type argument of socket(2) and socketpair(2): kind and flags, or Linux's error. */
function socketType(type: number): { kind: number; nonblock: number; cloexec: boolean } | Errno {
  if ((type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return EINVAL;
  return { kind: type & SOCK_TYPE_MASK, nonblock: type & SOCK_NONBLOCK, cloexec: (type & SOCK_CLOEXEC) !== 0 };
}

function socket(task: Task, a: SyscallArgs): number | Errno {
  const domain = a.int(0);
  const protocol = a.int(2);
  const t = socketType(a.int(1));
  if (t instanceof Errno) return t;
  // Linux checks the family's range, then the type's; every family but AF_UNIX is missing here.
  if (domain < 0 || domain >= AF_MAX) return EAFNOSUPPORT;
  if (t.kind >= SOCK_MAX) return EINVAL;
  if (domain === AF_INET || domain === AF_INET6) return inetSocket(task, domain, t.kind, protocol, t.nonblock, t.cloexec);
  if (domain !== AF_UNIX) return EAFNOSUPPORT;
  if (protocol !== 0 && protocol !== AF_UNIX) return EPROTONOSUPPORT;
  // Linux makes SOCK_RAW a datagram socket.
  const datagram = t.kind === SOCK_DGRAM || t.kind === SOCK_RAW;
  if (t.kind !== SOCK_STREAM && t.kind !== SOCK_SEQPACKET && !datagram) return ESOCKTNOSUPPORT;
  const owner = credentialsOf(task);
  const sock = datagram ? new UnixDatagramSocket(t.nonblock, owner) : new UnixSocket(t.kind, t.nonblock, owner);
  return install(task, sock, t.cloexec);
}

/** inet_create: TCP for SOCK_STREAM, UDP for SOCK_DGRAM (protocol 0 or its own); no raw sockets. */
function inetSocket(task: Task, family: number, kind: number, protocol: number, nonblock: number, cloexec: boolean): number | Errno {
  const owner = credentialsOf(task);
  if (kind === SOCK_STREAM) {
    if (protocol !== 0 && protocol !== IPPROTO_TCP) return EPROTONOSUPPORT;
    return install(task, new InetStreamSocket(family, nonblock, owner, task.euid), cloexec);
  }
  if (kind === SOCK_DGRAM) {
    if (protocol !== 0 && protocol !== IPPROTO_UDP) return EPROTONOSUPPORT;
    return install(task, new InetDatagramSocket(family, nonblock, owner, task.euid), cloexec);
  }
  return ESOCKTNOSUPPORT;
}

function socketpair(task: Task, a: SyscallArgs): number | Errno {
  const domain = a.int(0);
  const protocol = a.int(2);
  const t = socketType(a.int(1));
  if (t instanceof Errno) return t;
  // Linux: socketpair exists for AF_UNIX only (others EOPNOTSUPP); protocol 0 or PF_UNIX.
  if (t.kind >= SOCK_MAX) return EINVAL;
  if (domain !== AF_UNIX) return EOPNOTSUPP;
  if (protocol !== 0 && protocol !== AF_UNIX) return EPROTONOSUPPORT;
  const datagram = t.kind === SOCK_DGRAM || t.kind === SOCK_RAW;
  if (t.kind !== SOCK_STREAM && t.kind !== SOCK_SEQPACKET && !datagram) return ESOCKTNOSUPPORT;
  const [x, y] = datagram ? newDatagramPair(t.nonblock, credentialsOf(task)) : newSocketPair(t.kind, t.nonblock, credentialsOf(task));
  const fds = installAll(task, [x, y], t.cloexec);
  if (fds instanceof Errno) return fds;
  const out = new Uint8Array(new Int32Array(fds).buffer);
  if (task.mm.copyOut(a.ptr(3), out) !== 8) {
    for (const fd of fds) task.fds.remove(fd);
    return EFAULT;
  }
  return 0;
}

/** A struct sockaddr_un argument, as unix_validate_addr and unix_mkname_bsd read it. */
type UnixAddress =
  | { kind: 'path'; path: string; bytes: Uint8Array }
  | { kind: 'abstract'; name: Uint8Array }
  | { kind: 'autobind' };

/** The raw bytes of an address argument (move_addr_to_kernel): EINVAL past sockaddr_storage, EFAULT. */
function copyAddress(task: Task, va: number, len: number): Uint8Array | Errno {
  if (len < 0 || len > SOCKADDR_STORAGE_SIZE) return EINVAL;
  const raw = new Uint8Array(len);
  if (len > 0 && task.mm.copyIn(va, raw) !== len) return EFAULT;
  return raw;
}

function readAddress(task: Task, va: number, len: number): UnixAddress | Errno {
  const raw = copyAddress(task, va, len);
  if (raw instanceof Errno) return raw;
  const family = len >= 2 ? raw[0]! | (raw[1]! << 8) : -1;
  if (len === SUN_PATH && family === AF_UNIX) return { kind: 'autobind' };
  if (len <= SUN_PATH || len > SOCKADDR_UN_SIZE || family !== AF_UNIX) return EINVAL;
  const sunPath = raw.subarray(SUN_PATH);
  if (sunPath[0] === 0) return { kind: 'abstract', name: sunPath.slice() };
  const nul = sunPath.indexOf(0);
  const bytes = sunPath.slice(0, nul < 0 ? sunPath.length : nul);
  return { kind: 'path', path: Buffer.from(bytes).toString('utf8'), bytes };
}

function bind(task: Task, a: SyscallArgs): number | Errno {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  if (isInet(sock)) {
    const raw = copyAddress(task, a.ptr(1), a.int(2));
    if (raw instanceof Errno) return raw;
    const addr = parseAddress(raw, sock.inet.family, { unspecAny: true });
    return addr instanceof Errno ? addr : sock.bind(addr, task.euid === 0) ?? 0;
  }
  const addr = readAddress(task, a.ptr(1), a.int(2));
  if (addr instanceof Errno) return addr;
  if (addr.kind === 'autobind') return sock.address !== null ? 0 : autobind(sock) ?? 0;
  if (addr.kind === 'abstract') {
    if (sock.address !== null) return EINVAL;
    return bindAbstract(sock, addr.name) ?? 0;
  }
  // As Linux: the node is made first (a taken name is EADDRINUSE), and taken back if the socket has a name.
  const start = startAt(task, AT_FDCWD, addr.path);
  if (start instanceof Errno) return start;
  const node = makeSocketNode(task.fs, start, addr.path, 0o777);
  if (node instanceof Errno) return node === EEXIST ? EADDRINUSE : node;
  if (sock.address !== null) {
    unlinkAt(task.fs, start, addr.path);
    return EINVAL;
  }
  bindNode(sock, node.dentry.lockKey, addr.bytes);
  return 0;
}

function listen(task: Task, a: SyscallArgs): number | Errno {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  return sock.listen(a.int(1), credentialsOf(task)) ?? 0;
}

/** The socket an address names (unix_find_other): ENOENT, EACCES and the rest from the walk, ECONNREFUSED if none. */
function socketAt(task: Task, addr: UnixAddress): UnixSocket | Errno {
  if (addr.kind === 'abstract') return socketAtAbstractName(addr.name) ?? ECONNREFUSED;
  if (addr.kind !== 'path') return EINVAL;
  const start = startAt(task, AT_FDCWD, addr.path);
  if (start instanceof Errno) return start;
  const vd = socketNodeAt(task.fs, start, addr.path);
  if (vd instanceof Errno) return vd;
  if ((vd.dentry.mode & S_IFMT) !== S_IFSOCK) return ECONNREFUSED;
  return socketAtNode(vd.dentry.lockKey) ?? ECONNREFUSED;
}

/**
 * A socket that passes credentials (SO_PASSCRED) gets a name to be known by before it connects or
 * sends, as unix_stream_connect and unix_dgram_sendmsg autobind it.
 */
function nameForCredentials(sock: UnixSocket): Errno | null {
  return sock.passCredentials && sock.address === null ? autobind(sock) : null;
}

/** connect(2) of a datagram socket: sets or (AF_UNSPEC) clears the default peer. */
function connectDatagram(task: Task, sock: UnixDatagramSocket, va: number, len: number): number | Errno {
  const raw = copyAddress(task, va, len);
  if (raw instanceof Errno) return raw;
  if (len < SUN_PATH) return EINVAL;
  if ((raw[0]! | (raw[1]! << 8)) === AF_UNSPEC) {
    sock.disconnect();
    return 0;
  }
  const addr = readAddress(task, va, len);
  if (addr instanceof Errno) return addr;
  const autobound = nameForCredentials(sock);
  if (autobound !== null) return autobound;
  const target = socketAt(task, addr);
  if (target instanceof Errno) return target;
  return sock.connect(target) ?? 0;
}

/** connect(2) of a TCP or UDP socket: to a loopback address (others ENETUNREACH); AF_UNSPEC forgets a UDP peer, aborts a TCP connection. */
function connectInet(task: Task, sock: InetSocket, va: number, len: number): SyscallResult {
  const raw = copyAddress(task, va, len);
  if (raw instanceof Errno) return raw;
  if (len < SUN_PATH) return EINVAL;
  if ((raw[0]! | (raw[1]! << 8)) === AF_UNSPEC) {
    sock.disconnect();
    return 0;
  }
  const dgram = sock instanceof InetDatagramSocket;
  const addr = parseAddress(raw, sock.inet.family, { acceptV4: dgram });
  if (addr instanceof Errno) return addr;
  const ip = routeTo(addr.ip);
  if (ip instanceof Errno) return ip;
  const dst = { ip, port: addr.port };
  if (sock instanceof InetDatagramSocket) return sock.connectTo(dst) ?? 0;
  const creds = credentialsOf(task);
  const nonblocking = (sock.flags & O_NONBLOCK) !== 0;
  const attempt = (): number | Errno => sock.connectTo(dst, creds, nonblocking) ?? 0;
  const first = attempt();
  if (first !== EAGAIN || nonblocking) return first;
  return blockingIo(task, sock, BACKLOG_ROOM, attempt);
}

function connect(task: Task, a: SyscallArgs): SyscallResult {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  if (isInet(sock)) return connectInet(task, sock, a.ptr(1), a.int(2));
  if (sock instanceof UnixDatagramSocket) return connectDatagram(task, sock, a.ptr(1), a.int(2));
  const addr = readAddress(task, a.ptr(1), a.int(2));
  if (addr instanceof Errno) return addr;
  if (addr.kind === 'autobind') return EINVAL;
  const autobound = nameForCredentials(sock);
  if (autobound !== null) return autobound;
  // Each try looks the name up again, as Linux does after waiting for room in the backlog.
  const attempt = (): number | Errno => {
    const listener = socketAt(task, addr);
    if (listener instanceof Errno) return listener;
    return sock.connect(listener, credentialsOf(task)) ?? 0;
  };
  const first = attempt();
  if (first !== EAGAIN || (sock.flags & O_NONBLOCK) !== 0) return first;
  return blockingIo(task, sock, BACKLOG_ROOM, attempt);
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
  if (n > 0 && task.mm.copyOut(va, value.subarray(0, n)) !== n) return EFAULT;
  len.setInt32(0, reportWhole ? value.length : n, true);
  return task.mm.copyOut(lenVa, lenBytes) === 4 ? null : EFAULT;
}

function accept(task: Task, fd: number, addrVa: number, lenVa: number, flags: number): SyscallResult {
  if ((flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) !== 0) return EINVAL;
  const sock = socketOf(task, fd);
  if (sock instanceof Errno) return sock;
  if (!task.fds.hasRoom()) return EMFILE;
  return blockingIo(task, sock, POLLIN, () => {
    const s = sock.accept(flags & SOCK_NONBLOCK);
    if (s instanceof Errno) return s;
    s.incRef();
    try {
      if (addrVa !== 0) {
        const peer = s.peerAddress();
        const e = copyOutSized(task, addrVa, lenVa, peer instanceof Errno || peer === null ? UNNAMED_ADDRESS : peer, true);
        if (e !== null) return e;
      }
      return task.fds.add(s, (flags & SOCK_CLOEXEC) !== 0);
    } finally {
      s.decRef();
    }
  });
}

/** getsockname and getpeername. */
function socketName(task: Task, a: SyscallArgs, peer: boolean): number | Errno {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  const name = peer ? sock.peerAddress() : sock.localName();
  if (name instanceof Errno) return name;
  return copyOutSized(task, a.ptr(1), a.ptr(2), name ?? UNNAMED_ADDRESS, true) ?? 0;
}

/** A call with MSG_DONTWAIT runs as if the description were O_NONBLOCK, for this call only. */
function withFlags(sock: UnixSocket, dontWait: boolean, call: () => SyscallResult): SyscallResult {
  if (!dontWait || (sock.flags & O_NONBLOCK) !== 0) return call();
  sock.flags |= O_NONBLOCK;
  try {
    return call();
  } finally {
    sock.flags &= ~O_NONBLOCK;
  }
}

/** Bytes [offset, offset + n) of the iovecs, copied in: shorter at a fault, EFAULT if none could be. */
function gather(task: Task, iovs: ReadonlyArray<readonly [number, number]>, offset: number, n: number): Uint8Array | Errno {
  const out = new Uint8Array(n);
  let at = 0;
  let skip = offset;
  for (const [base, length] of iovs) {
    if (at >= n) break;
    if (skip >= length) {
      skip -= length;
      continue;
    }
    const take = Math.min(length - skip, n - at);
    const got = task.mm.copyIn(base + skip, out.subarray(at, at + take));
    const ok = got instanceof Errno ? 0 : got;
    at += ok;
    skip = 0;
    if (ok < take) return at > 0 ? out.subarray(0, at) : EFAULT;
  }
  return out.subarray(0, at);
}

/** How much one stream write copies in at a time. */
const SEND_CHUNK = 65536;

/**
 * sendto and sendmsg: the bytes of iovs, with control data on the first that goes. A blocking stream
 * send goes on until all is written; a seqpacket message goes whole. hasName: an address was given.
 */
function sendData(task: Task, sock: UnixSocket, iovs: ReadonlyArray<readonly [number, number]>, flags: number,
  ancillary: Ancillary | null, hasName: boolean): SyscallResult {
  let pending = ancillary;
  const release = (): void => {
    for (const f of pending?.files ?? []) f.decRef();
    pending = null;
  };
  const fail = (e: Errno): Errno => {
    release();
    return e;
  };
  // Urgent data is a stream's, TCP's or Unix's; a Unix stream's takes at least one byte.
  const oob = (flags & MSG_OOB) !== 0;
  const tcp = sock instanceof InetStreamSocket;
  if (oob && (sock.type !== SOCK_STREAM || (!tcp && iovecsLength(iovs) === 0))) {
    // A seqpacket socket asks for its connection first (unix_seqpacket_sendmsg).
    return fail(sock.type === SOCK_SEQPACKET && !sock.connected ? ENOTCONN : EOPNOTSUPP);
  }
  // TCP ignores an address (tcp_sendmsg); a Unix stream refuses one.
  if (sock.type === SOCK_STREAM && hasName && !isInet(sock)) return fail(sock.connected ? EISCONN : EOPNOTSUPP);
  const sigpipe = (flags & MSG_NOSIGNAL) === 0;
  if (!sock.connected) {
    const e = sock.unconnectedSendError;
    if (e === EPIPE && sigpipe) sendSigpipe(task);
    return fail(e);
  }
  const total = iovecsLength(iovs);
  const sender = credentialsOf(task);
  let done = 0;
  let last = -1;
  const sent = (): number => {
    // send(MSG_OOB): the last byte sent is urgent (over a Unix stream, once all the rest went: queue_oob).
    if (oob && last >= 0 && (tcp || done === total)) sock.markUrgent(last);
    return done;
  };
  const attempt = (): number | Errno | null => {
    if (sock.type === SOCK_SEQPACKET) {
      const message = gather(task, iovs, 0, total);
      if (message instanceof Errno) return fail(message);
      const r = sock.send(message, pending, sender);
      if (r === EAGAIN) return r;
      // A seqpacket socket's EPIPE comes without SIGPIPE (unix_dgram_sendmsg).
      if (r instanceof Errno) return fail(r);
      pending = null;
      return r;
    }
    do {
      const want = Math.min(total - done, SEND_CHUNK);
      const chunk = gather(task, iovs, done, want);
      if (chunk instanceof Errno) return done > 0 ? done : fail(chunk);
      const r = sock.send(chunk, pending, sender);
      if (r === EAGAIN) return done > 0 ? ((sock.flags & O_NONBLOCK) !== 0 ? sent() : null) : EAGAIN;
      if (r instanceof Errno) {
        // SIGPIPE only when nothing went (unix_stream_sendmsg).
        if (done > 0) return sent();
        if (r === EPIPE && sigpipe) sendSigpipe(task);
        return fail(r);
      }
      if (r > 0) {
        pending = null;
        last = chunk[r - 1]!;
      }
      done += r;
      // A fault cut the chunk short: what could be copied went.
      if (r === chunk.length && chunk.length < want) return sent();
    } while (done < total);
    release();
    return sent();
  };
  return withFlags(sock, (flags & MSG_DONTWAIT) !== 0, () => {
    const r = blockingIo(task, sock, POLLOUT, attempt, () => {
      release();
      return done > 0 ? done : ERESTARTSYS;
    });
    if (r === EAGAIN) release();
    return r;
  });
}

/**
 * sendto and sendmsg on a datagram socket: one datagram, to the address given or the default peer,
 * which is looked up again after each wait (as unix_dgram_sendmsg restarts). No SIGPIPE, as on Linux.
 */
function sendDatagram(task: Task, sock: UnixDatagramSocket, iovs: ReadonlyArray<readonly [number, number]>, flags: number,
  ancillary: Ancillary | null, name: { va: number; len: number } | null): SyscallResult {
  let pending = ancillary;
  const fail = (e: Errno): Errno => {
    for (const f of pending?.files ?? []) f.decRef();
    pending = null;
    return e;
  };
  if ((flags & MSG_OOB) !== 0) return fail(EOPNOTSUPP);
  let addr: UnixAddress | null = null;
  if (name !== null) {
    const parsed = readAddress(task, name.va, name.len);
    if (parsed instanceof Errno) return fail(parsed);
    // An address of sun_family alone names nobody (unix_validate_addr).
    if (parsed.kind === 'autobind') return fail(EINVAL);
    addr = parsed;
  } else if (!sock.connected) {
    return fail(ENOTCONN);
  }
  const autobound = nameForCredentials(sock);
  if (autobound !== null) return fail(autobound);
  const total = iovecsLength(iovs);
  if (sock.tooLong(total)) return fail(EMSGSIZE);
  // A datagram is copied whole or not sent: a fault anywhere is EFAULT.
  const message = gather(task, iovs, 0, total);
  if (message instanceof Errno || message.length < total) return fail(EFAULT);
  const sender = credentialsOf(task);
  const named = addr;
  const lookUp = named === null ? null : (): UnixSocket | Errno => socketAt(task, named);
  const attempt = (): number | Errno => {
    const r = sock.sendTo(lookUp, message, pending, sender);
    if (r === EAGAIN) return r;
    if (r instanceof Errno) return fail(r);
    pending = null;
    return r;
  };
  return withFlags(sock, (flags & MSG_DONTWAIT) !== 0, () => {
    const r = blockingIo(task, sock, POLLOUT, attempt, () => fail(ERESTARTSYS));
    if (r === EAGAIN) fail(r);
    return r;
  });
}

function sendto(task: Task, a: SyscallArgs): SyscallResult {
  const fd = a.int(0);
  const sock = socketOf(task, fd);
  if (sock instanceof Errno) return sock;
  const flags = a.uint(3);
  if (sock instanceof UnixDatagramSocket) {
    return sendDatagram(task, sock, [[a.ptr(1), a.size(2)]], flags, null, a.ptr(4) !== 0 ? { va: a.ptr(4), len: a.int(5) } : null);
  }
  if (sock instanceof InetDatagramSocket) {
    return sendUdp(task, sock, [[a.ptr(1), a.size(2)]], flags, a.ptr(4) !== 0 ? { va: a.ptr(4), len: a.int(5) } : null);
  }
  let hasName = false;
  if (a.ptr(4) !== 0) {
    const raw = copyAddress(task, a.ptr(4), a.int(5));
    if (raw instanceof Errno) return raw;
    hasName = raw.length > 0;
  }
  if ((flags & MSG_OOB) === 0 && (!hasName || isInet(sock)) && sock.type === SOCK_STREAM) {
    // The common case moves bytes in place, as write(2) does.
    return withFlags(sock, (flags & MSG_DONTWAIT) !== 0, () => writeAt(task, fd, a.ptr(1), a.size(2), null, (flags & MSG_NOSIGNAL) === 0));
  }
  return sendData(task, sock, [[a.ptr(1), a.size(2)]], flags, null, hasName);
}

/** The most a UDP datagram's bytes may be before any address says which limit applies. */
const MAX_UDP_LENGTH = 65535;

/** sendto and sendmsg on a UDP socket: one datagram to the address given or the default peer; it never waits. */
function sendUdp(task: Task, sock: InetDatagramSocket, iovs: ReadonlyArray<readonly [number, number]>, flags: number,
  name: { va: number; len: number } | null): SyscallResult {
  if ((flags & MSG_OOB) !== 0) return EOPNOTSUPP;
  let dst = null;
  if (name !== null) {
    const raw = copyAddress(task, name.va, name.len);
    if (raw instanceof Errno) return raw;
    const addr = parseAddress(raw, sock.inet.family, { acceptV4: true, unspecAny: true });
    if (addr instanceof Errno) return addr;
    const ip = routeTo(addr.ip);
    if (ip instanceof Errno) return ip;
    dst = { ip, port: addr.port };
  }
  const total = iovecsLength(iovs);
  if (total > MAX_UDP_LENGTH) return EMSGSIZE;
  const message = gather(task, iovs, 0, total);
  if (message instanceof Errno || message.length < total) return EFAULT;
  return sock.sendTo(dst, message);
}

/** struct msghdr's fields. */
interface MsgHeader {
  name: number;
  nameLen: number;
  iovs: Array<[number, number]>;
  control: number;
  controlLen: number;
}

function readMsgHeader(task: Task, va: number): MsgHeader | Errno {
  const raw = new Uint8Array(MSGHDR_SIZE);
  if (task.mm.copyIn(va, raw) !== MSGHDR_SIZE) return EFAULT;
  const v = new DataView(raw.buffer);
  const name = Number(v.getBigUint64(0, true));
  const nameLen = v.getInt32(8, true);
  const iovVa = Number(v.getBigUint64(16, true));
  const iovLen = v.getBigUint64(24, true);
  const control = Number(v.getBigUint64(32, true));
  const controlLen = v.getBigUint64(40, true);
  if (iovLen > BigInt(UIO_MAXIOV)) return EMSGSIZE;
  if (name !== 0 && nameLen < 0) return EINVAL;
  const iovs = readIovecs(task, iovVa, Number(iovLen));
  if (iovs instanceof Errno) return iovs;
  if (controlLen > 0x7fff_ffffn) return ENOBUFS;
  return { name, nameLen: name === 0 ? 0 : Math.min(nameLen, SOCKADDR_STORAGE_SIZE), iovs, control, controlLen: Number(controlLen) };
}

/** SCM_CREDENTIALS a sender may claim: its own ids (root: any), as scm_check_creds allows. */
function mayClaim(task: Task, c: PeerCredentials): boolean {
  if (task.euid === 0) return true;
  return c.pid === task.group.pid && [task.uid, task.euid, task.suid].includes(c.uid) && [task.gid, task.egid, task.sgid].includes(c.gid);
}

/** The control messages of a sendmsg (__scm_send): files to pass (held), credentials claimed. */
function readControl(task: Task, va: number, len: number): Ancillary | Errno {
  if (len === 0) return { files: null, credentials: null };
  if (len > MAX_CONTROL) return ENOBUFS;
  const raw = new Uint8Array(len);
  if (task.mm.copyIn(va, raw) !== len) return EFAULT;
  const v = new DataView(raw.buffer);
  const files: FileDescription[] = [];
  let credentials: PeerCredentials | null = null;
  const fail = (e: Errno): Errno => {
    for (const f of files) f.decRef();
    return e;
  };
  for (let off = 0; off + CMSG_HEADER <= len;) {
    const cmsgLen = v.getBigUint64(off, true);
    if (cmsgLen < BigInt(CMSG_HEADER) || cmsgLen > BigInt(len - off)) return fail(EINVAL);
    const n = Number(cmsgLen);
    const level = v.getInt32(off + 8, true);
    const type = v.getInt32(off + 12, true);
    if (level === SOL_SOCKET) {
      if (type === SCM_RIGHTS) {
        const count = Math.floor((n - CMSG_HEADER) / 4);
        if (files.length + count > SCM_MAX_FD) return fail(EINVAL);
        for (let i = 0; i < count; i++) {
          const f = task.fds.get(v.getInt32(off + CMSG_HEADER + 4 * i, true));
          if (f instanceof Errno) return fail(f);
          f.incRef();
          files.push(f);
        }
      } else if (type === SCM_CREDENTIALS) {
        if (n !== CMSG_HEADER + UCRED_SIZE) return fail(EINVAL);
        const c = { pid: v.getInt32(off + 16, true), uid: v.getInt32(off + 20, true), gid: v.getInt32(off + 24, true) };
        if (!mayClaim(task, c)) return fail(EPERM);
        credentials = c;
      } else {
        return fail(EINVAL);
      }
    }
    off += (n + 7) & ~7;
  }
  return { files: files.length > 0 ? files : null, credentials };
}

function sendmsg(task: Task, a: SyscallArgs): SyscallResult {
  const sock = socketOf(task, a.int(0));
  return sock instanceof Errno ? sock : sendMessage(task, sock, a.ptr(1), a.uint(2));
}

/** One sendmsg(2) of the struct msghdr at msgVa. */
function sendMessage(task: Task, sock: UnixSocket, msgVa: number, flags: number): SyscallResult {
  const h = readMsgHeader(task, msgVa);
  if (h instanceof Errno) return h;
  let hasName = false;
  if (h.name !== 0 && h.nameLen > 0) {
    const raw = copyAddress(task, h.name, h.nameLen);
    if (raw instanceof Errno) return raw;
    hasName = true;
  }
  const ancillary = readControl(task, h.control, h.controlLen);
  if (ancillary instanceof Errno) return ancillary;
  if (isInet(sock) && (ancillary.files !== null || ancillary.credentials !== null)) {
    // SCM_RIGHTS and SCM_CREDENTIALS are AF_UNIX's (__sock_cmsg_send: EINVAL elsewhere).
    for (const f of ancillary.files ?? []) f.decRef();
    return EINVAL;
  }
  if (sock instanceof InetDatagramSocket) return sendUdp(task, sock, h.iovs, flags, hasName ? { va: h.name, len: h.nameLen } : null);
  if (sock instanceof UnixDatagramSocket) {
    return sendDatagram(task, sock, h.iovs, flags, ancillary, hasName ? { va: h.name, len: h.nameLen } : null);
  }
  return sendData(task, sock, h.iovs, flags, ancillary, hasName);
}

/**
 * recvfrom and recvmsg: receives into iovs (MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT), then finish writes
 * what goes with the data (address, control messages) and gives the call's answer.
 */
function receiveData(task: Task, sock: UnixSocket, iovs: ReadonlyArray<readonly [number, number]>, flags: number,
  finish: (r: Received) => number | Errno): SyscallResult {
  const peek = (flags & MSG_PEEK) !== 0;
  // A stream's urgent byte never waits (tcp_recv_urg, unix_stream_recv_urg); UDP ignores MSG_OOB;
  // Unix seqpacket and datagram sockets refuse it.
  if ((flags & MSG_OOB) !== 0 && !(sock instanceof InetDatagramSocket)) {
    if (sock.type !== SOCK_STREAM) return sock.type === SOCK_SEQPACKET && !sock.connected ? ENOTCONN : EOPNOTSUPP;
    const r = sock.receiveUrgent(guestSink(task, iovs).sink, iovecsLength(iovs), peek);
    return r instanceof Errno ? r : finish(r);
  }
  const waitAll = (flags & MSG_WAITALL) !== 0 && !peek && sock.type === SOCK_STREAM;
  const total = iovecsLength(iovs);
  const out = guestSink(task, iovs);
  let taken: Received | null = null;
  const attempt = (): number | Errno | null => {
    for (;;) {
      const r = sock.receive(out.sink, total - out.bytes(), peek);
      if (r instanceof Errno) {
        if (taken === null) return r;
        // What came before an error or the wait is the answer, unless MSG_WAITALL waits for more.
        if (r === EAGAIN && waitAll && (sock.flags & O_NONBLOCK) === 0) return null;
        return finish(taken);
      }
      if (taken === null) {
        taken = r;
      } else {
        taken.bytes += r.bytes;
        taken.messageLength = taken.bytes;
        taken.files ??= r.files;
      }
      // MSG_WAITALL stops at an urgent mark too (tcp_recvmsg, manage_oob).
      if (!waitAll || r.bytes === 0 || r.files !== null || out.bytes() >= total || sock.atUrgentMark()) return finish(taken);
    }
  };
  return withFlags(sock, (flags & MSG_DONTWAIT) !== 0, () => blockingIo(task, sock, POLLIN, attempt, () => {
    if (taken === null) return ERESTARTSYS;
    const got = taken;
    taken = null;
    return finish(got);
  }));
}

/** Files received where nobody takes them (recvfrom, a short control buffer) are closed. */
function dropFiles(files: FileDescription[] | null): void {
  for (const f of files ?? []) f.decRef();
}

/** The sender's address as recvfrom and recvmsg give it: none (length 0) from an unnamed socket. */
function senderAddress(sock: UnixSocket, r: Received): Uint8Array {
  if (r.from !== undefined) return r.from ?? NO_ADDRESS;
  if (r.bytes === 0 && r.messageLength === 0) return NO_ADDRESS;
  const peer = sock.peerAddress();
  return peer instanceof Errno || peer === null ? NO_ADDRESS : peer;
}

function recvfrom(task: Task, a: SyscallArgs): SyscallResult {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  const flags = a.uint(3);
  const addrVa = a.ptr(4);
  const lenVa = a.ptr(5);
  return receiveData(task, sock, [[a.ptr(1), a.size(2)]], flags, (r) => {
    dropFiles(r.files);
    if (addrVa !== 0) {
      const e = copyOutSized(task, addrVa, lenVa, senderAddress(sock, r), true);
      if (e !== null) return e;
    }
    return (flags & MSG_TRUNC) !== 0 && sock.type !== SOCK_STREAM ? r.messageLength : r.bytes;
  });
}

/** A control message: header and data, padded to CMSG_SPACE. */
function cmsg(type: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(CMSG_HEADER + ((data.length + 7) & ~7));
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(CMSG_HEADER + data.length), true);
  v.setInt32(8, SOL_SOCKET, true);
  v.setInt32(12, type, true);
  out.set(data, CMSG_HEADER);
  return out;
}

function recvmsg(task: Task, a: SyscallArgs): SyscallResult {
  const sock = socketOf(task, a.int(0));
  return sock instanceof Errno ? sock : receiveMessage(task, sock, a.ptr(1), a.uint(2));
}

/** One recvmsg(2) into the struct msghdr at msgVa. */
function receiveMessage(task: Task, sock: UnixSocket, msgVa: number, flags: number): SyscallResult {
  const h = readMsgHeader(task, msgVa);
  if (h instanceof Errno) return h;
  return receiveData(task, sock, h.iovs, flags, (r) => {
    let msgFlags = flags & MSG_CMSG_CLOEXEC;
    if (sock.type !== SOCK_STREAM && r.messageLength > r.bytes) msgFlags |= MSG_TRUNC;
    if (r.oob === true) msgFlags |= r.bytes === 0 ? MSG_OOB | MSG_TRUNC : MSG_OOB;
    // Control messages as scm_recv writes them: credentials, then the files that fit.
    const parts: Uint8Array[] = [];
    let room = h.control === 0 ? 0 : h.controlLen;
    if (r.credentials !== null) {
      const c = cmsg(SCM_CREDENTIALS, new Uint8Array(new Int32Array([r.credentials.pid, r.credentials.uid, r.credentials.gid]).buffer));
      if (room < CMSG_HEADER) {
        msgFlags |= MSG_CTRUNC;
      } else {
        const n = Math.min(c.length, room);
        if (room < CMSG_HEADER + UCRED_SIZE) msgFlags |= MSG_CTRUNC;
        parts.push(c.subarray(0, n));
        room -= n;
      }
    }
    if (r.files !== null) {
      const fit = room < CMSG_HEADER ? 0 : Math.min(r.files.length, Math.floor((room - CMSG_HEADER) / 4));
      const fds = installAll(task, r.files.slice(0, fit), (flags & MSG_CMSG_CLOEXEC) !== 0);
      dropFiles(r.files);
      if (fds instanceof Errno || fds.length < r.files.length) msgFlags |= MSG_CTRUNC;
      if (!(fds instanceof Errno) && fds.length > 0) {
        const c = cmsg(SCM_RIGHTS, new Uint8Array(new Int32Array(fds).buffer));
        parts.push(c.subarray(0, Math.min(c.length, room)));
        room -= Math.min(c.length, room);
      }
    }
    let used = 0;
    for (const p of parts) {
      if (task.mm.copyOut(h.control + used, p) !== p.length) return EFAULT;
      used += p.length;
    }
    const name = h.name !== 0 ? senderAddress(sock, r) : NO_ADDRESS;
    const nameLen = Math.min(name.length, h.nameLen);
    if (nameLen > 0 && task.mm.copyOut(h.name, name.subarray(0, nameLen)) !== nameLen) return EFAULT;
    const back = new DataView(new ArrayBuffer(4));
    back.setInt32(0, name.length, true);
    if (task.mm.copyOut(msgVa + 8, new Uint8Array(back.buffer)) !== 4) return EFAULT;
    const len = new DataView(new ArrayBuffer(8));
    len.setBigUint64(0, BigInt(used), true);
    if (task.mm.copyOut(msgVa + 40, new Uint8Array(len.buffer)) !== 8) return EFAULT;
    if (task.mm.copyOut(msgVa + 48, int32(msgFlags)) !== 4) return EFAULT;
    return (flags & MSG_TRUNC) !== 0 && sock.type !== SOCK_STREAM ? r.messageLength : r.bytes;
  });
}

/** struct mmsghdr: a struct msghdr, then msg_len (u32), padded to 8 bytes. */
const MMSGHDR_SIZE = 64;
const MSG_LEN = 56;
/** recvmmsg: only the first message may be waited for. */
const MSG_WAITFORONE = 0x10000;

/**
 * sendmmsg(2) and recvmmsg(2): up to UIO_MAXIOV messages, each as sendmsg or recvmsg would, with its
 * length written to msg_len. A blocking socket waits for each (recvmmsg's MSG_WAITFORONE only for the
 * first); an error after some messages, a signal or (recvmmsg) the timeout passed between two
 * messages ends the call with the count so far, as Linux's __sys_sendmmsg and do_recvmmsg.
 */
function batch(task: Task, a: SyscallArgs, receiving: boolean): SyscallResult {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  const vec = a.ptr(1);
  const vlen = Math.min(a.uint(2), UIO_MAXIOV);
  const flags = a.uint(3);
  let deadlineNs: bigint | null = null;
  if (receiving && a.ptr(4) !== 0) {
    const ts = readTimespec(task, a.ptr(4));
    if (ts instanceof Errno) return ts;
    deadlineNs = process.hrtime.bigint() + ts;
  }
  if (vlen === 0) return 0;
  const one = receiving ? receiveMessage : sendMessage;
  const nonblocking = (flags & MSG_DONTWAIT) !== 0 || (sock.flags & O_NONBLOCK) !== 0;
  // Past the first message, whether the rest may be waited for.
  const waitsForMore = !nonblocking && !(receiving && (flags & MSG_WAITFORONE) !== 0);
  let done = 0;
  const attempt = (): number | Errno | null => {
    while (done < vlen) {
      const at = vec + done * MMSGHDR_SIZE;
      const r = one(task, sock, at, (flags & ~MSG_WAITFORONE) | MSG_DONTWAIT);
      if (r === EAGAIN) return done > 0 && !waitsForMore ? done : EAGAIN;
      if (r instanceof Errno) return done > 0 ? done : r;
      if (typeof r !== 'number') return done > 0 ? done : EIO;
      if (task.mm.copyOut(at + MSG_LEN, int32(r)) !== 4) return done > 0 ? done : EFAULT;
      done++;
      if (deadlineNs !== null && process.hrtime.bigint() >= deadlineNs) break;
    }
    return done;
  };
  if (nonblocking) {
    const r = attempt();
    return r === null ? EAGAIN : r;
  }
  return blockingIo(task, sock, receiving ? POLLIN : POLLOUT, attempt, () => (done > 0 ? done : ERESTARTSYS));
}

function shutdown(task: Task, a: SyscallArgs): number | Errno {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  const how = a.int(1);
  if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return EINVAL;
  return sock.shutdown(how) ?? 0;
}

function getsockopt(task: Task, a: SyscallArgs): number | Errno {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  const option = a.int(2);
  if (isInet(sock)) {
    const own = sock.inet.getOption(a.int(1), option);
    if (own instanceof Errno) return own;
    if (own !== null) return copyOutSized(task, a.ptr(3), a.ptr(4), own, false) ?? 0;
  }
  if (a.int(1) !== SOL_SOCKET) return ENOPROTOOPT;
  let value: Uint8Array;
  switch (option) {
    case SO_TYPE: value = int32(sock.type); break;
    case SO_DOMAIN: value = int32(AF_UNIX); break;
    case SO_PROTOCOL: value = int32(0); break;
    case SO_ERROR: value = int32(sock.takeError()?.code ?? 0); break;
    case SO_ACCEPTCONN: value = int32(sock.listening ? 1 : 0); break;
    case SO_PASSCRED: value = int32(sock.passCredentials ? 1 : 0); break;
    case SO_OOBINLINE: value = int32(sock.oobInline ? 1 : 0); break;
    case SO_SNDBUF: value = int32(sock.sendBufferBytes); break;
    case SO_RCVBUF: value = int32(sock.receiveBufferBytes); break;
    case SO_RCVTIMEO:
    case SO_RCVTIMEO_NEW: value = timeval(sock.receiveTimeoutNs); break;
    case SO_SNDTIMEO:
    case SO_SNDTIMEO_NEW: value = timeval(sock.sendTimeoutNs); break;
    case SO_PEERCRED: {
      const c = sock.peerCredentials;
      value = new Uint8Array(new Int32Array([c.pid, c.uid, c.gid]).buffer);
      break;
    }
    default: return ENOPROTOOPT;
  }
  return copyOutSized(task, a.ptr(3), a.ptr(4), value, false) ?? 0;
}

const NS_PER_MS = 1_000_000n;

/**
 * SO_RCVTIMEO's struct timeval as Linux's sock_set_timeout takes it: {0, 0} for no timeout, tv_usec
 * beyond a second EDOM, a negative tv_sec a timeout that has passed already; kept in whole
 * milliseconds (Linux keeps jiffies: at HZ=1000, the same).
 */
function readSocketTimeout(task: Task, va: number, len: number): bigint | Errno {
  if (len < TIMEVAL_SIZE) return EINVAL;
  const raw = new Uint8Array(TIMEVAL_SIZE);
  if (task.mm.copyIn(va, raw) !== TIMEVAL_SIZE) return EFAULT;
  const v = new DataView(raw.buffer);
  const sec = v.getBigInt64(0, true);
  const usec = v.getBigInt64(8, true);
  if (usec < 0n || usec >= 1_000_000n) return EDOM;
  if (sec < 0n) return 1n;
  return sec * 1000n * NS_PER_MS + ((usec + 999n) / 1000n) * NS_PER_MS;
}

/** getsockopt's struct timeval of a timeout (0: none). */
function timeval(ns: bigint): Uint8Array {
  const out = new DataView(new ArrayBuffer(TIMEVAL_SIZE));
  out.setBigInt64(0, ns / (1000n * NS_PER_MS), true);
  out.setBigInt64(8, ((ns % (1000n * NS_PER_MS)) / NS_PER_MS) * 1000n, true);
  return new Uint8Array(out.buffer);
}

/** The most of an option value setsockopt reads: struct linger, the largest option kept. */
const MAX_OPTION_BYTES = 8;

function setInetOption(task: Task, inet: InetState, a: SyscallArgs): number | Errno | undefined {
  const len = a.int(4);
  if (len < 0) return EINVAL;
  const raw = new Uint8Array(Math.min(len, MAX_OPTION_BYTES));
  if (raw.length > 0 && task.mm.copyIn(a.ptr(3), raw) !== raw.length) return EFAULT;
  const r = inet.setOption(a.int(1), a.int(2), raw);
  return r === undefined ? undefined : r ?? 0;
}

function setsockopt(task: Task, a: SyscallArgs): number | Errno {
  const sock = socketOf(task, a.int(0));
  if (sock instanceof Errno) return sock;
  if (isInet(sock)) {
    const r = setInetOption(task, sock.inet, a);
    if (r !== undefined) return r;
  }
  if (a.int(1) !== SOL_SOCKET) return ENOPROTOOPT;
  const option = a.int(2);
  if (option === SO_RCVTIMEO || option === SO_RCVTIMEO_NEW || option === SO_SNDTIMEO || option === SO_SNDTIMEO_NEW) {
    const ns = readSocketTimeout(task, a.ptr(3), a.int(4));
    if (ns instanceof Errno) return ns;
    if (option === SO_RCVTIMEO || option === SO_RCVTIMEO_NEW) sock.receiveTimeoutNs = ns;
    else sock.sendTimeoutNs = ns;
    return 0;
  }
  if (option !== SO_SNDBUF && option !== SO_RCVBUF && option !== SO_PASSCRED && option !== SO_OOBINLINE) return ENOPROTOOPT;
  if (a.int(4) < 4) return EINVAL;
  const raw = new Uint8Array(4);
  if (task.mm.copyIn(a.ptr(3), raw) !== 4) return EFAULT;
  const v = new DataView(raw.buffer).getInt32(0, true);
  if (option === SO_PASSCRED) {
    sock.passCredentials = v !== 0;
    return 0;
  }
  if (option === SO_OOBINLINE) {
    sock.oobInline = v !== 0;
    return 0;
  }
  // Linux doubles the value asked for (for its bookkeeping) and reports that; the ring stays 208 KiB.
  const bytes = Math.max(option === SO_SNDBUF ? SOCK_MIN_SNDBUF : SOCK_MIN_RCVBUF, Math.min(2 * v, 2 * DEFAULT_MAX_BUFFER));
  if (option === SO_SNDBUF) sock.sendBufferBytes = bytes;
  else sock.receiveBufferBytes = bytes;
  return 0;
}

export const socketSyscalls: SyscallEntry[] = [
  partial('socket', socket, 'AF_UNIX SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM (SOCK_RAW as SOCK_DGRAM); AF_INET and AF_INET6 TCP and UDP on the sandbox\'s own loopback (no raw sockets: ESOCKTNOSUPPORT); other families EAFNOSUPPORT', 'iii'),
  partial('socketpair', socketpair, 'AF_UNIX SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM', 'iiip'),
  partial('bind', bind, 'AF_UNIX: a socket node (on a --mount directory seen by the sandbox only), an abstract name, autobind; AF_INET/AF_INET6: any, 127.0.0.0/8, ::1, v4-mapped (others EADDRNOTAVAIL), port 0 ephemeral (from ip_local_port_range), EADDRINUSE with SO_REUSEADDR and SO_REUSEPORT, EACCES below ip_unprivileged_port_start but for root', 'ipi'),
  partial('listen', listen, 'AF_UNIX stream and seqpacket sockets, TCP (autobinds; datagram: EOPNOTSUPP)', 'ii'),
  partial('accept', (t, a) => accept(t, a.int(0), a.ptr(1), a.ptr(2), 0), 'AF_UNIX stream and seqpacket listeners, TCP listeners', 'ipp'),
  partial('accept4', (t, a) => accept(t, a.int(0), a.ptr(1), a.ptr(2), a.int(3)), 'AF_UNIX stream and seqpacket listeners, TCP listeners', 'ippi'),
  partial('connect', connect, 'AF_UNIX: a bound socket node or abstract name; a datagram socket\'s default peer (AF_UNSPEC clears it); TCP to a loopback listener (ECONNREFUSED without one, EINPROGRESS when non-blocking; an ephemeral port shared by connections to different destinations, EADDRNOTAVAIL when the 4-tuple is taken; AF_UNSPEC resets the connection or stops a listener), UDP\'s default peer; other addresses ENETUNREACH', 'ipi'),
  partial('sendto', sendto, 'AF_UNIX, TCP, UDP (to an address or the default peer; 65507 bytes for IPv4, 65527 for IPv6); MSG_DONTWAIT, MSG_NOSIGNAL, MSG_OOB on TCP and Unix streams (its last byte urgent; an empty one on a Unix stream, and other sockets, EOPNOTSUPP); other fds ENOTSOCK', 'iBzxpi'),
  partial('recvfrom', recvfrom, 'AF_UNIX, TCP, UDP: the sender\'s address, MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, MSG_TRUNC, MSG_OOB on TCP and Unix streams (the urgent byte; UDP ignores it, Unix seqpacket and datagram sockets EOPNOTSUPP); other fds ENOTSOCK', 'ibzxpp'),
  partial('sendmsg', sendmsg, 'AF_UNIX: SCM_RIGHTS, SCM_CREDENTIALS (not on TCP or UDP: EINVAL); flags as sendto', 'ipx'),
  partial('recvmsg', recvmsg, 'AF_UNIX: SCM_RIGHTS (MSG_CMSG_CLOEXEC, MSG_CTRUNC), SCM_CREDENTIALS (SO_PASSCRED); flags as recvfrom', 'ipx'),
  partial('sendmmsg', (t, a) => batch(t, a, false), 'as sendmsg, for each message; a blocking socket waits for each', 'ipix'),
  partial('recvmmsg', (t, a) => batch(t, a, true), 'as recvmsg, for each message; a blocking socket waits for each (MSG_WAITFORONE: the first); the timeout is checked after each message, as Linux', 'ipixt'),
  partial('shutdown', shutdown, 'AF_UNIX, TCP and UDP sockets (a Unix SHUT_RD still reads what is queued and the peer\'s writes get EPIPE, TCP\'s SHUT_RD its own, as Linux; ENOTCONN without a connection or once it is over); other fds ENOTSOCK', 'ii'),
  partial('getsockopt', getsockopt, 'SOL_SOCKET: SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_ACCEPTCONN, SO_PASSCRED, SO_OOBINLINE, SO_PEERCRED, SO_SNDBUF, SO_RCVBUF, SO_RCVTIMEO, SO_SNDTIMEO, SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_LINGER; TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE/INTVL/CNT; IP_TOS, IP_TTL; IPV6_V6ONLY, IPV6_UNICAST_HOPS, IPV6_TCLASS', 'iiipp'),
  partial('setsockopt', setsockopt, 'SOL_SOCKET: SO_PASSCRED, SO_OOBINLINE, SO_SNDBUF, SO_RCVBUF (recorded; the buffer stays 208 KiB), SO_RCVTIMEO, SO_SNDTIMEO (in ms), SO_REUSEADDR, SO_REUSEPORT, SO_LINGER (zero: close resets), SO_KEEPALIVE; the TCP, IP and IPv6 options above (kept and read back)', 'iiipi'),
  partial('getsockname', (t, a) => socketName(t, a, false), 'AF_UNIX, TCP and UDP sockets; other fds ENOTSOCK', 'ipp'),
  partial('getpeername', (t, a) => socketName(t, a, true), 'AF_UNIX, TCP and UDP sockets; other fds ENOTSOCK', 'ipp'),
];
