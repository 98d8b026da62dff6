// Unix-domain stream sockets made by socketpair(2) (Linux net/unix/af_unix.c, SOCK_STREAM): two
// connected ends, each reading what the other writes through a pipe ring of its own direction (a pipe's
// ring, sized to Linux's default socket buffer, 208 KiB, rather than a pipe's 64 KiB). shutdown(2)
// closes one direction or both; a read after the peer's SHUT_WR or close is end of file, a write after
// the peer's SHUT_RD or close is EPIPE (and SIGPIPE, which the syscall layer sends). Readiness follows
// unix_poll: POLLRDHUP once the peer stops writing, POLLHUP once both directions are shut.
import { EPIPE, type Errno } from '../abi/errno.js';
import {
  O_NONBLOCK, O_RDWR, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM, S_IFSOCK, waitEvents,
} from '../abi/fcntl.js';
import { Pipe } from '../fs/pipe.js';
import { allocAnonDev, FileDescription, type FileStat, syntheticStat } from '../fs/vfs.js';
import type { Cancellable, ReadinessListener, ReadinessSubscription } from '../fs/wait.js';

export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
/** What SO_SNDBUF and SO_RCVBUF report by default (Linux's net.core.wmem_default). */
export const DEFAULT_BUFFER_BYTES = 212992;
const sockDev = allocAnonDev();
/** Each direction holds what Linux's default send buffer lets through before a writer waits. */
const BUFFER_PAGES = Math.ceil(DEFAULT_BUFFER_BYTES / 4096);

/** Who made the pair: SO_PEERCRED of either end. */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export class UnixStreamSocket extends FileDescription {
  private readShut = false;
  private writeShut = false;
  sendBufferBytes = DEFAULT_BUFFER_BYTES;
  receiveBufferBytes = DEFAULT_BUFFER_BYTES;

  /** rx carries what the peer writes to this end; tx what this end writes to the peer. */
  constructor(private readonly rx: Pipe, private readonly tx: Pipe, flags: number, readonly peerCredentials: PeerCredentials) {
    super(O_RDWR | flags);
    rx.readers++;
    tx.writers++;
  }

  override read(buf: Uint8Array): number | Errno {
    if (this.readShut) return 0;
    return this.rx.read(buf);
  }

  override write(buf: Uint8Array): number | Errno {
    if (this.writeShut) return EPIPE;
    return this.tx.write(buf);
  }

  /** shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR; again is a no-op, as on Linux. */
  shutdown(how: number): void {
    if ((how === SHUT_RD || how === SHUT_RDWR) && !this.readShut) {
      this.readShut = true;
      if (--this.rx.readers === 0) this.rx.queue.notify(POLLERR | POLLOUT);
      this.rx.queue.notify(POLLIN | POLLRDHUP);
    }
    if ((how === SHUT_WR || how === SHUT_RDWR) && !this.writeShut) {
      this.writeShut = true;
      if (--this.tx.writers === 0) this.tx.queue.notify(POLLHUP | POLLIN | POLLRDHUP);
      this.tx.queue.notify(POLLOUT);
    }
  }

  stat(): FileStat {
    return syntheticStat(this.rx.ino, S_IFSOCK | 0o777, sockDev, { blksize: 4096 });
  }

  override readableBytes(): number {
    return this.readShut ? 0 : this.rx.size;
  }

  override readiness(): number {
    let mask = 0;
    const peerStoppedWriting = this.rx.writers === 0;
    const peerStoppedReading = this.tx.readers === 0;
    if (this.readShut || this.rx.size > 0 || peerStoppedWriting) mask |= POLLIN | POLLRDNORM;
    if (this.readShut || peerStoppedWriting) mask |= POLLRDHUP;
    if ((this.readShut || peerStoppedWriting) && (this.writeShut || peerStoppedReading)) mask |= POLLHUP;
    // Writable while the ring has room; a write to a peer that stopped reading answers EPIPE at once.
    if (this.writeShut || peerStoppedReading || (this.tx.readiness(false) & POLLOUT) !== 0) mask |= POLLOUT | POLLWRNORM;
    return mask;
  }

  override waitFor(events: number, callback: () => void): Cancellable | null {
    if ((this.readiness() & (events | POLLHUP | POLLERR)) !== 0) {
      callback();
      return null;
    }
    let done = false;
    const once = (): void => {
      if (done) return;
      done = true;
      for (const w of waiters) w.cancel();
      callback();
    };
    const waiters = [this.rx.queue.add(events | POLLHUP | POLLERR | POLLRDHUP, once), this.tx.queue.add(POLLOUT | POLLERR, once)];
    return { cancel: () => { done = true; for (const w of waiters) w.cancel(); } };
  }

  override subscribe(events: number, onChange: ReadinessListener, exclusive = false): ReadinessSubscription {
    const wanted = waitEvents(events);
    const subs = [this.rx.queue.subscribe(wanted, onChange, exclusive), this.tx.queue.subscribe(wanted, onChange, exclusive)];
    return {
      cancel: () => { for (const s of subs) s.cancel(); },
      rearm: () => { for (const s of subs) s.rearm(); },
    };
  }

  override describe(): string {
    return `socket:[${this.rx.ino}]`;
  }

  protected override release(): void {
    this.shutdown(SHUT_RDWR);
  }
}

/** socketpair(AF_UNIX, SOCK_STREAM): two connected ends (flags: O_NONBLOCK for both). */
export function newStreamPair(flags: number, creator: PeerCredentials): [UnixStreamSocket, UnixStreamSocket] {
  const aToB = new Pipe(BUFFER_PAGES);
  const bToA = new Pipe(BUFFER_PAGES);
  const status = flags & O_NONBLOCK;
  return [new UnixStreamSocket(bToA, aToB, status, creator), new UnixStreamSocket(aToB, bToA, status, creator)];
}

