// eventfd(2), eventfd2: a counter as a file (fs/eventfd.ts); reads and writes go through read-write.ts.
import { EINVAL, type Errno } from '../abi/errno.js';
import { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE, EventFd } from '../fs/eventfd.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { supported } from './define.js';
import { install } from './open.js';

function eventfd2(task: Task, initial: number, flags: number): number | Errno {
  if ((flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) !== 0) return EINVAL;
  const file = new EventFd(initial, flags & EFD_NONBLOCK, (flags & EFD_SEMAPHORE) !== 0);
  return install(task, file, (flags & EFD_CLOEXEC) !== 0);
}

export const eventfdSyscalls: SyscallEntry[] = [
  supported('eventfd', (t, a) => eventfd2(t, a.uint(0), 0), 'u'),
  supported('eventfd2', (t, a) => eventfd2(t, a.uint(0), a.int(1)), 'uD'),
];
