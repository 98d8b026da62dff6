// Clocks and sleeps. Monotonic time is the host's CLOCK_MONOTONIC; a sleep blocks only its task, and
// the Sentry waits for it in the event loop, so a sleeping sandbox uses no CPU. A signal whose handler
// runs ends a sleep early with EINTR; relative sleeps then write the time left.
import { cpuUsage } from 'node:process';
import { EFAULT, EINVAL, ERESTART_RESTARTBLOCK, ERESTARTNOHAND, Errno } from '../abi/errno.js';
import { deadlineTimer } from '../kernel/blocking.js';
import { Blocked } from '../kernel/syscall-table.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial, supported } from './define.js';

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
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

/**
 * Sleeps until the clock reads deadlineNs. Interrupted, an absolute sleep gives ERESTARTNOHAND and a
 * relative one ERESTART_RESTARTBLOCK after writing the time left at remVa (if not 0), as Linux.
 */
function sleepUntil(task: Task, clock: number, deadlineNs: bigint, absolute: boolean, remVa: number): Blocked | number {
  const now = nowNs(clock) as bigint;
  if (deadlineNs <= now) return 0;
  const call = task.block(() => {
    if (absolute) return ERESTARTNOHAND;
    if (remVa !== 0) {
      const left = deadlineNs - (nowNs(clock) as bigint);
      if (task.mm.copyOut(remVa, encodeTimespec(left > 0n ? left : 0n)) !== 16) return EFAULT;
    }
    return ERESTART_RESTARTBLOCK;
  });
  // Every clock here runs at the rate of the monotonic one: wait on that.
  call.waitOn(deadlineTimer(process.hrtime.bigint() + (deadlineNs - now), () => task.complete(0)));
  return Blocked.instance;
}

function nanosleep(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const ns = readTimespec(task, a.ptr(0));
  if (ns instanceof Errno) return ns;
  return sleepUntil(task, CLOCK_MONOTONIC, process.hrtime.bigint() + ns, false, a.ptr(1));
}

function clockNanosleep(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const clock = a.int(0);
  if (clock === CLOCK_THREAD_CPUTIME_ID) return EINVAL;
  const now = nowNs(clock);
  if (now instanceof Errno) return now;
  const ns = readTimespec(task, a.ptr(2));
  if (ns instanceof Errno) return ns;
  const absolute = (a.int(1) & TIMER_ABSTIME) !== 0;
  return sleepUntil(task, clock, absolute ? ns : now + ns, absolute, a.ptr(3));
}

export const timeSyscalls: SyscallEntry[] = [
  supported('clock_gettime', clockGettime, 'ix'),
  supported('clock_getres', clockGetres, 'ix'),
  supported('gettimeofday', gettimeofday, 'xx'),
  supported('time', time, 'x'),
  supported('nanosleep', nanosleep, 'xx'),
  partial('clock_nanosleep', clockNanosleep, 'CPU-time clocks sleep in wall time', 'iixx'),
];
