// One process's address space: its areas (vma.ts), its page tables (page-tables.ts) and the physical
// pages behind them (physical.ts). The only way the Sentry reads or writes program memory: copyIn,
// copyOut, readString and forEachRange check every byte against the areas and report EFAULT, never throw.
import { EFAULT, EINVAL, ENOMEM, EEXIST, Errno } from '../abi/errno.js';
import { PROT_EXEC, PROT_MASK, PROT_WRITE } from '../abi/mman.js';
import { SEGV_ACCERR, SEGV_MAPERR } from '../abi/signal.js';
import type { RootEntry } from '../platform/boot.js';
import { HUGE_PAGE_SIZE, PAGE_SIZE, RESERVED_VA_END, RESERVED_VA_START, USER_TOP } from '../platform/layout.js';
import { OutOfMemoryError, PageTables, type LeafFlags } from './page-tables.js';
import type { PageAllocator } from './physical.js';
import { canExec, canRead, canWrite, VmaKind, VmaList, type Vma } from './vma.js';

/** Lowest address mmap hands out without MAP_FIXED, as Linux's default vm.mmap_min_addr. */
export const MMAP_MIN_ADDR = 0x10000;
/** brk may grow this far past the end of the program (RLIMIT_DATA is unlimited by default). */
const BRK_MAX = 1 << 30;
/** Page-fault error code bits (Intel SDM 4.7). */
const PF_PRESENT = 0x1;
const PF_WRITE = 0x2;
const PF_INSTRUCTION = 0x10;

export type FaultResult = { mapped: true } | { mapped: false; signal: 'SIGSEGV'; code: number; addr: number };

export interface AddressSpaceLayout {
  /** Top of the mmap area: mappings are placed below it, top-down. */
  mmapBase: number;
}

export class AddressSpace {
  readonly vmas = new VmaList();
  readonly tables: PageTables;
  private readonly bytes: Uint8Array;
  brkStart = 0;
  brkEnd = 0;
  faults = 0;

  constructor(
    memory: ArrayBuffer,
    private readonly allocator: PageAllocator,
    shared: readonly RootEntry[],
    readonly layout: AddressSpaceLayout,
  ) {
    this.bytes = new Uint8Array(memory);
    this.tables = new PageTables(memory, allocator, shared);
  }

  // ---- program memory access -------------------------------------------------------------------

  /** Copies guest [va, va+dst.length) into dst. Returns bytes copied before the first fault, or EFAULT. */
  copyIn(va: number, dst: Uint8Array): number | Errno {
    let done = 0;
    const r = this.forEachRange(va, dst.length, false, (gpa, n) => {
      dst.set(this.bytes.subarray(gpa, gpa + n), done);
      done += n;
    });
    return r === null ? done : done > 0 ? done : r;
  }

  /** Copies src into guest memory at va. Returns bytes copied before the first fault, or EFAULT. */
  copyOut(va: number, src: Uint8Array): number | Errno {
    let done = 0;
    const r = this.forEachRange(va, src.length, true, (gpa, n) => {
      this.bytes.set(src.subarray(done, done + n), gpa);
      done += n;
    });
    return r === null ? done : done > 0 ? done : r;
  }

  /** A NUL-terminated string of at most maxLength bytes (without the NUL), or EFAULT / ENAMETOOLONG. */
  readString(va: number, maxLength: number, tooLong: Errno): string | Errno {
    let out = '';
    let pos = va;
    for (;;) {
      const gpa = this.resolve(pos, false);
      if (gpa < 0) return EFAULT;
      const pageEnd = gpa + (PAGE_SIZE - (pos % PAGE_SIZE));
      const nul = this.bytes.indexOf(0, gpa);
      const end = nul >= 0 && nul < pageEnd ? nul : pageEnd;
      out += Buffer.from(this.bytes.buffer, gpa, end - gpa).toString('latin1');
      if (out.length > maxLength) return tooLong;
      if (end < pageEnd) return Buffer.from(out, 'latin1').toString('utf8');
      pos += end - gpa;
    }
  }

  /**
   * Calls fn(gpa, length) for each physically contiguous run of [va, va+length), faulting pages in as
   * the program would. Returns null on success or EFAULT at the first inaccessible page (runs before
   * it have been passed to fn). fn returns false to stop early (a short read). Lets read/write use
   * host I/O straight into guest memory.
   */
  forEachRange(va: number, length: number, write: boolean, fn: (gpa: number, length: number) => boolean | void): Errno | null {
    if (length === 0) return null;
    if (!Number.isSafeInteger(va) || va < 0 || length < 0 || va + length > USER_TOP) return EFAULT;
    let pos = va;
    const end = va + length;
    let runGpa = -1;
    let runLength = 0;
    while (pos < end) {
      const gpa = this.resolve(pos, write);
      if (gpa < 0) {
        if (runLength > 0) fn(runGpa, runLength);
        return EFAULT;
      }
      const n = Math.min(end - pos, PAGE_SIZE - (pos % PAGE_SIZE));
      if (runLength > 0 && gpa === runGpa + runLength) {
        runLength += n;
      } else {
        if (runLength > 0 && fn(runGpa, runLength) === false) return null;
        runGpa = gpa;
        runLength = n;
      }
      pos += n;
    }
    fn(runGpa, runLength);
    return null;
  }

  /** A view of guest memory at a guest-physical address (from forEachRange). */
  view(gpa: number, length: number): Uint8Array {
    return this.bytes.subarray(gpa, gpa + length);
  }

  /** Guest-physical address of va, faulting the page in if the area allows the access; -1 if not. */
  private resolve(va: number, write: boolean): number {
    const m = this.tables.lookup(va);
    if (m !== null && (!write || m.writable)) return m.gpa + (va % m.size);
    const vma = this.vmas.find(va);
    if (vma === undefined || !canRead(vma) || (write && !canWrite(vma))) return -1;
    if (!this.populate(vma, va)) return -1;
    return this.tables.translate(va);
  }

  // ---- faults ----------------------------------------------------------------------------------

  /** A page fault from the program: map the page if the areas allow the access, else say which signal. */
  handleFault(addr: number, errorCode: number): FaultResult {
    const vma = this.vmas.find(addr);
    if (vma === undefined) return { mapped: false, signal: 'SIGSEGV', code: SEGV_MAPERR, addr };
    const write = (errorCode & PF_WRITE) !== 0;
    const fetch = (errorCode & PF_INSTRUCTION) !== 0;
    if ((write && !canWrite(vma)) || (fetch && !canExec(vma)) || !canRead(vma)) {
      return { mapped: false, signal: 'SIGSEGV', code: SEGV_ACCERR, addr };
    }
    if ((errorCode & PF_PRESENT) !== 0) {
      // Present but refused: the entry is older than the area's protection; rewrite it.
      this.tables.protect(addr, leafFlags(vma.prot));
      this.faults++;
      return { mapped: true };
    }
    if (!this.populate(vma, addr)) return { mapped: false, signal: 'SIGSEGV', code: SEGV_MAPERR, addr };
    this.faults++;
    return { mapped: true };
  }

  /** Maps a zeroed page at va inside vma: a 2 MiB page when the area covers the whole aligned slot. */
  private populate(vma: Vma, va: number): boolean {
    const flags = leafFlags(vma.prot);
    try {
      const hugeVa = va - (va % HUGE_PAGE_SIZE);
      if (vma.kind !== VmaKind.Image && hugeVa >= vma.start && hugeVa + HUGE_PAGE_SIZE <= vma.end &&
          this.tables.hugeSlotEmpty(hugeVa)) {
        const gpa = this.allocator.allocHuge();
        if (gpa >= 0) {
          this.tables.map2m(hugeVa, gpa, flags);
          return true;
        }
      }
      const gpa = this.allocator.allocPage();
      if (gpa < 0) return false;
      this.tables.map4k(va - (va % PAGE_SIZE), gpa, flags);
      return true;
    } catch (err) {
      if (err instanceof OutOfMemoryError) return false;
      throw err;
    }
  }

  // ---- mappings --------------------------------------------------------------------------------

  /**
   * Adds an area. With fixed, replaces whatever was there (MAP_FIXED); with noReplace, fails with
   * EEXIST instead; otherwise addr is a hint and a free range is chosen top-down.
   */
  map(addr: number, length: number, prot: number, kind: VmaKind, name: string, opts: { fixed: boolean; noReplace: boolean }): number | Errno {
    if (length <= 0 || length % PAGE_SIZE !== 0 || (prot & ~PROT_MASK) !== 0) return EINVAL;
    let start = addr;
    if (opts.fixed || opts.noReplace) {
      if (!this.rangeAllowed(start, length)) return opts.fixed && start % PAGE_SIZE === 0 ? ENOMEM : EINVAL;
      if (opts.noReplace && this.vmas.overlaps(start, start + length)) return EEXIST;
      if (opts.fixed) this.unmapRange(start, start + length);
    } else {
      if (addr === 0 || !this.rangeAllowed(addr, length) || this.vmas.overlaps(addr, addr + length)) {
        start = this.findFree(length);
        if (start < 0) return ENOMEM;
      }
    }
    this.vmas.insert({ start, end: start + length, prot, kind, name });
    this.vmas.mergeAround(start, start + length);
    return start;
  }

  unmap(start: number, length: number): Errno | null {
    if (start % PAGE_SIZE !== 0 || length <= 0 || !Number.isSafeInteger(start + length)) return EINVAL;
    const end = start + roundUp(length);
    if (end > USER_TOP) return EINVAL;
    this.unmapRange(start, end);
    return null;
  }

  protect(start: number, length: number, prot: number): Errno | null {
    if (start % PAGE_SIZE !== 0 || (prot & ~PROT_MASK) !== 0) return EINVAL;
    const end = start + roundUp(length);
    if (end < start || end > USER_TOP) return ENOMEM;
    if (end === start) return null;
    // Linux: ENOMEM if any page of the range is not mapped.
    for (let pos = start; pos < end;) {
      const v = this.vmas.find(pos);
      if (v === undefined) return ENOMEM;
      pos = v.end;
    }
    const pieces = this.vmas.carve(start, end);
    for (const piece of pieces) {
      this.vmas.insert({ ...piece, prot });
      this.forEachMapped(piece.start, piece.end, (va, size) => {
        if (size === HUGE_PAGE_SIZE && (va < start || va + size > end)) this.splitHuge(va);
      });
      this.forEachMapped(piece.start, piece.end, (va) => this.tables.protect(va, leafFlags(prot)));
    }
    this.vmas.mergeAround(start, end);
    return null;
  }

  /** brk(2): returns the new break, or the old one when the request cannot be met (Linux semantics). */
  setBrk(requested: number): number {
    if (requested < this.brkStart || requested > this.brkStart + BRK_MAX) return this.brkEnd;
    const oldTop = roundUp(this.brkEnd);
    const newTop = roundUp(requested);
    if (newTop > oldTop) {
      if (this.vmas.overlaps(oldTop, newTop)) return this.brkEnd;
      this.vmas.insert({ start: oldTop, end: newTop, prot: PROT_WRITE | 1, kind: VmaKind.Heap, name: '[heap]' });
      this.vmas.mergeAround(oldTop, newTop);
    } else if (newTop < oldTop) {
      this.unmapRange(newTop, oldTop);
    }
    this.brkEnd = requested;
    return requested;
  }

  /**
   * MADV_DONTNEED: the pages of anonymous areas in [start, end) go back to the host now; the areas
   * stay and read as zeros. Image pages have no file behind them to re-read, so they are kept.
   */
  discard(start: number, end: number): void {
    for (let pos = start; pos < end;) {
      const vma = this.vmas.find(pos);
      if (vma === undefined) {
        pos += PAGE_SIZE;
        continue;
      }
      const pieceEnd = Math.min(end, vma.end);
      if (vma.kind !== VmaKind.Image) this.freePages(pos, pieceEnd);
      pos = pieceEnd;
    }
  }

  /** Drops every mapping and page table: the process is gone. */
  release(): void {
    this.unmapRange(0, USER_TOP);
    this.tables.releaseTables();
  }

  /** Fills [va, va+data.length) of an existing area now (exec's segments), bypassing its protection. */
  fill(va: number, data: Uint8Array): Errno | null {
    let done = 0;
    for (let pos = va; pos < va + data.length;) {
      const vma = this.vmas.find(pos);
      if (vma === undefined) return EFAULT;
      let gpa = this.tables.translate(pos);
      if (gpa < 0) {
        if (!this.populate(vma, pos)) return ENOMEM;
        gpa = this.tables.translate(pos);
      }
      const n = Math.min(va + data.length - pos, PAGE_SIZE - (pos % PAGE_SIZE));
      this.bytes.set(data.subarray(done, done + n), gpa);
      done += n;
      pos += n;
    }
    return null;
  }

  private unmapRange(start: number, end: number): void {
    for (const piece of this.vmas.carve(start, end)) this.freePages(piece.start, piece.end);
  }

  /** Unmaps and frees the pages in [start, end), splitting huge pages that straddle an edge. */
  private freePages(start: number, end: number): void {
    this.forEachMapped(start, end, (va, size) => {
      if (size === HUGE_PAGE_SIZE && (va < start || va + size > end)) this.splitHuge(va);
    });
    this.forEachMapped(start, end, (va) => {
      const m = this.tables.unmap(va);
      if (m === null) return;
      if (m.size === PAGE_SIZE) this.allocator.freePage(m.gpa);
      else this.allocator.freeHuge(m.gpa);
    });
  }

  /** Replaces the 2 MiB page at va by 512 4 KiB pages with the same contents and protection. */
  private splitHuge(hugeVa: number): void {
    const m = this.tables.unmap(hugeVa);
    if (m === null) return;
    const vma = this.vmas.find(hugeVa);
    for (let i = 0; i < HUGE_PAGE_SIZE / PAGE_SIZE; i++) {
      const va = hugeVa + i * PAGE_SIZE;
      const inArea = this.vmas.find(va);
      if (inArea === undefined) continue;
      const gpa = this.allocator.allocPage();
      if (gpa < 0) throw new OutOfMemoryError('guest memory exhausted splitting a huge page');
      this.bytes.copyWithin(gpa, m.gpa + i * PAGE_SIZE, m.gpa + (i + 1) * PAGE_SIZE);
      this.tables.map4k(va, gpa, leafFlags((inArea ?? vma)!.prot));
    }
    this.allocator.freeHuge(m.gpa);
  }

  /** Calls fn for each present leaf mapping that intersects [start, end), with its page start. */
  private forEachMapped(start: number, end: number, fn: (va: number, size: number) => void): void {
    let va = start - (start % PAGE_SIZE);
    while (va < end) {
      const m = this.tables.lookup(va);
      if (m === null) {
        va += PAGE_SIZE;
        continue;
      }
      const pageStart = va - (va % m.size);
      fn(pageStart, m.size);
      va = pageStart + m.size;
    }
  }

  private rangeAllowed(start: number, length: number): boolean {
    const end = start + length;
    return start % PAGE_SIZE === 0 && start >= MMAP_MIN_ADDR && end <= USER_TOP && end > start &&
      (end <= RESERVED_VA_START || start >= RESERVED_VA_END);
  }

  private findFree(length: number): number {
    const top = this.layout.mmapBase;
    let start = this.vmas.findGapTopDown(length, RESERVED_VA_END, top);
    if (start < 0) start = this.vmas.findGapTopDown(length, MMAP_MIN_ADDR, Math.min(top, RESERVED_VA_START));
    return start;
  }
}

export function leafFlags(prot: number): LeafFlags {
  return { write: (prot & PROT_WRITE) !== 0, exec: (prot & PROT_EXEC) !== 0 };
}

export function roundUp(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}
