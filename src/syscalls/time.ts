// Clocks and sleeps. The clocks are the task's (kernel/timekeeper.ts: the same ones the vDSO reads in the
// guest, so a program sees one clock whether it asks here or there); the CPU-time clocks are the
// sandbox process's own. A sleep blocks only its task, and the Sentry waits for it in the event loop,
// so a sleeping sandbox uses no CPU. A signal whose handler runs ends a sleep early with EINTR;
// relative sleeps then write the time left.
import { EFAULT, EINVAL, ERESTART_RESTARTBLOCK, ERESTARTNOHAND, Errno } from '../abi/errno.js';
import { Blocked } from '../kernel/syscall-table.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { CLOCK_MONOTONIC, CLOCK_REALTIME } from '../kernel/timekeeper.js';
import { partial, supported } from './define.js';

const CLOCK_PROCESS_CPUTIME_ID = 2;
const CLOCK_THREAD_CPUTIME_ID = 3;
const TIMER_ABSTIME = 1;
const NS = 1_000_000_000n;
const NS_PER_SEC = 1_000_000_000;
const TWO_32 = 2 ** 32;

/** Scratch for the answers (the handlers run one at a time): no allocation per call. */
const now = new Float64Array(2);
const out16 = new Uint8Array(16);
const view16 = new DataView(out16.buffer);

/** The clock's value into `now`; EINVAL for a clock Linux does not have here. */
function readClock(task: Task, clock: number): Errno | null {
  if (task.clocks.read(clock, now)) return null;
  if (clock === CLOCK_PROCESS_CPUTIME_ID || clock === CLOCK_THREAD_CPUTIME_ID) {
    // The kernel's measure, as getrusage and the CPU timers use: the process's or the thread's.
    const ns = clock === CLOCK_PROCESS_CPUTIME_ID ? task.group.cpuTimeNs(true) : task.cpuTimeNs();
    now[0] = Number(ns / NS);
    now[1] = Number(ns % NS);
    return null;
  }
  return EINVAL;
}

export function nowNs(task: Task, clock: number): bigint | Errno {
  const e = readClock(task, clock);
  return e ?? BigInt(now[0]!) * NS + BigInt(now[1]!);
}

/** Two 64-bit fields (struct timespec, struct timeval) of non-negative values, into out16. */
function pair(a: number, b: number): Uint8Array {
  view16.setUint32(0, a % TWO_32, true);
  view16.setUint32(4, Math.floor(a / TWO_32), true);
  view16.setUint32(8, b % TWO_32, true);
  view16.setUint32(12, Math.floor(b / TWO_32), true);
  return out16;
}

/** A struct timespec from the guest, validated as Linux does (EINVAL for tv_nsec out of range). */
export function readTimespec(task: Task, va: number): bigint | Errno {
  const raw = new Uint8Array(16);
  if (task.mm.copyIn(va, raw) !== 16) return EFAULT;
  const v = new DataView(raw.buffer);
  const sec = v.getBigInt64(0, true);
  const nsec = v.getBigInt64(8, true);
  if (sec < 0n || nsec < 0n || nsec >= NS) return EINVAL;
  return sec * NS + nsec;
}

function clockGettime(task: Task, a: SyscallArgs): number | Errno {
  const e = readClock(task, a.int(0));
  if (e !== null) return e;
  return task.mm.copyOut(a.ptr(1), pair(now[0]!, now[1]!)) === 16 ? 0 : EFAULT;
}

function clockGetres(task: Task, a: SyscallArgs): number | Errno {
  const clock = a.int(0);
  let ns = task.clocks.resolution(clock);
  if (ns < 0) {
    if (readClock(task, clock) !== null) return EINVAL;
    ns = 1;
  }
  if (a.ptr(1) === 0) return 0;
  return task.mm.copyOut(a.ptr(1), pair(Math.floor(ns / NS_PER_SEC), ns % NS_PER_SEC)) === 16 ? 0 : EFAULT;
}

function gettimeofday(task: Task, a: SyscallArgs): number | Errno {
  if (a.ptr(0) !== 0) {
    readClock(task, CLOCK_REALTIME);
    if (task.mm.copyOut(a.ptr(0), pair(now[0]!, Math.floor(now[1]! / 1000))) !== 16) return EFAULT;
  }
  // struct timezone: the sandbox has no time zone of its own (Linux's sys_tz is zeros unless set).
  if (a.ptr(1) !== 0 && task.mm.copyOut(a.ptr(1), pair(0, 0).subarray(0, 8)) !== 8) return EFAULT;
  return 0;
}

function time(task: Task, a: SyscallArgs): number | Errno {
  readClock(task, CLOCK_REALTIME);
  const seconds = now[0]!;
  if (a.ptr(0) !== 0 && task.mm.copyOut(a.ptr(0), pair(seconds, 0).subarray(0, 8)) !== 8) return EFAULT;
  return seconds;
}

/**
 * Sleeps until the clock reads deadlineNs. Interrupted, an absolute sleep gives ERESTARTNOHAND and a
 * relative one ERESTART_RESTARTBLOCK after writing the time left at remVa (if not 0), as Linux.
 */
function sleepUntil(task: Task, clock: number, deadlineNs: bigint, absolute: boolean, remVa: number): Blocked | number {
  const current = nowNs(task, clock) as bigint;
  if (deadlineNs <= current) return 0;
  const call = task.block(() => {
    if (absolute) return ERESTARTNOHAND;
    if (remVa !== 0) {
      const left = deadlineNs - (nowNs(task, clock) as bigint);
      if (task.mm.copyOut(remVa, pair(Number(left > 0n ? left / NS : 0n), Number(left > 0n ? left % NS : 0n))) !== 16) return EFAULT;
    }
    // Continued without a handler, the sleep goes on to the same deadline (hrtimer_nanosleep_restart).
    task.restartBlock = () => sleepUntil(task, clock, deadlineNs, false, remVa);
    return ERESTART_RESTARTBLOCK;
  });
  // Every clock here runs at the rate of the monotonic one: wait on that.
  call.waitOn(task.timers.after(deadlineNs - current, () => task.complete(0)));
  return Blocked.instance;
}

function nanosleep(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const ns = readTimespec(task, a.ptr(0));
  if (ns instanceof Errno) return ns;
  const current = nowNs(task, CLOCK_MONOTONIC) as bigint;
  return sleepUntil(task, CLOCK_MONOTONIC, current + ns, false, a.ptr(1));
}

function clockNanosleep(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const clock = a.int(0);
  if (clock === CLOCK_THREAD_CPUTIME_ID) return EINVAL;
  const current = nowNs(task, clock);
  if (current instanceof Errno) return current;
  const ns = readTimespec(task, a.ptr(2));
  if (ns instanceof Errno) return ns;
  const absolute = (a.int(1) & TIMER_ABSTIME) !== 0;
  return sleepUntil(task, clock, absolute ? ns : current + ns, absolute, a.ptr(3));
}

export const timeSyscalls: SyscallEntry[] = [
  supported('clock_gettime', clockGettime, 'kT'),
  supported('clock_getres', clockGetres, 'kT'),
  supported('gettimeofday', gettimeofday, 'pp'),
  supported('time', time, 'p'),
  supported('nanosleep', nanosleep, 'xx'),
  partial('clock_nanosleep', clockNanosleep, 'CPU-time clocks sleep in wall time', 'iixx'),
];
