// Scheduling: policy, priority, affinity, the CPU a task runs on, and memory barriers (gVisor's
// sys_sched.go, sys_membarrier.go). Every task runs SCHED_OTHER on a vCPU of its own, scheduled by the
// host; nice values are kept and reported. The CPUs are the sandbox machine's (--cpus), so a program that
// sizes itself by its affinity mask (Python's os.sched_getaffinity, libuv, the JVM, Go) sees the
// sandbox's CPUs; the mask is recorded and reported, tasks are not pinned to host CPUs.
import { EFAULT, EINVAL, EPERM, ESRCH, Errno } from '../abi/errno.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import type { ThreadGroup } from '../kernel/thread-group.js';
import { partial, supported } from './define.js';

const SCHED_OTHER = 0;
const SCHED_BATCH = 3;
const SCHED_IDLE = 5;
const PRIO_PROCESS = 0;
const PRIO_PGRP = 1;
const PRIO_USER = 2;
const MEMBARRIER_CMD_QUERY = 0;
/** The commands answered: GLOBAL, PRIVATE_EXPEDITED and its REGISTER (glibc and runtimes use these). */
const MEMBARRIER_SUPPORTED = 1 | 8 | 16;

/** The task a sched_* call names: 0 is the caller; otherwise any thread of the sandbox, by tid. */
function target(task: Task, tid: number): Task | Errno {
  if (tid < 0) return EINVAL;
  if (tid === 0) return task;
  return task.kernel.tasks.get(tid) ?? ESRCH;
}

function schedGetscheduler(task: Task, a: SyscallArgs): number | Errno {
  const t = target(task, a.int(0));
  return t instanceof Errno ? t : SCHED_OTHER;
}

function schedSetscheduler(task: Task, a: SyscallArgs): number | Errno {
  const t = target(task, a.int(0));
  if (t instanceof Errno) return t;
  const policy = a.int(1) & ~0x4000_0000; // SCHED_RESET_ON_FORK
  const param = new Uint8Array(4);
  if (task.mm.copyIn(a.ptr(2), param) !== 4) return EFAULT;
  const priority = new DataView(param.buffer).getInt32(0, true);
  if (policy === SCHED_OTHER || policy === SCHED_BATCH || policy === SCHED_IDLE) return priority === 0 ? 0 : EINVAL;
  if (policy === 1 || policy === 2 || policy === 6) return EPERM; // FIFO, RR, DEADLINE need CAP_SYS_NICE
  return EINVAL;
}

function schedGetparam(task: Task, a: SyscallArgs): number | Errno {
  const t = target(task, a.int(0));
  if (t instanceof Errno) return t;
  return task.mm.copyOut(a.ptr(1), new Uint8Array(4)) === 4 ? 0 : EFAULT;
}

function priorityMinMax(a: SyscallArgs, max: boolean): number | Errno {
  const policy = a.int(0);
  if (policy === 1 || policy === 2) return max ? 99 : 1;
  if (policy === SCHED_OTHER || policy === SCHED_BATCH || policy === SCHED_IDLE) return 0;
  return EINVAL;
}

function schedRrGetInterval(task: Task, a: SyscallArgs): number | Errno {
  const t = target(task, a.int(0));
  if (t instanceof Errno) return t;
  // Linux reports the CFS slice for SCHED_OTHER tasks: the preemption tick's 10 ms here.
  const ts = new Uint8Array(16);
  new DataView(ts.buffer).setBigInt64(8, 10_000_000n, true);
  return task.mm.copyOut(a.ptr(1), ts) === 16 ? 0 : EFAULT;
}

/** The processes getpriority/setpriority name. */
function priorityTargets(task: Task, which: number, who: number): ThreadGroup[] | Errno {
  const groups = [...task.kernel.groups.values()].filter((g) => g.exit === null);
  switch (which) {
    case PRIO_PROCESS: {
      const g = who === 0 ? task.group : task.kernel.tasks.get(who)?.group;
      return g === undefined ? ESRCH : [g];
    }
    case PRIO_PGRP: {
      const pgid = who === 0 ? task.group.pgid : who;
      const found = groups.filter((g) => g.pgid === pgid);
      return found.length === 0 ? ESRCH : found;
    }
    case PRIO_USER: {
      const uid = who === 0 ? task.uid : who;
      const found = groups.filter((g) => g.leader?.uid === uid);
      return found.length === 0 ? ESRCH : found;
    }
    default:
      return EINVAL;
  }
}

/** getpriority returns 20 - nice, so that no success is negative (the raw syscall's convention). */
function getpriority(task: Task, a: SyscallArgs): number | Errno {
  const targets = priorityTargets(task, a.int(0), a.int(1));
  if (targets instanceof Errno) return targets;
  return 20 - Math.min(...targets.map((g) => g.nice));
}

function setpriority(task: Task, a: SyscallArgs): number | Errno {
  const targets = priorityTargets(task, a.int(0), a.int(1));
  if (targets instanceof Errno) return targets;
  const nice = Math.max(-20, Math.min(19, a.int(2)));
  // Lowering nice below the current value needs CAP_SYS_NICE (RLIMIT_NICE is 0).
  for (const g of targets) if (nice < g.nice && task.uid !== 0) return EPERM;
  for (const g of targets) g.nice = nice;
  return 0;
}

function membarrier(_task: Task, a: SyscallArgs): number | Errno {
  const cmd = a.int(0);
  if (a.int(1) !== 0) return EINVAL;
  if (cmd === MEMBARRIER_CMD_QUERY) return MEMBARRIER_SUPPORTED;
  // Every vCPU passes through the stub (a serialising iretq) before it runs program code again after a
  // Sentry answer, and the host orders the vCPU threads' memory: a barrier needs nothing more here.
  return (cmd & MEMBARRIER_SUPPORTED) === cmd && cmd !== 0 && (cmd & (cmd - 1)) === 0 ? 0 : EINVAL;
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

export const schedSyscalls: SyscallEntry[] = [
  supported('sched_getaffinity', getaffinity, 'izp'),
  partial('sched_setaffinity', setaffinity, 'the mask is recorded and reported; tasks are not pinned to host CPUs', 'izp'),
  supported('sched_getscheduler', schedGetscheduler, 'i'),
  partial('sched_setscheduler', schedSetscheduler, 'SCHED_OTHER, BATCH and IDLE only; real-time policies need CAP_SYS_NICE', 'iip'),
  supported('sched_getparam', schedGetparam, 'ip'),
  supported('sched_get_priority_max', (_t, a) => priorityMinMax(a, true), 'i'),
  supported('sched_get_priority_min', (_t, a) => priorityMinMax(a, false), 'i'),
  supported('sched_rr_get_interval', schedRrGetInterval, 'iT'),
  supported('getpriority', getpriority, 'ii'),
  supported('setpriority', setpriority, 'iii'),
  partial('membarrier', membarrier, 'QUERY, GLOBAL, PRIVATE_EXPEDITED and its REGISTER', 'ii'),
];
