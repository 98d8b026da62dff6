// The page tables of one address space, owned by the Sentry and kept in guest memory.
//
// Every entry is written into guest memory directly, so the Sentry can always walk the tables it means.
// Once the guest has run on these tables, a write to an entry it may have cached is also queued for
// the stub to replay at CPL 0 (see platform/queue.ts): that is the only way the PVM host's shadow page
// tables learn of it. Tables created since the last batch are not yet linked where the guest has looked,
// so filling them needs no replay; only the write that links them does.
import { RootEntry } from '../platform/boot.js';
import { HUGE_PAGE_SIZE, PAGE_SIZE } from '../platform/layout.js';
import type { PageTableQueue } from '../platform/queue.js';
import type { PageAllocator } from './physical.js';

export const PTE_PRESENT = 0x1;
export const PTE_WRITE = 0x2;
export const PTE_USER = 0x4;
const PTE_ACCESSED = 0x20;
const PTE_DIRTY = 0x40;
const PTE_HUGE = 0x80;
const NX_HIGH = 0x8000_0000;
/** Physical address bits of an entry: low word 31..12, high word 19..0 (bits 51..32). */
const ADDR_LOW_MASK = 0xffff_f000;
const ADDR_HIGH_MASK = 0x000f_ffff;
const TWO_32 = 0x1_0000_0000;

export interface Mapping {
  /** Guest-physical address of the page (4 KiB or 2 MiB) mapping va. */
  gpa: number;
  size: number;
  writable: boolean;
}

export interface LeafFlags {
  write: boolean;
  exec: boolean;
}

export class OutOfMemoryError extends Error {}

export class PageTables {
  readonly root: number;
  private readonly words: Uint32Array;
  /** Null until the guest runs on these tables: until then host-side writes are all it takes. */
  queue: PageTableQueue | null = null;
  private readonly fresh = new Set<number>();
  private tablePages: number[] = [];
  updates = 0;

  constructor(memory: ArrayBuffer, private readonly allocator: PageAllocator, shared: readonly RootEntry[]) {
    this.words = new Uint32Array(memory);
    this.root = this.allocTable();
    for (const [index, lo, hi] of shared) this.writeEntry(this.root, index, lo, hi, 0);
  }

  /** The guest has applied everything queued so far: new tables now count as live. */
  endBatch(): void {
    this.fresh.clear();
  }

  /** Walks to the leaf for va: the mapping, or null. */
  lookup(va: number): Mapping | null {
    let table = this.root;
    for (let level = 3; level >= 0; level--) {
      const w = this.entryWord(table, indexAt(va, level));
      const lo = this.words[w]!;
      if ((lo & PTE_PRESENT) === 0) return null;
      const next = entryAddress(lo, this.words[w + 1]!);
      if (level === 0 || (level === 1 && (lo & PTE_HUGE) !== 0)) {
        return { gpa: next, size: level === 0 ? PAGE_SIZE : HUGE_PAGE_SIZE, writable: (lo & PTE_WRITE) !== 0 };
      }
      table = next;
    }
    return null;
  }

  /** Guest-physical address of the byte at va, or -1 when unmapped. */
  translate(va: number): number {
    const m = this.lookup(va);
    if (m === null) return -1;
    return m.gpa + (va % m.size);
  }

  map4k(va: number, gpa: number, flags: LeafFlags): void {
    const table = this.walkCreate(va, 0);
    this.writeLeaf(table, indexAt(va, 0), gpa, flags, 0, va);
  }

  /** Maps a 2 MiB page; the caller has checked that no 4 KiB table covers the range. */
  map2m(va: number, gpa: number, flags: LeafFlags): void {
    const table = this.walkCreate(va, 1);
    this.writeLeaf(table, indexAt(va, 1), gpa, flags, PTE_HUGE, va);
  }

  /** Whether the 2 MiB slot at va is empty (no huge page and no 4 KiB table). */
  hugeSlotEmpty(va: number): boolean {
    const table = this.walkExisting(va, 1);
    if (table < 0) return true;
    return (this.words[this.entryWord(table, indexAt(va, 1))]! & PTE_PRESENT) === 0;
  }

  /** Clears the leaf mapping va; returns what was mapped there. A huge page is unmapped whole. */
  unmap(va: number): Mapping | null {
    const m = this.lookup(va);
    if (m === null) return null;
    const level = m.size === PAGE_SIZE ? 0 : 1;
    const table = this.walkExisting(va, level);
    const pageVa = va - (va % m.size);
    this.writeEntry(table, indexAt(va, level), 0, 0, pageVa);
    return m;
  }

  /** Changes the permissions of the leaf mapping va, if any. */
  protect(va: number, flags: LeafFlags): void {
    const m = this.lookup(va);
    if (m === null) return;
    const level = m.size === PAGE_SIZE ? 0 : 1;
    const table = this.walkExisting(va, level);
    this.writeLeaf(table, indexAt(va, level), m.gpa, flags, level === 1 ? PTE_HUGE : 0, va - (va % m.size));
  }

  /** Frees every page-table page (the address space is gone); data pages are the caller's. */
  releaseTables(): void {
    for (const page of this.tablePages) this.allocator.freePage(page);
    this.tablePages = [];
  }

  private writeLeaf(table: number, index: number, gpa: number, flags: LeafFlags, extra: number, va: number): void {
    const lo = (gpa >>> 0) | PTE_PRESENT | PTE_USER | PTE_ACCESSED | PTE_DIRTY | extra | (flags.write ? PTE_WRITE : 0);
    const hi = Math.floor(gpa / TWO_32) | (flags.exec ? 0 : NX_HIGH);
    this.writeEntry(table, index, lo >>> 0, hi >>> 0, va);
  }

  /** The table at `level` covering va, creating missing intermediate tables. */
  private walkCreate(va: number, level: number): number {
    let table = this.root;
    for (let l = 3; l > level; l--) {
      const index = indexAt(va, l);
      const w = this.entryWord(table, index);
      const lo = this.words[w]!;
      if ((lo & PTE_PRESENT) === 0) {
        const child = this.allocTable();
        this.writeEntry(table, index, (child | PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_ACCESSED) >>> 0, 0, va);
        table = child;
      } else {
        if ((lo & PTE_HUGE) !== 0) throw new Error(`4 KiB mapping inside a huge page at ${va.toString(16)}`);
        table = entryAddress(lo, this.words[w + 1]!);
      }
    }
    return table;
  }

  private walkExisting(va: number, level: number): number {
    let table = this.root;
    for (let l = 3; l > level; l--) {
      const w = this.entryWord(table, indexAt(va, l));
      const lo = this.words[w]!;
      if ((lo & PTE_PRESENT) === 0 || (lo & PTE_HUGE) !== 0) return -1;
      table = entryAddress(lo, this.words[w + 1]!);
    }
    return table;
  }

  private allocTable(): number {
    const page = this.allocator.allocPage();
    if (page < 0) throw new OutOfMemoryError('guest memory exhausted (page tables)');
    this.tablePages.push(page);
    this.fresh.add(page);
    return page;
  }

  private writeEntry(table: number, index: number, lo: number, hi: number, va: number): void {
    const w = this.entryWord(table, index);
    this.words[w] = lo;
    this.words[w + 1] = hi;
    this.updates++;
    if (this.queue !== null && !this.fresh.has(table)) this.queue.push(table + index * 8, lo, hi, va);
  }

  private entryWord(table: number, index: number): number {
    return (table >>> 2) + index * 2;
  }
}

function indexAt(va: number, level: number): number {
  return Math.floor(va / 2 ** (12 + 9 * level)) % 512;
}

function entryAddress(lo: number, hi: number): number {
  return (hi & ADDR_HIGH_MASK) * TWO_32 + ((lo & ADDR_LOW_MASK) >>> 0);
}
