// Process identity and lifetime: exit, ids, thread bookkeeping, resource limits, uname, prctl, the CPU.
import { release } from 'node:os';
import { EFAULT, EINVAL, EPERM, ESRCH, Errno } from '../abi/errno.js';
import { RLIMIT_SIZE, ROBUST_LIST_HEAD_SIZE, TASK_COMM_LEN, UTS_FIELD_SIZE, UTSNAME_SIZE } from '../abi/structs.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import { RLIM_INFINITY, RLIMIT_COUNT, type Task } from '../kernel/task.js';
import { partial, supported, unsupported } from './define.js';

const PR_SET_NAME = 15;
const PR_GET_NAME = 16;
const PR_GET_DUMPABLE = 3;
const PR_SET_DUMPABLE = 4;
const PR_SET_PDEATHSIG = 1;
const PR_GET_PDEATHSIG = 2;
const PR_SET_CHILD_SUBREAPER = 36;
const PR_GET_CHILD_SUBREAPER = 37;

function writeInt(task: Task, va: number, value: number): number | Errno {
  const out = new Uint8Array(new Int32Array([value]).buffer);
  return task.mm.copyOut(va, out) === 4 ? 0 : EFAULT;
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
  const fields = ['Linux', task.machine.hostname, release(), '#1 SMP tsvisor', 'x86_64', '(none)'];
  const out = new Uint8Array(UTSNAME_SIZE);
  fields.forEach((f, i) => out.set(Buffer.from(f).subarray(0, UTS_FIELD_SIZE - 1), i * UTS_FIELD_SIZE));
  return task.mm.copyOut(a.ptr(0), out) === out.length ? 0 : EFAULT;
}

/** struct rlimit64 as two u64; RLIM_INFINITY is all ones. */
function encodeRlimit(limit: [number, number]): Uint8Array {
  const out = new Uint8Array(RLIMIT_SIZE);
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
  const group = pid === 0 ? task.group : task.kernel.tasks.get(pid)?.group;
  if (group === undefined || group.exit !== null) return ESRCH;
  const resource = a.uint(1);
  if (resource >= RLIMIT_COUNT) return EINVAL;
  const rlimits = group.rlimits;
  const old = rlimits[resource]!;
  let next: [number, number] | null = null;
  if (a.ptr(2) !== 0) {
    const raw = new Uint8Array(RLIMIT_SIZE);
    if (task.mm.copyIn(a.ptr(2), raw) !== RLIMIT_SIZE) return EFAULT;
    next = decodeRlimit(raw);
    if (next[0] > next[1]) return EINVAL;
    if (next[1] > old[1] && task.euid !== 0) return EPERM;
  }
  if (a.ptr(3) !== 0) {
    const out = encodeRlimit(old);
    if (task.mm.copyOut(a.ptr(3), out) !== RLIMIT_SIZE) return EFAULT;
  }
  if (next !== null) rlimits[resource] = next;
  return 0;
}

function getrlimit(task: Task, a: SyscallArgs): number | Errno {
  const resource = a.uint(0);
  if (resource >= RLIMIT_COUNT) return EINVAL;
  const out = encodeRlimit(task.rlimits[resource]!);
  return task.mm.copyOut(a.ptr(1), out) === RLIMIT_SIZE ? 0 : EFAULT;
}

/** NGROUPS_MAX: the most supplementary groups a task may have. */
const NGROUPS_MAX = 65536;

/** getgroups: a size of 0 asks for the count; a smaller one than the count is EINVAL. */
function getgroups(task: Task, a: SyscallArgs): number | Errno {
  const size = a.int(0);
  if (size < 0) return EINVAL;
  const count = task.groups.length;
  if (size === 0) return count;
  if (size < count) return EINVAL;
  const out = new Uint8Array(new Uint32Array(task.groups).buffer);
  return task.mm.copyOut(a.ptr(1), out) === out.length ? count : EFAULT;
}

/** setgroups: privileged only (CAP_SETGID: an effective uid of 0 here); Linux sorts the list it keeps. */
function setgroups(task: Task, a: SyscallArgs): number | Errno {
  if (task.euid !== 0) return EPERM;
  const size = a.int(0);
  if (size < 0 || size > NGROUPS_MAX) return EINVAL;
  const raw = new Uint8Array(size * 4);
  if (size > 0 && task.mm.copyIn(a.ptr(1), raw) !== raw.length) return EFAULT;
  const groups = [...new Uint32Array(raw.buffer)];
  // (gid_t)-1 maps to no group in any user namespace.
  if (groups.includes(UNCHANGED)) return EINVAL;
  groups.sort((x, y) => x - y);
  task.groups = groups;
  task.fs.creds.groups = groups;
  return 0;
}

type IdKind = 'uid' | 'gid';
/** -1 as an id argument: leave it as it is. */
const UNCHANGED = 0xffff_ffff;

/** Real, effective and saved uid or gid. */
function idsOf(task: Task, kind: IdKind): [number, number, number] {
  return kind === 'uid' ? [task.uid, task.euid, task.suid] : [task.gid, task.egid, task.sgid];
}

function setIds(task: Task, kind: IdKind, [real, effective, saved]: [number, number, number]): number {
  if (kind === 'uid') [task.uid, task.euid, task.suid] = [real, effective, saved];
  else [task.gid, task.egid, task.sgid] = [real, effective, saved];
  // File access goes by the effective ids (the fsuid follows the euid).
  task.fs.creds.uid = task.euid;
  task.fs.creds.gid = task.egid;
  return 0;
}

/** getresuid / getresgid: real, effective and saved ids (three u32). */
function getres(task: Task, a: SyscallArgs, kind: IdKind): number | Errno {
  const word = new Uint8Array(4);
  const view = new DataView(word.buffer);
  const ids = idsOf(task, kind);
  for (let i = 0; i < 3; i++) {
    view.setUint32(0, ids[i]! >>> 0, true);
    if (task.mm.copyOut(a.ptr(i), word) !== 4) return EFAULT;
  }
  return 0;
}

/** setuid / setgid (Linux __sys_setuid): root sets all three; others only the effective id, to the real or saved one. */
function setid(task: Task, a: SyscallArgs, kind: IdKind): number | Errno {
  const id = a.uint(0);
  if (id === UNCHANGED) return EINVAL;
  const [real, , saved] = idsOf(task, kind);
  if (task.euid === 0) return setIds(task, kind, [id, id, id]);
  if (id !== real && id !== saved) return EPERM;
  const cur = idsOf(task, kind);
  return setIds(task, kind, [cur[0], id, cur[2]]);
}

/**
 * setreuid / setregid: the real id may become the effective one, the effective one any of the three;
 * the saved id follows the new effective id when the real one is set or the effective one leaves it.
 */
function setreid(task: Task, a: SyscallArgs, kind: IdKind): number | Errno {
  const r = a.uint(0);
  const e = a.uint(1);
  const [real, effective, saved] = idsOf(task, kind);
  if (task.euid !== 0) {
    if (r !== UNCHANGED && r !== real && r !== effective) return EPERM;
    if (e !== UNCHANGED && e !== real && e !== effective && e !== saved) return EPERM;
  }
  const nextReal = r !== UNCHANGED ? r : real;
  const nextEffective = e !== UNCHANGED ? e : effective;
  const nextSaved = r !== UNCHANGED || (e !== UNCHANGED && e !== real) ? nextEffective : saved;
  return setIds(task, kind, [nextReal, nextEffective, nextSaved]);
}

/** setresuid / setresgid: without privilege each new id must be one of the three current ones. */
function setresid(task: Task, a: SyscallArgs, kind: IdKind): number | Errno {
  const cur = idsOf(task, kind);
  const next: [number, number, number] = [a.uint(0), a.uint(1), a.uint(2)];
  for (let i = 0; i < 3; i++) {
    if (next[i] === UNCHANGED) next[i] = cur[i]!;
    else if (task.euid !== 0 && !cur.includes(next[i]!)) return EPERM;
  }
  return setIds(task, kind, next);
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
    case PR_SET_PDEATHSIG: {
      const signal = a.ptr(1);
      if (signal > 64) return EINVAL;
      task.group.parentDeathSignal = signal;
      return 0;
    }
    case PR_GET_PDEATHSIG:
      return writeInt(task, a.ptr(1), task.group.parentDeathSignal);
    case PR_SET_CHILD_SUBREAPER:
      task.group.subreaper = a.ptr(1) !== 0;
      return 0;
    case PR_GET_CHILD_SUBREAPER:
      return writeInt(task, a.ptr(1), task.group.subreaper ? 1 : 0);
    case PR_GET_DUMPABLE:
      return 1;
    case PR_SET_DUMPABLE:
      return a.ptr(1) <= 1 ? 0 : EINVAL;
    default:
      return EINVAL;
  }
}

const u32 = new Uint8Array(4);
const u32View = new DataView(u32.buffer);

/** getcpu(cpu, node, cache): the vCPU the task runs on, node 0 (what the vDSO's rdtscp reads on VMX/SVM). */
function getcpu(task: Task, a: SyscallArgs): number | Errno {
  // One vCPU per task: its id, folded onto the CPUs the sandbox shows (--cpus).
  u32View.setUint32(0, (task.ctx?.id ?? 0) % task.machine.cpus, true);
  if (a.ptr(0) !== 0 && task.mm.copyOut(a.ptr(0), u32) !== 4) return EFAULT;
  u32.fill(0);
  if (a.ptr(1) !== 0 && task.mm.copyOut(a.ptr(1), u32) !== 4) return EFAULT;
  return 0;
}

export const processSyscalls: SyscallEntry[] = [
  supported('getpid', (t) => t.id.pid, ''),
  supported('gettid', (t) => t.id.tid, ''),
  supported('getppid', (t) => t.id.ppid, ''),
  supported('getuid', (t) => t.id.uid, ''),
  supported('geteuid', (t) => t.euid, ''),
  supported('getgid', (t) => t.id.gid, ''),
  supported('getegid', (t) => t.egid, ''),
  supported('getgroups', getgroups, 'ip'),
  partial('setgroups', setgroups, 'privilege is an effective uid of 0 (no capability sets)', 'ip'),
  supported('getresuid', (t, a) => getres(t, a, 'uid'), 'ppp'),
  supported('getresgid', (t, a) => getres(t, a, 'gid'), 'ppp'),
  partial('setuid', (t, a) => setid(t, a, 'uid'), 'privilege is an effective uid of 0 (no capability sets)', 'u'),
  partial('setgid', (t, a) => setid(t, a, 'gid'), 'privilege is an effective uid of 0 (no capability sets)', 'u'),
  partial('setreuid', (t, a) => setreid(t, a, 'uid'), 'privilege is an effective uid of 0 (no capability sets)', 'uu'),
  partial('setregid', (t, a) => setreid(t, a, 'gid'), 'privilege is an effective uid of 0 (no capability sets)', 'uu'),
  partial('setresuid', (t, a) => setresid(t, a, 'uid'), 'privilege is an effective uid of 0 (no capability sets)', 'uuu'),
  partial('setresgid', (t, a) => setresid(t, a, 'gid'), 'privilege is an effective uid of 0 (no capability sets)', 'uuu'),
  supported('set_tid_address', setTidAddress, 'p'),
  supported('set_robust_list', setRobustList, 'pz'),
  unsupported('rseq', 'restartable sequences: glibc runs without them when this fails'),
  supported('uname', uname, 'p'),
  supported('prlimit64', prlimit64, 'irpp'),
  supported('getrlimit', getrlimit, 'rp'),
  partial('prctl', prctl, 'PR_SET_NAME, PR_GET_NAME, PR_SET/GET_PDEATHSIG (recorded; delivered once signals are), PR_SET/GET_CHILD_SUBREAPER, PR_GET/SET_DUMPABLE', 'ixxxx'),
  supported('sched_yield', () => 0, ''),
  supported('getcpu', getcpu, 'ppp'),
];
