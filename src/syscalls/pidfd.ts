// pidfd_open(2), pidfd_send_signal(2) and pidfd_getfd(2): a process or a thread held by a file
// (src/kernel/pidfd.ts), or for pidfd_send_signal an open /proc/PID directory; waitid's P_PIDFD
// (pidfds only) is in thread.ts.
import { EBADF, EINVAL, ENOENT, EPERM, ESRCH, Errno } from '../abi/errno.js';
import { O_NONBLOCK } from '../abi/fcntl.js';
import { DirectoryFile } from '../fs/dir-file.js';
import { PIDFD_THREAD, PidFile } from '../kernel/pidfd.js';
import { kill, queueInfo, signalProcess, threadKill } from '../kernel/signal-send.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import type { ThreadGroup } from '../kernel/thread-group.js';
import { supported } from './define.js';
import { readInfo } from './signal.js';

const PIDFD_NONBLOCK = O_NONBLOCK;
/** pidfd_send_signal's scopes (Linux 6.9): at most one; the process is the default. */
const PIDFD_SIGNAL_THREAD = 1;
const PIDFD_SIGNAL_THREAD_GROUP = 2;
const PIDFD_SIGNAL_PROCESS_GROUP = 4;

/** The process a pidfd names, and the thread if it is a thread pidfd; EBADF for an fd that is not one. */
export function pidfdProcess(task: Task, fd: number): { group: ThreadGroup; thread: Task | null; nonblocking: boolean } | Errno {
  const file = task.fds.get(fd);
  if (file instanceof Errno || !(file instanceof PidFile)) return EBADF;
  return { group: file.group, thread: file.thread, nonblocking: (file.flags & O_NONBLOCK) !== 0 };
}

function pidfdOpen(task: Task, a: SyscallArgs): number | Errno {
  const pid = a.int(0);
  const flags = a.uint(1);
  if ((flags & ~(PIDFD_NONBLOCK | PIDFD_THREAD)) !== 0 || pid <= 0) return EINVAL;
  if ((flags & PIDFD_THREAD) !== 0) {
    const thread = task.kernel.tasks.get(pid);
    if (thread !== undefined) return task.fds.add(new PidFile(thread.group, flags, thread), true);
    // A leader that has ended is still there, a zombie, until its process is reaped (as on Linux).
    const group = task.kernel.group(pid);
    return group === undefined || group.reaped ? ESRCH : task.fds.add(new PidFile(group, flags, null, true), true);
  }
  const group = task.kernel.group(pid);
  // A thread that is not its process's leader has a pid but no process to name (Linux 6.9 on: ENOENT).
  if (group === undefined) return task.kernel.tasks.has(pid) ? ENOENT : ESRCH;
  return task.fds.add(new PidFile(group, flags), true);
}

/** pidfd_send_signal's target: a pidfd, or the process of an open /proc/PID directory. */
function signalTarget(task: Task, fd: number): { group: ThreadGroup; thread: Task | null } | Errno {
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  if (file instanceof PidFile) return file;
  const group = file instanceof DirectoryFile ? task.kernel.processOfProcDirectory(file.dentry) : null;
  return group === null ? EBADF : { group, thread: null };
}

/**
 * The scope comes from the flags, else from the pidfd: its thread for a thread pidfd, its process
 * otherwise. Each scope takes the pid the pidfd holds as Linux's pid types do: as a thread's id, as
 * its process's, as a process group's (the processes whose group has that id).
 */
function pidfdSendSignal(task: Task, a: SyscallArgs): number | Errno {
  const target = signalTarget(task, a.int(0));
  if (target instanceof Errno) return target;
  const { group, thread } = target;
  const signo = a.int(1);
  const flags = a.uint(3);
  if (flags !== 0 && flags !== PIDFD_SIGNAL_THREAD && flags !== PIDFD_SIGNAL_THREAD_GROUP && flags !== PIDFD_SIGNAL_PROCESS_GROUP) return EINVAL;
  const infoVa = a.ptr(2);
  const info = infoVa === 0 ? null : readInfo(task, infoVa, signo);
  if (info instanceof Errno) return info;
  const pid = thread?.tid ?? group.pid;
  const threadPidfd = target instanceof PidFile && (target.flags & PIDFD_THREAD) !== 0;
  const scope = flags !== 0 ? flags : threadPidfd ? PIDFD_SIGNAL_THREAD : PIDFD_SIGNAL_THREAD_GROUP;
  if (scope === PIDFD_SIGNAL_PROCESS_GROUP) {
    if (group.reaped) return ESRCH;
    if (info === null) return kill(task, -pid, signo);
    // The program's own siginfo to each process of the group (Linux kill_pgrp_info): any success counts.
    const members = [...task.kernel.groups.values()].filter((g) => g.pgid === pid && g.exit === null);
    const results = members.map((g) => signalProcess(task, g, signo, info));
    return results.find((r) => r === 0) ?? results[0] ?? ESRCH;
  }
  if (scope === PIDFD_SIGNAL_THREAD) {
    const live = thread ?? (group.exit === null ? group.leader : undefined);
    if (live === undefined || live.tid !== pid || !group.tasks.has(live)) return ESRCH;
    return info === null ? threadKill(task, group.pid, pid, signo) : queueInfo(task, group.pid, pid, signo, info);
  }
  // A thread that has gone (other than a leader, which stays until reaped) names no process any more.
  if (thread !== null && thread.tid !== group.pid && !group.tasks.has(thread)) return ESRCH;
  return signalProcess(task, group, signo, info);
}

/**
 * pidfd_getfd(2): a duplicate of another process's fd, close-on-exec (Linux pidfd_getfd), for a caller
 * that could ptrace it (PTRACE_MODE_ATTACH_REALCREDS: the same process, or the caller's real ids are
 * all of the target's, or privilege).
 */
function pidfdGetfd(task: Task, a: SyscallArgs): number | Errno {
  if (a.uint(2) !== 0) return EINVAL;
  const pidfd = task.fds.get(a.int(0));
  if (pidfd instanceof Errno || !(pidfd instanceof PidFile)) return EBADF;
  // The thread of the pid it holds: a leader that has ended (its process lives on) has no fds left.
  const owner = pidfd.thread ?? pidfd.group.leader;
  if (owner === undefined || owner.tid !== (pidfd.thread?.tid ?? pidfd.group.pid) || !pidfd.group.tasks.has(owner)) return ESRCH;
  if (owner.group !== task.group && task.euid !== 0) {
    const ids = owner.id;
    const uidOk = ids.uid === task.uid && ids.euid === task.uid && ids.suid === task.uid;
    const gidOk = ids.gid === task.gid && ids.egid === task.gid && ids.sgid === task.gid;
    if (!uidOk || !gidOk) return EPERM;
  }
  const file = owner.fds.get(a.int(1));
  if (file instanceof Errno) return EBADF;
  return task.fds.add(file, true);
}

export const pidfdSyscalls: SyscallEntry[] = [
  supported('pidfd_open', pidfdOpen, 'ix'),
  supported('pidfd_send_signal', pidfdSendSignal, 'igpx'),
  supported('pidfd_getfd', pidfdGetfd, 'iix'),
];
