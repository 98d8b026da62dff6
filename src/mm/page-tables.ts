// The page tables of one address space, owned by the Sentry and kept in guest memory: lookups, mapping
// pages, and the range operations of munmap, mprotect and mremap. Every entry is written into guest memory
// directly, so the Sentry can always walk the tables it means; whether the guest must also replay a write
// at CPL 0, and how tables are retired and reused, is decided in table-store.ts.
import { HUGE_PAGE_SIZE, PAGE_SIZE } from '../platform/layout.js';
import {
  ADDR_HIGH_MASK, ADDR_LOW_MASK, ENTRIES, NX_HIGH, PTE_ACCESSED, PTE_HUGE, PTE_PRESENT, PTE_USER, PTE_WRITE, ROOT_LEVEL,
  SPAN, TWO_32, TableStore, Write, entryAddress, entryWord, indexAt, indexRange, isLeaf, leafEntry, mappingOf, fillMapping,
  tableEntry, type LeafFlags, type Mapping,
} from './table-store.js';

export {
  OutOfMemoryError, PTE_ACCESSED, PTE_PRESENT, PTE_USER, PTE_WRITE, QueueOverflowError, type LeafFlags, type Mapping,
  type PageTableStats, type PteQueue,
} from './table-store.js';

export class PageTables extends TableStore {
  /**
   * Counts the times mapped pages moved to other memory while their mappings stayed (a collapse): a
   * guest-physical address found before a change of this count may be a freed page now.
   */
  moves = 0;

  // ---- lookups ---------------------------------------------------------------------------------

  /** Walks to the leaf for va: the mapping, or null. */
  lookup(va: number): Mapping | null {
    return this.lookupInto(va, null);
  }

  /** lookup that fills `into` (when given) rather than allocating: for the Sentry's copies, page by page. */
  lookupInto(va: number, into: Mapping | null): Mapping | null {
    let table = this.root;
    for (let level = ROOT_LEVEL; level >= 0; level--) {
      const w = entryWord(table, indexAt(va, level));
      const lo = this.words[w]!;
      if ((lo & PTE_PRESENT) === 0) return null;
      const hi = this.words[w + 1]!;
      if (level === 0 || (level === 1 && (lo & PTE_HUGE) !== 0)) {
        return into === null ? mappingOf(lo, hi, SPAN[level]) : fillMapping(into, lo, hi, SPAN[level]);
      }
      table = entryAddress(lo, hi);
    }
    return null;
  }

  /** Guest-physical address of the byte at va, or -1 when unmapped. */
  translate(va: number): number {
    const m = this.lookup(va);
    if (m === null) return -1;
    return m.gpa + (va % m.size);
  }

  /** Whether the 2 MiB slot at va is empty (no huge page and no 4 KiB table). */
  hugeSlotEmpty(va: number): boolean {
    const table = this.tableAt(va, 1);
    if (table < 0) return true;
    return (this.words[entryWord(table, indexAt(va, 1))]! & PTE_PRESENT) === 0;
  }

  /** Whether the 2 MiB slot at va holds a table of 4 KiB pages. */
  slotHasTable(va: number): boolean {
    const table = this.tableAt(va, 1);
    if (table < 0) return false;
    const lo = this.words[entryWord(table, indexAt(va, 1))]!;
    return (lo & PTE_PRESENT) !== 0 && (lo & PTE_HUGE) === 0;
  }

  /** Calls fn for each present leaf that intersects [start, end), in address order. */
  forEachLeaf(start: number, end: number, fn: (va: number, m: Mapping) => void): void {
    this.visit(this.root, ROOT_LEVEL, 0, start, end, fn);
  }

  // ---- mapping ---------------------------------------------------------------------------------

  map4k(va: number, gpa: number, flags: LeafFlags): void {
    const table = this.walkCreate(va, 0);
    this.set(table, 0, indexAt(va, 0), ...leafEntry(gpa, flags, false), va, Write.Queued);
  }

  /** Maps a 2 MiB page; the caller has checked that the slot is empty. */
  map2m(va: number, gpa: number, flags: LeafFlags): void {
    const table = this.walkCreate(va, 1);
    this.set(table, 1, indexAt(va, 1), ...leafEntry(gpa, flags, true), va, Write.Queued);
  }

  /** Rewrites the leaf mapping va (a copy-on-write break, or new permissions). */
  setLeaf(va: number, gpa: number, flags: LeafFlags): void {
    const m = this.lookup(va);
    if (m === null) throw new Error(`no leaf at ${va.toString(16)}`);
    const level = m.size === PAGE_SIZE ? 0 : 1;
    const table = this.tableAt(va, level);
    this.set(table, level, indexAt(va, level), ...leafEntry(gpa, flags, level === 1), va - (va % m.size), Write.Queued);
  }

  /**
   * Clears the accessed bit of the leaf at va host-side only. Used after its memory was punched out: the
   * host then dropped every cached translation, so the next touch walks the tables and sets it again.
   */
  clearAccessedAfterPunch(va: number): void {
    this.setAccessedHostSide(va, false);
  }

  /** Sets the accessed bit of the leaf at va (the Sentry touched the page for the program). */
  markAccessed(va: number): void {
    this.setAccessedHostSide(va, true);
  }

  private setAccessedHostSide(va: number, on: boolean): void {
    const m = this.lookup(va);
    if (m === null) return;
    const level = m.size === PAGE_SIZE ? 0 : 1;
    const table = this.tableAt(va, level);
    const index = indexAt(va, level);
    const w = entryWord(table, index);
    this.hostStore(table, index, (on ? this.words[w]! | PTE_ACCESSED : this.words[w]! & ~PTE_ACCESSED) >>> 0, this.words[w + 1]!);
  }

  /**
   * Replaces the 2 MiB page at va by a fresh table of 512 4 KiB pages over the same memory (the
   * allocator splits it too), linked with one write. Returns false if va is not in a huge page.
   */
  splitHuge(va: number): boolean {
    const pd = this.tableAt(va, 1);
    if (pd < 0) return false;
    const index = indexAt(va, 1);
    const w = entryWord(pd, index);
    const lo = this.words[w]!;
    const hi = this.words[w + 1]!;
    if ((lo & PTE_PRESENT) === 0 || (lo & PTE_HUGE) === 0) return false;
    const gpa = entryAddress(lo, hi);
    this.allocator.splitHuge(gpa);
    const pt = this.allocTable();
    const leafLo = (lo & ~PTE_HUGE & ~ADDR_LOW_MASK) >>> 0;
    for (let i = 0; i < ENTRIES; i++) {
      const page = gpa + i * PAGE_SIZE;
      this.store(pt, i, (leafLo | (page % TWO_32)) >>> 0, ((hi & ~ADDR_HIGH_MASK) | Math.floor(page / TWO_32)) >>> 0);
    }
    const slot = va - (va % HUGE_PAGE_SIZE);
    this.set(pd, 1, index, ...tableEntry(pt), slot, Write.Queued);
    return true;
  }

  /**
   * Replaces the table of 4 KiB pages in the 2 MiB slot at va by the huge page hugeGpa: the pages the
   * program touched are copied in (copy(fromGpa, toGpa)), every page is freed, the table retired.
   * The caller has checked that each page has no other user.
   */
  collapse(va: number, hugeGpa: number, flags: LeafFlags, copy: (from: number, to: number) => void): void {
    const slot = va - (va % HUGE_PAGE_SIZE);
    const pd = this.tableAt(slot, 1);
    const index = indexAt(slot, 1);
    const w = entryWord(pd, index);
    const pt = entryAddress(this.words[w]!, this.words[w + 1]!);
    this.allocator.batchFrees(() => {
      for (let i = 0; i < ENTRIES; i++) {
        const lo = this.words[entryWord(pt, i)]!;
        if ((lo & PTE_PRESENT) === 0) continue;
        const gpa = entryAddress(lo, this.words[entryWord(pt, i) + 1]!);
        if ((lo & PTE_ACCESSED) !== 0) copy(gpa, hugeGpa + i * PAGE_SIZE);
        this.allocator.freePage(gpa);
        this.hostStore(pt, i, 0, 0);
      }
    });
    this.set(pd, 1, index, ...leafEntry(hugeGpa, flags, true), slot, Write.Queued);
    this.retire(pt, []);
    this.moves++;
  }

  // ---- ranges ----------------------------------------------------------------------------------

  /**
   * Unmaps [start, end) (page aligned) and drops the references the mappings held (punching pages
   * freed). Huge pages straddling an edge are split first. A table whose whole range is cleared is
   * retired; one left empty, with no area over its range any more, is kept idle for reuse.
   */
  clearRange(start: number, end: number): void {
    this.allocator.batchFrees(() => this.clearIn(this.root, ROOT_LEVEL, 0, start, end));
  }

  /**
   * Takes permissions away from the leaves in [start, end): each keeps a right only if allowed here.
   * (Rights are given back lazily, by the fault that needs them.) Huge pages straddling an edge are split.
   */
  restrict(start: number, end: number, allowed: { user: boolean; write: boolean; exec: boolean }): void {
    this.splitEdges(start, end);
    this.restrictIn(this.root, ROOT_LEVEL, 0, start, end, allowed);
  }

  /**
   * fork: gives `child` (a new address space's tables, which no vCPU has run) the leaves of [start, end)
   * of one area, as they are here, each page with one more reference; where `cow` (a private writable
   * area), writable entries become read-only in the child. A used, writable 4 KiB page is first offered
   * to `copy`, which returns a page of the child's own holding a copy, or -1 to share it. Returns the
   * [start, end) runs of entries still writable here whose pages the child now shares: the caller
   * takes the right to write away from them (restrict).
   */
  forkInto(child: PageTables, start: number, end: number, cow: boolean, copy: (gpa: number) => number): number[] {
    const runs: number[] = [];
    this.forkIn(child, this.root, ROOT_LEVEL, 0, start, end, cow, copy, runs);
    return runs;
  }

  private forkIn(child: PageTables, table: number, level: number, base: number, start: number, end: number, cow: boolean,
    copy: (gpa: number) => number, runs: number[]): void {
    const span = SPAN[level];
    const [first, last] = indexRange(base, span, start, end);
    let childTable = -1;
    for (let i = first; i <= last; i++) {
      if (level === ROOT_LEVEL && this.sharedRootIndexes.has(i)) continue;
      const w = entryWord(table, i);
      const lo = this.words[w]!;
      if ((lo & PTE_PRESENT) === 0) continue;
      const hi = this.words[w + 1]!;
      const slot = base + i * span;
      if (!isLeaf(level, lo)) {
        this.forkIn(child, entryAddress(lo, hi), level - 1, slot, start, end, cow, copy, runs);
        continue;
      }
      if (childTable < 0) childTable = child.walkCreate(slot, level);
      const gpa = entryAddress(lo, hi);
      const writable = cow && (lo & PTE_WRITE) !== 0;
      if (writable && level === 0 && (lo & PTE_ACCESSED) !== 0) {
        const own = copy(gpa);
        if (own >= 0) {
          child.store(childTable, i, ((lo & ~ADDR_LOW_MASK) | (own % TWO_32)) >>> 0, ((hi & ~ADDR_HIGH_MASK) | Math.floor(own / TWO_32)) >>> 0);
          continue;
        }
      }
      this.allocator.ref(gpa, level === 0 ? PAGE_SIZE : HUGE_PAGE_SIZE);
      child.store(childTable, i, writable ? (lo & ~PTE_WRITE) >>> 0 : lo, hi);
      if (!writable) continue;
      if (runs.length > 0 && runs[runs.length - 1] === slot) runs[runs.length - 1] = slot + span;
      else runs.push(slot, slot + span);
    }
  }

  /**
   * Moves the mappings of [src, src+length) to [dst, dst+length), which must be empty (mremap). Pages
   * stay where they are in memory. Whole 2 MiB slots that land on 2 MiB boundaries move with one write
   * each (a huge page, or a whole table of 4 KiB pages); the rest moves leaf by leaf.
   */
  move(src: number, dst: number, length: number): void {
    this.splitEdges(src, src + length);
    if ((dst - src) % HUGE_PAGE_SIZE !== 0) {
      // Huge pages cannot land on a 2 MiB boundary: take them apart first.
      this.forEachLeaf(src, src + length, (va, m) => { if (m.size === HUGE_PAGE_SIZE) this.splitHuge(va); });
    }
    this.moveIn(this.root, ROOT_LEVEL, 0, src, src + length, dst - src);
  }

  /**
   * Queues the entries on the path to va again (their values unchanged): for a fault the tables say
   * cannot happen, in case the guest's view went stale. Never needed by the rules above; a safety net.
   */
  replayPath(va: number): void {
    let table = this.root;
    for (let level = ROOT_LEVEL; level >= 0; level--) {
      const index = indexAt(va, level);
      const w = entryWord(table, index);
      const lo = this.words[w]!;
      const hi = this.words[w + 1]!;
      if ((lo & PTE_PRESENT) === 0 || this.queue === null) return;
      if (!this.fresh.has(table)) this.set(table, level, index, lo, hi, va - (va % SPAN[level]), Write.Queued);
      if (isLeaf(level, lo)) return;
      table = entryAddress(lo, hi);
    }
  }

  /**
   * The address space is dead and no vCPU has these tables loaded: frees every page they map and retires
   * every table, the root included. A page that was a table is handed out again as a table only after the
   * guest itself cleared what it held, so that no shadow of an old entry (PVM) outlives it: the upper
   * tables are scrubbed entry by entry through the replay queue, while a leaf table, whose entries are
   * many (and would each be replayed at emulated CPL 0), is only unlinked by its parent's scrub and
   * tainted, so that it comes back as data, never as a table.
   */
  releaseAll(): void {
    this.idle.clear();
    this.allocator.batchFrees(() => this.releaseIn(this.root, ROOT_LEVEL));
  }

  private releaseIn(table: number, level: number): void {
    const scrub: number[] = [];
    for (let i = 0; i < ENTRIES; i++) {
      if (level === ROOT_LEVEL && this.sharedRootIndexes.has(i)) continue;
      const w = entryWord(table, i);
      const lo = this.words[w]!;
      if ((lo & PTE_PRESENT) === 0) continue;
      const address = entryAddress(lo, this.words[w + 1]!);
      if (isLeaf(level, lo)) {
        if (level === 0) this.allocator.freePage(address);
        else this.allocator.freeHuge(address);
      } else {
        this.releaseIn(address, level - 1);
      }
      if (level > 0) scrub.push(i);
      this.stats.updates++;
    }
    if (level === 0) this.allocator.taint(table);
    this.retire(table, scrub);
  }

  // ---- range walkers ---------------------------------------------------------------------------

  private clearIn(table: number, level: number, base: number, start: number, end: number): void {
    const span = SPAN[level];
    const [first, last] = indexRange(base, span, start, end);
    for (let i = first; i <= last; i++) {
      if (level === ROOT_LEVEL && this.sharedRootIndexes.has(i)) continue;
      table = this.live(table);
      const w = entryWord(table, i);
      let lo = this.words[w]!;
      if ((lo & PTE_PRESENT) === 0) continue;
      const slot = base + i * span;
      const slotEnd = slot + span;
      const whole = start <= slot && slotEnd <= end;
      if (isLeaf(level, lo)) {
        if (whole) {
          const gpa = entryAddress(lo, this.words[w + 1]!);
          const freed = level === 0 ? this.allocator.freePage(gpa) : this.allocator.freeHuge(gpa);
          this.set(table, level, i, 0, 0, slot, level === 0 && freed ? Write.HostOnly : Write.Queued);
          continue;
        }
        this.splitHuge(slot);
        table = this.live(table);
        lo = this.words[entryWord(table, i)]!;
      }
      const child = entryAddress(lo, this.words[entryWord(table, i) + 1]!);
      if (whole) {
        const scrub = this.empty(child, level - 1);
        this.set(table, level, i, 0, 0, slot, Write.Queued);
        this.retire(child, scrub);
        continue;
      }
      this.clearIn(child, level - 1, slot, start, end);
      if (!this.inUse(slot, slotEnd) && this.isEmpty(this.live(child))) this.keepIdle(level, slot);
    }
  }

  /** Clears a table that is about to be unlinked; returns the entries its shadow may still hold. */
  private empty(table: number, level: number): number[] {
    const scrub: number[] = [];
    for (let i = 0; i < ENTRIES; i++) {
      const w = entryWord(table, i);
      const lo = this.words[w]!;
      if ((lo & PTE_PRESENT) === 0) continue;
      const address = entryAddress(lo, this.words[w + 1]!);
      this.hostStore(table, i, 0, 0);
      this.stats.updates++;
      if (isLeaf(level, lo)) {
        const freed = level === 0 ? this.allocator.freePage(address) : this.allocator.freeHuge(address);
        if (level !== 0 || !freed) scrub.push(i);
      } else {
        this.retire(address, this.empty(address, level - 1));
        scrub.push(i);
      }
    }
    return scrub;
  }

  private restrictIn(table: number, level: number, base: number, start: number, end: number,
    allowed: { user: boolean; write: boolean; exec: boolean }): void {
    this.visitPresent(table, level, base, start, end, (t, i, lo, hi, slot) => {
      if (!isLeaf(level, lo)) {
        this.restrictIn(entryAddress(lo, hi), level - 1, slot, start, end, allowed);
        return;
      }
      let newLo = lo;
      let newHi = hi;
      if (!allowed.user) newLo &= ~PTE_USER;
      if (!allowed.write) newLo &= ~PTE_WRITE;
      if (!allowed.exec) newHi |= NX_HIGH;
      if (newLo !== lo || newHi >>> 0 !== hi) this.set(t, level, i, newLo >>> 0, newHi >>> 0, slot, Write.Queued);
    });
  }

  private moveIn(table: number, level: number, base: number, start: number, end: number, delta: number): void {
    const span = SPAN[level];
    this.visitPresent(table, level, base, start, end, (t, i, lo, hi, slot) => {
      const whole = start <= slot && slot + span <= end;
      if (level === 0 || (level === 1 && whole && delta % HUGE_PAGE_SIZE === 0)) {
        // A 4 KiB leaf, or a whole 2 MiB slot (huge page or table) landing on a 2 MiB boundary.
        const target = slot + delta;
        const dstTable = this.walkCreate(target, level);
        this.set(dstTable, level, indexAt(target, level), lo, hi, target, Write.Queued);
        this.set(this.live(t), level, i, 0, 0, slot, Write.Queued);
        if (!isLeaf(level, lo)) this.queue?.flushAll();
        return;
      }
      // Huge pages that do not fit were split by move(); here lo is a link to a lower table.
      this.moveIn(entryAddress(lo, hi), level - 1, slot, start, end, delta);
    });
  }

  /**
   * Calls visit for each present entry of `table` (at `level`, covering from `base`) that overlaps
   * [start, end), the shared root entries excepted. The table is looked up again before each entry, as
   * a write may have replaced it (TableStore.live).
   */
  private visitPresent(table: number, level: number, base: number, start: number, end: number,
    visit: (table: number, index: number, lo: number, hi: number, slot: number) => void): void {
    const span = SPAN[level];
    const [first, last] = indexRange(base, span, start, end);
    for (let i = first; i <= last; i++) {
      if (level === ROOT_LEVEL && this.sharedRootIndexes.has(i)) continue;
      table = this.live(table);
      const w = entryWord(table, i);
      const lo = this.words[w]!;
      if ((lo & PTE_PRESENT) === 0) continue;
      visit(table, i, lo, this.words[w + 1]!, base + i * span);
    }
  }

  private visit(table: number, level: number, base: number, start: number, end: number, fn: (va: number, m: Mapping) => void): void {
    const span = SPAN[level];
    const [first, last] = indexRange(base, span, start, end);
    for (let i = first; i <= last; i++) {
      if (level === ROOT_LEVEL && this.sharedRootIndexes.has(i)) continue;
      const w = entryWord(table, i);
      const lo = this.words[w]!;
      if ((lo & PTE_PRESENT) === 0) continue;
      const hi = this.words[w + 1]!;
      const slot = base + i * span;
      if (isLeaf(level, lo)) fn(slot, mappingOf(lo, hi, span));
      else this.visit(entryAddress(lo, hi), level - 1, slot, start, end, fn);
    }
  }

  /** Splits the huge pages that [start, end) cuts through. */
  private splitEdges(start: number, end: number): void {
    for (const edge of [start, end]) {
      if (edge % HUGE_PAGE_SIZE === 0) continue;
      const m = this.lookup(edge);
      if (m !== null && m.size === HUGE_PAGE_SIZE) this.splitHuge(edge);
    }
  }

}
