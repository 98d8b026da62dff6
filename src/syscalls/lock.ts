// flock(2): whole-file advisory locks owned by the open file description.
import { EAGAIN, Errno } from '../abi/errno.js';
import { LOCK_NB, fileLocks } from '../fs/lock.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import { Blocked, type SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { supported } from './define.js';

function flock(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  const op = a.int(1);
  const key = file.location?.dentry.lockKey ?? file;
  const attempt = (): number | Errno => fileLocks.flock(key, file, op) ?? 0;
  const first = attempt();
  if (first !== EAGAIN || (op & LOCK_NB) !== 0) return first;
  const call = task.block();
  const wait = (): void => call.waitOn(fileLocks.waitForUnlock(key, () => {
    const r = attempt();
    if (r === EAGAIN) wait();
    else task.complete(r);
  }));
  wait();
  return Blocked.instance;
}

export const lockSyscalls: SyscallEntry[] = [supported('flock', flock, 'ix')];
