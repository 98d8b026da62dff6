// Processes and threads: clone, fork, vfork, execve, exit, wait, process groups and sessions (gVisor's
// sys_thread.go). Thin over src/kernel's clone.ts, exec.ts and wait.ts.
import { E2BIG, EACCES, EAGAIN, ECHILD, EFAULT, EINVAL, ENOENT, EPERM, ESRCH, Errno } from '../abi/errno.js';
import { AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW } from '../abi/fcntl.js';
import {
  CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_VFORK, CLONE_VM, P_ALL, P_PGID, P_PID, P_PIDFD, WEXITED, WSTOPPED,
  WCONTINUED, WNOHANG,
} from '../abi/sched.js';
import { CLD_CONTINUED, CLD_STOPPED, Signal } from '../abi/signal.js';
import { cloneTask } from '../kernel/clone.js';
import { execTask, MAX_ARG_STRLEN } from '../kernel/exec.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry, SyscallResult } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { waitStatus, type ThreadGroup } from '../kernel/thread-group.js';
import { type ChildChange, type WaitTarget, waitForChild } from '../kernel/wait.js';
import { partial, supported } from './define.js';
import { readPath, startAt } from './path.js';
import { pidfdProcess } from './pidfd.js';
import { writeChildRusage } from './usage.js';

/** struct clone_args as of Linux 5.3 (CLONE_ARGS_SIZE_VER0). */
const CLONE_ARGS_SIZE_VER0 = 64;
const MAX_ARGS = 1 << 20;
const SIGINFO_SIZE = 128;

function clone(task: Task, a: SyscallArgs): SyscallResult {
  // x86-64 order: flags, stack, parent_tid, child_tid, tls; CLONE_PIDFD's fd goes to parent_tid too.
  const flags = a.uint(0);
  if ((flags & CLONE_PIDFD) !== 0 && (flags & CLONE_PARENT_SETTID) !== 0) return EINVAL;
  return cloneTask(task.kernel, task, { flags, stack: a.ptr(1), parentTid: a.ptr(2), childTid: a.ptr(3), tls: a.ptr(4), pidfd: a.ptr(2) });
}

function clone3(task: Task, a: SyscallArgs): SyscallResult {
  const size = a.size(1);
  if (size < CLONE_ARGS_SIZE_VER0 || size > 4096) return EINVAL;
  const raw = new Uint8Array(size);
  if (task.mm.copyIn(a.ptr(0), raw) !== size) return EFAULT;
  const v = new DataView(raw.buffer);
  const u64 = (i: number): number => Number(v.getBigUint64(i * 8, true));
  const flags = v.getBigUint64(0, true);
  const exitSignal = u64(4);
  // Bits above 32, or an exit signal outside 0..64, are invalid; set_tid and cgroup are not supported.
  if (flags >> 32n !== 0n || exitSignal > 64 || (size > 64 && u64(9) !== 0) || (size > 80 && u64(10) !== 0)) return EINVAL;
  const stack = u64(5);
  const stackSize = u64(6);
  if ((stack === 0) !== (stackSize === 0)) return EINVAL;
  return cloneTask(task.kernel, task, {
    flags: (Number(flags) & ~0xff) | exitSignal, stack: stack === 0 ? 0 : stack + stackSize,
    parentTid: u64(3), childTid: u64(2), tls: u64(7), pidfd: u64(1),
  });
}

function fork(task: Task): SyscallResult {
  return cloneTask(task.kernel, task, { flags: Signal.SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0, pidfd: 0 });
}

function vfork(task: Task): SyscallResult {
  return cloneTask(task.kernel, task, { flags: CLONE_VM | CLONE_VFORK | Signal.SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0, pidfd: 0 });
}

/** A NULL-terminated array of string pointers (argv, envp); NULL itself is an empty array. */
function readStrings(task: Task, va: number): string[] | Errno {
  const out: string[] = [];
  if (va === 0) return out;
  const slot = new Uint8Array(8);
  const view = new DataView(slot.buffer);
  for (let i = 0; ; i++) {
    if (i >= MAX_ARGS) return E2BIG;
    if (task.mm.copyIn(va + i * 8, slot) !== 8) return EFAULT;
    const ptr = view.getBigUint64(0, true);
    if (ptr === 0n) return out;
    if (ptr >= 2n ** 53n) return EFAULT;
    const s = task.mm.readString(Number(ptr), MAX_ARG_STRLEN - 1, E2BIG);
    if (s instanceof Errno) return s;
    out.push(s);
  }
}

function exec(task: Task, dirfd: number, pathVa: number, argvVa: number, envpVa: number, flags: number): number | Errno {
  const path = readPath(task, pathVa);
  if (path instanceof Errno) return path;
  if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) !== 0) return EINVAL;
  if (path === '' && (flags & AT_EMPTY_PATH) === 0) return ENOENT;
  const argv = readStrings(task, argvVa);
  if (argv instanceof Errno) return argv;
  const envp = readStrings(task, envpVa);
  if (envp instanceof Errno) return envp;
  if (path === '') {
    // Linux names the program /dev/fd/N (its AT_EXECFN, and a script's path for its interpreter).
    const file = task.fds.get(dirfd);
    if (file instanceof Errno) return file;
    if (file.location === null) return EACCES;
    const closeOnExec = task.fds.getCloexec(dirfd) === true;
    return execTask(task.kernel, task, { start: task.fs.cwd, path: `/dev/fd/${dirfd}`, argv, envp, file: { vd: file.location, closeOnExec } });
  }
  const start = startAt(task, dirfd, path);
  if (start instanceof Errno) return start;
  return execTask(task.kernel, task, { start, path, argv, envp, noFollow: (flags & AT_SYMLINK_NOFOLLOW) !== 0 });
}

function execve(task: Task, a: SyscallArgs): number | Errno {
  return exec(task, -100, a.ptr(0), a.ptr(1), a.ptr(2), 0);
}

function execveat(task: Task, a: SyscallArgs): number | Errno {
  return exec(task, a.int(0), a.ptr(1), a.ptr(2), a.ptr(3), a.int(4));
}

function exit(task: Task, a: SyscallArgs): number {
  task.kernel.exitTask(task, { status: a.int(0) & 0xff, signal: null });
  return 0;
}

function exitGroup(task: Task, a: SyscallArgs): number {
  task.kernel.killGroup(task.group, { status: a.int(0) & 0xff, signal: null, core: false, detail: '' }, task);
  return 0;
}

function wait4(task: Task, a: SyscallArgs): SyscallResult {
  const pid = a.int(0);
  const statusVa = a.ptr(1);
  const options = a.uint(2);
  const rusageVa = a.ptr(3);
  if ((options & ~(WNOHANG | WSTOPPED | WCONTINUED | 0x2000_0000 | 0x4000_0000 | 0x8000_0000)) !== 0) return EINVAL;
  const target: WaitTarget = pid < -1 ? { kind: 'pgid', pgid: -pid } : pid === -1 ? { kind: 'any' }
    : pid === 0 ? { kind: 'pgid', pgid: task.group.pgid } : { kind: 'pid', pid };
  return waitForChild(task.kernel, task, {
    target, options: options | WEXITED,
    collect: (child, change) => {
      const status = change.kind === 'exited' ? waitStatus(child.exit!) : change.kind === 'stopped' ? (change.signal << 8) | 0x7f : 0xffff;
      if (statusVa !== 0 && task.mm.copyOut(statusVa, new Uint8Array(new Int32Array([status]).buffer)) !== 4) return EFAULT;
      return writeChildRusage(task, rusageVa, child) ?? child.pid;
    },
    nothing: () => 0,
  });
}

/** siginfo_t of a child's state change, as waitid fills it. */
function childInfo(child: ThreadGroup | null, change: ChildChange, uid: number): Uint8Array {
  const out = new Uint8Array(SIGINFO_SIZE);
  if (child === null) return out;
  const v = new DataView(out.buffer);
  v.setInt32(0, Signal.SIGCHLD, true);
  v.setInt32(16, child.pid, true);
  v.setUint32(20, uid, true);
  if (change.kind === 'exited') {
    const e = child.exit!;
    v.setInt32(8, e.signal === null ? CLD_EXITED : e.core ? CLD_DUMPED : CLD_KILLED, true);
    v.setInt32(24, e.signal ?? e.status!, true);
  } else {
    v.setInt32(8, change.kind === 'stopped' ? CLD_STOPPED : CLD_CONTINUED, true);
    v.setInt32(24, change.kind === 'stopped' ? change.signal : Signal.SIGCONT, true);
  }
  return out;
}

function waitid(task: Task, a: SyscallArgs): SyscallResult {
  const idtype = a.int(0);
  const id = a.int(1);
  const infoVa = a.ptr(2);
  const options = a.uint(3);
  const rusageVa = a.ptr(4);
  let target: WaitTarget;
  let nonblockingPidfd = false;
  switch (idtype) {
    case P_ALL: target = { kind: 'any' }; break;
    case P_PID: if (id <= 0) return EINVAL; target = { kind: 'pid', pid: id }; break;
    case P_PGID: if (id < 0) return EINVAL; target = { kind: 'pgid', pgid: id === 0 ? task.group.pgid : id }; break;
    case P_PIDFD: {
      const p = pidfdProcess(task, id);
      if (p instanceof Errno) return p;
      // The pid the pidfd holds belongs to that process until it is reaped: matching by pid is exact.
      if (p.group.reaped || p.group.parent !== task.group) return ECHILD;
      target = { kind: 'pid', pid: p.group.pid };
      nonblockingPidfd = p.nonblocking;
      break;
    }
    default: return EINVAL;
  }
  if ((options & (WEXITED | WSTOPPED | WCONTINUED)) === 0) return EINVAL;
  const fill = (child: ThreadGroup | null, change: ChildChange): number | Errno => {
    const uid = child === null ? 0 : child.leader?.uid ?? child.lastUid;
    if (infoVa !== 0 && task.mm.copyOut(infoVa, childInfo(child, change, uid)) !== SIGINFO_SIZE) return EFAULT;
    return writeChildRusage(task, rusageVa, child) ?? 0;
  };
  // A pidfd opened with PIDFD_NONBLOCK: a child with nothing to report yet is EAGAIN (Linux 5.10).
  const eagain = nonblockingPidfd && (options & WNOHANG) === 0;
  return waitForChild(task.kernel, task, {
    target, options: eagain ? options | WNOHANG : options, collect: fill,
    nothing: eagain ? () => EAGAIN : () => fill(null, { kind: 'exited' }),
  });
}

function setpgid(task: Task, a: SyscallArgs): number | Errno {
  const pid = a.int(0);
  const pgid = a.int(1);
  if (pgid < 0) return EINVAL;
  const group = pid === 0 ? task.group : task.kernel.group(pid);
  if (group === undefined || group.exit !== null) return ESRCH;
  if (group !== task.group && group.parent !== task.group) return ESRCH;
  if (group.sid !== task.group.sid || group.pid === group.sid) return EPERM;
  const target = pgid === 0 ? group.pid : pgid;
  if (target !== group.pid) {
    const exists = [...task.kernel.groups.values()].some((g) => g.pgid === target && g.sid === group.sid);
    if (!exists) return EPERM;
  }
  group.pgid = target;
  return 0;
}

function getpgid(task: Task, a: SyscallArgs): number | Errno {
  const pid = a.int(0);
  const group = pid === 0 ? task.group : task.kernel.group(pid);
  return group === undefined ? ESRCH : group.pgid;
}

function setsid(task: Task): number | Errno {
  const g = task.group;
  if ([...task.kernel.groups.values()].some((o) => o.pgid === g.pid)) return EPERM;
  g.sid = g.pid;
  g.pgid = g.pid;
  // A new session starts without a controlling terminal (Linux proc_clear_tty).
  g.tty = null;
  return g.pid;
}

function getsid(task: Task, a: SyscallArgs): number | Errno {
  const pid = a.int(0);
  const group = pid === 0 ? task.group : task.kernel.group(pid);
  return group === undefined ? ESRCH : group.sid;
}

export const threadSyscalls: SyscallEntry[] = [
  partial('clone', clone, 'no new namespaces or CLONE_PTRACE', 'xxxxx'),
  partial('clone3', clone3, 'as clone; no set_tid or cgroup', 'xz'),
  supported('fork', fork, ''),
  supported('vfork', vfork, ''),
  supported('execve', execve, 'see'),
  supported('execveat', execveat, 'dseeA'),
  supported('exit', exit, 'i'),
  supported('exit_group', exitGroup, 'i'),
  partial('wait4', wait4, 'rusage is zero', 'ipxp'),
  supported('waitid', waitid, 'iipxp'),
  supported('setpgid', setpgid, 'ii'),
  supported('getpgid', getpgid, 'i'),
  supported('getpgrp', (t) => t.group.pgid, ''),
  supported('setsid', setsid, ''),
  supported('getsid', getsid, 'i'),
];
