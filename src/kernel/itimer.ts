// Interval timers (Linux kernel/time/itimer.c): ITIMER_REAL on the host's CLOCK_MONOTONIC (setitimer(2),
// alarm(2)), which sends its process SIGALRM at each expiry; ITIMER_VIRTUAL and ITIMER_PROF on the
// process's CPU time as the Sentry measures it (ThreadGroup.cpuTimeNs), SIGVTALRM and SIGPROF.
import { type Deadline, deadlineAt } from './timers.js';

export interface TimerValue {
  /** Time to the next expiry, 0 when disarmed. */
  valueNs: bigint;
  /** Period after that, 0 for a one-shot timer. */
  intervalNs: bigint;
}

export class IntervalTimer {
  private timer: Deadline | null = null;
  private deadlineNs = 0n;
  private intervalNs = 0n;

  constructor(private readonly expire: () => void) {}

  /** What getitimer reports: an armed timer never shows less than 1 us left, as on Linux. */
  get(): TimerValue {
    if (this.timer === null) return { valueNs: 0n, intervalNs: this.intervalNs };
    const left = this.deadlineNs - process.hrtime.bigint();
    return { valueNs: left > 0n ? left : 1000n, intervalNs: this.intervalNs };
  }

  /** Arms the timer (value 0 disarms it and drops the interval); returns what it was. */
  set(next: TimerValue): TimerValue {
    const old = this.get();
    this.cancel();
    if (next.valueNs > 0n) {
      this.intervalNs = next.intervalNs;
      this.arm(process.hrtime.bigint() + next.valueNs);
    } else {
      this.intervalNs = 0n;
    }
    return old;
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(deadlineNs: bigint): void {
    this.deadlineNs = deadlineNs;
    this.timer = deadlineAt(deadlineNs, () => {
      this.timer = null;
      if (this.intervalNs > 0n) {
        // Periods missed while the Sentry was busy are skipped, as hrtimer_forward does.
        const now = process.hrtime.bigint();
        let next = this.deadlineNs + this.intervalNs;
        if (next <= now) next += ((now - next) / this.intervalNs + 1n) * this.intervalNs;
        this.arm(next);
      }
      this.expire();
    });
  }
}

/** The shortest wait between two looks at a CPU-time timer. */
const CPU_POLL_MIN_NS = 1_000_000n;

/**
 * An interval timer on CPU time. The CPU time of a thread that computes grows without events, so the
 * timer looks at it from a host deadline: the time left divided among the threads that may be
 * running (it cannot be reached sooner), and looks again until it is reached.
 */
export class CpuIntervalTimer {
  /** CPU time at which it expires next; 0 when disarmed. */
  private expiresAtNs = 0n;
  private intervalNs = 0n;
  private poll: Deadline | null = null;

  constructor(
    /** The CPU time the timer counts, now. */
    private readonly sample: () => bigint,
    /** How many threads may be running (the most CPU time per host nanosecond). */
    private readonly threads: () => number,
    private readonly expire: () => void,
  ) {}

  get(): TimerValue {
    if (this.expiresAtNs === 0n) return { valueNs: 0n, intervalNs: this.intervalNs };
    const left = this.expiresAtNs - this.sample();
    return { valueNs: left > 0n ? left : 1000n, intervalNs: this.intervalNs };
  }

  set(next: TimerValue): TimerValue {
    const old = this.get();
    this.cancel();
    this.intervalNs = next.valueNs > 0n ? next.intervalNs : 0n;
    if (next.valueNs > 0n) {
      this.expiresAtNs = this.sample() + next.valueNs;
      this.schedule();
    }
    return old;
  }

  cancel(): void {
    this.poll?.cancel();
    this.poll = null;
    this.expiresAtNs = 0n;
  }

  private schedule(): void {
    const left = this.expiresAtNs - this.sample();
    const threads = BigInt(Math.max(1, this.threads()));
    const wait = left / threads > CPU_POLL_MIN_NS ? left / threads : CPU_POLL_MIN_NS;
    this.poll = deadlineAt(process.hrtime.bigint() + wait, () => {
      this.poll = null;
      this.check();
    });
  }

  private check(): void {
    const now = this.sample();
    if (now >= this.expiresAtNs) {
      if (this.intervalNs > 0n) {
        this.expiresAtNs += this.intervalNs;
        // Periods the Sentry could not look at are skipped, not fired in a burst.
        if (this.expiresAtNs <= now) this.expiresAtNs = now + this.intervalNs;
      } else {
        this.expiresAtNs = 0n;
      }
      this.expire();
    }
    if (this.expiresAtNs !== 0n && this.poll === null) this.schedule();
  }
}
