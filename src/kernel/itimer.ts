// An interval timer on the host's CLOCK_MONOTONIC: ITIMER_REAL (setitimer(2), alarm(2)), which sends
// its process SIGALRM at each expiry (Linux kernel/time/itimer.c).
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
