// Process identity and lifetime: exit, ids, thread bookkeeping, resource limits, uname, prctl.
import { hostname, release } from 'node:os';
import { EFAULT, EINVAL, EPERM, ESRCH, Errno } from '../abi/errno.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import { RLIM_INFINITY, RLIMIT_COUNT, type Task } from '../kernel/task.js';
import { partial, supported, unsupported } from './define.js';

const ROBUST_LIST_HEAD_SIZE = 24;
const UTS_FIELD = 65;
const PR_SET_NAME = 15;
const PR_GET_NAME = 16;
const PR_GET_DUMPABLE = 3;
const PR_SET_DUMPABLE = 4;
const TASK_COMM_LEN = 16;

function exitGroup(task: Task, a: SyscallArgs): number {
  task.exit = { status: a.int(0) & 0xff, signal: null };
  return 0;
}

function setTidAddress(task: Task, a: SyscallArgs): number {
  task.clearChildTid = a.ptr(0);
  return task.id.tid;
}

function setRobustList(task: Task, a: SyscallArgs): number | Errno {
  if (a.size(1) !== ROBUST_LIST_HEAD_SIZE) return EINVAL;
  task.robustList = a.ptr(0);
  return 0;
}

function uname(task: Task, a: SyscallArgs): number | Errno {
  const fields = ['Linux', hostname(), release(), '#1 SMP tsvisor', 'x86_64', '(none)'];
  const out = new Uint8Array(UTS_FIELD * fields.length);
  fields.forEach((f, i) => out.set(Buffer.from(f.slice(0, UTS_FIELD - 1)), i * UTS_FIELD));
  return task.mm.copyOut(a.ptr(0), out) === out.length ? 0 : EFAULT;
}

/** struct rlimit64 as two u64; RLIM_INFINITY is all ones. */
function encodeRlimit(limit: [number, number]): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  limit.forEach((x, i) => v.setBigUint64(i * 8, x === RLIM_INFINITY ? 0xffff_ffff_ffff_ffffn : BigInt(x), true));
  return out;
}

function decodeRlimit(bytes: Uint8Array): [number, number] {
  const v = new DataView(bytes.buffer);
  const read = (i: number): number => {
    const x = v.getBigUint64(i * 8, true);
    return x >= 0x7fff_ffff_ffff_ffffn ? RLIM_INFINITY : Number(x);
  };
  return [read(0), read(1)];
}

function prlimit64(task: Task, a: SyscallArgs): number | Errno {
  const pid = a.int(0);
  if (pid !== 0 && pid !== task.id.pid) return ESRCH;
  const resource = a.uint(1);
  if (resource >= RLIMIT_COUNT) return EINVAL;
  const old = task.rlimits[resource]!;
  let next: [number, number] | null = null;
  if (a.ptr(2) !== 0) {
    const raw = new Uint8Array(16);
    if (task.mm.copyIn(a.ptr(2), raw) !== 16) return EFAULT;
    next = decodeRlimit(raw);
    if (next[0] > next[1]) return EINVAL;
    if (next[1] > old[1] && task.id.uid !== 0) return EPERM;
  }
  if (a.ptr(3) !== 0) {
    const out = encodeRlimit(old);
    if (task.mm.copyOut(a.ptr(3), out) !== 16) return EFAULT;
  }
  if (next !== null) task.rlimits[resource] = next;
  return 0;
}

function getrlimit(task: Task, a: SyscallArgs): number | Errno {
  const resource = a.uint(0);
  if (resource >= RLIMIT_COUNT) return EINVAL;
  const out = encodeRlimit(task.rlimits[resource]!);
  return task.mm.copyOut(a.ptr(1), out) === 16 ? 0 : EFAULT;
}

/**
 * getgroups: the sandbox has one user and no supplementary groups. A size of 0 asks for the count;
 * a negative one is EINVAL.
 */
function getgroups(_task: Task, a: SyscallArgs): number | Errno {
  return a.int(0) < 0 ? EINVAL : 0;
}

/** getresuid / getresgid: real, effective and saved ids are the same one (three u32). */
function getres(task: Task, a: SyscallArgs, id: number): number | Errno {
  const word = new Uint8Array(4);
  new DataView(word.buffer).setUint32(0, id >>> 0, true);
  for (let i = 0; i < 3; i++) if (task.mm.copyOut(a.ptr(i), word) !== 4) return EFAULT;
  return 0;
}

function prctl(task: Task, a: SyscallArgs): number | Errno {
  switch (a.int(0)) {
    case PR_SET_NAME: {
      const name = task.mm.readString(a.ptr(1), 4096, EINVAL);
      if (name instanceof Errno) return name;
      task.comm = Buffer.from(name).subarray(0, TASK_COMM_LEN - 1).toString();
      return 0;
    }
    case PR_GET_NAME: {
      const out = new Uint8Array(TASK_COMM_LEN);
      out.set(Buffer.from(task.comm).subarray(0, TASK_COMM_LEN - 1));
      return task.mm.copyOut(a.ptr(1), out) === TASK_COMM_LEN ? 0 : EFAULT;
    }
    case PR_GET_DUMPABLE:
      return 1;
    case PR_SET_DUMPABLE:
      return a.ptr(1) <= 1 ? 0 : EINVAL;
    default:
      return EINVAL;
  }
}

export const processSyscalls: SyscallEntry[] = [
  supported('exit', exitGroup, 'i'),
  supported('exit_group', exitGroup, 'i'),
  supported('getpid', (t) => t.id.pid, ''),
  supported('gettid', (t) => t.id.tid, ''),
  supported('getppid', (t) => t.id.ppid, ''),
  supported('getuid', (t) => t.id.uid, ''),
  supported('geteuid', (t) => t.id.uid, ''),
  supported('getgid', (t) => t.id.gid, ''),
  supported('getegid', (t) => t.id.gid, ''),
  supported('getgroups', getgroups, 'ix'),
  supported('getresuid', (t, a) => getres(t, a, t.id.uid), 'xxx'),
  supported('getresgid', (t, a) => getres(t, a, t.id.gid), 'xxx'),
  supported('set_tid_address', setTidAddress, 'x'),
  supported('set_robust_list', setRobustList, 'xz'),
  unsupported('rseq', 'restartable sequences: glibc runs without them when this fails'),
  supported('uname', uname, 'x'),
  supported('prlimit64', prlimit64, 'iuxx'),
  supported('getrlimit', getrlimit, 'ux'),
  partial('prctl', prctl, 'PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_SET_DUMPABLE', 'ixxxx'),
  supported('sched_yield', () => 0, ''),
];
