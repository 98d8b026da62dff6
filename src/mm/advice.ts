// madvise(2), mincore(2) and msync(2) over an address space, with Linux's argument checks and errors.
import { EFAULT, EINVAL, ENOMEM, EOPNOTSUPP, Errno } from '../abi/errno.js';
import { HUGE_PAGE_SIZE, PAGE_SIZE, USER_TOP } from '../platform/layout.js';
import { type AddressSpace, roundUp } from './address-space.js';
import { PageResult } from './pager.js';
import { SharedMemory } from './shared-memory.js';
import { Advice, canRead, canWrite, fileOffset, type Vma } from './vma.js';

export const MADV = {
  NORMAL: 0, RANDOM: 1, SEQUENTIAL: 2, WILLNEED: 3, DONTNEED: 4, FREE: 8, REMOVE: 9, DONTFORK: 10, DOFORK: 11,
  MERGEABLE: 12, UNMERGEABLE: 13, HUGEPAGE: 14, NOHUGEPAGE: 15, DONTDUMP: 16, DODUMP: 17, WIPEONFORK: 18,
  KEEPONFORK: 19, COLD: 20, PAGEOUT: 21, POPULATE_READ: 22, POPULATE_WRITE: 23, DONTNEED_LOCKED: 24,
  COLLAPSE: 25, HWPOISON: 100, SOFT_OFFLINE: 101, GUARD_INSTALL: 102, GUARD_REMOVE: 103,
} as const;
const VALID_ADVICE: ReadonlySet<number> = new Set(Object.values(MADV));

export const MS_ASYNC = 1;
export const MS_INVALIDATE = 2;
export const MS_SYNC = 4;

/** madvise: applies advice to the areas in [start, start+length); ENOMEM at the end if there were holes. */
export function advise(mm: AddressSpace, start: number, length: number, advice: number): Errno | null {
  // Memory poisoning needs CONFIG_MEMORY_FAILURE and CAP_SYS_ADMIN: the sandbox is a kernel without it.
  if (!VALID_ADVICE.has(advice) || advice === MADV.HWPOISON || advice === MADV.SOFT_OFFLINE) return EINVAL;
  if (start % PAGE_SIZE !== 0) return EINVAL;
  const end = start + roundUp(length);
  if (!Number.isSafeInteger(end) || end < start) return EINVAL;
  if (end === start) return null;
  let pos = start;
  let hole = false;
  for (const vma of mm.vmas.within(start, Math.min(end, USER_TOP))) {
    if (vma.start > pos) hole = true;
    const from = Math.max(pos, vma.start);
    const to = Math.min(end, vma.end);
    const error = applyAdvice(mm, vma, from, to, advice);
    if (error !== null) return error;
    pos = to;
  }
  return hole || pos < end ? ENOMEM : null;
}

function applyAdvice(mm: AddressSpace, vma: Vma, from: number, to: number, advice: number): Errno | null {
  switch (advice) {
    case MADV.DONTNEED:
    case MADV.DONTNEED_LOCKED:
      mm.pager.discard(vma, from, to);
      return null;
    case MADV.FREE:
      // "MADV_FREE ... can be applied only to private anonymous pages."
      if (vma.file !== null || vma.shared) return EINVAL;
      mm.pager.discard(vma, from, to);
      return null;
    case MADV.REMOVE:
      return remove(mm, vma, from, to);
    case MADV.WILLNEED:
      // Read-ahead for files; nothing for anonymous memory (there is no swap to read back from).
      if (vma.file !== null && canRead(vma)) mm.pager.populate(vma, from, to, false);
      return null;
    case MADV.POPULATE_READ:
    case MADV.POPULATE_WRITE: {
      const write = advice === MADV.POPULATE_WRITE;
      if (!canRead(vma) || (write && !canWrite(vma))) return EFAULT;
      const r = mm.pager.populate(vma, from, to, write && !vma.shared);
      return r === PageResult.Mapped ? null : r === PageResult.Bus ? EFAULT : ENOMEM;
    }
    case MADV.HUGEPAGE: return setAdvice(mm, from, to, Advice.noHugePage, false);
    case MADV.NOHUGEPAGE: return setAdvice(mm, from, to, Advice.noHugePage, true);
    case MADV.DONTFORK: return setAdvice(mm, from, to, Advice.dontFork, true);
    case MADV.DOFORK: return setAdvice(mm, from, to, Advice.dontFork, false);
    case MADV.WIPEONFORK:
      if (vma.file !== null || vma.shared) return EINVAL;
      return setAdvice(mm, from, to, Advice.wipeOnFork, true);
    case MADV.KEEPONFORK: return setAdvice(mm, from, to, Advice.wipeOnFork, false);
    case MADV.DONTDUMP: return setAdvice(mm, from, to, Advice.dontDump, true);
    case MADV.DODUMP: return setAdvice(mm, from, to, Advice.dontDump, false);
    case MADV.GUARD_INSTALL:
    case MADV.GUARD_REMOVE:
      // Guard regions (Linux 6.13) are not implemented; programs probe for them and fall back.
      return EINVAL;
    case MADV.COLLAPSE:
      if (vma.file !== null || vma.shared) return EINVAL;
      for (let slot = roundUpTo(from, HUGE_PAGE_SIZE); slot + HUGE_PAGE_SIZE <= to; slot += HUGE_PAGE_SIZE) {
        if (mm.pager.collapsible(vma, slot)) mm.pager.collapse(vma, slot);
      }
      return null;
    default:
      // NORMAL, RANDOM, SEQUENTIAL, MERGEABLE, UNMERGEABLE, COLD, PAGEOUT: hints about paging and swap
      // that change nothing the program can observe here.
      return null;
  }
}

/** MADV_REMOVE: frees the backing store of a shared mapping (shmem only, as in Linux). */
function remove(mm: AddressSpace, vma: Vma, from: number, to: number): Errno | null {
  if (!vma.shared || vma.file === null) return EINVAL;
  if (!(vma.file instanceof SharedMemory)) return EOPNOTSUPP;
  mm.pager.clear(from, to);
  vma.file.punch(fileOffset(vma, from), to - from);
  return null;
}

function setAdvice(mm: AddressSpace, from: number, to: number, bit: number, on: boolean): null {
  mm.vmas.splitAt(from);
  mm.vmas.splitAt(to);
  for (const vma of mm.vmas.within(from, to)) vma.advice = on ? vma.advice | bit : vma.advice & ~bit;
  mm.vmas.mergeAround(from, to);
  return null;
}

/**
 * mincore for `pages` pages from start (page aligned, checked by the caller): one byte per page, 1 when
 * the page is in memory for the program (mapped and touched, or held by the shared object behind it).
 * ENOMEM if part of the range is not mapped.
 */
export function residency(mm: AddressSpace, start: number, pages: number): Uint8Array | Errno {
  const end = start + pages * PAGE_SIZE;
  if (!Number.isSafeInteger(end) || end > USER_TOP) return ENOMEM;
  if (!mm.vmas.covers(start, end)) return ENOMEM;
  const out = new Uint8Array(pages);
  mm.tables.forEachLeaf(start, end, (va, m) => {
    if (!m.accessed) return;
    const from = Math.max(va, start);
    const to = Math.min(va + m.size, end);
    out.fill(1, (from - start) / PAGE_SIZE, (to - start) / PAGE_SIZE);
  });
  for (const vma of mm.vmas.within(start, end)) {
    if (!(vma.file instanceof SharedMemory)) continue;
    for (let va = Math.max(start, vma.start); va < Math.min(end, vma.end); va += PAGE_SIZE) {
      if (vma.file.hasPage(fileOffset(vma, va))) out[(va - start) / PAGE_SIZE] = 1;
    }
  }
  return out;
}

/** msync: writes shared file pages back; ENOMEM if part of the range is not mapped. */
export function sync(mm: AddressSpace, start: number, length: number, flags: number): Errno | null {
  if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) !== 0 || start % PAGE_SIZE !== 0) return EINVAL;
  if ((flags & MS_ASYNC) !== 0 && (flags & MS_SYNC) !== 0) return EINVAL;
  const end = start + roundUp(length);
  if (!Number.isSafeInteger(end) || end < start) return ENOMEM;
  if (end === start) return null;
  let pos = start;
  let hole = false;
  for (const vma of mm.vmas.within(start, Math.min(end, USER_TOP))) {
    if (vma.start > pos) hole = true;
    // Pages of a file that keeps its own (tmpfs) are the file's already; the others are written here,
    // for MS_ASYNC too: without a shared page cache it is what makes them visible to read(2).
    mm.pager.writeBack(vma, Math.max(pos, vma.start), Math.min(end, vma.end));
    pos = Math.min(end, vma.end);
  }
  return hole || pos < end ? ENOMEM : null;
}

function roundUpTo(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}
