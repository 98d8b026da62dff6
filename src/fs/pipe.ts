// Pipes (pipe(2), and FIFOs on tmpfs): a ring of pages in the Sentry (64 KiB unless F_SETPIPE_SZ
// changes it) with a reader count and a writer count. An empty pipe with writers answers EAGAIN; the
// syscall layer turns that into a wait on the pipe's queue (blocking only the reading task) unless the
// description is O_NONBLOCK.
import { EAGAIN, EBUSY, EFAULT, EINVAL, ENOMEM, EPERM, EPIPE, Errno } from '../abi/errno.js';
import {
  O_ACCMODE, O_DIRECT, O_NONBLOCK, O_RDONLY, O_WRONLY, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, S_IFIFO, waitEvents,
} from '../abi/fcntl.js';
import { allocAnonDev, allocIno, FileDescription, type FileStat, syntheticStat } from './vfs.js';
import { type ReadinessListener, type ReadinessSubscription, type Waiter, WaitQueue } from './wait.js';

/** Writes of at most this many bytes are atomic (pipe(7)). */
export const PIPE_BUF = 4096;
const PAGE = 4096;
/** Linux's default pipe: 16 page buffers (PIPE_DEF_BUFFERS), 64 KiB. */
const SLOTS = 16;
export const PIPE_CAPACITY = SLOTS * PAGE;
/** /proc/sys/fs/pipe-max-size: the largest F_SETPIPE_SZ without CAP_SYS_RESOURCE. */
export const PIPE_MAX_SIZE = 1 << 20;
/**
 * Larger rings fail in Linux even with the capability: their array of 40-byte pipe_buffers is more
 * than kcalloc can give (KMALLOC_MAX_SIZE, 4 MiB on x86-64).
 */
const MAX_RING_SLOTS = 1 << 16;
const pipeDev = allocAnonDev();

/**
 * One page of a pipe's ring, with the part of it that holds data. merge: later writes may add to it
 * (Linux's PIPE_BUF_FLAG_CAN_MERGE: pages that write(2) filled, not those splice, tee or vmsplice gave,
 * nor packets). packet: a packet-mode writer's page (PIPE_BUF_FLAG_PACKET): a read takes at most this
 * one and drops what it leaves of it.
 */
interface Slot {
  page: Uint8Array;
  start: number;
  end: number;
  merge: boolean;
  packet: boolean;
}

/**
 * The ring of a pipe as Linux keeps it (fs/pipe.c): up to 16 pages, or what F_SETPIPE_SZ set. A write
 * first tops up the last page if its odd tail fits there whole, then fills fresh pages; so how much
 * fits depends on page boundaries exactly as on Linux, and writes of at most PIPE_BUF bytes are never
 * split.
 */
export class Pipe {
  readonly ino = allocIno();
  readers = 0;
  writers = 0;
  /** How many times each end was ever opened (Linux's r_counter, w_counter): what a FIFO's opener waits on. */
  readerOpens = 0;
  writerOpens = 0;
  private readonly slots: Slot[] = [];
  private spare: Uint8Array[] = [];
  private length = 0;
  /**
   * An end of it has been in packet mode (O_DIRECT): its reads may meet packets, so the syscall layer
   * reads it whole-call (readPackets) rather than by pieces of the buffer. Never cleared.
   */
  packetized = false;

  /**
   * slots: its size in pages (a socket's direction is larger than a pipe, as Linux's socket buffers are).
   * queue is told when data arrives (POLLIN), writerQueue when room is made (POLLOUT); a pipe has one
   * queue for both, a socket's direction tells each end on its own queue.
   */
  constructor(private capacitySlots = SLOTS, readonly queue = new WaitQueue(), readonly writerQueue = queue) {}

  get size(): number {
    return this.length;
  }

  /** How many more pages (Linux's pipe buffers) the ring takes now. */
  get room(): number {
    return Math.max(0, this.capacitySlots - this.slots.length);
  }

  /** F_GETPIPE_SZ: how many bytes the ring's pages hold. */
  get capacity(): number {
    return this.capacitySlots * PAGE;
  }

  /**
   * F_SETPIPE_SZ (Linux pipe_set_size): size rounded up to a power of two pages, one at least; more
   * than PIPE_MAX_SIZE only with privilege (CAP_SYS_RESOURCE), and never fewer pages than hold data
   * now. The new capacity in bytes.
   */
  resize(size: number, privileged: boolean): number | Errno {
    if (size > 2 ** 31) return EINVAL;
    let bytes = PAGE;
    while (bytes < size) bytes *= 2;
    const slots = bytes / PAGE;
    if (slots > this.capacitySlots && bytes > PIPE_MAX_SIZE && !privileged) return EPERM;
    if (slots > MAX_RING_SLOTS) return ENOMEM;
    if (slots < this.slots.length) return EBUSY;
    this.capacitySlots = slots;
    this.writerQueue.notify(POLLOUT);
    return bytes;
  }

  read(dst: Uint8Array): number | Errno {
    if (this.length === 0) return this.writers === 0 ? 0 : EAGAIN;
    let done = 0;
    while (done < dst.length && this.slots.length > 0) {
      const slot = this.slots[0]!;
      const n = Math.min(dst.length - done, slot.end - slot.start);
      dst.set(slot.page.subarray(slot.start, slot.start + n), done);
      done += n;
      if (this.take(slot, n)) break;
    }
    this.writerQueue.notify(POLLOUT);
    return done;
  }

  /**
   * n bytes of the first slot were read: it goes when empty, or at once if it is a packet (what is
   * left of one is dropped, as Linux's pipe_read does). Whether the read must stop (a packet ended it).
   */
  private take(slot: Slot, n: number): boolean {
    slot.start += n;
    this.length -= slot.packet ? slot.end - slot.start + n : n;
    if (slot.start === slot.end || slot.packet) {
      this.slots.shift();
      if (this.spare.length < 2) this.spare.push(slot.page);
    }
    return slot.packet;
  }

  /**
   * A whole read(2) or readv(2) of a pipe that may hold packets: up to max bytes to sink (which says how
   * much it took: less at a fault), stopping after the first packet. A fault leaves the page it was
   * copying from in the pipe, as Linux's pipe_read does (EFAULT if nothing came before). EAGAIN when
   * empty with writers.
   */
  readPackets(sink: (chunk: Uint8Array) => number, max: number): number | Errno {
    if (max === 0) return 0;
    if (this.length === 0) return this.writers === 0 ? 0 : EAGAIN;
    let done = 0;
    while (done < max && this.slots.length > 0) {
      const slot = this.slots[0]!;
      const n = Math.min(max - done, slot.end - slot.start);
      if (sink(slot.page.subarray(slot.start, slot.start + n)) < n) {
        if (done === 0) return EFAULT;
        break;
      }
      done += n;
      if (this.take(slot, n)) break;
    }
    this.writerQueue.notify(POLLOUT);
    return done;
  }

  /**
   * Hands up to max bytes, in order, to sink, which copies what it can and says how much: a short
   * count stops. peek leaves the bytes in the ring. The count taken.
   */
  drain(max: number, sink: (chunk: Uint8Array) => number, peek = false): number {
    let done = 0;
    for (let i = 0; done < max && i < this.slots.length;) {
      const slot = this.slots[i]!;
      const n = Math.min(max - done, slot.end - slot.start);
      const took = sink(slot.page.subarray(slot.start, slot.start + n));
      done += took;
      if (peek) {
        if (took < n) break;
        i++;
        continue;
      }
      slot.start += took;
      if (took < n) break;
      if (slot.start === slot.end) {
        this.slots.shift();
        if (this.spare.length < 2) this.spare.push(slot.page);
      }
    }
    if (!peek && done > 0) {
      this.length -= done;
      this.writerQueue.notify(POLLOUT);
    }
    return done;
  }

  /** Whether a write of n bytes would go in whole now (a seqpacket message goes in whole or waits). */
  fits(n: number): boolean {
    const odd = n % PAGE;
    const last = this.slots[this.slots.length - 1];
    const tail = odd !== 0 && last !== undefined && last.merge && last.end + odd <= PAGE ? odd : 0;
    return n - tail <= (this.capacitySlots - this.slots.length) * PAGE;
  }

  /**
   * Writes from src, the first part of a write of totalLength bytes (the rest is offered again by
   * the caller). EAGAIN when nothing fits; EPIPE without readers. packet (the writer's O_DIRECT): each
   * fresh page is a packet; the odd tail still merges into a last page that takes merges, as Linux's
   * pipe_write checks the last page before the writer's mode.
   */
  write(src: Uint8Array, totalLength = src.length, packet = false): number | Errno {
    if (this.readers === 0) return EPIPE;
    let done = 0;
    const odd = totalLength % PAGE;
    const last = this.slots[this.slots.length - 1];
    if (odd !== 0 && last !== undefined && last.merge && last.end + odd <= PAGE && src.length >= odd) {
      last.page.set(src.subarray(0, odd), last.end);
      last.end += odd;
      done = odd;
    }
    while (done < src.length && this.slots.length < this.capacitySlots) {
      const page = this.spare.pop() ?? new Uint8Array(PAGE);
      const n = Math.min(PAGE, src.length - done);
      page.set(src.subarray(done, done + n), 0);
      this.slots.push({ page, start: 0, end: n, merge: !packet, packet });
      done += n;
    }
    if (done === 0 && src.length > 0) return EAGAIN;
    this.length += done;
    this.queue.notify(POLLIN);
    return done;
  }

  /**
   * splice(2) or vmsplice(2) into the pipe: src as pages of its own, laid out as the file's pages or
   * the user's pages are (Linux splice_folio_into_pipe, iter_to_pipe): the first starts `align` bytes
   * into its page, the rest at 0. Later writes do not merge into them. Takes what the free pages hold;
   * the count taken (0 when full: the caller checks readers and room first).
   */
  insert(src: Uint8Array, align: number): number {
    let done = 0;
    let start = align % PAGE;
    while (done < src.length && this.slots.length < this.capacitySlots) {
      const n = Math.min(PAGE - start, src.length - done);
      const page = this.spare.pop() ?? new Uint8Array(PAGE);
      page.set(src.subarray(done, done + n), start);
      this.slots.push({ page, start, end: start + n, merge: false, packet: false });
      done += n;
      start = 0;
    }
    if (done > 0) {
      this.length += done;
      this.queue.notify(POLLIN);
    }
    return done;
  }

  /**
   * splice(2) between pipes (keep false) or tee(2) (keep true): up to max bytes to dst, page by page
   * while dst has free pages (Linux splice_pipe_to_pipe, link_pipe). A page moved whole keeps whether
   * writes merge into it; a part of one, and every page tee duplicates, is a page of its own that
   * they do not. Packets stay packets (Linux copies the buffer's flags). tee leaves this pipe as it
   * was. The count moved.
   */
  spliceTo(dst: Pipe, max: number, keep: boolean): number {
    let done = 0;
    let i = 0;
    while (done < max && dst.slots.length < dst.capacitySlots) {
      const slot = this.slots[keep ? i : 0];
      if (slot === undefined) break;
      const n = Math.min(slot.end - slot.start, max - done);
      if (!keep && n === slot.end - slot.start) {
        this.slots.shift();
        dst.slots.push(slot);
      } else {
        const page = dst.spare.pop() ?? new Uint8Array(PAGE);
        page.set(slot.page.subarray(slot.start, slot.start + n), slot.start);
        dst.slots.push({ page, start: slot.start, end: slot.start + n, merge: false, packet: slot.packet });
        if (keep) i++;
        else slot.start += n;
      }
      done += n;
    }
    if (done > 0) {
      dst.length += done;
      dst.queue.notify(POLLIN);
      if (!keep) {
        this.length -= done;
        this.writerQueue.notify(POLLOUT);
      }
    }
    return done;
  }

  /** Linux pipe_poll, for the read side or the write side. */
  readiness(forRead: boolean): number {
    if (forRead) return (this.length > 0 ? POLLIN | POLLRDNORM : 0) | (this.writers === 0 ? POLLHUP : 0);
    return (this.slots.length < this.capacitySlots ? POLLOUT | POLLWRNORM : 0) | (this.readers === 0 ? POLLERR : 0);
  }

  stat(): FileStat {
    return syntheticStat(this.ino, S_IFIFO | 0o600, pipeDev, { blksize: 4096 });
  }
}

/** One end of a pipe. */
export class PipeEnd extends FileDescription {
  /**
   * A FIFO's reader opened without blocking while there was no writer: the writers' open count then
   * (Linux's f_version), so that it sees no POLLHUP until a writer has come and gone. -1 otherwise.
   */
  private hangupAfter = -1;
  /** A FIFO's end opened to wait for the other end: that end's open count then, or -1. */
  private partnerAfter = -1;

  constructor(readonly pipe: Pipe, flags: number) {
    super(flags);
    if (this.readable) {
      pipe.readers++;
      pipe.readerOpens++;
    }
    if (this.writable) {
      pipe.writers++;
      pipe.writerOpens++;
    }
  }

  /**
   * fifo_open's rule for an end opened alone: a blocking reader waits until a writer opens, and a
   * blocking writer until a reader does; a non-blocking reader goes on at once. Either end arriving
   * wakes whoever waits for it.
   */
  openedOnFifo(): void {
    const p = this.pipe;
    if (this.readable && this.writable) return;
    if (this.readable && p.writers === 0) {
      if ((this.flags & O_NONBLOCK) !== 0) this.hangupAfter = p.writerOpens;
      else this.partnerAfter = p.writerOpens;
    } else if (this.writable && p.readers === 0) {
      this.partnerAfter = p.readerOpens;
    }
    p.queue.notify(POLLIN | POLLOUT);
  }

  /** A blocking FIFO open still waits for the other end to be opened. */
  get awaitingPartner(): boolean {
    if (this.partnerAfter < 0) return false;
    const opens = this.readable ? this.pipe.writerOpens : this.pipe.readerOpens;
    if (opens === this.partnerAfter) return true;
    this.partnerAfter = -1;
    return false;
  }

  /** Calls back when an end is opened (or data or room comes): check awaitingPartner again then. */
  waitForPartner(callback: () => void): Waiter {
    return this.pipe.queue.add(POLLIN | POLLOUT, callback);
  }

  override read(buf: Uint8Array): number | Errno {
    return this.pipe.read(buf);
  }

  override write(buf: Uint8Array): number | Errno {
    return this.pipe.write(buf, buf.length, (this.flags & O_DIRECT) !== 0);
  }

  /** Part of a larger write: src holds its first bytes, totalLength is how long it is. */
  writePart(src: Uint8Array, totalLength: number): number | Errno {
    return this.pipe.write(src, totalLength, (this.flags & O_DIRECT) !== 0);
  }

  /** Packet mode (O_DIRECT) from now on, or not: F_SETFL; the pipe's reads look for packets from then on. */
  setPacketMode(on: boolean): void {
    this.flags = on ? this.flags | O_DIRECT : this.flags & ~O_DIRECT;
    if (on) this.pipe.packetized = true;
  }

  stat(): FileStat {
    return this.pipe.stat();
  }

  override readableBytes(): number {
    return this.pipe.size;
  }

  override readiness(): number {
    // A FIFO opened O_RDWR is both ends.
    let ready = (this.readable ? this.pipe.readiness(true) : 0) | (this.writable ? this.pipe.readiness(false) : 0);
    if (this.hangupAfter >= 0 && this.hangupAfter === this.pipe.writerOpens) ready &= ~POLLHUP;
    return ready;
  }

  override waitFor(events: number, callback: () => void): Waiter | null {
    if ((this.readiness() & (events | POLLHUP | POLLERR)) === 0) return this.pipe.queue.add(events | POLLHUP | POLLERR, callback);
    callback();
    return null;
  }

  /** Every write and read notifies the queue, so an edge-triggered epoll sees each one (as Linux since 5.5). */
  override subscribe(events: number, onChange: ReadinessListener, exclusive = false): ReadinessSubscription {
    return this.pipe.queue.subscribe(waitEvents(events), onChange, exclusive);
  }

  override reopen(flags: number): PipeEnd {
    return new PipeEnd(this.pipe, flags);
  }

  override describe(): string {
    return `pipe:[${this.pipe.ino}]`;
  }

  protected override release(): void {
    if (this.readable && --this.pipe.readers === 0) this.pipe.queue.notify(POLLERR | POLLOUT);
    if (this.writable && --this.pipe.writers === 0) this.pipe.queue.notify(POLLHUP | POLLIN);
  }
}

/** pipe2(2): the read end and the write end; O_DIRECT (packet mode) is the write end's, as Linux's create_pipe_files. */
export function newPipe(flags: number): [PipeEnd, PipeEnd] {
  const pipe = new Pipe();
  const status = flags & O_NONBLOCK;
  pipe.packetized = (flags & O_DIRECT) !== 0;
  return [new PipeEnd(pipe, O_RDONLY | status), new PipeEnd(pipe, O_WRONLY | status | (flags & O_DIRECT))];
}

/**
 * Opening a FIFO: both ends may open it; O_WRONLY|O_NONBLOCK without a reader is ENXIO (fifo(7)); a
 * blocking open alone comes back awaitingPartner, for the open call to wait.
 */
export function openFifo(pipe: Pipe, flags: number): PipeEnd | null {
  if ((flags & O_ACCMODE) === O_WRONLY && (flags & O_NONBLOCK) !== 0 && pipe.readers === 0) return null;
  const end = new PipeEnd(pipe, flags);
  end.openedOnFifo();
  return end;
}
