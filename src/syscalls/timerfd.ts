// timerfd_create(2), timerfd_settime, timerfd_gettime: the timer is the file's (fs/timerfd.ts); its
// clock is the task's (the one clock_gettime and the vDSO read) and its wake-ups the kernel's
// deadlines (timers.ts). Checks in Linux's order (fs/timerfd.c).
import { EFAULT, EINVAL, Errno } from '../abi/errno.js';
import { TFD_CLOEXEC, TFD_NONBLOCK, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET, type TimerClock, TimerFd, type TimerSetting } from '../fs/timerfd.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME } from '../kernel/timekeeper.js';
import { deadlineAt } from '../kernel/timers.js';
import { partial, supported } from './define.js';
import { install } from './open.js';

const NS = 1_000_000_000n;
const ITIMERSPEC_SIZE = 32;

/** The clock as the task reads it (the sandbox's timekeeper), without holding on to the task. */
function timerClock(task: Task, clock: number): TimerClock {
  const clocks = task.clocks;
  const reading = new Float64Array(2);
  return {
    now: () => {
      clocks.read(clock, reading);
      return BigInt(reading[0]!) * NS + BigInt(reading[1]!);
    },
    after: (delayNs, fire) => deadlineAt(process.hrtime.bigint() + (delayNs > 0n ? delayNs : 0n), fire),
  };
}

function timerfdCreate(task: Task, clock: number, flags: number): number | Errno {
  // The alarm clocks need an RTC the sandbox does not have (as clock_gettime says: EINVAL).
  if (clock !== CLOCK_REALTIME && clock !== CLOCK_MONOTONIC && clock !== CLOCK_BOOTTIME) return EINVAL;
  if ((flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) !== 0) return EINVAL;
  return install(task, new TimerFd(flags & TFD_NONBLOCK, timerClock(task, clock)), (flags & TFD_CLOEXEC) !== 0);
}

const specBytes = new Uint8Array(ITIMERSPEC_SIZE);
const specView = new DataView(specBytes.buffer);

/** struct itimerspec: it_interval, then it_value; EINVAL unless both are valid timespecs. */
function readItimerspec(task: Task, va: number): TimerSetting | Errno {
  if (task.mm.copyIn(va, specBytes) !== ITIMERSPEC_SIZE) return EFAULT;
  const ns = (at: number): bigint | null => {
    const sec = specView.getBigInt64(at, true);
    const nsec = specView.getBigInt64(at + 8, true);
    return sec < 0n || nsec < 0n || nsec >= NS ? null : sec * NS + nsec;
  };
  const intervalNs = ns(0);
  const valueNs = ns(16);
  if (intervalNs === null || valueNs === null) return EINVAL;
  return { intervalNs, valueNs };
}

function writeItimerspec(task: Task, va: number, t: TimerSetting): number | Errno {
  specView.setBigInt64(0, t.intervalNs / NS, true);
  specView.setBigInt64(8, t.intervalNs % NS, true);
  specView.setBigInt64(16, t.valueNs / NS, true);
  specView.setBigInt64(24, t.valueNs % NS, true);
  return task.mm.copyOut(va, specBytes) === ITIMERSPEC_SIZE ? 0 : EFAULT;
}

function timerFile(task: Task, fd: number): TimerFd | Errno {
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  return file instanceof TimerFd ? file : EINVAL;
}

function timerfdSettime(task: Task, a: SyscallArgs): number | Errno {
  const next = readItimerspec(task, a.ptr(2));
  if (next instanceof Errno) return next;
  const flags = a.int(1);
  if ((flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) !== 0) return EINVAL;
  const timer = timerFile(task, a.int(0));
  if (timer instanceof Errno) return timer;
  const old = timer.set(next, (flags & TFD_TIMER_ABSTIME) !== 0);
  return a.ptr(3) !== 0 ? writeItimerspec(task, a.ptr(3), old) : 0;
}

function timerfdGettime(task: Task, a: SyscallArgs): number | Errno {
  const timer = timerFile(task, a.int(0));
  if (timer instanceof Errno) return timer;
  return writeItimerspec(task, a.ptr(1), timer.get());
}

export const timerfdSyscalls: SyscallEntry[] = [
  partial('timerfd_create', (t, a) => timerfdCreate(t, a.int(0), a.int(1)), 'CLOCK_REALTIME_ALARM and CLOCK_BOOTTIME_ALARM give EINVAL: the sandbox has no RTC', 'kG'),
  partial('timerfd_settime', timerfdSettime, 'TFD_TIMER_CANCEL_ON_SET is accepted and never cancels: nothing in the sandbox can set the clock', 'iHIx'),
  supported('timerfd_gettime', timerfdGettime, 'ix'),
];
