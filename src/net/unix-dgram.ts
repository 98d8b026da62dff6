// Unix-domain datagram sockets (Linux net/unix/af_unix.c, unix_dgram_*): each socket has a queue of
// whole datagrams, with the control data (SCM_RIGHTS files, SCM_CREDENTIALS) and the sender of each.
// A socket takes its name (unix-names.ts), options and wait queue from UnixSocket; connect only sets
// the default peer, which sends may also name by address. As on Linux, a receiver's queue holds
// max_dgram_qlen datagrams and one more for senders it is not connected back to, and each sender's
// datagrams in flight are charged to its send buffer as Linux charges their sk_buffs, so that a writer
// waits (or gets EAGAIN) where Linux's would.
import { EAGAIN, ECONNREFUSED, ECONNRESET, EFAULT, EMSGSIZE, ENOTCONN, EPERM, EPIPE, EPROTOTYPE, type Errno } from '../abi/errno.js';
import { O_NONBLOCK, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM } from '../abi/fcntl.js';
import type { FileDescription } from '../fs/vfs.js';
import type { Cancellable } from '../fs/wait.js';
import {
  type Ancillary, BACKLOG_ROOM, collectInFlight, holdsInFlight, MESSAGE_OVERHEAD, type PeerCredentials, type Received, SHUT_RD,
  SHUT_RDWR, SHUT_WR, SOCK_DGRAM, UnixSocket,
} from './unix-socket.js';

/** What poll reports, and waiters are told, when a send may go. */
const WRITABLE = POLLOUT | POLLWRNORM | POLLWRBAND;
/** net.unix.max_dgram_qlen's default: a receiver's queue is full past this many datagrams. */
export const MAX_DGRAM_QLEN = 10;
/** sizeof(struct skb_shared_info) and of struct sk_buff (rounded) on x86-64: what each datagram costs beyond its bytes. */
const SKB_SHARED_INFO = 320;
const SKB_STRUCT = 256;
/** A datagram's head is at most 32 KiB (SKB_MAX_ALLOC); the rest goes in pages. */
const SKB_MAX_HEAD = 32768;

/** What Linux charges the sender's buffer for a datagram of len bytes: its sk_buff's truesize. */
export function truesize(len: number): number {
  const head = len + SKB_SHARED_INFO;
  if (head > SKB_MAX_HEAD) return SKB_MAX_HEAD + Math.ceil((head - SKB_MAX_HEAD) / 4096) * 4096 + SKB_STRUCT;
  // kmalloc's size classes from 512 up are powers of two.
  return Math.max(512, 2 ** Math.ceil(Math.log2(head))) + SKB_STRUCT;
}

interface Datagram {
  data: Uint8Array;
  /** SCM_RIGHTS: references the queue holds until a read takes them. */
  files: FileDescription[] | null;
  /** As sent (SCM_CREDENTIALS) or the sender's own: the receiver sees them if it has SO_PASSCRED. */
  credentials: PeerCredentials;
  sender: UnixDatagramSocket;
  charge: number;
}

export class UnixDatagramSocket extends UnixSocket {
  private readonly datagrams: Datagram[] = [];
  /** connect(2)'s peer: where a send without an address goes, and the only sender this socket accepts. */
  private defaultPeer: UnixDatagramSocket | null = null;
  /** The sockets whose peer this is: told when its queue has room again. */
  private readonly connectedFrom = new Set<UnixDatagramSocket>();
  private dead = false;
  private shutRead = false;
  private shutWrite = false;
  /** Bytes charged for this socket's datagrams still queued somewhere (Linux's sk_wmem_alloc). */
  private inFlight = 0;
  /** The receiver whose full queue a send waits on; null when it waits for its own send buffer. */
  private waitingOn: UnixDatagramSocket | null = null;

  constructor(flags: number, owner: PeerCredentials) {
    super(SOCK_DGRAM, flags, owner);
  }

  override get connected(): boolean {
    return this.defaultPeer !== null;
  }

  override peerAddress(): Uint8Array | null | Errno {
    return this.defaultPeer === null ? ENOTCONN : this.defaultPeer.address;
  }

  /** socketpair(2): each end the other's peer. */
  override pairWith(other: UnixSocket): void {
    if (!(other instanceof UnixDatagramSocket)) throw new Error('a datagram socket pairs with a datagram socket');
    this.setPeer(other);
    other.setPeer(this);
  }

  /** connect(2): target becomes the default peer (EPROTOTYPE for another type, EPERM if it is connected elsewhere). */
  override connect(target: UnixSocket): Errno | null {
    if (!(target instanceof UnixDatagramSocket)) return EPROTOTYPE;
    if (!target.accepts(this)) return EPERM;
    this.setPeer(target);
    return null;
  }

  /** connect(2) with AF_UNSPEC: no default peer any more. */
  disconnect(): void {
    this.setPeer(null);
  }

  private setPeer(next: UnixDatagramSocket | null): void {
    const old = this.defaultPeer;
    if (old === next) return;
    old?.connectedFrom.delete(this);
    this.defaultPeer = next;
    next?.connectedFrom.add(this);
    if (old !== null) this.disconnectedFrom(old);
  }

  /**
   * unix_dgram_disconnected: what came in while connected goes, and a live old peer that was connected
   * back learns of it (ECONNRESET).
   */
  private disconnectedFrom(old: UnixDatagramSocket): void {
    this.purge();
    if (!old.dead && old.defaultPeer === this) {
      old.error = ECONNRESET;
      old.queue.notify(POLLERR);
    }
  }

  /** unix_may_send: a socket connected elsewhere takes datagrams from its peer only. */
  private accepts(sender: UnixDatagramSocket): boolean {
    return this.defaultPeer === null || this.defaultPeer === sender;
  }

  /** unix_recvq_full for a sender this socket is not connected back to. */
  private fullFor(sender: UnixDatagramSocket): boolean {
    return this.defaultPeer !== sender && this.datagrams.length > MAX_DGRAM_QLEN;
  }

  /** A datagram may use the send buffer less Linux's per-message overhead (EMSGSIZE past it). */
  tooLong(length: number): boolean {
    return length > this.sendBufferBytes - MESSAGE_OVERHEAD;
  }

  /** send(2) to the default peer. */
  override send(src: Uint8Array, ancillary: Ancillary | null, sender: PeerCredentials = this.owner): number | Errno {
    return this.sendTo(null, src, ancillary, sender);
  }

  /**
   * One datagram, whole or not at all, to the socket lookUp finds by name (null: the default peer),
   * checked in unix_dgram_sendmsg's order: EAGAIN when the sender's buffer or the receiver's queue is
   * full (the caller waits on waitFor(POLLOUT)). The files of ancillary are the receiver's once this
   * returns the length.
   */
  sendTo(lookUp: (() => UnixSocket | Errno) | null, src: Uint8Array, ancillary: Ancillary | null, sender: PeerCredentials): number | Errno {
    this.waitingOn = null;
    if (lookUp === null && this.defaultPeer === null) return ENOTCONN;
    if (this.tooLong(src.length)) return EMSGSIZE;
    if (this.shutWrite) return EPIPE;
    if (this.inFlight >= this.sendBufferBytes) return EAGAIN;
    const found = lookUp === null ? this.defaultPeer! : lookUp();
    if (!(found instanceof UnixSocket)) return found;
    if (!(found instanceof UnixDatagramSocket)) return EPROTOTYPE;
    const to = found;
    if (!to.accepts(this)) return EPERM;
    if (to.dead) {
      // The peer is gone: forget it, once (ECONNREFUSED), as unix_dgram_sendmsg does.
      if (this.defaultPeer === to) this.setPeer(null);
      return ECONNREFUSED;
    }
    if (to.shutRead) return EPIPE;
    if (to.fullFor(this)) {
      this.waitingOn = to;
      return EAGAIN;
    }
    const charge = truesize(src.length);
    this.inFlight += charge;
    to.datagrams.push({
      data: src.slice(), files: ancillary?.files ?? null, credentials: ancillary?.credentials ?? sender, sender: this, charge,
    });
    if (ancillary?.files) holdsInFlight(to);
    to.queue.notify(POLLIN | POLLRDNORM);
    return src.length;
  }

  /** The oldest datagram, up to max bytes of it into sink; the rest of it is dropped unless peeked. */
  override receive(sink: (chunk: Uint8Array) => number, max: number, peek: boolean): Received | Errno {
    const d = this.datagrams[0];
    if (d === undefined) {
      const e = this.takeError();
      if (e !== null) return e;
      if (this.shutRead) return { bytes: 0, messageLength: 0, files: null, credentials: null, from: null };
      return EAGAIN;
    }
    const n = Math.min(max, d.data.length);
    const bytes = n === 0 ? 0 : sink(d.data.subarray(0, n));
    const files = d.files;
    if (!peek) {
      // Taken off the queue whatever the copy does, as Linux does: a fault loses the datagram.
      this.datagrams.shift();
      this.consumed(d);
    }
    if (bytes < n) {
      if (!peek) for (const f of files ?? []) f.decRef();
      return EFAULT;
    }
    if (peek) for (const f of files ?? []) f.incRef();
    return {
      bytes, messageLength: d.data.length, files, credentials: this.passCredentials ? d.credentials : null, from: d.sender.address,
    };
  }

  /** A datagram left the queue: its sender's buffer and the senders waiting for room here may go on. */
  private consumed(d: Datagram): void {
    d.sender.inFlight -= d.charge;
    d.sender.queue.notify(WRITABLE);
    this.queue.notify(BACKLOG_ROOM);
    for (const s of this.connectedFrom) s.queue.notify(WRITABLE);
  }

  override queuedFiles(): FileDescription[] {
    const out: FileDescription[] = [];
    for (const d of this.datagrams) if (d.files !== null) out.push(...d.files);
    return out;
  }

  /** Unreachable (the collector): the queue goes, as unix_gc purges it. */
  override dropQueuedFiles(): void {
    this.purge();
  }

  /** Drops every queued datagram, closing the files in flight. */
  private purge(): void {
    for (const d of this.datagrams.splice(0)) {
      for (const f of d.files ?? []) f.decRef();
      this.consumed(d);
    }
  }

  /** shutdown(2): this socket's own directions only; a datagram peer is not told. */
  override shutdown(how: number): Errno | null {
    if (how === SHUT_RD || how === SHUT_RDWR) this.shutRead = true;
    if (how === SHUT_WR || how === SHUT_RDWR) this.shutWrite = true;
    this.queue.notify(POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    return null;
  }

  /** SIOCINQ: the length of the next datagram. */
  override readableBytes(): number {
    return this.datagrams[0]?.data.length ?? 0;
  }

  /** unix_dgram_poll. */
  override readiness(): number {
    let mask = this.error !== null ? POLLERR : 0;
    if (this.shutRead) mask |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (this.shutRead && this.shutWrite) mask |= POLLHUP;
    if (this.datagrams.length > 0) mask |= POLLIN | POLLRDNORM;
    // unix_writable: a quarter of the send buffer or less in use, and room at the peer.
    const peerFull = this.defaultPeer !== null && !this.defaultPeer.dead && this.defaultPeer.fullFor(this);
    if (this.inFlight * 4 <= this.sendBufferBytes && !peerFull) mask |= WRITABLE;
    return mask;
  }

  override waitFor(events: number, callback: () => void): Cancellable | null {
    if ((events & POLLOUT) !== 0 && (events & POLLIN) === 0) {
      // A send waits for the receiver it found full, or for its own buffer.
      const to = this.waitingOn;
      const ready = to !== null ? to.dead || !to.fullFor(this) : this.inFlight < this.sendBufferBytes;
      if (ready || this.shutWrite) {
        callback();
        return null;
      }
      return (to ?? this).queue.add(to !== null ? BACKLOG_ROOM : POLLOUT | POLLHUP, callback);
    }
    return super.waitFor(events, callback);
  }

  protected override release(): void {
    // Whoever is connected here learns it at its next send (ECONNREFUSED), as on Linux.
    this.dead = true;
    this.purge();
    this.defaultPeer?.connectedFrom.delete(this);
    this.defaultPeer = null;
    for (const s of this.connectedFrom) s.queue.notify(WRITABLE);
    this.queue.notify(BACKLOG_ROOM);
    this.unbind?.();
    this.unbind = null;
    collectInFlight();
  }
}

/** socketpair(AF_UNIX, SOCK_DGRAM): two sockets, each the other's peer; flags: O_NONBLOCK for both. */
export function newDatagramPair(flags: number, creator: PeerCredentials): [UnixDatagramSocket, UnixDatagramSocket] {
  const a = new UnixDatagramSocket(flags & O_NONBLOCK, creator);
  const b = new UnixDatagramSocket(flags & O_NONBLOCK, creator);
  a.pairWith(b);
  a.peerCredentials = creator;
  b.peerCredentials = creator;
  return [a, b];
}
