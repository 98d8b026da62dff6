// How the page tables of an address space are written: the one place where an entry changes, and the
// rules that decide whether the guest must replay the write. PageTables (page-tables.ts) builds on it.
//
// Every entry is written into guest memory directly, so the Sentry can always walk the tables it means.
// The PVM host's shadow page tables only follow writes that guest CPL 0 code makes, so a change to an
// entry the guest may have cached is also queued for the stub to replay (platform/queue.ts). The rules
// that keep the queue short, each one the reason for some code below:
//  - Only a present entry can be cached (neither TLBs nor KVM's shadow pages keep non-present entries):
//    making a non-present entry present needs no replay, the guest's next access walks the tables in
//    memory. A fault, fault-around, MAP_POPULATE, linking a new table: all host-side only. (Unless the
//    entry was queued earlier in the same batch: then the later value is queued too.)
//  - Fresh tables (created since the last batch) are not yet linked where the guest has looked: any
//    write to them is host-side only.
//  - A 4 KiB leaf whose page is being punched out of the memory file is cleared host-side only: the punch
//    makes the host drop every cached translation of the page (KVM's MMU notifier zaps the shadow entry on
//    PVM; the EPT/NPT entry on VMX/SVM), so the next access walks the tables and finds the entry cleared.
//    A munmap of anonymous 4 KiB pages costs no replay at all.
//  - A table left empty by an unmap stays linked for a while (at most IDLE_TABLES of them): the next
//    mapping there needs no new table, and the unmap needed no write. Under shadow paging a new table is
//    costly (the host shadows it afresh), and programs map and unmap the same places over and over.
//  - A table whose whole range goes away is unlinked with one write and retired. KVM keeps a shadow page
//    per guest table, found again by address: before a retired table's page may serve as a table again,
//    every entry the shadow may still hold (links, huge leaves, leaves of pages that stay allocated) is
//    "scrubbed" by a replayed write of zero. Scrubs are queued at the end of the batch as room allows;
//    the page is freed one batch after its last scrub (the guest has replayed it by then).
//  - When a batch would overflow the queue, the table being written is replaced by a fresh copy linked
//    with one write in its parent (and the old one retired and scrubbed later), so that the rest of the
//    batch is host-side only. A few slots are kept for these parent writes.
//  - Threads run on several vCPUs, each with a queue of its own that it replays when it next runs, so a
//    replay may come after the entry changed again. The stub rewrites an entry only while it still holds
//    the queued value; a host-side write to an entry still waiting in some queue is queued too (or the
//    shadow would keep the value before the queued one); a retired table's page is freed only once every
//    queue that holds its unlink or a scrub of it has been replayed (PteQueue.awaitReplay).
import type { RootEntry } from '../platform/boot.js';
import { HUGE_PAGE_SIZE, PAGE_SIZE } from '../platform/layout.js';
import { QUEUE_CAPACITY, STORE_ALWAYS } from '../platform/queue.js';
import type { PageAllocator } from './physical.js';

export const PTE_PRESENT = 0x1;
export const PTE_WRITE = 0x2;
export const PTE_USER = 0x4;
export const PTE_ACCESSED = 0x20;
export const PTE_DIRTY = 0x40;
export const PTE_HUGE = 0x80;
export const NX_HIGH = 0x8000_0000;
/** Physical address bits of an entry: low word 31..12, high word 19..0 (bits 51..32). */
export const ADDR_LOW_MASK = 0xffff_f000;
export const ADDR_HIGH_MASK = 0x000f_ffff;
export const TWO_32 = 0x1_0000_0000;
export const ENTRIES = 512;
/** Bytes one entry covers at each level: 0 = page table, 1 = page directory, 2 = PDPT, 3 = PML4. */
export const SPAN = [PAGE_SIZE, HUGE_PAGE_SIZE, 2 ** 30, 2 ** 39] as const;
export const ROOT_LEVEL = 3;
/** Queue slots kept for the parent writes that link replacement tables. */
export const QUEUE_RESERVE = 64;
/** At most this many scrub writes join one batch, so that one syscall's replay stays short. */
export const SCRUBS_PER_BATCH = 1024;
/** Empty tables kept linked for reuse; beyond this, the one emptied longest ago is retired. */
export const IDLE_TABLES = 64;

/** What the page tables need of the per-vCPU replay queue (platform/queue.ts PageTableQueue). */
export interface PteQueue {
  readonly length: number;
  push(pteGpa: number, lo: number, hi: number, va: number): void;
  flushAll(): void;
  /** Calls waiter.replayed(this) once the guest has replayed what is queued now. */
  awaitReplay(waiter: { replayed(queue: PteQueue): void }): void;
}

/** What one queue holds of an address space's writes until the guest replays them. */
interface Unreplayed {
  entries: number[];
  /** Retired tables with scrubs in the queue. */
  tables: Retired[];
}

export interface Mapping {
  /** Guest-physical address of the page (4 KiB or 2 MiB) mapping va. */
  gpa: number;
  size: number;
  user: boolean;
  writable: boolean;
  exec: boolean;
  /** Set by the CPU (or KVM) when the program touched the page; mincore reports it. */
  accessed: boolean;
}

export interface LeafFlags {
  /** False for PROT_NONE: present (the page keeps its contents) but refused to user mode. */
  user: boolean;
  write: boolean;
  exec: boolean;
  /** Mapped ahead of use (fault-around) leaves start with it clear. */
  accessed: boolean;
}

/** Whether a present entry's new value takes something away: the entry, its frame, write or user access, or execution. */
function weakens(oldLo: number, oldHi: number, lo: number, hi: number): boolean {
  if ((lo & PTE_PRESENT) === 0) return true;
  if (((oldLo ^ lo) & ADDR_LOW_MASK) !== 0 || ((oldHi ^ hi) & ADDR_HIGH_MASK) !== 0) return true;
  if ((oldLo & ~lo & (PTE_WRITE | PTE_USER | PTE_HUGE)) !== 0) return true;
  return (hi & ~oldHi & NX_HIGH) !== 0;
}

export class OutOfMemoryError extends Error {}
export class QueueOverflowError extends Error {}

export const enum Write { Queued, HostOnly }

interface Retired {
  gpa: number;
  /** Entry indexes that need a replayed write of zero; `next` is the first not yet queued. */
  scrub: number[];
  next: number;
  /** Queues holding its unlink or scrubs, not yet replayed; the last queue added. */
  queues: number;
  lastQueue: PteQueue | null;
  /** Every scrub is queued: the page is freed when `queues` drops to zero. */
  done: boolean;
}

export interface PageTableStats {
  /** Entries written (host-side and replayed). */
  updates: number;
  /** Writes replayed by the guest at CPL 0. */
  replayed: number;
  /** Tables replaced by a fresh copy because the batch would have overflowed the queue. */
  replacements: number;
  tablesRetired: number;
}

/** Entries, tables and the replay queue of one address space. */
export class TableStore {
  readonly root: number;
  protected readonly words: Uint32Array;
  /** Null until the guest runs on these tables: until then host-side writes are all it takes. */
  queue: PteQueue | null = null;
  /**
   * A live entry lost something since the kernel last looked (unmapped, a right or its frame taken
   * away): other vCPUs may hold the old translation in their TLBs (src/kernel/shootdown.ts).
   */
  weakened = false;
  /** Soft limit of queued writes per batch; the reserve above it links replacement tables. */
  queueCapacity = QUEUE_CAPACITY;
  protected readonly fresh = new Set<number>();
  protected readonly tablePages = new Set<number>();
  /** Tables replaced during this batch, to their replacement: loops holding the old one follow it. */
  protected readonly moved = new Map<number, number>();
  protected retiring: Retired[] = [];
  /** Per queue, what waits there for the guest's replay (records are kept and reused). */
  private readonly unreplayed = new Map<PteQueue, Unreplayed>();
  /** Retired tables with every scrub queued, waiting for the replays. */
  private scrubbedWaiting = 0;
  /** Empty tables kept linked, least recently emptied first, keyed by level and address of their range. */
  protected idle = new Map<string, { level: number; slot: number }>();
  /** Whether an area still covers part of [start, end) (set by the address space): its tables stay. */
  inUse: (start: number, end: number) => boolean = () => false;
  /** Entries queued and not yet replayed, with how many queues hold them: a host-side write to one is
   * queued too, so that the shadow learns the new value. */
  private readonly pendingEntries = new Map<number, number>();
  protected readonly sharedRootIndexes: Set<number>;
  readonly stats: PageTableStats = { updates: 0, replayed: 0, replacements: 0, tablesRetired: 0 };

  constructor(memory: ArrayBuffer, protected readonly allocator: PageAllocator, shared: readonly RootEntry[]) {
    this.words = new Uint32Array(memory);
    this.root = this.allocTable();
    this.sharedRootIndexes = new Set(shared.map(([index]) => index));
    for (const [index, lo, hi] of shared) this.store(this.root, index, lo, hi);
  }

  /** Entries written so far (for --stats). */
  get updates(): number {
    return this.stats.updates;
  }

  /**
   * The batch is complete and the guest replays the queue before it runs again: waiting scrubs join
   * this batch, and this batch's new tables count as live.
   */
  endBatch(): void {
    if (this.retiring.length > 0) this.queueScrubs();
    // Most syscalls touch no table: V8's clear() allocates a fresh backing store even when empty.
    if (this.fresh.size > 0) this.fresh.clear();
    if (this.moved.size > 0) this.moved.clear();
  }

  /** The guest replayed what `queue` held of these tables: its entries are settled, its scrubbed tables go. */
  replayed(queue: PteQueue): void {
    const u = this.unreplayed.get(queue);
    if (u === undefined) return;
    for (const pteGpa of u.entries) {
      const n = this.pendingEntries.get(pteGpa)!;
      if (n > 1) this.pendingEntries.set(pteGpa, n - 1);
      else this.pendingEntries.delete(pteGpa);
    }
    u.entries.length = 0;
    if (u.tables.length > 0) {
      this.allocator.batchFrees(() => {
        for (const r of u.tables) {
          r.lastQueue = null;
          if (--r.queues > 0 || !r.done) continue;
          this.scrubbedWaiting--;
          this.allocator.freePage(r.gpa);
        }
      });
      u.tables.length = 0;
    }
  }

  /** Whether retired tables still wait for their scrubs to be queued or replayed. */
  get pendingRetire(): boolean {
    return this.retiring.length > 0 || this.scrubbedWaiting > 0;
  }

  /** Frees every table (the address space is gone); the caller has cleared all mappings. */
  release(): void {
    this.queue = null;
    for (const r of this.retiring) this.allocator.freePage(r.gpa);
    const waiting = new Set<Retired>();
    for (const u of this.unreplayed.values()) for (const r of u.tables) if (r.done) waiting.add(r);
    for (const r of waiting) this.allocator.freePage(r.gpa);
    for (const gpa of this.tablePages) this.allocator.freePage(gpa);
    this.retiring = [];
    this.unreplayed.clear();
    this.pendingEntries.clear();
    this.scrubbedWaiting = 0;
    this.idle.clear();
    this.tablePages.clear();
  }

  /** A table linked at `level` for `slot` became empty: keep it for reuse, retiring the oldest idle one. */
  protected keepIdle(level: number, slot: number): void {
    const key = `${level}:${slot}`;
    this.idle.delete(key);
    this.idle.set(key, { level, slot });
    if (this.idle.size > IDLE_TABLES) {
      const [oldest, entry] = this.idle.entries().next().value!;
      this.idle.delete(oldest);
      this.retireIdle(entry);
    }
  }

  /** Retires an idle table if it is still there, still empty and still unused; then maybe its parent. */
  protected retireIdle({ level, slot }: { level: number; slot: number }): void {
    const parent = this.tableAt(slot, level);
    if (parent < 0) return;
    const index = indexAt(slot, level);
    const w = entryWord(parent, index);
    const lo = this.words[w]!;
    if ((lo & PTE_PRESENT) === 0 || isLeaf(level, lo)) return;
    const child = entryAddress(lo, this.words[w + 1]!);
    if (!this.isEmpty(child) || this.inUse(slot, slot + SPAN[level])) return;
    this.set(parent, level, index, 0, 0, slot, Write.Queued);
    this.retire(child, []);
    const parentSlot = slot - (slot % SPAN[level + 1]!);
    if (level + 1 < ROOT_LEVEL && this.isEmpty(this.tableAt(slot, level)) && !this.inUse(parentSlot, parentSlot + SPAN[level + 1]!)) {
      this.keepIdle(level + 1, parentSlot);
    }
  }

  /**
   * Writes one entry: the one place where a live entry changes. Returns the table that holds the entry
   * now: a fresh copy of `table` when the queue had no room left and the table was replaced.
   */
  protected set(table: number, level: number, index: number, lo: number, hi: number, va: number, mode: Write): number {
    this.stats.updates++;
    const queue = this.queue;
    if (queue === null || this.fresh.has(table)) {
      this.store(table, index, lo, hi);
      return table;
    }
    if (mode === Write.HostOnly || (this.words[entryWord(table, index)]! & PTE_PRESENT) === 0) {
      this.hostStore(table, index, lo, hi);
      return table;
    }
    if (queue.length >= this.queueCapacity - QUEUE_RESERVE) {
      if (level < ROOT_LEVEL) {
        const copy = this.replace(table, level, va);
        this.store(copy, index, lo, hi);
        return copy;
      }
      if (queue.length >= this.queueCapacity) throw new QueueOverflowError('page-table queue reserve exhausted');
    }
    const w = entryWord(table, index);
    if (!this.weakened && weakens(this.words[w]!, this.words[w + 1]!, lo, hi)) this.weakened = true;
    this.store(table, index, lo, hi);
    this.push(table + index * 8, lo, hi, va);
    return table;
  }

  protected push(pteGpa: number, lo: number, hi: number, va: number): void {
    const queue = this.queue!;
    queue.push(pteGpa, lo, hi, va);
    this.waitingIn(queue).entries.push(pteGpa);
    this.pendingEntries.set(pteGpa, (this.pendingEntries.get(pteGpa) ?? 0) + 1);
    this.stats.replayed++;
  }

  /** This address space's record in `queue`, the queue told to report its replay. */
  private waitingIn(queue: PteQueue): Unreplayed {
    let u = this.unreplayed.get(queue);
    if (u === undefined) {
      u = { entries: [], tables: [] };
      this.unreplayed.set(queue, u);
    }
    if (u.entries.length === 0 && u.tables.length === 0) queue.awaitReplay(this);
    return u;
  }

  /**
   * A host-side write to an entry that needs no replay of its own; but if the entry waits in a queue
   * (this vCPU's or another's), the new value is queued too (from the reserve if need be): the stub
   * skips a queued value the entry no longer holds, and the shadow would keep the one before it.
   */
  protected hostStore(table: number, index: number, lo: number, hi: number): void {
    this.store(table, index, lo, hi);
    const pteGpa = table + index * 8;
    if (this.queue !== null && !this.fresh.has(table) && this.pendingEntries.has(pteGpa)) {
      if (this.queue.length >= this.queueCapacity) throw new QueueOverflowError('page-table queue reserve exhausted');
      this.push(pteGpa, lo, hi, 0);
    }
  }

  /** Replaces a live table by a fresh copy, linked with one write in its parent; retires the old one. */
  protected replace(table: number, level: number, va: number): number {
    const copy = this.allocTable();
    this.words.copyWithin(copy >>> 2, table >>> 2, (table >>> 2) + ENTRIES * 2);
    const parentLevel = level + 1;
    const parent = this.tableAt(va, parentLevel);
    const index = indexAt(va, parentLevel);
    const w = entryWord(parent, index);
    const [lo, hi] = tableEntry(copy);
    this.set(parent, parentLevel, index, ((this.words[w]! & ~ADDR_LOW_MASK & 0xfff) | lo) >>> 0, hi,
      va - (va % SPAN[parentLevel]), Write.Queued);
    this.retire(table, this.presentIndexes(table));
    this.moved.set(table, copy);
    this.queue?.flushAll();
    this.stats.replacements++;
    return copy;
  }

  protected retire(table: number, scrub: number[]): void {
    this.tablePages.delete(table);
    this.stats.tablesRetired++;
    if (this.queue === null || this.fresh.has(table)) {
      this.allocator.freePage(table);
      return;
    }
    // Freed only after the replay of the queue that holds its unlink, too.
    const r: Retired = { gpa: table, scrub, next: 0, queues: 1, lastQueue: this.queue, done: false };
    this.waitingIn(this.queue).tables.push(r);
    this.retiring.push(r);
    // Leaves of pages that stay allocated may sit in TLBs under other addresses of the unlinked range.
    if (scrub.length > 0) this.queue.flushAll();
  }

  protected queueScrubs(): void {
    const queue = this.queue;
    if (queue === null) {
      for (const r of this.retiring) this.allocator.freePage(r.gpa);
      this.retiring = [];
      return;
    }
    let room = Math.min(SCRUBS_PER_BATCH, this.queueCapacity - QUEUE_RESERVE - queue.length);
    while (this.retiring.length > 0) {
      const r = this.retiring[0]!;
      // Its page is freed after this queue's replay (and that of every other queue with scrubs of it):
      // by then the unlink and the scrubs are all done.
      if (r.lastQueue !== queue) {
        this.waitingIn(queue).tables.push(r);
        r.queues++;
        r.lastQueue = queue;
      }
      while (r.next < r.scrub.length && room > 0) {
        this.push(r.gpa + r.scrub[r.next]! * 8, 0, 0, STORE_ALWAYS);
        r.next++;
        room--;
      }
      if (r.next < r.scrub.length) break;
      r.done = true;
      this.scrubbedWaiting++;
      this.retiring.shift();
    }
  }

  protected presentIndexes(table: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < ENTRIES; i++) if ((this.words[entryWord(table, i)]! & PTE_PRESENT) !== 0) out.push(i);
    return out;
  }

  protected isEmpty(table: number): boolean {
    const base = table >>> 2;
    for (let i = 0; i < ENTRIES; i++) if ((this.words[base + i * 2]! & PTE_PRESENT) !== 0) return false;
    return true;
  }

  protected live(table: number): number {
    if (this.moved.size === 0) return table;
    let t = table;
    for (let next = this.moved.get(t); next !== undefined; next = this.moved.get(t)) t = next;
    return t;
  }

  protected store(table: number, index: number, lo: number, hi: number): void {
    const w = entryWord(table, index);
    this.words[w] = lo;
    this.words[w + 1] = hi;
  }

  /** The table at `level` covering va (walking existing tables only), or -1. */
  protected tableAt(va: number, level: number): number {
    let table = this.root;
    for (let l = ROOT_LEVEL; l > level; l--) {
      const w = entryWord(table, indexAt(va, l));
      const lo = this.words[w]!;
      if ((lo & PTE_PRESENT) === 0 || (lo & PTE_HUGE) !== 0) return -1;
      table = entryAddress(lo, this.words[w + 1]!);
    }
    return table;
  }

  /** The table at `level` covering va, creating missing intermediate tables. */
  protected walkCreate(va: number, level: number): number {
    let table = this.root;
    for (let l = ROOT_LEVEL; l > level; l--) {
      const index = indexAt(va, l);
      const w = entryWord(table, index);
      const lo = this.words[w]!;
      if ((lo & PTE_PRESENT) === 0) {
        const child = this.allocTable();
        this.set(table, l, index, ...tableEntry(child), va - (va % SPAN[l]), Write.Queued);
        table = child;
      } else {
        if ((lo & PTE_HUGE) !== 0) throw new Error(`4 KiB mapping inside a huge page at ${va.toString(16)}`);
        table = entryAddress(lo, this.words[w + 1]!);
      }
    }
    return table;
  }

  protected allocTable(): number {
    const page = this.allocator.allocTablePage();
    if (page < 0) throw new OutOfMemoryError('guest memory exhausted (page tables)');
    this.tablePages.add(page);
    this.fresh.add(page);
    return page;
  }
}

export function isLeaf(level: number, lo: number): boolean {
  return level === 0 || (level === 1 && (lo & PTE_HUGE) !== 0);
}

export function mappingOf(lo: number, hi: number, size: number): Mapping {
  return fillMapping({ gpa: 0, size: 0, user: false, writable: false, exec: false, accessed: false }, lo, hi, size);
}

/** The leaf entry (lo, hi) of a page of `size` bytes, written into out. */
export function fillMapping(out: Mapping, lo: number, hi: number, size: number): Mapping {
  out.gpa = entryAddress(lo, hi);
  out.size = size;
  out.user = (lo & PTE_USER) !== 0;
  out.writable = (lo & PTE_WRITE) !== 0;
  out.exec = (hi & NX_HIGH) === 0;
  out.accessed = (lo & PTE_ACCESSED) !== 0;
  return out;
}

export function leafEntry(gpa: number, flags: LeafFlags, huge: boolean): [number, number] {
  // Dirty is always set: the program's first write then costs no extra trip to set it.
  const lo = (gpa % TWO_32) | PTE_PRESENT | PTE_DIRTY | (huge ? PTE_HUGE : 0) | (flags.user ? PTE_USER : 0) |
    (flags.write ? PTE_WRITE : 0) | (flags.accessed ? PTE_ACCESSED : 0);
  const hi = Math.floor(gpa / TWO_32) | (flags.exec ? 0 : NX_HIGH);
  return [lo >>> 0, hi >>> 0];
}

export function tableEntry(gpa: number): [number, number] {
  return [((gpa % TWO_32) | PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_ACCESSED) >>> 0, Math.floor(gpa / TWO_32)];
}

/** First and last entry index of a table at `span` per entry, based at `base`, that meet [start, end). */
export function indexRange(base: number, span: number, start: number, end: number): [number, number] {
  const first = start <= base ? 0 : Math.floor((start - base) / span);
  const last = Math.min(ENTRIES - 1, Math.ceil((end - base) / span) - 1);
  return [first, last];
}

export function indexAt(va: number, level: number): number {
  return Math.floor(va / SPAN[level]) % ENTRIES;
}

export function entryWord(table: number, index: number): number {
  return (table >>> 2) + index * 2;
}

export function entryAddress(lo: number, hi: number): number {
  return (hi & ADDR_HIGH_MASK) * TWO_32 + ((lo & ADDR_LOW_MASK) >>> 0);
}
