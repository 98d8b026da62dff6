// sysinfo(2): uptime, memory and the number of processes, of the sandbox's machine (--memory), the
// same figures /proc/meminfo and /proc/uptime show.
import { EFAULT, type Errno } from '../abi/errno.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial } from './define.js';

/** struct sysinfo on x86-64 (include/uapi/linux/sysinfo.h): 112 bytes with its tail padding. */
const SYSINFO_SIZE = 112;

function sysinfo(task: Task, a: SyscallArgs): number | Errno {
  const m = task.machine;
  const out = new Uint8Array(SYSINFO_SIZE);
  const v = new DataView(out.buffer);
  const total = BigInt(m.memoryBytes);
  const used = BigInt(Math.min(m.memoryBytes, m.committedBytes()));
  // Linux rounds the uptime up to whole seconds ("if (tp.tv_nsec) tp.tv_sec++").
  v.setBigInt64(0, (m.uptimeNs() + 999_999_999n) / 1_000_000_000n, true);
  // loads[0..2] (8..31) stay 0: the Sentry keeps no load average.
  v.setBigUint64(32, total, true); // totalram
  v.setBigUint64(40, total - used, true); // freeram
  // sharedram, bufferram, totalswap, freeswap: no page cache accounting, no swap.
  v.setUint16(80, Math.min(0xffff, m.processCount()), true);
  // totalhigh, freehigh: 0 on 64-bit.
  v.setUint32(104, 1, true); // mem_unit
  return task.mm.copyOut(a.ptr(0), out) === SYSINFO_SIZE ? 0 : EFAULT;
}

export const sysinfoSyscalls: SyscallEntry[] = [
  partial('sysinfo', sysinfo, 'the load averages are 0 (none is kept); memory is the sandbox\'s guest memory', 'p'),
];
