// Unix-domain sockets (Linux net/unix/af_unix.c), stream and seqpacket: socketpair(2)'s connected
// pairs, and socket(2)'s sockets that bind a name (unix-names.ts), listen, accept and connect.
//
// A connection is two channels, one per direction, each a pipe ring sized to Linux's default socket
// buffer (208 KiB), so a writer waits where Linux's would. Control data (SCM_RIGHTS files, SCM_CREDENTIALS)
// rides on the byte range of the write that carried it: a read that reaches passed files stops at the
// end of that write and takes them, as unix_stream_read_generic does; a seqpacket channel also keeps its
// message lengths, so that each read takes one message. Each socket has one wait queue that every
// change it can see is told on: data arriving, room made by the peer's reads, the peer going, a
// connection waiting to be accepted.
//
// connect(2) makes the server's end at once (as Linux does) and queues it on the listener until
// accept(2) takes it: the client may write before that. Closing a listener resets the connections
// still queued (ECONNRESET, then end of file); closing an end that has unread data resets its peer.
import {
  EAGAIN, ECONNREFUSED, ECONNRESET, EFAULT, EINVAL, EISCONN, EMSGSIZE, ENOTCONN, EOPNOTSUPP, EPIPE, EPROTOTYPE, Errno,
} from '../abi/errno.js';
import {
  O_NONBLOCK, O_RDWR, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM, S_IFSOCK,
  waitEvents,
} from '../abi/fcntl.js';
import { Signal } from '../abi/signal.js';
import { Pipe } from '../fs/pipe.js';
import { allocAnonDev, allocIno, FileDescription, type FileStat, syntheticStat } from '../fs/vfs.js';
import { type Cancellable, type ReadinessListener, type ReadinessSubscription, WaitQueue } from '../fs/wait.js';

export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_SEQPACKET = 5;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
/** What SO_SNDBUF and SO_RCVBUF report by default (Linux's net.core.wmem_default). */
export const DEFAULT_BUFFER_BYTES = 212992;
/** listen(2)'s backlog is capped at net.core.somaxconn. */
export const SOMAXCONN = 4096;
/** A waitFor event of a connecting socket: the listener it tries has room in its backlog (never in readiness()). */
export const BACKLOG_ROOM = 0x4000_0000;
const sockDev = allocAnonDev();
/** Each direction holds what Linux's default send buffer lets through before a writer waits. */
const BUFFER_PAGES = Math.ceil(DEFAULT_BUFFER_BYTES / 4096);
/** A seqpacket message may use the send buffer less Linux's per-message overhead. */
export const MESSAGE_OVERHEAD = 32;

/** Who is at an end: SO_PEERCRED, SCM_CREDENTIALS. */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** SO_PEERCRED of a socket without a peer. */
export const NO_CREDENTIALS: PeerCredentials = { pid: 0, uid: -1, gid: -1 };

function sameCredentials(a: PeerCredentials, b: PeerCredentials): boolean {
  return a.pid === b.pid && a.uid === b.uid && a.gid === b.gid;
}

/** Control data a write carries. */
export interface Ancillary {
  /** SCM_RIGHTS: references the channel holds until a read takes them. */
  files: FileDescription[] | null;
  /** SCM_CREDENTIALS as sent (checked by the caller), or the sender's own when the reader asks for them. */
  credentials: PeerCredentials | null;
}

/** Control data on the bytes [start, end) of a channel. */
interface Rider extends Ancillary {
  start: number;
  end: number;
}

/** What one read took. */
export interface Received {
  bytes: number;
  /** A seqpacket message longer than the buffer: its whole length (the rest is dropped unless peeked). */
  messageLength: number;
  files: FileDescription[] | null;
  /** The sender's credentials, when the reader has SO_PASSCRED. */
  credentials: PeerCredentials | null;
  /** A datagram's sender's name (null: unnamed); absent for a connection, whose peer sent it. */
  from?: Uint8Array | null;
  /** recv(MSG_OOB)'s urgent byte (msg_flags MSG_OOB). */
  oob?: boolean;
}

/** TCP's urgent byte in a channel (Linux's urg_data): none, there to take with MSG_OOB, or taken. */
const URGENT_NONE = 0;
const URGENT_VALID = 1;
const URGENT_READ = 2;

/** One direction of a connection: the ring, and what rides on it. */
class Channel {
  readonly pipe: Pipe;
  /** Bytes written and read so far: positions of the riders. */
  written = 0;
  consumed = 0;
  riders: Rider[] = [];
  /** Seqpacket: the lengths of the messages in the ring, oldest first. */
  readonly messages: number[] | null;
  /** TCP's urgent byte: its state, its position in the stream (urg_seq) and its value. */
  urgent = URGENT_NONE;
  urgentAt = 0;
  urgentByte = 0;
  /**
   * A Unix stream's urgent bytes taken by recv(MSG_OOB) (Linux leaves their emptied skb queued): their
   * positions, oldest first. Their bytes stay in the ring for reads to skip.
   */
  readonly holes: number[] = [];
  /** Where `written` stood when a peek found only bytes it skips: a wait for data waits past it. */
  stalledAt = -1;

  constructor(readonly to: UnixSocket, from: UnixSocket, seqpacket: boolean) {
    this.pipe = new Pipe(BUFFER_PAGES, to.queue, from.queue);
    this.messages = seqpacket ? [] : null;
  }

  get empty(): boolean {
    return this.messages !== null ? this.messages.length === 0 : this.pipe.size === 0;
  }

  /** Bytes wait to be read (a taken urgent byte is none): closing the reader resets the writer. */
  get unread(): boolean {
    return this.messages !== null ? this.messages.length > 0 : this.pipe.size > this.holes.length;
  }

  /** The reader is gone: files in flight are closed (taken first: closing one may close the reader). */
  discard(): void {
    const riders = this.riders;
    this.riders = [];
    for (const r of riders) for (const f of r.files ?? []) f.decRef();
  }

  /** The reader went: what is queued goes with it, and so the writer has its room back (unix_release_sock). */
  purge(): void {
    this.pipe.drain(this.pipe.size, (c) => c.length);
    this.messages?.splice(0);
    this.holes.splice(0);
    this.urgent = URGENT_NONE;
  }

  /** Riders wholly read go; riders whose first byte was read have given up their files. */
  advance(n: number): void {
    this.consumed += n;
    while (this.riders.length > 0 && this.riders[0]!.end <= this.consumed) this.riders.shift();
  }
}

type State = 'unconnected' | 'listening' | 'connected';

/** What spanOf ended on (one scratch object: a read allocates nothing for it). */
const spanOut: { files: FileDescription[] | null; credentials: PeerCredentials | null } = { files: null, credentials: null };

/** Sockets that files in flight (SCM_RIGHTS) may be queued to: what the collector looks through. */
const holders = new Set<UnixSocket>();
let collecting = false;

/** Files in flight are being queued to s (a stream's channel or a datagram queue). */
export function holdsInFlight(s: UnixSocket): void {
  holders.add(s);
}

/**
 * Linux's unix_gc: sockets whose every reference is a file in flight (candidates), and that no queue
 * read by a socket held from outside reaches, directly or through other such sockets, can never be
 * read: the files queued to them are dropped, so that they and what they carried go.
 */
export function collectInFlight(): void {
  if (collecting || holders.size === 0) return;
  collecting = true;
  try {
    const inflight = new Map<UnixSocket, number>();
    const queued = new Map<UnixSocket, FileDescription[]>();
    for (const s of holders) {
      const files = s.queuedFiles();
      if (files.length === 0) {
        holders.delete(s);
        continue;
      }
      queued.set(s, files);
      for (const f of files) if (f instanceof UnixSocket) inflight.set(f, (inflight.get(f) ?? 0) + 1);
    }
    const candidates = new Set<UnixSocket>();
    for (const [s, n] of inflight) if (n === s.references) candidates.add(s);
    if (candidates.size === 0) return;
    const live = new Set<UnixSocket>();
    const work: UnixSocket[] = [];
    const reach = (files: FileDescription[] | undefined): void => {
      for (const f of files ?? []) {
        if (f instanceof UnixSocket && candidates.has(f) && !live.has(f)) {
          live.add(f);
          work.push(f);
        }
      }
    };
    for (const [reader, files] of queued) if (!candidates.has(reader)) reach(files);
    while (work.length > 0) reach(queued.get(work.pop()!));
    for (const s of candidates) if (!live.has(s)) s.dropQueuedFiles();
  } finally {
    collecting = false;
  }
}

export class UnixSocket extends FileDescription {
  readonly queue = new WaitQueue();
  readonly ino = allocIno();
  private state: State = 'unconnected';
  /** getsockname's struct sockaddr_un (sun_family included); null while unnamed. */
  address: Uint8Array | null = null;
  /** Takes the name back (abstract name, socket node) when the socket goes. */
  protected unbind: (() => void) | null = null;
  protected peer: UnixSocket | null = null;
  private rx: Channel | null = null;
  private tx: Channel | null = null;
  protected readShut = false;
  protected writeShut = false;
  /** This end counts among the readers of its receiving ring, the writers of its sending ring. */
  private reading = false;
  private writing = false;
  /** ECONNRESET when the peer went with data unread or before accept; SO_ERROR takes it. */
  protected error: Errno | null = null;
  /** The peer reset the connection (the error above may have been taken since). */
  protected wasReset = false;
  /** SO_PEERCRED: the peer's at connect time (a listener: its own at listen time). */
  peerCredentials: PeerCredentials = NO_CREDENTIALS;
  /** SO_RCVTIMEO and SO_SNDTIMEO, in ns: how long a blocking receive or send (accept, connect) may wait; 0 for ever. */
  receiveTimeoutNs = 0n;
  sendTimeoutNs = 0n;
  /** SO_PASSCRED. */
  passCredentials = false;
  /** SO_OOBINLINE: an urgent byte stays in the stream. */
  oobInline = false;
  sendBufferBytes = DEFAULT_BUFFER_BYTES;
  receiveBufferBytes = DEFAULT_BUFFER_BYTES;
  private backlog = 0;
  /** A listener's connections not accepted yet: their server ends. */
  protected readonly pending: UnixSocket[] = [];
  /** The listener a blocked connect waits for room on. */
  protected connectingTo: UnixSocket | null = null;
  /** A server end not accepted yet. */
  private embryo = false;

  constructor(readonly type: number, flags: number, readonly owner: PeerCredentials) {
    super(O_RDWR | flags);
  }

  get listening(): boolean {
    return this.state === 'listening';
  }
  get connected(): boolean {
    return this.state === 'connected';
  }
  /** getpeername's address: the peer's name (null: unnamed); ENOTCONN without a peer. */
  peerAddress(): Uint8Array | null | Errno {
    return this.peer === null || this.state !== 'connected' ? ENOTCONN : this.peer.address;
  }

  /** Both directions are over: this end stopped writing (or was reset) and the peer's writing ended. */
  protected get finished(): boolean {
    return this.state === 'connected' && this.rx!.pipe.writers === 0 && (this.writeShut || this.wasReset);
  }

  /** The peer still reads what this end sends (it has not gone, and a Unix peer did not shut SHUT_RD). */
  protected get peerReading(): boolean {
    return this.tx !== null && this.tx.pipe.readers > 0;
  }

  /** getsockname's address (null: unnamed). */
  localName(): Uint8Array | null {
    return this.address;
  }

  /** What a send on a socket without a connection answers. */
  get unconnectedSendError(): Errno {
    return ENOTCONN;
  }

  /** What a receive on a socket without a connection answers (unix_stream_recvmsg: EINVAL). */
  protected get unconnectedReceiveError(): Errno {
    return this.type === SOCK_SEQPACKET ? ENOTCONN : EINVAL;
  }

  /** The server's end of a connection to this listener, made by connect. */
  protected newServerEnd(_client: UnixSocket): UnixSocket {
    const server = new UnixSocket(this.type, 0, this.owner);
    server.address = this.address;
    return server;
  }

  /** Gives the socket a name; `unbind` takes it back when the socket goes. */
  setName(address: Uint8Array, unbind: () => void): void {
    this.address = address;
    this.unbind = unbind;
  }

  /** SO_ERROR: the pending error, cleared. */
  takeError(): Errno | null {
    const e = this.error;
    this.error = null;
    return e;
  }

  /** Connects this socket and peer, both unconnected. */
  pairWith(peer: UnixSocket): void {
    const seqpacket = this.type === SOCK_SEQPACKET;
    const toPeer = new Channel(peer, this, seqpacket);
    const toThis = new Channel(this, peer, seqpacket);
    this.link(peer, toThis, toPeer);
    peer.link(this, toPeer, toThis);
  }

  private link(peer: UnixSocket, rx: Channel, tx: Channel): void {
    this.state = 'connected';
    this.peer = peer;
    this.rx = rx;
    this.tx = tx;
    // A shutdown before the connection holds for it.
    this.reading = !this.readShut || this.readShutIsLocal;
    this.writing = !this.writeShut;
    if (this.reading) rx.pipe.readers++;
    if (this.writing) tx.pipe.writers++;
    this.queue.notify(POLLOUT | POLLWRNORM);
  }

  /** listen(2): backlog as given (capped as Linux does, a negative one meaning the cap). */
  listen(backlog: number, creds: PeerCredentials): Errno | null {
    if (this.type !== SOCK_STREAM && this.type !== SOCK_SEQPACKET) return EOPNOTSUPP;
    if (this.address === null || this.state === 'connected') return EINVAL;
    if (this.state === 'unconnected') {
      this.state = 'listening';
      this.peerCredentials = creds;
    }
    const wider = (backlog >>> 0) > SOMAXCONN ? SOMAXCONN : backlog;
    if (wider > this.backlog) this.queue.notify(BACKLOG_ROOM);
    this.backlog = wider;
    return null;
  }

  /**
   * connect(2) to listener, as creds: EAGAIN while its backlog is full (the caller waits for
   * BACKLOG_ROOM on this socket, or answers EAGAIN if it does not block).
   */
  connect(listener: UnixSocket, creds: PeerCredentials): Errno | null {
    this.connectingTo = null;
    if (listener.type !== this.type) return EPROTOTYPE;
    if (listener.state !== 'listening' || listener.readShut) return ECONNREFUSED;
    // Linux lets one more than the backlog wait (unix_recvq_full: the queue longer than the backlog).
    if (listener.pending.length > listener.backlog) {
      this.connectingTo = listener;
      return EAGAIN;
    }
    if (this.state === 'connected') return EISCONN;
    if (this.state === 'listening') return EINVAL;
    const server = listener.newServerEnd(this);
    server.embryo = true;
    server.peerCredentials = creds;
    server.passCredentials = listener.passCredentials;
    this.pairWith(server);
    this.peerCredentials = listener.peerCredentials;
    listener.pending.push(server);
    listener.queue.notify(POLLIN | POLLRDNORM);
    return null;
  }

  /** accept(2): the server end of the oldest connection, with the status flags given (O_NONBLOCK). */
  accept(flags: number): UnixSocket | Errno {
    if (this.type !== SOCK_STREAM && this.type !== SOCK_SEQPACKET) return EOPNOTSUPP;
    if (this.state !== 'listening') return EINVAL;
    const s = this.pending.shift();
    if (s === undefined) return EAGAIN;
    s.embryo = false;
    s.flags = O_RDWR | (flags & O_NONBLOCK);
    this.queue.notify(BACKLOG_ROOM);
    return s;
  }

  /**
   * Reads up to max bytes into sink (which copies what it can, a short count meaning a fault).
   * EAGAIN when nothing is there yet; 0 bytes at end of file.
   */
  receive(sink: (chunk: Uint8Array) => number, max: number, peek: boolean): Received | Errno {
    if (this.state !== 'connected') return this.unconnectedReceiveError;
    const ch = this.rx!;
    // After SHUT_RD what is queued is still read, then end of file (unix_stream_read_generic).
    if (ch.empty) {
      const e = this.takeError();
      if (e !== null) return e;
      if (ch.pipe.writers === 0 || this.readShut) return { bytes: 0, messageLength: 0, files: null, credentials: null };
      return EAGAIN;
    }
    const fallback = this.peer?.owner ?? NO_CREDENTIALS;
    let files: FileDescription[] | null = null;
    let credentials: PeerCredentials | null = null;
    let n: number;
    let messageLength: number;
    if (ch.messages !== null) {
      messageLength = ch.messages[0]!;
      n = Math.min(max, messageLength);
      const r = ch.riders[0];
      if (r !== undefined && r.start === ch.consumed) {
        files = r.files;
        credentials = r.credentials;
      }
    } else {
      if (!this.tcpUrgent && (ch.urgent === URGENT_VALID || ch.holes.length > 0)) return this.receiveAroundOob(ch, sink, max, peek, fallback);
      // Up to max bytes, stopping after the first write that carried files, and (for a reader of
      // credentials) before bytes from a different sender.
      const pos = ch.consumed;
      n = this.spanOf(ch, pos, pos + Math.min(max, ch.pipe.size), fallback, null) - pos;
      files = spanOut.files;
      credentials = spanOut.credentials;
      messageLength = n;
      if (ch.urgent !== URGENT_NONE && ch.urgentAt >= pos) {
        // A read stops before the urgent byte; at it, one skips it unless SO_OOBINLINE (tcp_recvmsg).
        if (ch.urgentAt > pos) n = Math.min(n, ch.urgentAt - pos);
        else if (!this.oobInline) return this.receiveOverMark(ch, sink, max, peek);
        messageLength = n;
      }
    }
    const bytes = ch.pipe.drain(n, sink, peek);
    if (bytes === 0 && n > 0) return EFAULT;
    if (!peek) {
      if (ch.messages !== null) {
        ch.messages.shift();
        const rest = messageLength - bytes;
        if (rest > 0) ch.pipe.drain(rest, (c) => c.length);
        ch.advance(messageLength);
      } else {
        // Files go with the first read that touches their write.
        for (const r of ch.riders) {
          if (r.start >= ch.consumed + bytes) break;
          r.files = null;
        }
        ch.advance(bytes);
        if (ch.urgent !== URGENT_NONE && ch.consumed > ch.urgentAt) ch.urgent = URGENT_NONE;
      }
    } else if (files !== null) {
      for (const f of files) f.incRef();
    }
    if (this.passCredentials) credentials ??= fallback;
    else credentials = null;
    return { bytes, messageLength, files, credentials };
  }

  /**
   * How far from pos toward stop one read goes: to the end of the first write that carried files,
   * and (for a reader of credentials) not past a change of sender from first's. spanOut says what
   * files it ends on and whose credentials it read.
   */
  private spanOf(ch: Channel, pos: number, stop: number, fallback: PeerCredentials, first: PeerCredentials | null): number {
    let at = pos;
    spanOut.files = null;
    let i = 0;
    while (i < ch.riders.length && ch.riders[i]!.end <= pos) i++;
    while (at < stop) {
      const r = ch.riders[i];
      let end: number;
      let creds = fallback;
      let carried: FileDescription[] | null = null;
      if (r !== undefined && r.start <= at) {
        end = r.end;
        creds = r.credentials ?? fallback;
        carried = r.files;
        i++;
      } else {
        end = r?.start ?? Infinity;
      }
      if (this.passCredentials) {
        if (first === null) first = creds;
        else if (!sameCredentials(first, creds)) break;
      }
      at = Math.min(end, stop);
      if (carried !== null) {
        spanOut.files = carried;
        break;
      }
    }
    spanOut.credentials = first;
    return at;
  }

  /**
   * A Unix stream read where an urgent byte waits or taken ones lie (unix_stream_read_generic with
   * manage_oob): it stops before the urgent byte once it has read something, and at it skips it
   * (and, unless it peeks, drops it) unless SO_OOBINLINE, which reads it; a taken byte is skipped,
   * but stops a read that has read something while no other urgent byte waits.
   */
  private receiveAroundOob(ch: Channel, sink: (chunk: Uint8Array) => number, max: number, peek: boolean,
    fallback: PeerCredentials): Received | Errno {
    const holes = ch.holes;
    const start = ch.consumed;
    const end = start + ch.pipe.size;
    let waiting = ch.urgent === URGENT_VALID;
    let dropped = false;
    let skipUrgent = false;
    let p = start;
    let copied = 0;
    let hole = 0;
    let files: FileDescription[] | null = null;
    let first: PeerCredentials | null = null;
    while (p < end && copied < max) {
      if (hole < holes.length && holes[hole] === p) {
        if (copied > 0 && !waiting) break;
        hole++;
        p++;
        continue;
      }
      if (waiting && p === ch.urgentAt) {
        if (copied > 0) break;
        if (!peek) {
          waiting = false;
          dropped = true;
        }
        if (!this.oobInline) {
          skipUrgent = true;
          p++;
          continue;
        }
      }
      let stop = Math.min(end, p + max - copied);
      if (hole < holes.length) stop = Math.min(stop, holes[hole]!);
      if (waiting && ch.urgentAt > p) stop = Math.min(stop, ch.urgentAt);
      const at = this.spanOf(ch, p, stop, fallback, first);
      first = spanOut.credentials;
      copied += at - p;
      p = at;
      if (spanOut.files !== null) {
        files = spanOut.files;
        break;
      }
      if (at < stop) break;
    }
    // One pass over the ring, the skipped bytes left out of what the sink sees.
    let off = start;
    let skipIdx = 0;
    let given = 0;
    let fault = false;
    const isSkipped = (x: number): boolean => {
      while (skipIdx < hole && holes[skipIdx]! < x) skipIdx++;
      return (skipIdx < hole && holes[skipIdx] === x) || (skipUrgent && x === ch.urgentAt);
    };
    const taken = ch.pipe.drain(p - start, (c) => {
      let from = 0;
      for (let i = 0; i <= c.length; i++) {
        if (i < c.length && !isSkipped(off + i)) continue;
        if (i > from) {
          const got = sink(c.subarray(from, i));
          given += got;
          if (got < i - from) {
            fault = true;
            off += from + got;
            return from + got;
          }
        }
        from = i + 1;
      }
      off += c.length;
      return c.length;
    }, peek);
    if (fault && given === 0) return EFAULT;
    if (!peek) {
      for (const r of ch.riders) {
        if (r.start >= start + taken) break;
        r.files = null;
      }
      ch.advance(taken);
      let gone = 0;
      while (gone < holes.length && holes[gone]! < ch.consumed) gone++;
      if (gone > 0) holes.splice(0, gone);
      if (dropped && ch.urgentAt < ch.consumed) ch.urgent = URGENT_NONE;
    } else if (files !== null) {
      for (const f of files) f.incRef();
    }
    const credentials = this.passCredentials ? first ?? fallback : null;
    if (given === 0 && max > 0) {
      if (ch.pipe.writers === 0 || this.readShut) return { bytes: 0, messageLength: 0, files: null, credentials: null };
      if (peek) ch.stalledAt = ch.written;
      return EAGAIN;
    }
    return { bytes: given, messageLength: given, files, credentials };
  }

  /** A read at the urgent byte, which it skips: what follows it (none: EAGAIN, or end of file). */
  private receiveOverMark(ch: Channel, sink: (chunk: Uint8Array) => number, max: number, peek: boolean): Received | Errno {
    const n = Math.min(max, ch.pipe.size - 1);
    let skip = 1;
    const bytes = ch.pipe.drain(n + 1, (c) => {
      if (skip === 0) return sink(c);
      skip = 0;
      return c.length === 1 ? 1 : 1 + sink(c.subarray(1));
    }, peek) - 1;
    if (bytes < n) return EFAULT;
    if (!peek) {
      ch.advance(bytes + 1);
      ch.urgent = URGENT_NONE;
    }
    if (bytes === 0 && max > 0) {
      if (ch.pipe.writers === 0 || this.readShut) return { bytes: 0, messageLength: 0, files: null, credentials: null };
      return EAGAIN;
    }
    return { bytes, messageLength: bytes, files: null, credentials: null };
  }

  /**
   * recv(MSG_OOB) of TCP's urgent byte (tcp_recv_urg): EINVAL with none, once taken or under
   * SO_OOBINLINE; over TCP ENOTCONN once reset; it never waits. max 0 takes it without copying (over
   * TCP with MSG_TRUNC).
   */
  receiveUrgent(sink: (chunk: Uint8Array) => number, max: number, peek: boolean): Received | Errno {
    if (this.state === 'listening') return this.tcpUrgent ? ENOTCONN : EINVAL;
    const ch = this.rx;
    if (this.oobInline || ch === null || ch.urgent !== URGENT_VALID) return EINVAL;
    if (this.wasReset && this.tcpUrgent) return ENOTCONN;
    // An empty buffer: TCP says MSG_TRUNC with 0 bytes, a Unix stream counts the byte all the same.
    let bytes = this.tcpUrgent ? 0 : 1;
    let fault = false;
    if (max > 0) {
      // A fault still takes the byte (tcp_recv_urg, unix_stream_recv_urg).
      fault = sink(new Uint8Array([ch.urgentByte])) !== 1;
      bytes = 1;
    }
    if (!peek) {
      if (this.tcpUrgent) {
        ch.urgent = URGENT_READ;
      } else {
        // A Unix stream's taken byte stays queued, emptied (unix_stream_recv_urg).
        ch.urgent = URGENT_NONE;
        ch.holes.push(ch.urgentAt);
      }
    }
    if (fault) return EFAULT;
    return { bytes, messageLength: bytes, files: null, credentials: null, oob: true };
  }

  /**
   * send(MSG_OOB) wrote its bytes: the last of them is urgent (tcp_check_urg at the peer, queue_oob
   * for a Unix stream). An urgent byte not yet read goes back into the stream (over TCP, one already
   * at the reader's head is dropped); the peer's owner (F_SETOWN) gets SIGURG.
   */
  markUrgent(last: number): void {
    const ch = this.tx;
    if (ch === null || ch.written === 0) return;
    const at = ch.written - 1;
    if (ch.urgent !== URGENT_NONE && at <= ch.urgentAt) return;
    const to = ch.to;
    if (this.tcpUrgent && ch.urgent !== URGENT_NONE && ch.urgentAt === ch.consumed && !to.oobInline && ch.written - ch.consumed > 1) {
      ch.pipe.drain(1, (c) => c.length);
      ch.advance(1);
    }
    ch.urgent = URGENT_VALID;
    ch.urgentAt = at;
    ch.urgentByte = last;
    to.fileOwner?.signal(Signal.SIGURG);
    to.queue.notify(POLLPRI | POLLIN | POLLRDNORM);
  }

  /** The files in flight queued to this socket, for the collector. */
  queuedFiles(): FileDescription[] {
    const out: FileDescription[] = [];
    if (this.rx !== null && this.rx.to === this) for (const r of this.rx.riders) if (r.files !== null) out.push(...r.files);
    return out;
  }

  /** The collector found this socket unreachable: what is in flight to it is closed. */
  dropQueuedFiles(): void {
    this.rx?.discard();
  }

  /**
   * SIOCATMARK: the next byte to read is the urgent one (or was, before recv(MSG_OOB) took it; for a
   * Unix stream, a taken byte at the head with no other urgent byte, or that one, after it).
   */
  atUrgentMark(): boolean {
    const ch = this.rx;
    if (this.state !== 'connected' || ch === null) return false;
    if (!this.tcpUrgent && ch.holes.length > 0 && ch.holes[0] === ch.consumed) {
      return ch.urgent !== URGENT_VALID || ch.urgentAt === ch.consumed + 1;
    }
    return ch.urgent !== URGENT_NONE && ch.urgentAt === ch.consumed;
  }

  /** Urgent data is TCP's (urg_data, the byte kept in the stream) rather than a Unix stream's (oob_skb). */
  protected get tcpUrgent(): boolean {
    return false;
  }

  /** The urgent byte at the head of the stream, which a read skips: not counted as readable. */
  private get skippedUrgent(): number {
    const ch = this.rx!;
    return ch.urgent !== URGENT_NONE && !this.oobInline && ch.urgentAt >= ch.consumed && ch.urgentAt < ch.written ? 1 : 0;
  }

  /**
   * Writes src (all of it for a seqpacket message, which goes in whole or not at all), with control
   * data on its first byte. EAGAIN when nothing fits; EPIPE once the peer stopped reading.
   */
  send(src: Uint8Array, ancillary: Ancillary | null, sender: PeerCredentials = this.owner): number | Errno {
    if (this.state !== 'connected') return this.unconnectedSendError;
    const ch = this.tx!;
    if (this.writeShut || ch.pipe.readers === 0) return EPIPE;
    if (ch.messages !== null) {
      if (src.length > this.sendBufferBytes - MESSAGE_OVERHEAD) return EMSGSIZE;
      if (!ch.pipe.fits(src.length)) return EAGAIN;
      if (src.length === 0) ch.to.queue.notify(POLLIN | POLLRDNORM);
    }
    const r = src.length === 0 ? 0 : ch.pipe.write(src);
    if (typeof r !== 'number') return r;
    if (r > 0 || ch.messages !== null) {
      if (ancillary !== null && (ancillary.files !== null || ancillary.credentials !== null)) {
        const credentials = ancillary.credentials ?? (ch.to.passCredentials ? sender : null);
        ch.riders.push({ start: ch.written, end: ch.written + r, files: ancillary.files, credentials });
        if (ancillary.files !== null) holdsInFlight(ch.to);
      } else if (ch.to.passCredentials) {
        ch.riders.push({ start: ch.written, end: ch.written + r, files: null, credentials: sender });
      }
      ch.written += r;
      ch.messages?.push(r);
    }
    return r;
  }

  /**
   * SIGPIPE comes with EPIPE when nothing of the write went (unix_stream_sendmsg, tcp_sendmsg), never
   * from a seqpacket socket (unix_seqpacket_sendmsg is unix_dgram_sendmsg).
   */
  override sigpipeOnEpipe(afterPart: boolean): boolean {
    return this.type !== SOCK_SEQPACKET && !afterPart;
  }

  override read(buf: Uint8Array): number | Errno {
    let at = 0;
    const r = this.receive((c) => {
      buf.set(c, at);
      at += c.length;
      return c.length;
    }, buf.length, false);
    if (r instanceof Errno) return r;
    for (const f of r.files ?? []) f.decRef();
    return r.bytes;
  }

  override write(buf: Uint8Array): number | Errno {
    return this.send(buf, null);
  }

  /** shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR; again is a no-op, as on Linux (without a peer too). */
  shutdown(how: number): Errno | null {
    if (this.state !== 'connected') {
      if (how === SHUT_RD || how === SHUT_RDWR) this.readShut = true;
      if (how === SHUT_WR || how === SHUT_RDWR) this.writeShut = true;
      this.queue.notify(POLLIN | POLLRDHUP | POLLHUP);
      return null;
    }
    if ((how === SHUT_RD || how === SHUT_RDWR) && !this.readShut) {
      this.readShut = true;
      if (!this.readShutIsLocal) this.stopReading();
      this.queue.notify(POLLIN | POLLRDHUP);
    }
    if ((how === SHUT_WR || how === SHUT_RDWR) && !this.writeShut) {
      this.writeShut = true;
      this.stopWriting();
      this.queue.notify(POLLOUT);
    }
    return null;
  }

  /** This end no longer reads: the peer's writes answer EPIPE. */
  private stopReading(): void {
    if (!this.reading) return;
    this.reading = false;
    const rx = this.rx!;
    if (--rx.pipe.readers === 0) rx.pipe.writerQueue.notify(POLLERR | POLLOUT);
  }

  /** This end no longer writes: the peer reads to end of file. */
  private stopWriting(): void {
    if (!this.writing) return;
    this.writing = false;
    const tx = this.tx!;
    if (--tx.pipe.writers === 0) tx.to.queue.notify(POLLHUP | POLLIN | POLLRDHUP);
  }

  /**
   * SHUT_RD is this end's own (TCP's): the peer may still send, and what is queued or comes later is
   * still read, then end of file. A Unix socket's SHUT_RD stops the peer's writes (unix_shutdown).
   */
  protected get readShutIsLocal(): boolean {
    return false;
  }

  /**
   * Ends the connection at once both ways, as a TCP reset does: the peer is told peerError (its
   * next call's error) unless that is null, and neither end reads or writes again. forget leaves
   * this end unconnected (tcp_disconnect), else it stays a connection that is over (TCP_CLOSE).
   */
  protected abortConnection(peerError: Errno | null, forget: boolean): void {
    const peer = this.peer!;
    if (peerError !== null) {
      peer.error = peerError;
      peer.wasReset = true;
    }
    this.wasReset = true;
    this.readShut = true;
    this.writeShut = true;
    this.stopReading();
    this.stopWriting();
    peer.stopReading();
    peer.stopWriting();
    this.rx!.discard();
    peer.queue.notify(POLLERR | POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
    if (forget) {
      this.state = 'unconnected';
      this.peer = null;
      this.rx = null;
      this.tx = null;
      this.readShut = false;
      this.writeShut = false;
      this.wasReset = false;
      this.peerCredentials = NO_CREDENTIALS;
    }
    this.queue.notify(POLLERR | POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
  }

  stat(): FileStat {
    return syntheticStat(this.ino, S_IFSOCK | 0o777, sockDev, { blksize: 4096 });
  }

  override readableBytes(): number | Errno {
    if (this.state === 'listening') return EINVAL;
    if (this.state !== 'connected') return 0;
    const ch = this.rx!;
    // A seqpacket socket's FIONREAD counts every message queued, as a stream's every byte (unix_inq_len).
    if (ch.messages !== null) return ch.pipe.size;
    return ch.pipe.size - (this.tcpUrgent ? this.skippedUrgent : ch.holes.length);
  }

  override readiness(): number {
    let mask = this.error !== null ? POLLERR : 0;
    if (this.state !== 'connected') {
      // unix_poll: the socket's own shutdown, a listener's waiting connections; not connected is a hang-up.
      if (this.readShut) mask |= POLLRDHUP | POLLIN | POLLRDNORM;
      if (this.readShut && this.writeShut) mask |= POLLHUP;
      if (this.state === 'listening') return mask | (this.pending.length > 0 ? POLLIN | POLLRDNORM : 0);
      return mask | POLLHUP | POLLOUT | POLLWRNORM | POLLWRBAND;
    }
    const rx = this.rx!;
    const tx = this.tx!;
    const peerStoppedWriting = rx.pipe.writers === 0;
    const peerStoppedReading = tx.pipe.readers === 0;
    if (this.readShut || peerStoppedWriting) mask |= POLLIN | POLLRDNORM;
    else if (rx.messages !== null ? rx.messages.length > 0 : rx.pipe.size > (this.tcpUrgent && this.atUrgentMark() && !this.oobInline ? 1 : 0)) mask |= POLLIN | POLLRDNORM;
    if (rx.urgent === URGENT_VALID) mask |= POLLPRI;
    if (this.readShut || peerStoppedWriting) mask |= POLLRDHUP;
    if ((this.readShut || peerStoppedWriting) && (this.writeShut || peerStoppedReading)) mask |= POLLHUP;
    // Writable while the ring has room (unix_writable), whatever the shutdowns; TCP's also once a write
    // would answer EPIPE at once.
    const room = (tx.pipe.readiness(false) & POLLOUT) !== 0;
    if (room || (this.writableOnceShut && (this.writeShut || peerStoppedReading))) mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return mask;
  }

  /** A wait to receive (or accept) has SO_RCVTIMEO, one to send (or connect) SO_SNDTIMEO. */
  override waitTimeoutNs(events: number): bigint {
    return (events & (POLLOUT | BACKLOG_ROOM)) !== 0 ? this.sendTimeoutNs : this.receiveTimeoutNs;
  }

  override waitFor(events: number, callback: () => void): Cancellable | null {
    if ((events & BACKLOG_ROOM) !== 0) {
      const listener = this.connectingTo;
      if (listener === null || listener.state !== 'listening' || listener.pending.length <= listener.backlog) {
        callback();
        return null;
      }
      return listener.queue.add(BACKLOG_ROOM | POLLHUP, callback);
    }
    let ready = this.readiness();
    // A peek that found only skipped bytes waits for more to come (unix_stream_data_wait).
    const rx = this.rx;
    if (rx !== null && rx.stalledAt === rx.written && !this.readShut && rx.pipe.writers > 0) ready &= ~(POLLIN | POLLRDNORM);
    if ((ready & (events | POLLHUP | POLLERR)) !== 0) {
      callback();
      return null;
    }
    return this.queue.add(events | POLLHUP | POLLERR | POLLRDHUP, callback);
  }

  override subscribe(events: number, onChange: ReadinessListener, exclusive = false): ReadinessSubscription {
    return this.queue.subscribe(waitEvents(events), onChange, exclusive);
  }

  override describe(): string {
    return `socket:[${this.ino}]`;
  }

  protected override release(): void {
    this.close();
  }

  /** Ends listening: the connections not accepted yet are reset. */
  protected stopListening(): void {
    this.state = 'unconnected';
    for (const s of this.pending.splice(0)) s.close();
    this.queue.notify(BACKLOG_ROOM | POLLHUP);
  }

  /** Writable once this end shut SHUT_WR or the peer stopped reading, room or not (tcp_poll). */
  protected get writableOnceShut(): boolean {
    return false;
  }

  /** Closing resets the peer even when all was read (TCP's SO_LINGER with a zero timeout). */
  protected get resetsOnClose(): boolean {
    return false;
  }

  /** The last reference went (or, for a connection never accepted, its listener did). */
  protected close(): void {
    if (this.state === 'listening') {
      this.stopListening();
    } else if (this.state === 'connected') {
      const peer = this.peer!;
      const rx = this.rx!;
      if (this.embryo || rx.unread || this.resetsOnClose) {
        peer.error = ECONNRESET;
        peer.wasReset = true;
        peer.queue.notify(POLLERR | POLLIN);
      }
      this.shutdown(SHUT_RDWR);
      this.stopReading();
      rx.discard();
      rx.purge();
    }
    this.unbind?.();
    this.unbind = null;
    // A socket going may leave a cycle of sockets in flight (unix_release_sock runs the collector).
    collectInFlight();
  }
}

/** socketpair(AF_UNIX): two connected ends of type (stream or seqpacket); flags: O_NONBLOCK for both. */
export function newSocketPair(type: number, flags: number, creator: PeerCredentials): [UnixSocket, UnixSocket] {
  const status = flags & O_NONBLOCK;
  const a = new UnixSocket(type, status, creator);
  const b = new UnixSocket(type, status, creator);
  a.pairWith(b);
  a.peerCredentials = creator;
  b.peerCredentials = creator;
  return [a, b];
}
