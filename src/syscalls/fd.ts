// Descriptor-table calls: close, dup, dup2, dup3, fcntl, lseek.
import { EBADF, EINVAL, ESPIPE, Errno } from '../abi/errno.js';
import { MAX_FDS } from '../fs/fd-table.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { hostCalls } from '../platform/host.js';
import { partial, supported } from './define.js';

const O_CLOEXEC = 0o2000000;
const F_DUPFD = 0;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;

function close(task: Task, a: SyscallArgs): number | Errno {
  return task.fds.remove(a.int(0)) ?? 0;
}

function dup(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  return task.fds.add(file);
}

function dup3(task: Task, oldFd: number, newFd: number, flags: number): number | Errno {
  if ((flags & ~O_CLOEXEC) !== 0) return EINVAL;
  const file = task.fds.get(oldFd);
  if (file instanceof Errno) return file;
  return task.fds.set(newFd, file, (flags & O_CLOEXEC) !== 0) ?? newFd;
}

function dup2(task: Task, a: SyscallArgs): number | Errno {
  const oldFd = a.int(0);
  const newFd = a.int(1);
  if (oldFd === newFd) {
    const file = task.fds.get(oldFd);
    return file instanceof Errno ? file : newFd;
  }
  return dup3(task, oldFd, newFd, 0);
}

function fcntl(task: Task, a: SyscallArgs): number | Errno {
  const fd = a.int(0);
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  const cmd = a.int(1);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = a.int(2);
      if (min < 0 || min >= MAX_FDS) return EINVAL;
      return task.fds.add(file, cmd === F_DUPFD_CLOEXEC, min);
    }
    case F_GETFD: {
      const cloexec = task.fds.getCloexec(fd);
      return cloexec instanceof Errno ? cloexec : cloexec ? FD_CLOEXEC : 0;
    }
    case F_SETFD:
      return task.fds.setCloexec(fd, (a.int(2) & FD_CLOEXEC) !== 0) ?? 0;
    case F_GETFL: {
      if (file.hostFd < 0) return (file.readable ? (file.writable ? 2 : 0) : 1);
      const r = hostCalls().getFlags(file.hostFd);
      return r < 0 ? (Errno.of(-r) ?? EBADF) : r;
    }
    default:
      return EINVAL;
  }
}

function lseek(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  if (file.hostFd < 0) return ESPIPE;
  const whence = a.int(2);
  if (whence < 0 || whence > 4) return EINVAL;
  const r = hostCalls().lseek(file.hostFd, a.long(1), whence);
  return r < 0 ? (Errno.of(-r) ?? EINVAL) : r;
}

export const fdSyscalls: SyscallEntry[] = [
  supported('close', close, 'i'),
  supported('dup', dup, 'i'),
  supported('dup2', dup2, 'ii'),
  supported('dup3', (t, a) => dup3(t, a.int(0), a.int(1), a.int(2)), 'iix'),
  partial('fcntl', fcntl, 'F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL; no locks or F_SETFL yet', 'iix'),
  supported('lseek', lseek, 'ili'),
];
