// Pages behind the areas: what a fault maps, how a copy-on-write page is broken, what MAP_POPULATE,
// MADV_DONTNEED and msync do to pages. AddressSpace decides whether an access is allowed; the Pager
// makes it possible.
//
// Faults are the expensive event on this platform (a VM exit and emulated CPL 0 work, 30-40 us), so a
// fault maps as much as Linux semantics allow:
//  - private anonymous memory gets a 2 MiB page whenever its area covers the aligned 2 MiB slot (the
//    host commits memory only where the program touches it, so this costs no host memory), and a slot
//    that already holds 4 KiB pages is collapsed into one 2 MiB page when it next faults (like Linux's
//    khugepaged, at once);
//  - elsewhere a fault maps the rest of its 64 KiB window too (fault-around), and a new writable private
//    mapping gets its first 64 KiB mapped at once, before any fault. Pages mapped ahead start with the
//    accessed bit clear, so mincore still reports only what the program touched, and cost no host memory
//    until touched (nor a replay: the entries were not present);
//  - a fault in a private read-only file mapping whose window was cached already (a library another
//    process mapped) maps every cached page of its aligned 1 MiB as well (mapCachedAround): no read,
//    no host memory, one entry each, where each fault spared is a VM exit;
//  - exec maps every page of the program's and interpreter's segments that the page cache holds already
//    (populateCached: a program run before, or the one that forks and execs itself, faults on nothing)
//    and reads nothing for the rest: a large program such as cc1 (30 MiB) touches a fraction of its
//    pages, and reading and mapping all of them cost more than the faults of those it touches.
import { PAGE_SIZE, HUGE_PAGE_SIZE } from '../platform/layout.js';
import type { Mappable } from './mappable.js';
import type { FileCache } from './page-cache.js';
import { OutOfMemoryError, type LeafFlags, type Mapping, type PageTables } from './page-tables.js';
import type { PageAllocator } from './physical.js';
import { Advice, canExec, canRead, canWrite, fileOffset, type Vma } from './vma.js';

/** Pages mapped by one fault outside 2 MiB pages: Linux's fault_around_bytes. */
const FAULT_AROUND_BYTES = 64 * 1024;
/** What a fault on a file whose pages are all cached maps of them around it: see mapCachedAround. */
const MAP_CACHED_AROUND_BYTES = 1024 * 1024;

export const enum PageResult { Mapped, OutOfMemory, Bus }

export interface PagerStats {
  hugePages: number;
  /** Pages mapped before the program touched them (fault-around, new mappings). */
  mappedAhead: number;
  collapses: number;
  copyOnWrite: number;
}

export class Pager {
  readonly stats: PagerStats = { hugePages: 0, mappedAhead: 0, collapses: 0, copyOnWrite: 0 };

  /**
   * Whether at most one task runs on these tables. Collapsing copies pages while the program runs on:
   * another thread, on another vCPU, could write a page after its copy, and the write would be lost.
   */
  soleTask: () => boolean = () => true;

  constructor(readonly tables: PageTables, readonly allocator: PageAllocator, private readonly bytes: Uint8Array) {}

  /**
   * Makes the page at va usable for the access (the caller checked the area allows it): maps it, breaks
   * copy-on-write, or gives back rights that mprotect took away lazily.
   */
  fault(vma: Vma, va: number, write: boolean): PageResult {
    try {
      const m = this.tables.lookup(va);
      if (m !== null) return this.upgrade(vma, va, m, write);
      if (vma.file === null) return this.anonymousFault(vma, va);
      return this.fileFault(vma, va, write);
    } catch (err) {
      if (err instanceof OutOfMemoryError) return PageResult.OutOfMemory;
      throw err;
    }
  }

  /** Maps every page of [start, end) inside vma now (MAP_POPULATE, MADV_WILLNEED, mlock). */
  populate(vma: Vma, start: number, end: number, write: boolean): PageResult {
    for (let va = start; va < end;) {
      const r = this.fault(vma, va, write);
      if (r !== PageResult.Mapped) return r;
      const m = this.tables.lookup(va);
      va = m === null ? va + PAGE_SIZE : va - (va % m.size) + m.size;
    }
    return PageResult.Mapped;
  }

  /**
   * Maps the pages of private file mapping [start, end) that its file's page cache holds already, and
   * reads nothing: exec's head start. A file without a page cache is populated whole.
   */
  populateCached(vma: Vma, start: number, end: number): void {
    const file = vma.file;
    if (file === null || vma.shared) return;
    const cache = file.cache;
    if (cache === undefined) {
      this.populate(vma, start, end, false);
      return;
    }
    const last = Math.min(end, vma.start + (roundUpPage(cache.size) - vma.offset));
    const copies = canWrite(vma);
    try {
      for (let va = start; va < last; va += PAGE_SIZE) {
        const page = cache.page(fileOffset(vma, va) / PAGE_SIZE);
        if (page === 0 || this.tables.lookup(va) !== null) continue;
        if (copies) {
          const copy = this.allocator.allocPage();
          if (copy < 0) return;
          this.bytes.copyWithin(copy, page, page + PAGE_SIZE);
          this.tables.map4k(va, copy, leafFlags(vma, true, false));
        } else {
          this.allocator.ref(page);
          this.tables.map4k(va, page, leafFlags(vma, false, false));
        }
        this.stats.mappedAhead++;
      }
    } catch (err) {
      if (!(err instanceof OutOfMemoryError)) throw err;
    }
  }

  /**
   * Maps the first 64 KiB of private anonymous [start, end) ahead of use, where they will not take a
   * 2 MiB page. Stops quietly when guest memory runs short: it is only a head start.
   */
  mapAhead(vma: Vma, start: number, end: number): void {
    const to = Math.min(end, start + FAULT_AROUND_BYTES);
    const flags = leafFlags(vma, true, false);
    try {
      for (let va = start; va < to; va += PAGE_SIZE) {
        const slot = va - (va % HUGE_PAGE_SIZE);
        if (hugeAllowed(vma) && slot >= vma.start && slot + HUGE_PAGE_SIZE <= vma.end) continue;
        if (this.tables.lookup(va) !== null) continue;
        const gpa = this.allocator.allocPage();
        if (gpa < 0) return;
        this.tables.map4k(va, gpa, flags);
        this.stats.mappedAhead++;
      }
    } catch (err) {
      if (!(err instanceof OutOfMemoryError)) throw err;
    }
  }

  /** Unmaps [start, end). */
  clear(start: number, end: number): void {
    this.tables.clearRange(start, end);
  }

  /**
   * MADV_DONTNEED: the contents of [start, end) inside vma go. Private anonymous pages stay mapped and
   * their memory is punched out (the program reads zeros, no page-table change at all); pages of an
   * object are unmapped, so the next access finds the object's contents again.
   */
  discard(vma: Vma, start: number, end: number): void {
    if (vma.file !== null) {
      if (vma.shared) this.writeBack(vma, start, end);
      this.clear(start, end);
      return;
    }
    const shared: Array<[number, number]> = [];
    this.tables.forEachLeaf(start, end, (va, m) => {
      const from = Math.max(va, start);
      const to = Math.min(va + m.size, end);
      if (this.allocator.refCount(m.gpa, m.size) > 1) {
        shared.push([from, to]);
        return;
      }
      this.allocator.discard(m.gpa + (from - va), to - from);
      if (from === va && to === va + m.size) this.tables.clearAccessedAfterPunch(va);
    });
    for (const [from, to] of shared) this.clear(from, to);
  }

  /** Writes the pages of a shared mapping of a file without pages of its own back to the file. */
  writeBack(vma: Vma, start: number, end: number): void {
    const file = vma.file;
    if (file === null || !vma.shared) return;
    this.tables.forEachLeaf(start, end, (va, m) => {
      // A page with more users belongs to the file itself (its page cache): nothing to write.
      if (this.allocator.refCount(m.gpa) !== 1) return;
      const offset = fileOffset(vma, va);
      const length = Math.min(m.size, file.size() - offset);
      if (length > 0) file.writeAt(offset, this.bytes.subarray(m.gpa, m.gpa + length));
    });
  }

  /** Whether the 2 MiB slot at va could become one huge page: all its pages private to this mapping. */
  collapsible(vma: Vma, slot: number): boolean {
    if (!this.soleTask() || !hugeAllowed(vma) || slot < vma.start || slot + HUGE_PAGE_SIZE > vma.end || !this.tables.slotHasTable(slot)) return false;
    let ok = true;
    this.tables.forEachLeaf(slot, slot + HUGE_PAGE_SIZE, (_va, m) => {
      if (this.allocator.refCount(m.gpa) !== 1) ok = false;
    });
    return ok;
  }

  /** Replaces the 4 KiB pages of the slot by one 2 MiB page; false when no huge page is free. */
  collapse(vma: Vma, slot: number): boolean {
    const huge = this.allocator.allocHuge();
    if (huge < 0) return false;
    this.tables.collapse(slot, huge, leafFlags(vma, true, true), (from, to) => this.bytes.copyWithin(to, from, from + PAGE_SIZE));
    this.stats.collapses++;
    return true;
  }

  // ---- faults ----------------------------------------------------------------------------------

  private upgrade(vma: Vma, va: number, m: Mapping, write: boolean): PageResult {
    const base = va - (va % m.size);
    if (write && !m.writable && !vma.shared && this.allocator.refCount(m.gpa, m.size) > 1) return this.breakCopyOnWrite(vma, base, m);
    const exclusive = vma.shared || this.allocator.refCount(m.gpa, m.size) === 1;
    const flags = leafFlags(vma, exclusive, true);
    if (flags.user !== m.user || flags.write !== m.writable || flags.exec !== m.exec || !m.accessed) {
      this.tables.setLeaf(base, m.gpa, flags);
    }
    return PageResult.Mapped;
  }

  private breakCopyOnWrite(vma: Vma, base: number, m: Mapping): PageResult {
    const gpa = m.size === PAGE_SIZE ? this.allocator.allocPage() : this.allocator.allocHuge();
    if (gpa < 0) return PageResult.OutOfMemory;
    this.bytes.copyWithin(gpa, m.gpa, m.gpa + m.size);
    this.tables.setLeaf(base, gpa, leafFlags(vma, true, true));
    if (m.size === PAGE_SIZE) this.allocator.freePage(m.gpa);
    else this.allocator.freeHuge(m.gpa);
    this.stats.copyOnWrite++;
    return PageResult.Mapped;
  }

  private anonymousFault(vma: Vma, va: number): PageResult {
    const slot = va - (va % HUGE_PAGE_SIZE);
    if (hugeAllowed(vma) && slot >= vma.start && slot + HUGE_PAGE_SIZE <= vma.end) {
      if (this.tables.hugeSlotEmpty(slot)) {
        const gpa = this.allocator.allocHuge();
        if (gpa >= 0) {
          this.tables.map2m(slot, gpa, leafFlags(vma, true, true));
          this.stats.hugePages++;
          return PageResult.Mapped;
        }
      } else if (this.collapsible(vma, slot) && this.collapse(vma, slot)) {
        return PageResult.Mapped;
      }
    }
    const gpa = this.allocator.allocPage();
    if (gpa < 0) return PageResult.OutOfMemory;
    this.tables.map4k(va, gpa, leafFlags(vma, true, true));
    const [from, to] = this.window(vma, va, vma.end);
    const ahead = leafFlags(vma, true, false);
    for (let p = from; p < to; p += PAGE_SIZE) {
      if (p === va || this.tables.lookup(p) !== null) continue;
      const page = this.allocator.allocPage();
      if (page < 0) break;
      this.tables.map4k(p, page, ahead);
      this.stats.mappedAhead++;
    }
    return PageResult.Mapped;
  }

  private fileFault(vma: Vma, va: number, write: boolean): PageResult {
    const file = vma.file!;
    if (file.cache !== undefined && !vma.shared) return this.cachedFault(vma, file, file.cache, va);
    const offset = fileOffset(vma, va);
    const eof = roundUpPage(file.size());
    // "SIGBUS: attempted access to a portion of the buffer that does not correspond to the file".
    if (offset >= eof) return PageResult.Bus;
    const page = file.sharedPage(offset);
    if (typeof page === 'number') {
      if (vma.shared || !write) {
        // The file's own page: shared mappings write to it; private ones read it until they write.
        this.allocator.ref(page);
        this.tables.map4k(va, page, leafFlags(vma, vma.shared, true));
        return PageResult.Mapped;
      }
      const copy = this.allocator.allocPage();
      if (copy < 0) return PageResult.OutOfMemory;
      this.bytes.copyWithin(copy, page, page + PAGE_SIZE);
      this.tables.map4k(va, copy, leafFlags(vma, true, true));
      this.stats.copyOnWrite++;
      return PageResult.Mapped;
    }
    if (page !== null) return PageResult.Bus;
    return this.readFileWindow(vma, file, va, vma.start + (eof - vma.offset));
  }

  /** A file without pages of its own: this mapping's pages are filled from it, a window at a time. */
  private readFileWindow(vma: Vma, file: Mappable, va: number, eofVa: number): PageResult {
    let [from, to] = this.window(vma, va, Math.min(vma.end, eofVa));
    // Only the run of absent pages around va, so that one read fills them all.
    for (let p = va - PAGE_SIZE; p >= from; p -= PAGE_SIZE) if (this.tables.lookup(p) !== null) { from = p + PAGE_SIZE; break; }
    for (let p = va + PAGE_SIZE; p < to; p += PAGE_SIZE) if (this.tables.lookup(p) !== null) { to = p; break; }
    const pages: number[] = [];
    for (let p = from; p < to; p += PAGE_SIZE) {
      const gpa = this.allocator.allocPage();
      if (gpa < 0) break;
      pages.push(gpa);
    }
    if (pages.length === 0) return PageResult.OutOfMemory;
    to = from + pages.length * PAGE_SIZE;
    if (va >= to) {
      for (const gpa of pages) this.allocator.freePage(gpa);
      return PageResult.OutOfMemory;
    }
    const buffer = new Uint8Array(to - from);
    const n = file.readAt(fileOffset(vma, from), buffer);
    if (typeof n !== 'number') {
      for (const gpa of pages) this.allocator.freePage(gpa);
      return PageResult.Bus;
    }
    pages.forEach((gpa, i) => {
      this.bytes.set(buffer.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), gpa);
      const p = from + i * PAGE_SIZE;
      this.tables.map4k(p, gpa, leafFlags(vma, true, p === va));
      if (p !== va) this.stats.mappedAhead++;
    });
    return PageResult.Mapped;
  }

  /**
   * A private mapping of a file with a page cache: the window's pages are read into the cache if they
   * are not there, then mapped: the cache's own pages, read-only, where the mapping cannot write;
   * copies where it can (it would fault again to copy at its first write, and faults cost more here).
   */
  private cachedFault(vma: Vma, file: Mappable, cache: FileCache, va: number): PageResult {
    let size = cache.size;
    if (fileOffset(vma, va) >= roundUpPage(size)) {
      // Past the end as last seen: the file may have grown on the host since.
      size = file.size();
      if (fileOffset(vma, va) >= roundUpPage(size)) return PageResult.Bus;
    }
    const [from, to] = this.window(vma, va, Math.min(vma.end, vma.start + (roundUpPage(size) - vma.offset)));
    const first = fileOffset(vma, from) / PAGE_SIZE;
    const filled = cache.fill(first, (to - from) / PAGE_SIZE, (offset, dst) => file.readAt(offset, dst));
    if (typeof filled !== 'number') return PageResult.Bus;
    const copies = canWrite(vma);
    for (let p = from; p < to; p += PAGE_SIZE) {
      if (p !== va && this.tables.lookup(p) !== null) continue;
      const page = cache.page(first + (p - from) / PAGE_SIZE);
      if (page === 0) {
        if (p === va) return PageResult.OutOfMemory;
        continue;
      }
      if (copies) {
        const copy = this.allocator.allocPage();
        if (copy < 0) {
          if (p === va) return PageResult.OutOfMemory;
          break;
        }
        this.bytes.copyWithin(copy, page, page + PAGE_SIZE);
        this.tables.map4k(p, copy, leafFlags(vma, true, p === va));
      } else {
        this.allocator.ref(page);
        this.tables.map4k(p, page, leafFlags(vma, false, p === va));
      }
      if (p !== va) this.stats.mappedAhead++;
    }
    if (filled === 0 && !copies) this.mapCachedAround(vma, cache, va, size);
    return PageResult.Mapped;
  }

  /**
   * A fault that read nothing (the file's pages were cached: another process runs the same library)
   * maps the rest of the cached pages of its aligned 1 MiB too, as they are: mapping a cached page
   * costs a page-table entry, where each fault it spares costs a VM exit. Pages not cached stay for
   * their own faults, which read them.
   */
  private mapCachedAround(vma: Vma, cache: FileCache, va: number, size: number): void {
    const base = va - (va % MAP_CACHED_AROUND_BYTES);
    const from = Math.max(base, vma.start);
    const to = Math.min(base + MAP_CACHED_AROUND_BYTES, vma.end, vma.start + (roundUpPage(size) - vma.offset));
    const flags = leafFlags(vma, false, false);
    try {
      for (let p = from; p < to; p += PAGE_SIZE) {
        const page = cache.page(fileOffset(vma, p) / PAGE_SIZE);
        if (page === 0 || this.tables.lookup(p) !== null) continue;
        this.tables.map4k(p, page, flags);
        this.allocator.ref(page);
        this.stats.mappedAhead++;
      }
    } catch (err) {
      // No page left for a table: the fault itself is served, and this was only a head start.
      if (!(err instanceof OutOfMemoryError)) throw err;
    }
  }

  /** The fault-around window of va: its aligned 64 KiB, clipped to the area and to `limit`. */
  private window(vma: Vma, va: number, limit: number): [number, number] {
    const start = va - (va % FAULT_AROUND_BYTES);
    return [Math.max(start, vma.start), Math.min(start + FAULT_AROUND_BYTES, vma.end, limit)];
  }
}

/** Whether private anonymous memory in vma may use 2 MiB pages. */
export function hugeAllowed(vma: Vma): boolean {
  return vma.file === null && !vma.shared && (vma.advice & Advice.noHugePage) === 0;
}

/**
 * Entry rights for a page of vma. A private mapping writes only to pages it alone uses: a page shared
 * with the file (or, later, a parent process) stays read-only until the write that copies it.
 */
export function leafFlags(vma: Vma, exclusive: boolean, accessed: boolean): LeafFlags {
  return { user: canRead(vma), write: canWrite(vma) && exclusive, exec: canExec(vma), accessed };
}

function roundUpPage(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}
