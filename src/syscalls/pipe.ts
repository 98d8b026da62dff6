// pipe(2) and pipe2(2): two descriptions over one Sentry pipe (fs/pipe.ts).
import { EFAULT, EINVAL, Errno } from '../abi/errno.js';
import { O_CLOEXEC, O_DIRECT, O_NONBLOCK } from '../abi/fcntl.js';
import { newPipe } from '../fs/pipe.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { supported } from './define.js';
import { discard, install } from './open.js';

function pipe2(task: Task, va: number, flags: number): number | Errno {
  // O_DIRECT: packet mode (fs/pipe.ts).
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) !== 0) return EINVAL;
  const [reader, writer] = newPipe(flags);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const r = install(task, reader, cloexec);
  if (r instanceof Errno) {
    discard(writer);
    return r;
  }
  const w = install(task, writer, cloexec);
  if (w instanceof Errno) {
    task.fds.remove(r);
    return w;
  }
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setInt32(0, r, true);
  v.setInt32(4, w, true);
  if (task.mm.copyOut(va, out) !== 8) {
    task.fds.remove(r);
    task.fds.remove(w);
    return EFAULT;
  }
  return 0;
}

export const pipeSyscalls: SyscallEntry[] = [
  supported('pipe', (t, a) => pipe2(t, a.ptr(0), 0), 'p'),
  supported('pipe2', (t, a) => pipe2(t, a.ptr(0), a.int(1)), 'px'),
];
