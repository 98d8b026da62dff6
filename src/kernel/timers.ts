// Guest deadlines. Every deadline a program gives (a sleep today; futex, poll and socket timeouts as they
// land) is armed here, for two reasons:
// - Node's setTimeout holds at most 2^31-1 ms (24.8 days). A longer delay prints a
//   TimeoutOverflowWarning and fires after 1 ms, so a 35-day nanosleep would return at once. A deadline
//   beyond that bound is armed as a chain of timeouts below it; the last one fires at the deadline.
// - A timer keeps the Sentry's process alive. Each task owns its pending deadlines (TaskTimers), and the
//   kernel cancels them when the task ends, so a sandbox told to stop exits at once instead of
//   lingering until its program's sleep would have ended.

/** The longest delay setTimeout takes as given (a signed 32-bit count of milliseconds). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const NS_PER_MS = 1_000_000n;

/** One pending deadline; cancel() is safe after it fired. */
export interface Deadline {
  cancel(): void;
}

/** Calls fire once the host's monotonic clock reaches atNs (never earlier): for timers a process owns. */
export function deadlineAt(atNs: bigint, fire: () => void): Deadline {
  const timer = new Timer(null, atNs, fire);
  timer.arm();
  return timer;
}

/** The deadlines one task has pending. */
export class TaskTimers {
  private readonly pending = new Set<Timer>();

  /** Calls fire once, `delayNs` from now by the host's monotonic clock (never earlier; 0 or less: soon). */
  after(delayNs: bigint, fire: () => void): Deadline {
    const timer = new Timer(this.pending, process.hrtime.bigint() + (delayNs > 0n ? delayNs : 0n), fire);
    this.pending.add(timer);
    timer.arm();
    return timer;
  }

  /** How many deadlines are pending (for tests and leak checks). */
  get size(): number {
    return this.pending.size;
  }

  /** The task is gone: nothing it waited for fires any more, and no timer holds the process. */
  cancelAll(): void {
    for (const t of [...this.pending]) t.cancel();
  }
}

class Timer implements Deadline {
  private handle: NodeJS.Timeout | null = null;

  constructor(private readonly owner: Set<Timer> | null, private readonly atNs: bigint, private readonly fire: () => void) {}

  arm(): void {
    const leftNs = this.atNs - process.hrtime.bigint();
    // Whole milliseconds, rounded up: a sleep never ends before its time.
    const leftMs = leftNs <= 0n ? 0 : Number((leftNs + NS_PER_MS - 1n) / NS_PER_MS);
    if (leftMs > MAX_TIMEOUT_MS) {
      this.handle = setTimeout(() => this.arm(), MAX_TIMEOUT_MS);
      return;
    }
    this.handle = setTimeout(() => {
      this.handle = null;
      this.owner?.delete(this);
      this.fire();
    }, leftMs);
  }

  cancel(): void {
    if (this.handle !== null) clearTimeout(this.handle);
    this.handle = null;
    this.owner?.delete(this);
  }
}
