// Advice about file access: fadvise64 and readahead. The Sentry keeps no page cache of its own for
// host files (every read is a host pread) and tmpfs lives in memory, so after Linux's checks there is
// nothing to prefetch or drop: as on a filesystem without a backing device, the advice is accepted.
import { EBADF, EINVAL, ESPIPE, Errno } from '../abi/errno.js';
import { S_IFIFO, S_IFMT, S_IFREG } from '../abi/fcntl.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { supported } from './define.js';

/** POSIX_FADV_NORMAL .. POSIX_FADV_NOREUSE. */
const POSIX_FADV_MAX = 5;

function fadvise64(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return EBADF;
  const st = file.stat();
  if (st instanceof Errno) return st;
  if ((st.mode & S_IFMT) === S_IFIFO) return ESPIPE;
  const advice = a.int(3);
  if (a.long(2) < 0 || advice < 0 || advice > POSIX_FADV_MAX) return EINVAL;
  return 0;
}

function readahead(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno || !file.readable) return EBADF;
  const st = file.stat();
  if (st instanceof Errno) return st;
  if ((st.mode & S_IFMT) !== S_IFREG) return EINVAL;
  return 0;
}

export const fadviseSyscalls: SyscallEntry[] = [
  supported('fadvise64', fadvise64, 'illi'),
  supported('readahead', readahead, 'ilz'),
];
