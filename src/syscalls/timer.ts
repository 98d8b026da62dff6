// Interval timers: alarm(2), setitimer(2), getitimer(2). ITIMER_REAL counts the host's monotonic time
// and sends the process SIGALRM; ITIMER_VIRTUAL its user CPU time (SIGVTALRM), ITIMER_PROF its user and
// system CPU time (SIGPROF), both as the Sentry measures them (kernel/itimer.ts).
import { EFAULT, EINVAL, EOPNOTSUPP, EPERM, Errno } from '../abi/errno.js';
import { kernelInfo } from '../abi/siginfo.js';
import { SI_KERNEL, Signal } from '../abi/signal.js';
import { CpuIntervalTimer, IntervalTimer, type TimerValue } from '../kernel/itimer.js';
import { sendSignal } from '../kernel/signal-send.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { NSIG } from '../abi/signal.js';
import { PosixTimer, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID, type TimerNotify } from '../kernel/posix-timers.js';
import {
  CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI,
} from '../kernel/timekeeper.js';
import { nowNs } from './time.js';
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

type Which = typeof ITIMER_REAL | typeof ITIMER_VIRTUAL | typeof ITIMER_PROF;

/** The timer setitimer's `which` names, made at first use. */
function timerOf(task: Task, which: Which): IntervalTimer | CpuIntervalTimer {
  if (which === ITIMER_REAL) return realTimer(task);
  const process = task.signals.process;
  const group = task.group;
  const make = (withSystem: boolean, signo: number): CpuIntervalTimer => new CpuIntervalTimer(
    () => group.cpuTimeNs(withSystem), () => group.tasks.size, () => sendSignal(task, kernelInfo(signo, SI_KERNEL), false));
  if (which === ITIMER_VIRTUAL) return process.virtualTimer ??= make(false, Signal.SIGVTALRM);
  return process.profTimer ??= make(true, Signal.SIGPROF);
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

function checkWhich(which: number): Errno | null {
  return which === ITIMER_REAL || which === ITIMER_VIRTUAL || which === ITIMER_PROF ? null : EINVAL;
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
  const old = timerOf(task, which as Which).set(next);
  return a.ptr(2) !== 0 ? writeItimerval(task, a.ptr(2), old) : 0;
}

function getitimer(task: Task, a: SyscallArgs): number | Errno {
  const bad = checkWhich(a.int(0));
  if (bad !== null) return bad;
  return writeItimerval(task, a.ptr(1), timerOf(task, a.int(0) as Which).get());
}

/** alarm(2): seconds until the previous alarm, rounded to the nearest second but never 0 if one was set. */
function alarm(task: Task, a: SyscallArgs): number {
  const old = realTimer(task).set({ valueNs: BigInt(a.uint(0)) * S, intervalNs: 0n });
  let seconds = old.valueNs / S;
  const usec = (old.valueNs % S) / US;
  if ((seconds === 0n && usec > 0n) || usec >= 500_000n) seconds++;
  return Number(seconds);
}

const CPU_TIMERS = 'ITIMER_VIRTUAL and ITIMER_PROF count CPU time as the Sentry measures it: a vCPU\'s run time between events is user time, the handling of its events system time';

// ---- POSIX timers ---------------------------------------------------------------------------------

const SIGEVENT_SIZE = 64;
const ITIMERSPEC_SIZE = 32;
const TIMER_ABSTIME = 1;
const CLOCK_PROCESS_CPUTIME_ID = 2;
const CLOCK_THREAD_CPUTIME_ID = 3;
const CLOCK_REALTIME_ALARM = 8;
const CLOCK_BOOTTIME_ALARM = 9;
/** Clocks without timers (CLOCK_MONOTONIC_RAW and the coarse ones): EOPNOTSUPP, as on Linux. */
const NO_TIMERS = new Set([CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE]);
const WALL_CLOCKS = new Set([CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM]);

/** A timer's clock as the syscalls see it: its value now (for TIMER_ABSTIME), and for CPU clocks the sample. */
function cpuSampleOf(task: Task, clock: number): (() => bigint) | null {
  if (clock === CLOCK_PROCESS_CPUTIME_ID) {
    const group = task.group;
    return () => group.cpuTimeNs(true);
  }
  if (clock === CLOCK_THREAD_CPUTIME_ID) {
    return () => task.cpuTimeNs();
  }
  return null;
}

function timerCreate(task: Task, a: SyscallArgs): number | Errno {
  const clock = a.int(0);
  if (NO_TIMERS.has(clock)) return EOPNOTSUPP;
  if (!WALL_CLOCKS.has(clock) && clock !== CLOCK_PROCESS_CPUTIME_ID && clock !== CLOCK_THREAD_CPUTIME_ID) return EINVAL;
  if ((clock === CLOCK_REALTIME_ALARM || clock === CLOCK_BOOTTIME_ALARM) && task.euid !== 0) return EPERM;
  const process = task.signals.process;
  const id = process.nextTimerId;
  let notify: TimerNotify = { kind: SIGEV_SIGNAL, signo: Signal.SIGALRM, value: BigInt(id), thread: null };
  if (a.ptr(1) !== 0) {
    const raw = new Uint8Array(SIGEVENT_SIZE);
    if (task.mm.copyIn(a.ptr(1), raw) !== SIGEVENT_SIZE) return EFAULT;
    const v = new DataView(raw.buffer);
    const value = v.getBigUint64(0, true);
    const signo = v.getInt32(8, true);
    const kind = v.getInt32(12, true);
    // Linux good_sigevent: a signal in range unless SIGEV_NONE; SIGEV_THREAD_ID names a thread of the caller.
    if (kind !== SIGEV_NONE && kind !== SIGEV_SIGNAL && kind !== SIGEV_THREAD && kind !== SIGEV_THREAD_ID) return EINVAL;
    if (kind !== SIGEV_NONE && (signo <= 0 || signo > NSIG)) return EINVAL;
    let thread: Task | null = null;
    if (kind === SIGEV_THREAD_ID) {
      thread = task.kernel.tasks.get(v.getInt32(16, true)) ?? null;
      if (thread === null || thread.group !== task.group) return EINVAL;
    }
    notify = { kind: kind === SIGEV_THREAD ? SIGEV_SIGNAL : kind, signo, value, thread };
  }
  const timer = new PosixTimer(id, task, notify, cpuSampleOf(task, clock));
  const out = new Uint8Array(new Int32Array([id]).buffer);
  if (task.mm.copyOut(a.ptr(2), out) !== 4) return EFAULT;
  process.nextTimerId = (id + 1) % 0x8000_0000;
  process.posixTimers.set(id, timer);
  timerClocks.set(timer, clock);
  return 0;
}

/** The clock each timer was made on, for TIMER_ABSTIME. */
const timerClocks = new WeakMap<PosixTimer, number>();

function findTimer(task: Task, id: number): PosixTimer | null {
  return task.signals.process.posixTimers.get(id) ?? null;
}

function writeItimerspec(task: Task, va: number, t: TimerValue): number | Errno {
  const raw = new Uint8Array(ITIMERSPEC_SIZE);
  const v = new DataView(raw.buffer);
  v.setBigInt64(0, t.intervalNs / S, true);
  v.setBigInt64(8, t.intervalNs % S, true);
  v.setBigInt64(16, t.valueNs / S, true);
  v.setBigInt64(24, t.valueNs % S, true);
  return task.mm.copyOut(va, raw) === ITIMERSPEC_SIZE ? 0 : EFAULT;
}

function timerSettime(task: Task, a: SyscallArgs): number | Errno {
  const timer = findTimer(task, a.int(0));
  if (timer === null) return EINVAL;
  const raw = new Uint8Array(ITIMERSPEC_SIZE);
  if (a.ptr(2) === 0) return EINVAL;
  if (task.mm.copyIn(a.ptr(2), raw) !== ITIMERSPEC_SIZE) return EFAULT;
  const v = new DataView(raw.buffer);
  const ns = (at: number): bigint | null => {
    const sec = v.getBigInt64(at, true);
    const nsec = v.getBigInt64(at + 8, true);
    return sec < 0n || nsec < 0n || nsec >= S ? null : sec * S + nsec;
  };
  const intervalNs = ns(0);
  const valueNs = ns(16);
  if (intervalNs === null || valueNs === null) return EINVAL;
  let afterNs = valueNs;
  if ((a.int(1) & TIMER_ABSTIME) !== 0 && valueNs !== 0n) {
    const clock = timerClocks.get(timer)!;
    const sample = cpuSampleOf(task, clock);
    const now = sample !== null ? sample() : nowNs(task, clock === CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : clock === CLOCK_BOOTTIME_ALARM ? CLOCK_BOOTTIME : clock);
    if (now instanceof Errno) return now;
    // Already past: it expires at once.
    afterNs = valueNs - now > 0n ? valueNs - now : 1n;
  }
  const old = timer.set(afterNs, intervalNs, valueNs !== 0n);
  return a.ptr(3) !== 0 ? writeItimerspec(task, a.ptr(3), old) : 0;
}

function timerGettime(task: Task, a: SyscallArgs): number | Errno {
  const timer = findTimer(task, a.int(0));
  if (timer === null) return EINVAL;
  return writeItimerspec(task, a.ptr(1), timer.get());
}

function timerGetoverrun(task: Task, a: SyscallArgs): number | Errno {
  const timer = findTimer(task, a.int(0));
  return timer === null ? EINVAL : timer.overrunLast;
}

function timerDelete(task: Task, a: SyscallArgs): number | Errno {
  const timer = findTimer(task, a.int(0));
  if (timer === null) return EINVAL;
  timer.delete();
  task.signals.process.posixTimers.delete(timer.id);
  return 0;
}

export const timerSyscalls: SyscallEntry[] = [
  supported('alarm', alarm, 'u'),
  partial('setitimer', setitimer, CPU_TIMERS, 'ixx'),
  partial('getitimer', getitimer, CPU_TIMERS, 'ix'),
  partial('timer_create', timerCreate, 'no CPU clocks of other processes or threads (negative clock ids: EINVAL); CPU time as setitimer measures it', 'kxp'),
  supported('timer_settime', timerSettime, 'ixxx'),
  supported('timer_gettime', timerGettime, 'ix'),
  supported('timer_getoverrun', timerGetoverrun, 'i'),
  supported('timer_delete', timerDelete, 'i'),
];
