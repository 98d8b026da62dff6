// A model of what the PVM host's shadow paging (KVM's shadow MMU) remembers of the guest's page tables,
// to test the replay rules of src/mm/page-tables.ts without /dev/kvm:
//  - one shadow page per guest table, found again by the table's guest-physical address (so a freed
//    table page that becomes a table again finds its old shadow, stale entries and all);
//  - a shadow entry is made from the guest tables on a miss, and dropped only when the guest itself
//    writes that entry (a replayed queue entry) or when the memory it maps is punched out (a leaf);
//  - a guest 2 MiB page is shadowed by a "direct" shadow page of 4 KiB leaves, as on a host whose memory
//    file is not backed by huge pages; it is found again by frame and access rights.
// Host-side writes to tables are invisible to it, exactly as on the real host.
import type { HostMemory } from '../../src/mm/physical.js';
import type { PteQueue } from '../../src/mm/page-tables.js';
import { STORE_ALWAYS } from '../../src/platform/queue.js';

const PRESENT = 0x1;
const WRITE = 0x2;
const USER = 0x4;
const HUGE = 0x80;
const ACCESSED = 0x20;
const NX_HIGH = 0x8000_0000;
const TWO_32 = 0x1_0000_0000;
const SPAN = [4096, 2 ** 21, 2 ** 30, 2 ** 39];

interface ShadowEntry {
  /** Key of the shadow page this link leads to, or null for a leaf. */
  child: string | null;
  /** Leaf: the 4 KiB page it maps. */
  gpa: number;
  user: boolean;
  write: boolean;
  exec: boolean;
}

export interface Translation {
  gpa: number;
  user: boolean;
  write: boolean;
  exec: boolean;
}

export class ShadowMmu {
  private readonly pages = new Map<string, Map<number, ShadowEntry>>();

  constructor(private readonly words: Uint32Array, private readonly root: number) {}

  /** The translation the guest gets for va: from the shadow if it has one, else by a walk (a host fault). */
  access(va: number): Translation | null {
    let key = `t${this.root}`;
    for (let level = 3; level >= 0; level--) {
      const entry = this.pages.get(key)?.get(indexAt(va, level));
      if (entry === undefined) return this.fill(va);
      if (entry.child === null) return { gpa: entry.gpa, user: entry.user, write: entry.write, exec: entry.exec };
      key = entry.child;
    }
    return this.fill(va);
  }

  /** The guest wrote the entry at pteGpa (a replayed queue entry): its shadow entry goes. */
  guestWrite(pteGpa: number): void {
    const table = pteGpa - (pteGpa % 4096);
    this.pages.get(`t${table}`)?.delete((pteGpa % 4096) / 8);
  }

  /** Memory was punched: every leaf that maps it goes (KVM's MMU notifier). */
  punch(gpa: number, length: number): void {
    for (const page of this.pages.values()) {
      for (const [index, entry] of page) {
        if (entry.child === null && entry.gpa >= gpa && entry.gpa < gpa + length) page.delete(index);
      }
    }
  }

  /**
   * KVM's page fault: walk the guest tables in memory (the truth), then install shadow entries along
   * the path, following links that are already there even if they are stale (FNAME(fetch) does).
   */
  private fill(va: number): Translation | null {
    const walk: Array<{ lo: number; hi: number }> = [];
    let table = this.root;
    let user = true;
    let write = true;
    let exec = true;
    let leafLevel = 0;
    for (let level = 3; level >= 0; level--) {
      const w = (table >>> 2) + indexAt(va, level) * 2;
      const lo = this.words[w]!;
      const hi = this.words[w + 1]!;
      if ((lo & PRESENT) === 0) return null;
      // The walk sets the accessed bit, as the CPU (or KVM, for a shadow) does.
      this.words[w] = (lo | ACCESSED) >>> 0;
      walk.push({ lo, hi });
      user &&= (lo & USER) !== 0;
      write &&= (lo & WRITE) !== 0;
      exec &&= (hi & NX_HIGH) === 0;
      if (level === 0 || (level === 1 && (lo & HUGE) !== 0)) {
        leafLevel = level;
        break;
      }
      table = address(lo, hi);
    }
    const leaf = walk[walk.length - 1]!;
    const page = address(leaf.lo, leaf.hi) + (leafLevel === 1 ? Math.floor((va % SPAN[1]!) / 4096) * 4096 : 0);
    let key = `t${this.root}`;
    for (let level = 3; level >= 1; level--) {
      const shadow = this.page(key);
      const index = indexAt(va, level);
      let entry = shadow.get(index);
      if (entry === undefined) {
        const g = walk[3 - level]!;
        // KVM keys a direct shadow page by its frame and its role, which holds the access rights.
        const child = leafLevel === 1 && level === 1 ? `d${address(g.lo, g.hi)}:${+user}${+write}${+exec}` : `t${address(g.lo, g.hi)}`;
        entry = { child, gpa: 0, user: true, write: true, exec: true };
        shadow.set(index, entry);
      }
      if (entry.child === null) break;
      key = entry.child;
    }
    const translation = { gpa: page, user, write, exec };
    this.page(key).set(indexAt(va, 0), { child: null, ...translation });
    return translation;
  }

  private page(key: string): Map<number, ShadowEntry> {
    let p = this.pages.get(key);
    if (p === undefined) {
      p = new Map();
      this.pages.set(key, p);
    }
    return p;
  }
}

/** The replay queue as the stub sees it: the guest rewrites each entry at CPL 0, in order. */
export class FakeQueue implements PteQueue {
  entries: Array<[number, number, number, number]> = [];
  fullFlushes = 0;
  private readonly waiters = new Set<{ replayed(queue: PteQueue): void }>();

  get length(): number {
    return this.entries.length;
  }
  push(pteGpa: number, lo: number, hi: number, va: number): void {
    this.entries.push([pteGpa, lo, hi, va]);
  }
  flushAll(): void {
    this.fullFlushes++;
  }
  awaitReplay(waiter: { replayed(queue: PteQueue): void }): void {
    this.waiters.add(waiter);
  }
  /**
   * The stub's apply_queue: rewrites each entry that still holds its queued value (lock cmpxchg), or
   * stores it whatever the entry holds (STORE_ALWAYS, a scrub), and lets the shadow model see the guest
   * write; then the vCPU's next event tells the waiters. Returns the entries replayed.
   */
  replay(words: Uint32Array, mmu: ShadowMmu): number {
    const n = this.entries.length;
    for (const [pteGpa, lo, hi, va] of this.entries) {
      const w = pteGpa >>> 2;
      if ((va & STORE_ALWAYS) === 0 && (words[w] !== lo || words[w + 1] !== hi)) continue;
      words[w] = lo;
      words[w + 1] = hi;
      mmu.guestWrite(pteGpa);
    }
    this.entries = [];
    for (const w of this.waiters) w.replayed(this);
    this.waiters.clear();
    return n;
  }
}

/** The memory file: punching zeroes the range and tells the shadow model. */
export class FakeHostMemory implements HostMemory {
  mmu: ShadowMmu | null = null;
  punched = 0;
  calls = 0;
  constructor(private readonly bytes: Uint8Array) {}
  punchHole(gpa: number, length: number): void {
    this.bytes.fill(0, gpa, gpa + length);
    this.punched += length;
    this.calls++;
    this.mmu?.punch(gpa, length);
  }
}

function indexAt(va: number, level: number): number {
  return Math.floor(va / SPAN[level]!) % 512;
}

function address(lo: number, hi: number): number {
  return (hi & 0xf_ffff) * TWO_32 + ((lo & 0xffff_f000) >>> 0);
}
