// getrandom(2): the host's CSPRNG written straight into guest memory.
import { randomFillSync } from 'node:crypto';
import { EINVAL, Errno } from '../abi/errno.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { supported } from './define.js';

const GRND_NONBLOCK = 1;
const GRND_RANDOM = 2;
const GRND_INSECURE = 4;
/** Linux returns at most this much per call (drivers/char/random.c). */
const MAX_PER_CALL = 0x1ff_ffff;

function getrandom(task: Task, a: SyscallArgs): number | Errno {
  const flags = a.uint(2);
  if ((flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) !== 0) return EINVAL;
  if ((flags & GRND_RANDOM) !== 0 && (flags & GRND_INSECURE) !== 0) return EINVAL;
  let done = 0;
  const fault = task.mm.forEachRange(a.ptr(0), Math.min(a.size(1), MAX_PER_CALL), true, (gpa, n) => {
    randomFillSync(task.mm.view(gpa, n));
    done += n;
  });
  return done > 0 ? done : fault ?? 0;
}

export const randomSyscalls: SyscallEntry[] = [supported('getrandom', getrandom, 'bzx')];
