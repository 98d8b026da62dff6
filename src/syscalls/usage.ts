// What a program may learn of its resource use: getrusage(2). The numbers are the sandbox's, as gVisor
// reports them (sysinfo(2) is in sysinfo.ts, from the machine the sandbox shows).
import { cpuUsage } from 'node:process';
import { EFAULT, EINVAL, Errno } from '../abi/errno.js';
import { RUSAGE_SIZE } from '../abi/structs.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial } from './define.js';

const RUSAGE_SELF = 0;
const RUSAGE_CHILDREN = -1;
const RUSAGE_THREAD = 1;

/**
 * struct rusage: ru_utime and ru_stime (timevals), then 14 longs from ru_maxrss (KiB) on. CPU times
 * are the Sentry's process (the guest's vCPU time and the Sentry's work for it), the peak RSS is the
 * guest memory it was handed at most, minor faults the faults the Sentry served. A program without
 * children has used nothing for them.
 */
function getrusage(task: Task, a: SyscallArgs): number | Errno {
  const who = a.int(0);
  if (who !== RUSAGE_SELF && who !== RUSAGE_CHILDREN && who !== RUSAGE_THREAD) return EINVAL;
  const out = new Uint8Array(RUSAGE_SIZE);
  if (who !== RUSAGE_CHILDREN) {
    const v = new DataView(out.buffer);
    const used = cpuUsage();
    const micros = [used.user, used.system];
    micros.forEach((us, i) => {
      v.setBigInt64(i * 16, BigInt(Math.floor(us / 1e6)), true);
      v.setBigInt64(i * 16 + 8, BigInt(us % 1e6), true);
    });
    v.setBigInt64(32, BigInt(Math.floor(task.kernel.allocator.stats.peakCommittedBytes / 1024)), true);
    v.setBigInt64(64, BigInt(task.mm.faults), true); // ru_minflt
  }
  return task.mm.copyOut(a.ptr(1), out) === RUSAGE_SIZE ? 0 : EFAULT;
}

export const usageSyscalls: SyscallEntry[] = [
  partial('getrusage', getrusage, 'CPU times are the Sentry process\'s; maxrss is the peak guest memory; no counts but minor faults', 'ip'),
];
