// Virtual memory areas: the address space as the program declared it (mmap, brk, the ELF segments, the
// stack), independent of which pages are present. Kept sorted by start and never overlapping, like
// Linux's VMA tree; merged with their neighbours when alike (vma_merge), split when an operation covers
// part of one. An area that maps an object (a file, shared anonymous memory) holds a reference on it.
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { PAGE_SIZE } from '../platform/layout.js';
import type { Mappable } from './mappable.js';

export const enum VmaKind {
  /** Private anonymous memory (mmap MAP_ANONYMOUS|MAP_PRIVATE, the bss). */
  Anonymous,
  Heap,
  Stack,
  /** Backed by an object: a file (the program image too) or shared anonymous memory. */
  File,
  /** Pages the Sentry provides to every process, [vvar] and [vdso] (special-pages.ts); backed like File. */
  Special,
}

/** madvise flags kept on the area (they split and merge areas as in Linux). */
export const Advice = {
  noHugePage: 1,
  dontFork: 2,
  wipeOnFork: 4,
  dontDump: 8,
} as const;

/** Linux's stack_guard_gap: nothing is placed this close below a MAP_GROWSDOWN area, so it can grow. */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;

export interface Vma {
  start: number;
  end: number;
  prot: number;
  /** VM_MAYWRITE: false for a shared mapping of a file opened read-only (mprotect cannot add write). */
  mayWrite: boolean;
  shared: boolean;
  /** MAP_GROWSDOWN: a fault just below extends it (the main stack). */
  growsDown: boolean;
  /** Advice bits. */
  advice: number;
  kind: VmaKind;
  /** The object behind the area; null for private anonymous memory. */
  file: Mappable | null;
  /** Offset in `file` of `start`. */
  offset: number;
  /** Shown in /proc/self/maps: "[heap]", "[stack]", the file path. */
  name: string;
  /** The mapped file's device and inode, as /proc/self/maps shows them (0 for anonymous memory). */
  dev: number;
  ino: number;
  /**
   * Linux's VM_ACCOUNT: private memory that was ever writable (its commit charge). It stays when
   * mprotect takes the write right away, so a RELRO range does not merge with the read-only part of
   * its file before it: the same areas as Linux, line for line in /proc/PID/maps.
   */
  accounted: boolean;
  /** MAP_NORESERVE (VM_NORESERVE): never charged, so never accounted. */
  noReserve: boolean;
}

export function canRead(vma: Vma): boolean {
  // x86 has no write-only or execute-only pages: any access right makes the page readable.
  return (vma.prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) !== 0;
}
export function canWrite(vma: Vma): boolean {
  return (vma.prot & PROT_WRITE) !== 0;
}
export function canExec(vma: Vma): boolean {
  return (vma.prot & PROT_EXEC) !== 0;
}
/** File offset of va inside vma. */
export function fileOffset(vma: Vma, va: number): number {
  return vma.offset + (va - vma.start);
}
/** Linux vm_start_gap: where the area's claim starts, its guard gap included. */
export function startGap(vma: Vma): number {
  return vma.growsDown ? Math.max(0, vma.start - STACK_GUARD_GAP) : vma.start;
}

/** Linux's VM_SHARED with VM_MAYWRITE: the area may write to its object. */
function writesObject(vma: Vma): boolean {
  return vma.shared && vma.mayWrite;
}

/** Each area holds its own reference on its object (split pieces and fork's copies too). */
function holdObject(vma: Vma): void {
  vma.file?.hold?.(writesObject(vma));
}

function dropObject(vma: Vma): void {
  vma.file?.drop?.(writesObject(vma));
}

function alike(a: Vma, b: Vma): boolean {
  return a.end === b.start && a.prot === b.prot && a.mayWrite === b.mayWrite && a.shared === b.shared &&
    a.growsDown === b.growsDown && a.advice === b.advice && a.kind === b.kind && a.name === b.name &&
    a.accounted === b.accounted && a.noReserve === b.noReserve &&
    a.file === b.file && (a.file === null || a.offset + (a.end - a.start) === b.offset);
}

export class VmaList {
  readonly list: Vma[] = [];
  /** Sum of the areas' lengths (Linux total_vm), for RLIMIT_AS. */
  totalBytes = 0;
  /** The highest totalBytes has been (Linux hiwater_vm, /proc/PID/status VmPeak). */
  peakBytes = 0;

  /** The area containing va, or undefined. */
  find(va: number): Vma | undefined {
    const i = this.indexAfter(va) - 1;
    const v = this.list[i];
    return v !== undefined && va < v.end ? v : undefined;
  }

  /** The first area that ends above va (contains it or lies above it), or undefined. */
  findFrom(va: number): Vma | undefined {
    const i = this.indexAfter(va) - 1;
    const v = this.list[i];
    if (v !== undefined && va < v.end) return v;
    return this.list[i + 1];
  }

  /** The last area that starts below va, or undefined. */
  findBefore(va: number): Vma | undefined {
    let i = this.indexAfter(va) - 1;
    while (i >= 0 && this.list[i]!.start >= va) i--;
    return this.list[i];
  }

  /** Whether any area intersects [start, end). */
  overlaps(start: number, end: number): boolean {
    const v = this.findFrom(start);
    return v !== undefined && v.start < end;
  }

  /** The areas that intersect [start, end), in order (a snapshot: safe to modify the list after). */
  within(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = Math.max(0, this.indexAfter(start) - 1); i < this.list.length; i++) {
      const v = this.list[i]!;
      if (v.start >= end) break;
      if (v.end > start) out.push(v);
    }
    return out;
  }

  /** Whether [start, end) is covered by areas without a hole. */
  covers(start: number, end: number): boolean {
    let pos = start;
    while (pos < end) {
      const v = this.find(pos);
      if (v === undefined) return false;
      pos = v.end;
    }
    return true;
  }

  /** Adds an area that overlaps none; takes a reference on its object. */
  insert(vma: Vma): void {
    holdObject(vma);
    this.list.splice(this.indexAfter(vma.start), 0, vma);
    this.totalBytes += vma.end - vma.start;
    if (this.totalBytes > this.peakBytes) this.peakBytes = this.totalBytes;
  }

  /**
   * Removes [start, end) from every area, splitting those that straddle an edge, and returns the
   * removed pieces (in address order). Each piece still holds a reference on its object: the caller
   * unmaps its pages and then calls release(piece).
   */
  carve(start: number, end: number): Vma[] {
    const removed: Vma[] = [];
    let i = Math.max(0, this.indexAfter(start) - 1);
    while (i < this.list.length) {
      const v = this.list[i]!;
      if (v.start >= end) break;
      if (v.end <= start) { i++; continue; }
      const cutStart = Math.max(start, v.start);
      const cutEnd = Math.min(end, v.end);
      removed.push({ ...v, start: cutStart, end: cutEnd, offset: fileOffset(v, cutStart) });
      const pieces: Vma[] = [];
      if (v.start < cutStart) pieces.push({ ...v, end: cutStart });
      if (cutEnd < v.end) pieces.push({ ...v, start: cutEnd, offset: fileOffset(v, cutEnd) });
      for (let k = 0; k < pieces.length; k++) holdObject(v);
      this.list.splice(i, 1, ...pieces);
      this.totalBytes -= cutEnd - cutStart;
      i += pieces.length;
    }
    return removed;
  }

  /** Splits areas at va so that an area starts there (if va falls inside one). */
  splitAt(va: number): void {
    const i = this.indexAfter(va) - 1;
    const v = this.list[i];
    if (v === undefined || va <= v.start || va >= v.end) return;
    const upper: Vma = { ...v, start: va, offset: fileOffset(v, va) };
    v.end = va;
    holdObject(v);
    this.list.splice(i + 1, 0, upper);
  }

  /** Drops a piece returned by carve (or an area taken out of the list): its object reference goes. */
  release(vma: Vma): void {
    dropObject(vma);
  }

  /** Grows or shrinks an area in place (brk, mremap, stack growth); the caller checked the space. */
  resize(vma: Vma, start: number, end: number): void {
    this.totalBytes += (end - start) - (vma.end - vma.start);
    if (this.totalBytes > this.peakBytes) this.peakBytes = this.totalBytes;
    if (start !== vma.start) vma.offset = fileOffset(vma, start);
    vma.start = start;
    vma.end = end;
  }

  /**
   * Highest free range of `length` bytes inside [bottom, top), honouring the guard gap below
   * MAP_GROWSDOWN areas. With align > PAGE_SIZE, the start is a multiple of align (plus alignOffset).
   * Returns -1 if there is none.
   */
  findGapTopDown(length: number, bottom: number, top: number, align = PAGE_SIZE, alignOffset = 0): number {
    let limit = top;
    for (let i = this.list.length - 1; i >= -1; i--) {
      const v = this.list[i];
      const gapStart = v === undefined ? bottom : Math.max(v.end, bottom);
      if (v !== undefined && v.end > limit) {
        limit = Math.min(limit, startGap(v));
        continue;
      }
      if (limit >= gapStart + length) {
        let start = limit - length;
        start -= mod(start - alignOffset, align);
        if (start >= gapStart) return start;
      }
      if (v === undefined) break;
      limit = Math.min(limit, startGap(v));
      if (limit < bottom + length) break;
    }
    return -1;
  }

  /** Lowest free range of `length` bytes inside [bottom, top) (MAP_32BIT, the legacy layout). */
  findGapBottomUp(length: number, bottom: number, top: number): number {
    let gapStart = bottom;
    for (let i = Math.max(0, this.indexAfter(bottom) - 1); i <= this.list.length; i++) {
      const v = this.list[i];
      if (v !== undefined && v.end <= gapStart) continue;
      const gapEnd = v === undefined ? top : Math.min(top, startGap(v));
      if (gapEnd >= gapStart + length) return gapStart;
      if (v === undefined || v.end >= top) break;
      gapStart = Math.max(gapStart, v.end);
    }
    return -1;
  }

  /** Whether [start, end) is free, with the guard gaps of its neighbours respected. */
  isFree(start: number, end: number): boolean {
    const next = this.findFrom(start);
    return next === undefined || end <= startGap(next);
  }

  /** Merges neighbours of [start, end) that are adjacent and alike, as Linux's vma_merge does. */
  mergeAround(start: number, end: number): void {
    let i = Math.max(0, this.indexAfter(start) - 2);
    while (i + 1 < this.list.length) {
      const a = this.list[i]!;
      const b = this.list[i + 1]!;
      if (a.start > end) break;
      if (alike(a, b)) {
        a.end = b.end;
        this.list.splice(i + 1, 1);
        dropObject(b);
      } else {
        i++;
      }
    }
  }

  /** Index of the first area with start > va. */
  private indexAfter(va: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid]!.start <= va) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function mod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}
