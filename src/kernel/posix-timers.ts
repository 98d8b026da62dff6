// POSIX per-process timers (timer_create(2) and the rest; Linux kernel/time/posix-timers.c). A timer
// counts CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_BOOTTIME on a host deadline (timers.ts), or the
// process's CPU time (CLOCK_PROCESS_CPUTIME_ID, as ITIMER_PROF counts it), and at each expiry queues
// its signal (SIGEV_SIGNAL to the process, SIGEV_THREAD_ID to one thread; SIGEV_NONE only counts).
// One signal of a timer is queued at a time: expiries while it is pending are overruns, which the
// signal's si_overrun reports when it is taken and timer_getoverrun after that.
import { SI_TIMER } from '../abi/signal.js';
import { SIGINFO_SIZE, type SigInfo } from '../abi/siginfo.js';
import { CpuIntervalTimer, type TimerValue } from './itimer.js';
import { sendSignal, sendToProcess } from './signal-send.js';
import type { QueuedSignal } from './signals.js';
import type { Task } from './task.js';
import { type Deadline, deadlineAt } from './timers.js';

export const SIGEV_SIGNAL = 0;
export const SIGEV_NONE = 1;
export const SIGEV_THREAD = 2;
export const SIGEV_THREAD_ID = 4;
/** Linux DELAYTIMER_MAX: overrun counts stop there. */
const DELAYTIMER_MAX = 0x7fff_ffff;

export interface TimerNotify {
  kind: typeof SIGEV_SIGNAL | typeof SIGEV_NONE | typeof SIGEV_THREAD_ID;
  signo: number;
  /** sigev_value, as it goes into si_value. */
  value: bigint;
  /** SIGEV_THREAD_ID: the thread that takes the signal. */
  thread: Task | null;
}

export class PosixTimer {
  /** Host deadline of the next expiry (wall clocks). */
  private deadline: Deadline | null = null;
  /** The next expiry on the host's monotonic clock (0: disarmed). */
  private expiresAtHostNs = 0n;
  private intervalNs = 0n;
  private readonly cpu: CpuIntervalTimer | null;
  /** The signal of this timer that is queued and not yet taken (at most one at a time). */
  private queued: QueuedSignal | null = null;
  /** Expiries since the queued signal was queued; the count the last taken signal reported. */
  private overrun = 0;
  overrunLast = 0;
  private deleted = false;

  constructor(
    readonly id: number,
    private readonly owner: Task,
    readonly notify: TimerNotify,
    /** CPU-time clock: its sample, else null (a wall clock, converted to host time by the caller). */
    cpuSample: (() => bigint) | null,
  ) {
    this.cpu = cpuSample === null ? null : new CpuIntervalTimer(cpuSample, () => owner.group.tasks.size, () => this.expired(1));
  }

  /** Time left and period; an armed timer never shows 0 left. */
  get(): TimerValue {
    if (this.cpu !== null) return this.cpu.get();
    if (this.expiresAtHostNs === 0n) return { valueNs: 0n, intervalNs: this.intervalNs };
    const left = this.expiresAtHostNs - process.hrtime.bigint();
    return { valueNs: left > 0n ? left : 1n, intervalNs: this.intervalNs };
  }

  /** Arms to expire after `afterNs` (0: disarm), then every intervalNs; returns what it was. */
  set(afterNs: bigint, intervalNs: bigint, valueGiven: boolean): TimerValue {
    const old = this.get();
    this.disarm();
    if (!valueGiven) return old;
    this.intervalNs = intervalNs;
    if (this.cpu !== null) {
      this.cpu.set({ valueNs: afterNs, intervalNs });
      return old;
    }
    this.arm(process.hrtime.bigint() + (afterNs > 0n ? afterNs : 0n));
    return old;
  }

  private arm(atHostNs: bigint): void {
    this.expiresAtHostNs = atHostNs;
    this.deadline = deadlineAt(atHostNs, () => {
      this.deadline = null;
      let expiries = 1;
      if (this.intervalNs > 0n) {
        // Periods that passed while the Sentry was busy count as overruns of this expiry.
        const now = process.hrtime.bigint();
        let next = this.expiresAtHostNs + this.intervalNs;
        if (next <= now) {
          const missed = (now - next) / this.intervalNs + 1n;
          expiries += Number(missed);
          next += missed * this.intervalNs;
        }
        this.arm(next);
      } else {
        this.expiresAtHostNs = 0n;
      }
      this.expired(expiries);
    });
  }

  private disarm(): void {
    this.deadline?.cancel();
    this.deadline = null;
    this.expiresAtHostNs = 0n;
    this.intervalNs = 0n;
    this.cpu?.cancel();
  }

  /** An expiry (or several at once): queue the signal, or count overruns while it is still pending. */
  private expired(expiries: number): void {
    if (this.deleted || this.notify.kind === SIGEV_NONE) return;
    // Still pending (a flush, SIG_IGN for one, drops it without telling the timer).
    if (this.queued !== null && this.isQueued(this.queued)) {
      this.overrun = Math.min(DELAYTIMER_MAX, this.overrun + expiries);
      return;
    }
    this.overrun = Math.min(DELAYTIMER_MAX, expiries - 1);
    const info = timerInfo(this.notify.signo, this.id, this.notify.value);
    const q: QueuedSignal = {
      info,
      detail: 'a POSIX timer expired',
      // Taken: the overruns so far go into its siginfo and become timer_getoverrun's answer.
      onDequeue: () => {
        this.queued = null;
        this.overrunLast = this.overrun;
        this.overrun = 0;
        new DataView(info.buffer).setInt32(20, this.overrunLast, true);
      },
    };
    const thread = this.notify.thread;
    const target = thread !== null && thread.exit === null ? thread : null;
    if (this.notify.kind === SIGEV_THREAD_ID && target === null) return;
    this.queued = q;
    const ok = target !== null ? sendSignal(target, info, true, q.detail, q) : sendToProcess(this.owner.group, info, q.detail, q);
    if (!ok || !this.isQueued(q)) this.queued = null;
  }

  private isQueued(q: QueuedSignal): boolean {
    const g = this.owner.group;
    if (g.signals.pending.contains(q)) return true;
    for (const t of g.tasks) if (t.signals.pending.contains(q)) return true;
    return false;
  }

  /** timer_delete, exec, exit: disarmed; a signal already queued stays (as the host kernel keeps it). */
  delete(): void {
    this.deleted = true;
    this.disarm();
  }
}

/** The siginfo of a timer's signal: SI_TIMER, si_tid (the timer id), si_overrun, si_value. */
function timerInfo(signo: number, id: number, value: bigint): SigInfo {
  const info = new Uint8Array(SIGINFO_SIZE);
  const v = new DataView(info.buffer);
  v.setInt32(0, signo, true);
  v.setInt32(8, SI_TIMER, true);
  v.setInt32(16, id, true);
  v.setBigUint64(24, value, true);
  return info;
}
