// Virtual memory areas: the address space as the program declared it (mmap, brk, the ELF segments),
// independent of which pages are present. Kept sorted by start and never overlapping.
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/mman.js';

export const enum VmaKind {
  Anonymous,
  /** Loaded from a file at exec; pages were filled eagerly and are private. */
  Image,
  Heap,
  Stack,
}

export interface Vma {
  start: number;
  end: number;
  prot: number;
  kind: VmaKind;
  /** Shown in /proc/self/maps: "[heap]", "[stack]", the file path. */
  name: string;
}

export function canRead(vma: Vma): boolean {
  return (vma.prot & PROT_READ) !== 0;
}
export function canWrite(vma: Vma): boolean {
  return (vma.prot & PROT_WRITE) !== 0;
}
export function canExec(vma: Vma): boolean {
  return (vma.prot & PROT_EXEC) !== 0;
}

export class VmaList {
  readonly list: Vma[] = [];

  /** The area containing va, or undefined. */
  find(va: number): Vma | undefined {
    const i = this.indexAfter(va) - 1;
    const v = this.list[i];
    return v !== undefined && va < v.end ? v : undefined;
  }

  /** Whether any area intersects [start, end). */
  overlaps(start: number, end: number): boolean {
    const i = this.indexAfter(start) - 1;
    const prev = this.list[i];
    if (prev !== undefined && prev.end > start) return true;
    const next = this.list[i + 1];
    return next !== undefined && next.start < end;
  }

  insert(vma: Vma): void {
    this.list.splice(this.indexAfter(vma.start), 0, vma);
  }

  /**
   * Removes [start, end) from every area, splitting those that straddle an edge, and returns the
   * removed pieces (in address order) so the caller can unmap their pages.
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
      removed.push({ ...v, start: cutStart, end: cutEnd });
      const pieces: Vma[] = [];
      if (v.start < cutStart) pieces.push({ ...v, end: cutStart });
      if (cutEnd < v.end) pieces.push({ ...v, start: cutEnd });
      this.list.splice(i, 1, ...pieces);
      i += pieces.length;
    }
    return removed;
  }

  /** Highest gap of `length` bytes that ends at or below `top` and starts at or above `bottom`. */
  findGapTopDown(length: number, bottom: number, top: number): number {
    let limit = top;
    for (let i = this.list.length - 1; i >= -1; i--) {
      const v = this.list[i];
      const gapStart = v === undefined ? bottom : Math.max(v.end, bottom);
      if (v !== undefined && v.start >= limit) continue;
      if (limit - gapStart >= length) return limit - length;
      if (v === undefined) break;
      limit = Math.min(limit, v.start);
      if (limit < bottom + length) break;
    }
    return -1;
  }

  /** Merges neighbours that are adjacent and alike, as Linux's vma_merge does. */
  mergeAround(start: number, end: number): void {
    let i = Math.max(0, this.indexAfter(start) - 2);
    while (i + 1 < this.list.length) {
      const a = this.list[i]!;
      const b = this.list[i + 1]!;
      if (a.start > end) break;
      if (a.end === b.start && a.prot === b.prot && a.kind === b.kind && a.name === b.name) {
        a.end = b.end;
        this.list.splice(i + 1, 1);
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
