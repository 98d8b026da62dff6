// read(2), write(2) and their vector forms. Data moves between the file and guest memory in place:
// each physically contiguous run of the buffer is handed to the file as a view, never copied.
import { EFAULT, EINVAL, Errno } from '../abi/errno.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import type { FileDescription } from '../fs/file.js';
import { supported } from './define.js';

/** Linux MAX_RW_COUNT: one call moves at most INT_MAX rounded down to a page. */
const MAX_RW_COUNT = 0x7fff_f000;
/** UIO_MAXIOV. */
const MAX_IOV = 1024;

function transfer(task: Task, file: FileDescription, va: number, count: number, toGuest: boolean): number | Errno {
  let done = 0;
  let error: Errno | null = null;
  const fault = task.mm.forEachRange(va, Math.min(count, MAX_RW_COUNT), toGuest, (gpa, n) => {
    const view = task.mm.view(gpa, n);
    const r = toGuest ? file.read(view) : file.write(view);
    if (r instanceof Errno) {
      error = r;
      return false;
    }
    done += r;
    return r === n;
  });
  if (done > 0) return done;
  return error ?? fault ?? 0;
}

function read(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  return transfer(task, file, a.ptr(1), a.size(2), true);
}

function write(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  return transfer(task, file, a.ptr(1), a.size(2), false);
}

function vector(task: Task, a: SyscallArgs, toGuest: boolean): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  const iovcnt = a.int(2);
  if (iovcnt < 0 || iovcnt > MAX_IOV) return EINVAL;
  if (iovcnt === 0) return 0;
  const iov = new Uint8Array(iovcnt * 16);
  if (task.mm.copyIn(a.ptr(1), iov) !== iov.length) return EFAULT;
  const view = new DataView(iov.buffer);
  let total = 0;
  for (let i = 0; i < iovcnt; i++) {
    const len = view.getBigUint64(i * 16 + 8, true);
    if (len > 0x7fff_ffff_ffff_ffffn) return EINVAL;
    total += Number(len);
    if (total > 0x7fff_ffff_ffff_ffff) return EINVAL;
  }
  let done = 0;
  for (let i = 0; i < iovcnt; i++) {
    const base = Number(view.getBigUint64(i * 16, true));
    const len = Math.min(Number(view.getBigUint64(i * 16 + 8, true)), MAX_RW_COUNT - done);
    if (len === 0) continue;
    const r = transfer(task, file, base, len, toGuest);
    if (r instanceof Errno) return done > 0 ? done : r;
    done += r;
    if (r < len || done >= MAX_RW_COUNT) break;
  }
  return done;
}

export const readWriteSyscalls: SyscallEntry[] = [
  supported('read', read, 'ixz'),
  supported('write', write, 'ixz'),
  supported('readv', (t, a) => vector(t, a, true), 'ixi'),
  supported('writev', (t, a) => vector(t, a, false), 'ixi'),
];
