// flock(2): whole-file advisory locks owned by the open file description; and how a lock call (flock or
// fcntl's F_SETLKW) waits for a conflicting lock to go.
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
  return lockOrWait(task, key, () => fileLocks.flock(key, file, op) ?? 0, (op & LOCK_NB) === 0);
}

/**
 * Tries `attempt`; when it meets a conflicting lock (EAGAIN) and the call may wait, blocks the task
 * and tries again each time a lock on `key` goes, until it gets the lock or another error.
 */
export function lockOrWait(task: Task, key: unknown, attempt: () => number | Errno, mayWait: boolean): number | Errno | Blocked {
  const first = attempt();
  if (first !== EAGAIN || !mayWait) return first;
  const wait = (): void => fileLocks.waitForUnlock(key, () => {
    const r = attempt();
    if (r === EAGAIN) wait();
    else task.complete(r);
  });
  wait();
  return Blocked.instance;
}

export const lockSyscalls: SyscallEntry[] = [supported('flock', flock, 'ix')];
