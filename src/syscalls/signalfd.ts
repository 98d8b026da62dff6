// signalfd(2), signalfd4(2): a new signalfd, or a new mask for an existing one (src/kernel/signalfd.ts).
import { EBADF, EFAULT, EINVAL, Errno } from '../abi/errno.js';
import { O_CLOEXEC, O_NONBLOCK } from '../abi/fcntl.js';
import { SIGSET_SIZE, UNBLOCKABLE } from '../abi/signal.js';
import { SignalFile } from '../kernel/signalfd.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { supported } from './define.js';

const SFD_CLOEXEC = O_CLOEXEC;
const SFD_NONBLOCK = O_NONBLOCK;

function signalfd4(task: Task, fd: number, maskVa: number, size: number, flags: number): number | Errno {
  if ((flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) !== 0 || size !== SIGSET_SIZE) return EINVAL;
  const raw = new Uint8Array(SIGSET_SIZE);
  if (task.mm.copyIn(maskVa, raw) !== SIGSET_SIZE) return EFAULT;
  const mask = new DataView(raw.buffer).getBigUint64(0, true) & ~UNBLOCKABLE;
  if (fd !== -1) {
    const file = task.fds.get(fd);
    if (file instanceof Errno) return EBADF;
    if (!(file instanceof SignalFile)) return EINVAL;
    file.mask = mask;
    // A reader blocked on it, or a poller, looks again with the new mask.
    task.signals.process.queued.notify(~0);
    return fd;
  }
  return task.fds.add(new SignalFile(flags & SFD_NONBLOCK, mask, task.signals), (flags & SFD_CLOEXEC) !== 0);
}

export const signalfdSyscalls: SyscallEntry[] = [
  supported('signalfd', (t, a: SyscallArgs) => signalfd4(t, a.int(0), a.ptr(1), a.size(2), 0), 'iqz'),
  supported('signalfd4', (t, a: SyscallArgs) => signalfd4(t, a.int(0), a.ptr(1), a.size(2), a.int(3)), 'iqzx'),
];
