// The page cache of files that have no pages of their own (host files through the Gofer): their
// contents, read once into guest memory, are what every private mapping of the file maps, read-only,
// as Linux's page cache is. An exec of a program already run, or an mmap of a library another process
// mapped, then reads nothing and copies nothing: it only writes page-table entries. A private mapping
// that writes a page copies it first (the pager's copy-on-write break); a writable private mapping
// takes copies straight away, since here a fault costs more than a copy.
//
// The cache holds one reference on each page it keeps; every mapping takes its own. Pages no mapping
// uses stay for the next one, within a budget: past it, and whenever the allocator runs out, the least
// recently used pages go (second chance: a page used since the last sweep is passed over once).
//
// Coherence: the sandbox's own writes through the file update its cached pages, so that read-only
// private mappings see them, as on Linux. A writable private mapping holds copies from its first
// touch of a page, so it sees writes only to pages it has not touched (Linux: not written). Writes
// find the cache through the file's dentry, which learns of it when the file is mapped, opened for
// writing or truncated; so a writer through another hard link, opened before the first mmap, leaves
// the cache behind. That, and a change made on the host, is noticed by the file's size and times at
// its next mmap, which drops the old pages for new mappings (those made before keep theirs); a change
// within one tick of the host's file clock that keeps the size is not noticed.
import type { Errno } from '../abi/errno.js';
import { PAGE_SIZE } from '../platform/layout.js';
import type { PageStore } from './physical.js';

/** What identifies the version of a file's contents that the cache holds. */
export interface FileVersion {
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** The cache's budget in a guest of memoryBytes: a sixteenth of it. */
export function pageCacheBudget(memoryBytes: number): number {
  return Math.floor(memoryBytes / 16);
}

interface CachedPage {
  readonly file: FileCache;
  readonly index: number;
  readonly gpa: number;
  /** Used since the last sweep passed it. */
  referenced: boolean;
  /** reclaimAll freed it and has yet to take it out of the maps. */
  freed: boolean;
}

export interface PageCacheStats {
  pages: number;
  /** Pages read from files into the cache, and pages the budget made it drop. */
  reads: number;
  evicted: number;
}

export class PageCache {
  readonly stats: PageCacheStats = { pages: 0, reads: 0, evicted: 0 };
  /** Every file mapped so far (an entry without pages is a version and an empty map). */
  private readonly files = new Map<string, FileCache>();
  /** Every cached page, oldest first: the sweep's order. */
  private readonly order = new Map<number, CachedPage>();

  /** budgetBytes: how much the cache may hold before it drops its least recently used pages. */
  constructor(readonly store: PageStore, private readonly budgetBytes: number) {}

  /** The cache of the file with this identity (a host device and inode), created empty if needed. */
  file(key: string): FileCache {
    let f = this.files.get(key);
    if (f === undefined) {
      f = new FileCache(this, key);
      this.files.set(key, f);
    }
    return f;
  }

  /** The cache of this file if it has one. */
  existing(key: string): FileCache | undefined {
    return this.files.get(key);
  }

  /**
   * Frees cached pages that no mapping uses, least recently used first, until `wanted` pages went back
   * (all of them for Infinity); returns how many. The allocator calls it when guest memory runs out.
   */
  reclaim(wanted: number): number {
    const allocator = this.store.allocator;
    // One punch per run of neighbouring pages, not one per page (the cache often holds tens of MiB).
    if (wanted >= this.order.size) return allocator.batchFrees(() => this.reclaimAll());
    return allocator.batchFrees(() => {
      let freed = 0;
      for (const page of this.order.values()) {
        if (freed >= wanted) break;
        if (allocator.refCount(page.gpa) !== 1) continue;
        page.file.forget(page.index);
        freed++;
      }
      return freed;
    });
  }

  /**
   * Frees every page no mapping uses (the sandbox's end). When that is all of them, as it is once the
   * last process went, the maps are emptied at once instead of entry by entry.
   */
  private reclaimAll(): number {
    const allocator = this.store.allocator;
    let freed = 0;
    for (const page of this.order.values()) {
      if (allocator.refCount(page.gpa) !== 1) continue;
      allocator.freePage(page.gpa);
      page.freed = true;
      freed++;
    }
    if (freed === this.order.size) {
      this.order.clear();
      for (const f of this.files.values()) f.dropFreedPages(true);
    } else {
      for (const page of this.order.values()) if (page.freed) this.order.delete(page.gpa);
      for (const f of this.files.values()) f.dropFreedPages(false);
    }
    this.stats.pages -= freed;
    return freed;
  }

  /** @internal FileCache: a page joined the cache. */
  added(page: CachedPage): void {
    this.order.set(page.gpa, page);
    this.stats.pages++;
    if (this.stats.pages * PAGE_SIZE > this.budgetBytes) this.sweep(this.stats.pages - Math.floor((this.budgetBytes * 7) / 8 / PAGE_SIZE));
  }

  /** @internal FileCache: a page left the cache; the cache's reference goes. */
  removed(page: CachedPage): void {
    this.order.delete(page.gpa);
    this.stats.pages--;
    this.store.allocator.freePage(page.gpa);
  }

  /**
   * Drops `count` pages: the oldest not used since the sweep last passed them. A page passed over goes
   * to the end of the order, where this same walk meets it again (Map iteration visits entries added
   * during it), so the walk ends.
   */
  private sweep(count: number): void {
    this.store.allocator.batchFrees(() => this.sweepPages(count));
  }

  private sweepPages(count: number): void {
    for (const page of this.order.values()) {
      if (count === 0) return;
      if (page.referenced) {
        page.referenced = false;
        this.order.delete(page.gpa);
        this.order.set(page.gpa, page);
        continue;
      }
      page.file.forget(page.index);
      this.stats.evicted++;
      count--;
    }
  }
}

/** The cached pages of one file, by page index. */
export class FileCache {
  private readonly pages = new Map<number, CachedPage>();
  private version: FileVersion | null = null;

  constructor(private readonly cache: PageCache, readonly key: string) {}

  /** The file's size as last seen (by validate, or by the sandbox's own writes). */
  get size(): number {
    return this.version?.size ?? 0;
  }

  get pageCount(): number {
    return this.pages.size;
  }

  /** The file as it is now: if it changed since its pages were read, they are dropped. */
  validate(now: FileVersion): void {
    const v = this.version;
    if (v !== null && (v.size !== now.size || v.mtimeNs !== now.mtimeNs || v.ctimeNs !== now.ctimeNs)) this.clear();
    this.version = { size: now.size, mtimeNs: now.mtimeNs, ctimeNs: now.ctimeNs };
  }

  /** The guest-physical address of page `index` of the file, or 0 if it is not cached. */
  page(index: number): number {
    const p = this.pages.get(index);
    if (p === undefined) return 0;
    p.referenced = true;
    return p.gpa;
  }

  /**
   * Reads the pages of [first, first+count) that are not cached, with one read for each run of them
   * that lies in consecutive guest pages, straight into guest memory. Pages past the end of the file
   * read as zeros. Returns how many pages were read, -1 when guest memory ran out before any, or the
   * read's error (the pages of the failed run are not kept).
   */
  fill(first: number, count: number, read: (offset: number, dst: Uint8Array) => number | Errno): number | Errno {
    const { allocator, memory } = this.cache.store;
    let readCount = 0;
    for (let i = first; i < first + count;) {
      if (this.pages.has(i)) {
        i++;
        continue;
      }
      // A run of absent pages in consecutive guest pages: one read.
      const start = i;
      const base = allocator.allocPage();
      if (base < 0) return readCount === 0 ? -1 : readCount;
      const run = [base];
      for (i++; i < first + count && !this.pages.has(i); i++) {
        const next = allocator.allocPage();
        if (next < 0) break;
        if (next !== base + run.length * PAGE_SIZE) {
          allocator.freePage(next);
          break;
        }
        run.push(next);
      }
      const n = read(start * PAGE_SIZE, memory.subarray(base, base + run.length * PAGE_SIZE));
      if (typeof n !== 'number') {
        for (const gpa of run) allocator.freePage(gpa);
        return n;
      }
      run.forEach((gpa, k) => this.insert(start + k, gpa));
      readCount += run.length;
      this.cache.stats.reads += run.length;
    }
    return readCount;
  }

  /**
   * The sandbox wrote src at offset: cached pages take the new bytes. `now` gives the file's version
   * after the write (asked only when pages are cached).
   */
  written(offset: number, src: Uint8Array, now: () => FileVersion | null): void {
    if (this.pages.size === 0) {
      this.version = null;
      return;
    }
    const memory = this.cache.store.memory;
    for (let done = 0; done < src.length;) {
      const pos = offset + done;
      const inPage = pos % PAGE_SIZE;
      const n = Math.min(src.length - done, PAGE_SIZE - inPage);
      const p = this.pages.get(Math.floor(pos / PAGE_SIZE));
      if (p !== undefined) memory.set(src.subarray(done, done + n), p.gpa + inPage);
      done += n;
    }
    this.noteVersion(now);
  }

  /** The sandbox truncated the file: pages wholly past the end go, the tail of the last is zeroed. */
  truncated(size: number, now: () => FileVersion | null): void {
    for (const index of this.pages.keys()) if (index * PAGE_SIZE >= size) this.forget(index);
    const tail = this.pages.get(Math.floor(size / PAGE_SIZE));
    if (tail !== undefined && size % PAGE_SIZE !== 0) this.cache.store.memory.fill(0, tail.gpa + (size % PAGE_SIZE), tail.gpa + PAGE_SIZE);
    this.noteVersion(now);
  }

  /** Drops every page. */
  clear(): void {
    if (this.pages.size === 0) return;
    this.cache.store.allocator.batchFrees(() => {
      for (const index of this.pages.keys()) this.forget(index);
    });
  }

  /** @internal PageCache.reclaimAll: takes out the pages it freed (all: every page went). */
  dropFreedPages(all: boolean): void {
    if (all) {
      this.pages.clear();
      return;
    }
    for (const [index, p] of this.pages) if (p.freed) this.pages.delete(index);
  }

  /** @internal PageCache: drops one page. */
  forget(index: number): void {
    const p = this.pages.get(index);
    if (p === undefined) return;
    this.pages.delete(index);
    this.cache.removed(p);
  }

  private insert(index: number, gpa: number): void {
    // Referenced: a sweep that this very fill starts passes over the pages it is about to map.
    const p: CachedPage = { file: this, index, gpa, referenced: true, freed: false };
    this.pages.set(index, p);
    this.cache.added(p);
  }

  /** After the sandbox's own change: its new size and times are the cached version (unknown: none). */
  private noteVersion(now: () => FileVersion | null): void {
    const v = now();
    if (v === null) this.clear();
    this.version = v === null ? null : { size: v.size, mtimeNs: v.mtimeNs, ctimeNs: v.ctimeNs };
  }
}
