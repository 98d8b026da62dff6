// Clocks and sleeps. Monotonic time is the host's CLOCK_MONOTONIC; a sleep blocks only its task, and
// the Sentry waits for it in the event loop, so a sleeping sandbox uses no CPU.
import { cpuUsage } from 'node:process';
import { EFAULT, EINVAL, Errno } from '../abi/errno.js';
import { Blocked } from '../kernel/syscall-table.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial, supported } from './define.js';

export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
const CLOCK_PROCESS_CPUTIME_ID = 2;
const CLOCK_THREAD_CPUTIME_ID = 3;
const CLOCK_MONOTONIC_RAW = 4;
const CLOCK_REALTIME_COARSE = 5;
const CLOCK_MONOTONIC_COARSE = 6;
const CLOCK_BOOTTIME = 7;
const TIMER_ABSTIME = 1;
const NS = 1_000_000_000n;

/** Offset from the monotonic clock to wall-clock time, fixed when the Sentry starts. */
const realtimeOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

function nowNs(clock: number): bigint | Errno {
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
      return process.hrtime.bigint() + realtimeOffset;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
      return process.hrtime.bigint();
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID: {
      const u = cpuUsage();
      return BigInt(u.user + u.system) * 1000n;
    }
    default:
      return EINVAL;
  }
}

/** The time on a clock that exists (CLOCK_REALTIME, CLOCK_MONOTONIC), in nanoseconds. */
export function clockNowNs(clock: typeof CLOCK_REALTIME | typeof CLOCK_MONOTONIC): bigint {
  return nowNs(clock) as bigint;
}

function encodeTimespec(ns: bigint): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setBigInt64(0, ns / NS, true);
  v.setBigInt64(8, ns % NS, true);
  return out;
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
  const ns = nowNs(a.int(0));
  if (ns instanceof Errno) return ns;
  return task.mm.copyOut(a.ptr(1), encodeTimespec(ns)) === 16 ? 0 : EFAULT;
}

function clockGetres(task: Task, a: SyscallArgs): number | Errno {
  const clock = a.int(0);
  if (nowNs(clock) instanceof Errno) return EINVAL;
  if (a.ptr(1) === 0) return 0;
  const coarse = clock === CLOCK_REALTIME_COARSE || clock === CLOCK_MONOTONIC_COARSE;
  return task.mm.copyOut(a.ptr(1), encodeTimespec(coarse ? 4_000_000n : 1n)) === 16 ? 0 : EFAULT;
}

function gettimeofday(task: Task, a: SyscallArgs): number | Errno {
  if (a.ptr(0) !== 0) {
    const ns = process.hrtime.bigint() + realtimeOffset;
    const out = new Uint8Array(16);
    const v = new DataView(out.buffer);
    v.setBigInt64(0, ns / NS, true);
    v.setBigInt64(8, (ns % NS) / 1000n, true);
    if (task.mm.copyOut(a.ptr(0), out) !== 16) return EFAULT;
  }
  if (a.ptr(1) !== 0 && task.mm.copyOut(a.ptr(1), new Uint8Array(8)) !== 8) return EFAULT;
  return 0;
}

function time(task: Task, a: SyscallArgs): number | Errno {
  const seconds = (process.hrtime.bigint() + realtimeOffset) / NS;
  if (a.ptr(0) !== 0) {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigInt64(0, seconds, true);
    if (task.mm.copyOut(a.ptr(0), out) !== 8) return EFAULT;
  }
  return Number(seconds);
}

function sleepUntil(task: Task, clock: number, deadlineNs: bigint): Blocked | number {
  const now = nowNs(clock) as bigint;
  if (deadlineNs <= now) return 0;
  const ms = Number((deadlineNs - now + 999_999n) / 1_000_000n);
  setTimeout(() => task.complete(0), ms);
  return Blocked.instance;
}

function nanosleep(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const ns = readTimespec(task, a.ptr(0));
  if (ns instanceof Errno) return ns;
  return sleepUntil(task, CLOCK_MONOTONIC, process.hrtime.bigint() + ns);
}

function clockNanosleep(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const clock = a.int(0);
  if (clock === CLOCK_THREAD_CPUTIME_ID) return EINVAL;
  const now = nowNs(clock);
  if (now instanceof Errno) return now;
  const ns = readTimespec(task, a.ptr(2));
  if (ns instanceof Errno) return ns;
  return sleepUntil(task, clock, (a.int(1) & TIMER_ABSTIME) !== 0 ? ns : now + ns);
}

export const timeSyscalls: SyscallEntry[] = [
  supported('clock_gettime', clockGettime, 'ix'),
  supported('clock_getres', clockGetres, 'ix'),
  supported('gettimeofday', gettimeofday, 'xx'),
  supported('time', time, 'x'),
  partial('nanosleep', nanosleep, 'not interrupted by signals yet; rem is left untouched', 'xx'),
  partial('clock_nanosleep', clockNanosleep, 'not interrupted by signals yet', 'iixx'),
];
