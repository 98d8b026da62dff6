// Memory-management calls: brk, mmap, munmap, mprotect, mremap, msync, mincore, madvise and the mlock
// family. Argument checks follow Linux (mm/mmap.c do_mmap, mm/mprotect.c, mm/mremap.c, mm/madvise.c,
// mm/mincore.c, mm/msync.c, mm/mlock.c); the work is done by src/mm.
import { EACCES, EBADF, EFAULT, EINVAL, ENODEV, ENOMEM, EOPNOTSUPP, EOVERFLOW, EPERM, Errno } from '../abi/errno.js';
import {
  MAP_32BIT, MAP_ANONYMOUS, MAP_DENYWRITE, MAP_DROPPABLE, MAP_EXECUTABLE, MAP_FIXED, MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN, MAP_HUGE_MASK, MAP_HUGETLB, MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE,
  MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_TYPE, MAP_UNINITIALIZED, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT,
  MLOCK_ONFAULT, PROT_GROWSDOWN, PROT_GROWSUP, PROT_MASK, PROT_SEM,
} from '../abi/mman.js';
import { type FileIdentity, mappedFileIdentity } from '../fs/exec.js';
import { writeSealed } from '../fs/seals.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry, SyscallHandler } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { advise, residency, sync } from '../mm/advice.js';
import { roundUp } from '../mm/address-space.js';
import type { Mappable } from '../mm/mappable.js';
import { OutOfMemoryError } from '../mm/page-tables.js';
import { PageResult } from '../mm/pager.js';
import { remap } from '../mm/remap.js';
import { Advice, VmaKind } from '../mm/vma.js';
import { PAGE_SIZE, USER_TOP } from '../platform/layout.js';
import { partial, supported } from './define.js';

/** Flags MAP_SHARED_VALIDATE accepts (Linux LEGACY_MAP_MASK); plain MAP_SHARED ignores the others. */
const LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE |
  MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK |
  MAP_HUGETLB | MAP_32BIT | MAP_HUGE_MASK;
/** mincore answers this many pages per pass, so a huge range needs no huge buffer. */
const MINCORE_CHUNK_PAGES = 65536;
const RLIMIT_MEMLOCK = 8;

function brk(task: Task, a: SyscallArgs): number {
  return task.mm.setBrk(a.ptr(0));
}

function mmap(task: Task, a: SyscallArgs): number | Errno {
  const addr = a.ptr(0);
  const length = a.size(1);
  const prot = a.int(2) & PROT_MASK;
  let flags = a.int(3);
  const offset = a.long(5);
  const anonymous = (flags & MAP_ANONYMOUS) !== 0;
  let source: { mappable: Mappable | null; readable: boolean; writable: boolean; identity: FileIdentity | null; writeSealed: boolean } | null = null;
  if (!anonymous) {
    const file = task.fds.get(a.int(4));
    if (file instanceof Errno) return EBADF;
    // MAP_HUGETLB needs a hugetlbfs file.
    if ((flags & MAP_HUGETLB) !== 0) return EINVAL;
    source = {
      mappable: file.mappable(), readable: file.readable, writable: file.writable, identity: mappedFileIdentity(file),
      writeSealed: writeSealed(file.sealState?.seals ?? 0),
    };
  } else if ((flags & MAP_HUGETLB) !== 0) {
    // Linux takes these from the reserved huge page pool, empty unless the host admin filled it.
    return ENOMEM;
  }
  if (offset % PAGE_SIZE !== 0) return EINVAL;
  if (length === 0) return EINVAL;
  const len = roundUp(length);
  if (len > USER_TOP) return ENOMEM;
  // The offset is unsigned to Linux: a negative one is past any file's maximum size.
  if (!anonymous && offset < 0) return EOVERFLOW;
  const type = flags & MAP_TYPE;
  let shared: boolean;
  let mayWrite = true;
  let mappable: Mappable | null = null;
  let advice = 0;
  if (source !== null) {
    if (type === MAP_SHARED) flags &= LEGACY_MAP_MASK;
    else if (type === MAP_SHARED_VALIDATE && (flags & ~LEGACY_MAP_MASK) !== 0) return EOPNOTSUPP;
    else if (type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) return EINVAL;
    shared = type !== MAP_PRIVATE;
    if (shared) {
      if ((prot & 2) !== 0 && !source.writable) return EACCES;
      mayWrite = source.writable;
    }
    if (!source.readable) return EACCES;
    if (source.mappable === null) return ENODEV;
    if ((flags & MAP_GROWSDOWN) !== 0) return EINVAL;
    // A write-sealed file maps shared only without write, and mprotect cannot add it (memfd_check_seals_mmap).
    if (shared && mayWrite && source.writeSealed) {
      if ((prot & 2) !== 0) return EPERM;
      mayWrite = false;
    }
    mappable = source.mappable;
  } else if (type === MAP_SHARED) {
    if ((flags & MAP_GROWSDOWN) !== 0) return EINVAL;
    shared = true;
    mappable = task.mm.createSharedMemory(len);
  } else if (type === MAP_PRIVATE || type === MAP_DROPPABLE) {
    shared = false;
    // MAP_DROPPABLE memory is never inherited or dumped; the Sentry never drops it under pressure.
    if (type === MAP_DROPPABLE) advice = Advice.wipeOnFork | Advice.dontDump;
  } else {
    return EINVAL;
  }
  const noReplace = (flags & MAP_FIXED_NOREPLACE) !== 0;
  const start = task.mm.map({
    addr, length: len, prot, fixed: (flags & MAP_FIXED) !== 0 && !noReplace, noReplace, shared,
    growsDown: (flags & MAP_GROWSDOWN) !== 0, low32: (flags & MAP_32BIT) !== 0,
    kind: mappable === null ? VmaKind.Anonymous : VmaKind.File, name: source?.identity?.path ?? mappable?.mapName ?? '',
    dev: source?.identity?.dev ?? 0, ino: source?.identity?.ino ?? 0,
    file: mappable, offset: anonymous ? 0 : offset, mayWrite,
    // "MAP_NONBLOCK ... Since Linux 2.6.23, this flag causes MAP_POPULATE to do nothing."
    populate: ((flags & MAP_POPULATE) !== 0 && (flags & MAP_NONBLOCK) === 0) || (flags & MAP_LOCKED) !== 0,
    noReserve: (flags & MAP_NORESERVE) !== 0,
    privileged: task.euid === 0,
  });
  if (typeof start === 'number' && advice !== 0) {
    const vma = task.mm.vmas.find(start);
    if (vma !== undefined) vma.advice |= advice;
  }
  return start;
}

function munmap(task: Task, a: SyscallArgs): number | Errno {
  return task.mm.unmap(a.ptr(0), a.size(1)) ?? 0;
}

function mprotect(task: Task, a: SyscallArgs): number | Errno {
  const start = a.ptr(0);
  const length = a.size(1);
  const prot = a.int(2);
  if (start % PAGE_SIZE !== 0) return EINVAL;
  if (length === 0) return 0;
  const end = start + roundUp(length);
  if (!Number.isSafeInteger(end) || end <= start) return ENOMEM;
  if ((prot & ~(PROT_MASK | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP)) !== 0) return EINVAL;
  const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  // x86 has no areas that grow up.
  if (grows === (PROT_GROWSDOWN | PROT_GROWSUP) || grows === PROT_GROWSUP) return EINVAL;
  return task.mm.protect(start, length, prot & PROT_MASK, grows === PROT_GROWSDOWN) ?? 0;
}

function mremap(task: Task, a: SyscallArgs): number | Errno {
  return remap(task.mm, a.ptr(0), a.size(1), a.size(2), a.ptr(3), a.ptr(4));
}

function msync(task: Task, a: SyscallArgs): number | Errno {
  return sync(task.mm, a.ptr(0), a.size(1), a.int(2)) ?? 0;
}

function mincore(task: Task, a: SyscallArgs): number | Errno {
  const start = a.ptr(0);
  const length = a.size(1);
  const vec = a.ptr(2);
  if (start % PAGE_SIZE !== 0) return EINVAL;
  if (!Number.isSafeInteger(start + length) || start + length > USER_TOP) return ENOMEM;
  const pages = Math.ceil(length / PAGE_SIZE);
  if (vec + pages > USER_TOP) return EFAULT;
  for (let done = 0; done < pages;) {
    const n = Math.min(MINCORE_CHUNK_PAGES, pages - done);
    const chunk = residency(task.mm, start + done * PAGE_SIZE, n);
    if (chunk instanceof Errno) return chunk;
    const copied = task.mm.copyOut(vec + done, chunk);
    if (copied instanceof Errno || copied < n) return EFAULT;
    done += n;
  }
  return 0;
}

function madvise(task: Task, a: SyscallArgs): number | Errno {
  return advise(task.mm, a.ptr(0), a.size(1), a.int(2)) ?? 0;
}

/** mlock, mlock2: the pages are made present now; nothing here is ever swapped out anyway. */
function lockRange(task: Task, addr: number, length: number, populate: boolean): number | Errno {
  const start = addr - (addr % PAGE_SIZE);
  const end = roundUp(addr + length);
  if (!Number.isSafeInteger(end) || end < start) return EINVAL;
  if (end === start) return 0;
  const limit = task.rlimits[RLIMIT_MEMLOCK]![0];
  // CAP_IPC_LOCK (root) is not bound by RLIMIT_MEMLOCK; others are, and with a zero limit cannot lock.
  if (task.euid !== 0 && end - start > limit) return limit === 0 ? EPERM : ENOMEM;
  if (!task.mm.vmas.covers(start, end)) return ENOMEM;
  if (populate && task.mm.populate(start, end, false) === PageResult.OutOfMemory) return ENOMEM;
  return 0;
}

function mlock(task: Task, a: SyscallArgs): number | Errno {
  return lockRange(task, a.ptr(0), a.size(1), true);
}

function mlock2(task: Task, a: SyscallArgs): number | Errno {
  const flags = a.uint(2);
  if ((flags & ~MLOCK_ONFAULT) !== 0) return EINVAL;
  return lockRange(task, a.ptr(0), a.size(1), (flags & MLOCK_ONFAULT) === 0);
}

function munlock(task: Task, a: SyscallArgs): number | Errno {
  const start = a.ptr(0) - (a.ptr(0) % PAGE_SIZE);
  const end = roundUp(a.ptr(0) + a.size(1));
  if (!Number.isSafeInteger(end) || end < start) return EINVAL;
  return end === start || task.mm.vmas.covers(start, end) ? 0 : ENOMEM;
}

function mlockall(task: Task, a: SyscallArgs): number | Errno {
  const flags = a.int(0);
  if (flags === 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) !== 0 || flags === MCL_ONFAULT) return EINVAL;
  if (task.euid !== 0 && task.rlimits[RLIMIT_MEMLOCK]![0] === 0) return EPERM;
  return 0;
}

function munlockall(): number {
  return 0;
}

/**
 * Guest memory running out while the Sentry builds page tables (a huge page split, a table for a moved
 * range) is the program's ENOMEM, not a failure of the Sentry.
 */
function enomemOnExhaustion(handler: SyscallHandler): SyscallHandler {
  return (task, args) => {
    try {
      return handler(task, args);
    } catch (err) {
      if (err instanceof OutOfMemoryError) return ENOMEM;
      throw err;
    }
  };
}

export const mmSyscalls: SyscallEntry[] = [
  supported('brk', brk, 'p'),
  partial('mmap', enomemOnExhaustion(mmap), 'MAP_HUGETLB gives ENOMEM (no reserved huge pages); a file without pages of its own is not coherent with read(2) until msync or munmap', 'pzPmix'),
  supported('munmap', enomemOnExhaustion(munmap), 'pz'),
  supported('mprotect', enomemOnExhaustion(mprotect), 'pzP'),
  supported('mremap', enomemOnExhaustion(mremap), 'pzzxp'),
  supported('msync', msync, 'pzx'),
  supported('mincore', mincore, 'pzp'),
  partial('madvise', enomemOnExhaustion(madvise), 'MADV_HWPOISON and MADV_SOFT_OFFLINE give EINVAL (no memory-failure support); MADV_GUARD_INSTALL/REMOVE give EINVAL; MADV_REMOVE only on shared anonymous memory', 'pzM'),
  partial('mlock', mlock, 'pages are populated; nothing is swapped, so locking changes nothing else', 'pz'),
  partial('munlock', munlock, 'nothing is swapped, so there is nothing to undo', 'pz'),
  partial('mlockall', mlockall, 'accepted; nothing is swapped', 'x'),
  supported('munlockall', munlockall, ''),
  partial('mlock2', mlock2, 'pages are populated unless MLOCK_ONFAULT; nothing is swapped', 'pzx'),
];
