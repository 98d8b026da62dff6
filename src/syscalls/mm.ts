// Memory-management calls: brk, mmap (anonymous), munmap, mprotect, madvise.
import { EINVAL, ENODEV, ENOMEM, Errno } from '../abi/errno.js';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE,
  PROT_MASK,
} from '../abi/mman.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { roundUp } from '../mm/address-space.js';
import { VmaKind } from '../mm/vma.js';
import { PAGE_SIZE, USER_TOP } from '../platform/layout.js';
import { partial, supported } from './define.js';

const MADV_NORMAL = 0;
const MADV_DONTNEED = 4;
const MADV_FREE = 8;
/** Advice that only tunes the kernel's behaviour and needs nothing from us to be correct. */
const HARMLESS_ADVICE = new Set([MADV_NORMAL, 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);

function brk(task: Task, a: SyscallArgs): number {
  return task.mm.setBrk(a.ptr(0));
}

function mmap(task: Task, a: SyscallArgs): number | Errno {
  const addr = a.ptr(0);
  const length = a.size(1);
  const prot = a.int(2);
  const flags = a.int(3);
  const offset = a.long(5);
  const type = flags & MAP_TYPE;
  if (type !== MAP_PRIVATE && type !== MAP_SHARED && type !== MAP_SHARED_VALIDATE) return EINVAL;
  if (length === 0 || offset % PAGE_SIZE !== 0 || (prot & ~PROT_MASK) !== 0) return EINVAL;
  if (length > USER_TOP) return ENOMEM;
  if ((flags & MAP_ANONYMOUS) === 0) {
    const file = task.fds.get(a.int(4));
    return file instanceof Errno ? file : ENODEV;
  }
  const fixed = (flags & MAP_FIXED) !== 0;
  if (fixed && addr % PAGE_SIZE !== 0) return EINVAL;
  return task.mm.map(addr - (addr % PAGE_SIZE), roundUp(length), prot, VmaKind.Anonymous, '', {
    fixed,
    noReplace: !fixed && (flags & MAP_FIXED_NOREPLACE) !== 0,
  });
}

function munmap(task: Task, a: SyscallArgs): number | Errno {
  return task.mm.unmap(a.ptr(0), a.size(1)) ?? 0;
}

function mprotect(task: Task, a: SyscallArgs): number | Errno {
  return task.mm.protect(a.ptr(0), a.size(1), a.int(2)) ?? 0;
}

function madvise(task: Task, a: SyscallArgs): number | Errno {
  const start = a.ptr(0);
  const length = a.size(1);
  const advice = a.int(2);
  if (start % PAGE_SIZE !== 0 || start + length > USER_TOP) return EINVAL;
  if (advice === MADV_DONTNEED || advice === MADV_FREE) {
    task.mm.discard(start, start + roundUp(length));
    return 0;
  }
  return HARMLESS_ADVICE.has(advice) ? 0 : EINVAL;
}

export const mmSyscalls: SyscallEntry[] = [
  supported('brk', brk, 'x'),
  partial('mmap', mmap, 'anonymous mappings only; files need the VFS (ENODEV)', 'xzxxil'),
  supported('munmap', munmap, 'xz'),
  supported('mprotect', mprotect, 'xzx'),
  partial('madvise', madvise, 'DONTNEED and FREE release pages; other advice is accepted and ignored', 'xzi'),
];
