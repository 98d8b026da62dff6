// eventfd(2): a 64-bit counter as a file (Linux fs/eventfd.c). A write adds to it, a read takes it all
// (or, with EFD_SEMAPHORE, one); a read of zero and a write that would pass 0xfffffffffffffffe answer
// EAGAIN, which the syscall layer turns into a wait on the counter's queue unless EFD_NONBLOCK.
import { EAGAIN, EINVAL, Errno } from '../abi/errno.js';
import { POLLERR, POLLIN, POLLOUT } from '../abi/fcntl.js';
import { AnonQueueFile } from './anon-file.js';

export const EFD_SEMAPHORE = 1;
export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;

/** The counter never reaches ULLONG_MAX: a write that would is refused (EAGAIN, or EINVAL for the value itself). */
const COUNTER_MAX = 0xffff_ffff_ffff_fffen;
const VALUE_SIZE = 8;

export class EventFd extends AnonQueueFile {
  private count: bigint;

  constructor(initial: number, flags: number, private readonly semaphore: boolean) {
    super('eventfd', flags);
    this.count = BigInt(initial >>> 0);
  }

  override get wholeBufferBytes(): number {
    return VALUE_SIZE;
  }

  override read(buf: Uint8Array): number | Errno {
    if (buf.length < VALUE_SIZE) return EINVAL;
    if (this.count === 0n) return EAGAIN;
    const value = this.semaphore ? 1n : this.count;
    this.count -= value;
    new DataView(buf.buffer, buf.byteOffset, VALUE_SIZE).setBigUint64(0, value, true);
    this.queue.notify(POLLOUT);
    return VALUE_SIZE;
  }

  /** Exactly 8 bytes, as Linux 6.18 checks (older kernels took longer buffers). */
  override write(buf: Uint8Array): number | Errno {
    if (buf.length !== VALUE_SIZE) return EINVAL;
    const value = new DataView(buf.buffer, buf.byteOffset, VALUE_SIZE).getBigUint64(0, true);
    if (value === 0xffff_ffff_ffff_ffffn) return EINVAL;
    if (COUNTER_MAX - this.count < value) return EAGAIN;
    this.count += value;
    // Linux wakes the readers at every write, even of 0: an edge-triggered epoll sees it.
    this.queue.notify(POLLIN);
    return VALUE_SIZE;
  }

  override readiness(): number {
    let r = 0;
    if (this.count > 0n) r |= POLLIN;
    if (this.count === 0xffff_ffff_ffff_ffffn) r |= POLLERR;
    if (this.count < COUNTER_MAX) r |= POLLOUT;
    return r;
  }

  /** For /proc/PID/fdinfo and tests: the counter now. */
  get counter(): bigint {
    return this.count;
  }
}
