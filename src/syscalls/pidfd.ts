// pidfd_open(2) and pidfd_send_signal(2): a process held by a file (src/kernel/pidfd.ts), or for
// pidfd_send_signal an open /proc/PID directory; waitid's P_PIDFD (pidfds only) is in thread.ts.
import { EBADF, EINVAL, ENOENT, ESRCH, Errno } from '../abi/errno.js';
import { O_NONBLOCK } from '../abi/fcntl.js';
import { DirectoryFile } from '../fs/dir-file.js';
import { PidFile } from '../kernel/pidfd.js';
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

/** The process a pidfd names; EBADF for an fd that is not one. */
export function pidfdProcess(task: Task, fd: number): { group: ThreadGroup; nonblocking: boolean } | Errno {
  const file = task.fds.get(fd);
  if (file instanceof Errno || !(file instanceof PidFile)) return EBADF;
  return { group: file.group, nonblocking: (file.flags & O_NONBLOCK) !== 0 };
}

function pidfdOpen(task: Task, a: SyscallArgs): number | Errno {
  const pid = a.int(0);
  const flags = a.uint(1);
  if ((flags & ~PIDFD_NONBLOCK) !== 0 || pid <= 0) return EINVAL;
  const group = task.kernel.group(pid);
  // A thread that is not its process's leader has a pid but no process to name (Linux 6.9 on: ENOENT;
  // PIDFD_THREAD, which would name it, is not taken here).
  if (group === undefined) return task.kernel.tasks.has(pid) ? ENOENT : ESRCH;
  return task.fds.add(new PidFile(group, flags), true);
}

/** pidfd_send_signal's target: a pidfd's process, or the process of an open /proc/PID directory. */
function signalTarget(task: Task, fd: number): ThreadGroup | Errno {
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  if (file instanceof PidFile) return file.group;
  return file instanceof DirectoryFile ? task.kernel.processOfProcDirectory(file.dentry) ?? EBADF : EBADF;
}

function pidfdSendSignal(task: Task, a: SyscallArgs): number | Errno {
  const group = signalTarget(task, a.int(0));
  if (group instanceof Errno) return group;
  const signo = a.int(1);
  const scope = a.uint(3);
  if (scope !== 0 && scope !== PIDFD_SIGNAL_THREAD && scope !== PIDFD_SIGNAL_THREAD_GROUP && scope !== PIDFD_SIGNAL_PROCESS_GROUP) return EINVAL;
  const infoVa = a.ptr(2);
  const info = infoVa === 0 ? null : readInfo(task, infoVa, signo);
  if (info instanceof Errno) return info;
  if (scope === PIDFD_SIGNAL_PROCESS_GROUP) {
    if (group.exit !== null) return ESRCH;
    if (info === null) return kill(task, -group.pgid, signo);
    // The program's own siginfo to each process of the group (Linux kill_pgrp_info): any success counts.
    const members = [...task.kernel.groups.values()].filter((g) => g.pgid === group.pgid && g.exit === null);
    const results = members.map((g) => signalProcess(task, g, signo, info));
    return results.find((r) => r === 0) ?? results[0] ?? ESRCH;
  }
  if (scope === PIDFD_SIGNAL_THREAD) {
    const leader = group.exit === null ? group.leader : undefined;
    if (leader === undefined || leader.tid !== group.pid) return ESRCH;
    return info === null ? threadKill(task, group.pid, leader.tid, signo) : queueInfo(task, group.pid, leader.tid, signo, info);
  }
  return signalProcess(task, group, signo, info);
}

export const pidfdSyscalls: SyscallEntry[] = [
  supported('pidfd_open', pidfdOpen, 'ix'),
  supported('pidfd_send_signal', pidfdSendSignal, 'igpx'),
];
