// What a program may learn of its resource use: getrusage(2), times(2), and the rusage wait4 and
// waitid hand back. CPU times are the kernel's per-task measure (user: its vCPU ran the program;
// system: the Sentry worked on its events), summed per process, with the children a process waited
// for added to its own as Linux does (sysinfo(2) is in sysinfo.ts).
import { EFAULT, EINVAL, Errno } from '../abi/errno.js';
import { RUSAGE_SIZE } from '../abi/structs.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import type { ThreadGroup } from '../kernel/thread-group.js';
import { partial } from './define.js';

const RUSAGE_SELF = 0;
const RUSAGE_CHILDREN = -1;
const RUSAGE_THREAD = 1;
/** Linux's USER_HZ: the unit of times(2). */
const CLOCK_TICKS_PER_SECOND = 100n;
const NS_PER_TICK = 1_000_000_000n / CLOCK_TICKS_PER_SECOND;
/** struct tms: four clock_t (longs). */
const TMS_SIZE = 32;

/**
 * struct rusage: ru_utime and ru_stime (timevals), then 14 longs from ru_maxrss (KiB) on; of those,
 * ru_maxrss and ru_minflt are filled in when given, the rest stay 0.
 */
function rusage(userNs: bigint, systemNs: bigint, maxRssKib = 0, minorFaults = 0): Uint8Array {
  const out = new Uint8Array(RUSAGE_SIZE);
  const v = new DataView(out.buffer);
  [userNs, systemNs].forEach((ns, i) => {
    v.setBigInt64(i * 16, ns / 1_000_000_000n, true);
    v.setBigInt64(i * 16 + 8, (ns % 1_000_000_000n) / 1000n, true);
  });
  v.setBigInt64(32, BigInt(maxRssKib), true);
  v.setBigInt64(64, BigInt(minorFaults), true);
  return out;
}

/** wait4 and waitid: the rusage of the child collected (its own and its waited-for children's). */
export function writeChildRusage(task: Task, va: number, child: ThreadGroup | null): Errno | null {
  if (va === 0) return null;
  const [user, system] = child === null ? [0n, 0n] : child.totalCpuNs();
  return task.mm.copyOut(va, rusage(user, system)) === RUSAGE_SIZE ? null : EFAULT;
}

/** The peak guest memory of the sandbox stands for the process's peak RSS, which is not kept per process. */
function getrusage(task: Task, a: SyscallArgs): number | Errno {
  const who = a.int(0);
  const maxRssKib = Math.floor(task.kernel.allocator.stats.peakCommittedBytes / 1024);
  let out: Uint8Array;
  if (who === RUSAGE_SELF || who === RUSAGE_THREAD) {
    const [user, system] = task.cpuTimes(who === RUSAGE_THREAD);
    out = rusage(user, system, maxRssKib, task.mm.faults);
  } else if (who === RUSAGE_CHILDREN) {
    const [, , user, system] = task.group.cpuTimes();
    out = rusage(user, system);
  } else {
    return EINVAL;
  }
  return task.mm.copyOut(a.ptr(1), out) === RUSAGE_SIZE ? 0 : EFAULT;
}

/** times(2): the four CPU times in clock ticks; returns the ticks since the machine started. */
function times(task: Task, a: SyscallArgs): number | Errno {
  const ticks = task.group.cpuTimes().map((ns) => ns / NS_PER_TICK);
  const va = a.ptr(0);
  if (va !== 0 && task.mm.copyOut(va, new Uint8Array(new BigInt64Array(ticks).buffer)) !== TMS_SIZE) return EFAULT;
  return Number(task.machine.uptimeNs() / NS_PER_TICK);
}

export const usageSyscalls: SyscallEntry[] = [
  partial('getrusage', getrusage, 'maxrss is the sandbox\'s peak guest memory (children: 0); no counts but minor faults', 'ip'),
  partial('times', times, 'the ticks returned count from the sandbox\'s start', 'p'),
];
