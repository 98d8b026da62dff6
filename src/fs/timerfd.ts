// timerfd_create(2): a timer as a file (Linux fs/timerfd.c). Reading returns how many times it expired
// since the last read (or settime) as 8 bytes; with none yet, EAGAIN, which the syscall layer turns
// into a wait on the timer's queue unless TFD_NONBLOCK. The clock and the host deadline come from the
// kernel (fs may not import it): see TimerClock.
import { EAGAIN, EINVAL, Errno } from '../abi/errno.js';
import { POLLIN } from '../abi/fcntl.js';
import { AnonQueueFile } from './anon-file.js';
import type { Cancellable } from './wait.js';

export const TFD_CLOEXEC = 0o2000000;
export const TFD_NONBLOCK = 0o4000;
export const TFD_TIMER_ABSTIME = 1;
export const TFD_TIMER_CANCEL_ON_SET = 2;

const VALUE_SIZE = 8;

/** The timer's clock, and deadlines on the host's monotonic clock to wake it. */
export interface TimerClock {
  /** The clock's reading now, in ns. */
  now(): bigint;
  /** Calls fire once, delayNs from now or later; cancel() takes it back. */
  after(delayNs: bigint, fire: () => void): Cancellable;
}

/** A timer's setting: the time to its next expiry (0: disarmed) and its period (0: once). */
export interface TimerSetting {
  valueNs: bigint;
  intervalNs: bigint;
}

export class TimerFd extends AnonQueueFile {
  /** The next expiry on the timer's clock; null while disarmed. */
  private deadline: bigint | null = null;
  private interval = 0n;
  /** Expirations not read yet. */
  private ticks = 0n;
  private wake: Cancellable | null = null;

  constructor(flags: number, private readonly clock: TimerClock) {
    super('timerfd', flags);
  }

  override get wholeBufferBytes(): number {
    return VALUE_SIZE;
  }

  /** timerfd_settime: arms (valueNs > 0) or disarms, and returns the setting it replaced. */
  set(next: TimerSetting, absolute: boolean): TimerSetting {
    const old = this.get();
    this.wake?.cancel();
    this.wake = null;
    this.ticks = 0n;
    this.interval = next.intervalNs;
    if (next.valueNs === 0n) {
      this.deadline = null;
      return old;
    }
    const now = this.clock.now();
    this.deadline = absolute ? next.valueNs : now + next.valueNs;
    this.expire(now);
    this.arm(now);
    return old;
  }

  /** timerfd_gettime: the time left to the next expiry, and the period. */
  get(): TimerSetting {
    const now = this.clock.now();
    this.expire(now);
    const left = this.deadline === null ? 0n : this.deadline - now;
    return { valueNs: left > 0n ? left : 0n, intervalNs: this.interval };
  }

  override read(buf: Uint8Array): number | Errno {
    if (buf.length < VALUE_SIZE) return EINVAL;
    this.expire(this.clock.now());
    if (this.ticks === 0n) return EAGAIN;
    new DataView(buf.buffer, buf.byteOffset, VALUE_SIZE).setBigUint64(0, this.ticks, true);
    this.ticks = 0n;
    return VALUE_SIZE;
  }

  override readiness(): number {
    this.expire(this.clock.now());
    return this.ticks > 0n ? POLLIN : 0;
  }

  protected override release(): void {
    this.wake?.cancel();
    this.wake = null;
    this.deadline = null;
  }

  /**
   * Counts the expirations up to now (a periodic timer's overruns too, as Linux's hrtimer_forward) and
   * moves the deadline past them; tells the waiters if there were any.
   */
  private expire(now: bigint): void {
    const at = this.deadline;
    if (at === null || now < at) return;
    if (this.interval > 0n) {
      const n = (now - at) / this.interval + 1n;
      this.ticks += n;
      this.deadline = at + n * this.interval;
    } else {
      this.ticks += 1n;
      this.deadline = null;
    }
    this.queue.notify(POLLIN);
  }

  /** A host deadline for the next expiry; one that fires early (the clocks differ a little) arms again. */
  private arm(now: bigint): void {
    if (this.deadline === null || this.wake !== null) return;
    this.wake = this.clock.after(this.deadline - now, () => {
      this.wake = null;
      const t = this.clock.now();
      this.expire(t);
      this.arm(t);
    });
  }
}
