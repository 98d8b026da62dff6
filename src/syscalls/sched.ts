// CPU affinity and the CPU a task runs on: sched_getaffinity, sched_setaffinity, getcpu. The CPUs
// are the sandbox machine's (--cpus), so a program that sizes itself by its affinity mask (Python's
// os.sched_getaffinity, glibc's get_nprocs fallback, libuv, the JVM, Go) sees the sandbox's CPUs.
// The mask is recorded and reported; the Sentry does not pin tasks to host CPUs.
import { EFAULT, EINVAL, ESRCH, Errno } from '../abi/errno.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial, supported } from './define.js';

/** pid 0 is the caller; the sandbox has no other task it could name yet. */
function target(task: Task, pid: number): Task | Errno {
  return pid === 0 || pid === task.id.tid ? task : ESRCH;
}

function getaffinity(task: Task, a: SyscallArgs): number | Errno {
  const len = a.size(1);
  const machine = task.machine;
  // "if ((len * BITS_PER_BYTE) < nr_cpu_ids) return -EINVAL; if (len & (sizeof(unsigned long)-1)) ..."
  if (len * 8 < machine.cpus || len % 8 !== 0) return EINVAL;
  const t = target(task, a.int(0));
  if (t instanceof Errno) return t;
  const size = Math.min(len, machine.cpumaskBytes);
  const out = new Uint8Array(size);
  let mask = t.cpuAffinity ?? machine.allCpus;
  for (let i = 0; i < size && mask !== 0n; i++, mask >>= 8n) out[i] = Number(mask & 0xffn);
  return task.mm.copyOut(a.ptr(2), out) === size ? size : EFAULT;
}

function setaffinity(task: Task, a: SyscallArgs): number | Errno {
  const t = target(task, a.int(0));
  const len = a.size(1);
  const machine = task.machine;
  // get_user_cpu_mask: a shorter mask is zero-extended, a longer one cut to the kernel's size.
  const raw = new Uint8Array(Math.min(len, machine.cpumaskBytes));
  if (task.mm.copyIn(a.ptr(2), raw) !== raw.length) return EFAULT;
  if (t instanceof Errno) return t;
  let mask = 0n;
  for (let i = raw.length - 1; i >= 0; i--) mask = (mask << 8n) | BigInt(raw[i]!);
  mask &= machine.allCpus;
  // The new mask must leave the task at least one CPU it may run on.
  if (mask === 0n) return EINVAL;
  t.cpuAffinity = mask === machine.allCpus ? null : mask;
  return 0;
}

/** getcpu(cpu, node, cache): the lowest CPU of the affinity mask (the Sentry runs tasks on any). */
function getcpu(task: Task, a: SyscallArgs): number | Errno {
  let mask = task.cpuAffinity ?? task.machine.allCpus;
  let cpu = 0;
  while ((mask & 1n) === 0n) {
    mask >>= 1n;
    cpu++;
  }
  const word = new Uint8Array(4);
  new DataView(word.buffer).setUint32(0, cpu, true);
  if (a.ptr(0) !== 0 && task.mm.copyOut(a.ptr(0), word) !== 4) return EFAULT;
  if (a.ptr(1) !== 0 && task.mm.copyOut(a.ptr(1), new Uint8Array(4)) !== 4) return EFAULT;
  return 0;
}

export const schedSyscalls: SyscallEntry[] = [
  supported('sched_getaffinity', getaffinity, 'izx'),
  partial('sched_setaffinity', setaffinity, 'the mask is recorded and reported; tasks are not pinned to host CPUs', 'izx'),
  partial('getcpu', getcpu, 'reports the lowest CPU of the affinity mask; node 0', 'xxx'),
];
