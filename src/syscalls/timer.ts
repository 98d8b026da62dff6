// Interval timers: alarm(2), setitimer(2), getitimer(2). ITIMER_REAL counts the host's monotonic time
// and sends the process SIGALRM (kernel/itimer.ts). The CPU-time timers are not there yet.
import { EFAULT, EINVAL, Errno } from '../abi/errno.js';
import { kernelInfo } from '../abi/siginfo.js';
import { SI_KERNEL, Signal } from '../abi/signal.js';
import { IntervalTimer, type TimerValue } from '../kernel/itimer.js';
import { sendSignal } from '../kernel/signal-send.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial, supported } from './define.js';

const ITIMER_REAL = 0;
const ITIMER_VIRTUAL = 1;
const ITIMER_PROF = 2;
const ITIMERVAL_SIZE = 32; // struct itimerval: it_interval, it_value (struct timeval each)
const US = 1000n;
const S = 1_000_000_000n;

function realTimer(task: Task): IntervalTimer {
  const process = task.signals.process;
  return process.realTimer ??= new IntervalTimer(() => sendSignal(task, kernelInfo(Signal.SIGALRM, SI_KERNEL), false));
}

/** A struct itimerval from the guest; EINVAL for a negative second or tv_usec outside [0, 10^6). */
function readItimerval(task: Task, va: number): TimerValue | Errno {
  const raw = new Uint8Array(ITIMERVAL_SIZE);
  if (task.mm.copyIn(va, raw) !== ITIMERVAL_SIZE) return EFAULT;
  const v = new DataView(raw.buffer);
  const ns = (at: number): bigint | null => {
    const sec = v.getBigInt64(at, true);
    const usec = v.getBigUint64(at + 8, true);
    return sec < 0n || usec >= 1_000_000n ? null : sec * S + usec * US;
  };
  const intervalNs = ns(0);
  const valueNs = ns(16);
  if (intervalNs === null || valueNs === null) return EINVAL;
  return { intervalNs, valueNs };
}

function writeItimerval(task: Task, va: number, t: TimerValue): number | Errno {
  const raw = new Uint8Array(ITIMERVAL_SIZE);
  const v = new DataView(raw.buffer);
  v.setBigInt64(0, t.intervalNs / S, true);
  v.setBigInt64(8, (t.intervalNs % S) / US, true);
  v.setBigInt64(16, t.valueNs / S, true);
  v.setBigInt64(24, (t.valueNs % S) / US, true);
  return task.mm.copyOut(va, raw) === ITIMERVAL_SIZE ? 0 : EFAULT;
}

/** ITIMER_VIRTUAL and ITIMER_PROF need the task's CPU time, which the Sentry does not measure yet. */
function checkWhich(which: number): Errno | null {
  if (which === ITIMER_REAL) return null;
  return EINVAL;
}

function setitimer(task: Task, a: SyscallArgs): number | Errno {
  const which = a.int(0);
  // Linux still takes a NULL new value as "disarm".
  let next: TimerValue = { valueNs: 0n, intervalNs: 0n };
  if (a.ptr(1) !== 0) {
    const r = readItimerval(task, a.ptr(1));
    if (r instanceof Errno) return r;
    next = r;
  }
  const bad = checkWhich(which);
  if (bad !== null) return bad;
  const old = realTimer(task).set(next);
  return a.ptr(2) !== 0 ? writeItimerval(task, a.ptr(2), old) : 0;
}

function getitimer(task: Task, a: SyscallArgs): number | Errno {
  const bad = checkWhich(a.int(0));
  if (bad !== null) return bad;
  return writeItimerval(task, a.ptr(1), realTimer(task).get());
}

/** alarm(2): seconds until the previous alarm, rounded to the nearest second but never 0 if one was set. */
function alarm(task: Task, a: SyscallArgs): number {
  const old = realTimer(task).set({ valueNs: BigInt(a.uint(0)) * S, intervalNs: 0n });
  let seconds = old.valueNs / S;
  const usec = (old.valueNs % S) / US;
  if ((seconds === 0n && usec > 0n) || usec >= 500_000n) seconds++;
  return Number(seconds);
}

const CPU_TIMERS = `ITIMER_VIRTUAL (${ITIMER_VIRTUAL}) and ITIMER_PROF (${ITIMER_PROF}) give EINVAL: task CPU time is not measured yet`;

export const timerSyscalls: SyscallEntry[] = [
  supported('alarm', alarm, 'u'),
  partial('setitimer', setitimer, CPU_TIMERS, 'ixx'),
  partial('getitimer', getitimer, CPU_TIMERS, 'ix'),
];
