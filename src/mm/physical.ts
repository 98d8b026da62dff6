// Guest-physical page allocator over the memfd. Free pages are always holes in the memfd: a page is
// punched out the moment it is freed, so host memory follows the program and no private pool keeps it,
// and every page handed out reads as zeros without being cleared.
//
// Memory is managed in 2 MiB chunks, so that anonymous memory can get 2 MiB guest pages. A chunk is
// free, split into 4 KiB pages (tracked by a bitmap), or in use whole as one huge page.
import { HUGE_PAGE_SIZE, PAGE_SIZE } from '../platform/layout.js';

const PAGES_PER_CHUNK = HUGE_PAGE_SIZE / PAGE_SIZE;
const WORDS_PER_CHUNK = PAGES_PER_CHUNK / 32;
/** log2(PAGES_PER_CHUNK): a page index's chunk. */
const CHUNK_SHIFT = 9;
const enum ChunkState { Free, Split, Huge }
/** Pages reclaimed at once when memory runs out, so that the next allocations find some. */
const RECLAIM_PAGES = 64;

export interface HostMemory {
  punchHole(gpa: number, length: number): void;
}

/** Guest memory as a holder of pages sees it: the bytes, and who hands out pages. */
export interface PageStore {
  memory: Uint8Array;
  allocator: PageAllocator;
}

export interface AllocatorStats {
  /** Guest-physical memory handed out now (the host commits only the parts the program touched). */
  committedBytes: number;
  peakCommittedBytes: number;
  /** Everything punched out of the memory file so far: freed pages and discarded contents. */
  returnedBytes: number;
}

export class PageAllocator {
  /** Pages that were page tables and went without a scrub by the guest (see TableStore.retireAll). */
  private readonly tainted = new Set<number>();
  /** Tainted pages allocTablePage passed over: allocated, zero, and handed out first for data. */
  private readonly spare: number[] = [];
  private readonly chunkState: Uint8Array;
  private readonly chunkUsed: Uint16Array;
  private readonly bitmap: Uint32Array;
  private readonly freeChunks: Int32Array;
  private freeChunkCount = 0;
  /** Split chunks that may have free pages; stale entries are skipped lazily. */
  private readonly partial: number[] = [];
  private readonly inPartial: Uint8Array;
  /** References beyond the first, per 4 KiB page (a huge page counts on its first page). */
  private readonly extraRefs: Uint16Array;
  private committed = 0;
  private peak = 0;
  private returned = 0;
  /**
   * Inside batchFrees: the runs of freed memory not yet punched, as [start, length] pairs; each run
   * grows while frees stay adjacent, and the runs are sorted and merged before they are punched.
   */
  private batching = 0;
  private readonly pending: number[] = [];
  /**
   * Called when no 4 KiB page is left: frees what memory can spare (the page cache's unused pages)
   * and returns how many pages it freed.
   */
  reclaim: ((pages: number) => number) | null = null;

  constructor(private readonly host: HostMemory, private readonly base: number, readonly limit: number) {
    if (base % HUGE_PAGE_SIZE !== 0) throw new RangeError('allocator base must be 2 MiB aligned');
    const chunks = Math.floor((limit - base) / HUGE_PAGE_SIZE);
    this.chunkState = new Uint8Array(chunks);
    this.chunkUsed = new Uint16Array(chunks);
    this.inPartial = new Uint8Array(chunks);
    this.bitmap = new Uint32Array(chunks * WORDS_PER_CHUNK);
    this.freeChunks = new Int32Array(chunks);
    this.extraRefs = new Uint16Array(chunks * PAGES_PER_CHUNK);
    // Lowest addresses first: pop from the end.
    for (let i = chunks - 1; i >= 0; i--) this.freeChunks[this.freeChunkCount++] = i;
  }

  get stats(): AllocatorStats {
    return { committedBytes: this.committed, peakCommittedBytes: this.peak, returnedBytes: this.returned };
  }

  /** A zeroed 4 KiB page, or -1 when guest memory is exhausted. */
  allocPage(): number {
    return this.spare.pop() ?? this.takePage();
  }

  /**
   * A zeroed page for a page table: never one that was a table freed without the guest clearing it
   * (taint), since the host may still shadow its old entries. Such pages are set aside for data.
   */
  allocTablePage(): number {
    for (;;) {
      const page = this.takePage();
      if (page < 0 || !this.tainted.has(page)) return page;
      this.spare.push(page);
    }
  }

  /** This page table is freed with its entries still in it: it may hold data from now on, never a table. */
  taint(gpa: number): void {
    this.tainted.add(gpa);
  }

  private takePage(): number {
    if (this.pending.length > 0) this.flushPunches();
    let chunk = -1;
    while (this.partial.length > 0) {
      const c = this.partial[this.partial.length - 1]!;
      if (this.chunkState[c] === ChunkState.Split && this.chunkUsed[c]! < PAGES_PER_CHUNK) {
        chunk = c;
        break;
      }
      this.partial.pop();
      this.inPartial[c] = 0;
    }
    if (chunk < 0) {
      if (this.freeChunkCount === 0) return this.reclaim !== null && this.reclaim(RECLAIM_PAGES) > 0 ? this.takePage() : -1;
      chunk = this.freeChunks[--this.freeChunkCount]!;
      this.chunkState[chunk] = ChunkState.Split;
      this.partial.push(chunk);
      this.inPartial[chunk] = 1;
    }
    const words = chunk * WORDS_PER_CHUNK;
    for (let w = 0; w < WORDS_PER_CHUNK; w++) {
      const bits = this.bitmap[words + w]!;
      if (bits === 0xffff_ffff) continue;
      const bit = 31 - Math.clz32(~bits & (bits + 1));
      this.bitmap[words + w] = bits | (1 << bit);
      this.chunkUsed[chunk]!++;
      this.account(PAGE_SIZE);
      return this.base + chunk * HUGE_PAGE_SIZE + (w * 32 + bit) * PAGE_SIZE;
    }
    throw new Error('page allocator bitmap out of sync');
  }

  /** A zeroed, 2 MiB aligned huge page, or -1 when no whole chunk is free. */
  allocHuge(): number {
    if (this.pending.length > 0) this.flushPunches();
    if (this.freeChunkCount === 0) return -1;
    const chunk = this.freeChunks[--this.freeChunkCount]!;
    this.chunkState[chunk] = ChunkState.Huge;
    this.account(HUGE_PAGE_SIZE);
    return this.base + chunk * HUGE_PAGE_SIZE;
  }

  /**
   * One more user of an allocated page (a tmpfs page mapped MAP_SHARED, say). Each user calls
   * freePage or freeHuge when done; the page goes back to the host with the last one.
   */
  ref(gpa: number, size = PAGE_SIZE): void {
    const index = this.pageIndex(gpa);
    const chunk = index >>> CHUNK_SHIFT;
    const page = index & (PAGES_PER_CHUNK - 1);
    // A 2 MiB page that another address space split (split()) is held as its 512 pages.
    const count = size === HUGE_PAGE_SIZE && this.chunkState[chunk] === ChunkState.Split ? PAGES_PER_CHUNK : 1;
    for (let i = chunk * PAGES_PER_CHUNK + page, end = i + count; i < end; i++) {
      if (this.extraRefs[i] === 0xffff) throw new Error(`too many references to guest page ${gpa.toString(16)}`);
      this.extraRefs[i]!++;
    }
  }

  /** Drops one reference; frees the page when it was the last. Returns whether it was freed. */
  freePage(gpa: number): boolean {
    const index = this.pageIndex(gpa);
    const chunk = index >>> CHUNK_SHIFT;
    const page = index & (PAGES_PER_CHUNK - 1);
    if (this.dropExtraRef(chunk, page)) return false;
    const word = chunk * WORDS_PER_CHUNK + (page >> 5);
    const mask = 1 << (page & 31);
    if (this.chunkState[chunk] !== ChunkState.Split || (this.bitmap[word]! & mask) === 0) {
      throw new Error(`double free of guest page ${gpa.toString(16)}`);
    }
    this.punch(gpa, PAGE_SIZE);
    this.bitmap[word] = this.bitmap[word]! & ~mask;
    this.account(-PAGE_SIZE);
    this.returned += PAGE_SIZE;
    if (--this.chunkUsed[chunk]! === 0) {
      this.chunkState[chunk] = ChunkState.Free;
      this.freeChunks[this.freeChunkCount++] = chunk;
    } else if (this.inPartial[chunk] === 0) {
      this.partial.push(chunk);
      this.inPartial[chunk] = 1;
    }
    return true;
  }

  /**
   * Drops one reference on a 2 MiB page mapped whole; frees it when it was the last. A holder's 2 MiB
   * page may have been split since by another holder (a fork relative that unmapped or protected part
   * of it): it is then one reference on each of its 512 pages.
   */
  freeHuge(gpa: number): boolean {
    const index = this.pageIndex(gpa);
    const chunk = index >>> CHUNK_SHIFT;
    const page = index & (PAGES_PER_CHUNK - 1);
    if (page === 0 && this.chunkState[chunk] === ChunkState.Split) {
      let freed = true;
      for (let i = 0; i < PAGES_PER_CHUNK; i++) freed = this.freePage(gpa + i * PAGE_SIZE) && freed;
      return freed;
    }
    if (page !== 0 || this.chunkState[chunk] !== ChunkState.Huge) throw new Error(`bad huge page free ${gpa.toString(16)}`);
    if (this.dropExtraRef(chunk, 0)) return false;
    this.punch(gpa, HUGE_PAGE_SIZE);
    this.chunkState[chunk] = ChunkState.Free;
    this.freeChunks[this.freeChunkCount++] = chunk;
    this.account(-HUGE_PAGE_SIZE);
    this.returned += HUGE_PAGE_SIZE;
    return true;
  }

  /**
   * How many users the allocated page at gpa has (a huge page counts on its first 4 KiB); 0 if free.
   * For a 2 MiB page mapped whole (size) that another holder split: the most any of its pages has.
   */
  refCount(gpa: number, size = PAGE_SIZE): number {
    const index = this.pageIndex(gpa);
    const chunk = index >>> CHUNK_SHIFT;
    const page = index & (PAGES_PER_CHUNK - 1);
    const state = this.chunkState[chunk];
    if (state === ChunkState.Free) return 0;
    if (state === ChunkState.Huge) return 1 + this.extraRefs[chunk * PAGES_PER_CHUNK]!;
    if (size === HUGE_PAGE_SIZE) {
      let most = 0;
      for (let i = 0; i < PAGES_PER_CHUNK; i++) most = Math.max(most, this.refCount(gpa + i * PAGE_SIZE));
      return most;
    }
    const used = (this.bitmap[chunk * WORDS_PER_CHUNK + (page >> 5)]! & (1 << (page & 31))) !== 0;
    return used ? 1 + this.extraRefs[chunk * PAGES_PER_CHUNK + page]! : 0;
  }

  /** Whether gpa starts a huge page. */
  isHuge(gpa: number): boolean {
    const index = this.pageIndex(gpa);
    const chunk = index >>> CHUNK_SHIFT;
    const page = index & (PAGES_PER_CHUNK - 1);
    return page === 0 && this.chunkState[chunk] === ChunkState.Huge;
  }

  /**
   * Turns the huge page at gpa into 512 allocated 4 KiB pages: the same memory, the same contents,
   * each with the huge page's references, so that they can be unmapped and freed one by one.
   */
  splitHuge(gpa: number): void {
    const index = this.pageIndex(gpa);
    const chunk = index >>> CHUNK_SHIFT;
    const page = index & (PAGES_PER_CHUNK - 1);
    // Split already by another holder: its pages carry every holder's reference.
    if (page === 0 && this.chunkState[chunk] === ChunkState.Split) return;
    if (page !== 0 || this.chunkState[chunk] !== ChunkState.Huge) throw new Error(`bad huge page split ${gpa.toString(16)}`);
    this.chunkState[chunk] = ChunkState.Split;
    this.chunkUsed[chunk] = PAGES_PER_CHUNK;
    this.bitmap.fill(0xffff_ffff, chunk * WORDS_PER_CHUNK, (chunk + 1) * WORDS_PER_CHUNK);
    const first = chunk * PAGES_PER_CHUNK;
    this.extraRefs.fill(this.extraRefs[first]!, first + 1, first + PAGES_PER_CHUNK);
  }

  /**
   * Gives the host the memory behind [gpa, gpa+length) of allocated pages (MADV_DONTNEED on private
   * anonymous memory): the pages stay allocated and mapped, and read as zeros from now on.
   */
  discard(gpa: number, length: number): void {
    this.punch(gpa, length);
    this.returned += length;
  }

  /**
   * Runs fn with the host punches of the pages it frees merged into as few calls as possible (a
   * munmap of many 4 KiB pages costs one fallocate per contiguous run, not one per page). Every punch
   * is done before batchFrees returns, and before any page is handed out again.
   */
  batchFrees<T>(fn: () => T): T {
    this.batching++;
    try {
      return fn();
    } finally {
      if (--this.batching === 0) this.flushPunches();
    }
  }

  private punch(gpa: number, length: number): void {
    if (this.batching === 0) {
      this.host.punchHole(gpa, length);
      return;
    }
    const p = this.pending;
    const last = p.length - 2;
    if (last >= 0 && gpa === p[last]! + p[last + 1]!) p[last + 1]! += length;
    else p.push(gpa, length);
  }

  /** An address space's teardown frees its pages in table order, not address order: sort, then merge. */
  private flushPunches(): void {
    const p = this.pending;
    if (p.length === 0) return;
    const runs: Array<[number, number]> = [];
    for (let i = 0; i < p.length; i += 2) runs.push([p[i]!, p[i + 1]!]);
    p.length = 0;
    runs.sort((a, b) => a[0] - b[0]);
    let [start, length] = runs[0]!;
    for (let i = 1; i < runs.length; i++) {
      const [s, l] = runs[i]!;
      if (s === start + length) {
        length += l;
        continue;
      }
      this.host.punchHole(start, length);
      start = s;
      length = l;
    }
    this.host.punchHole(start, length);
  }

  private dropExtraRef(chunk: number, page: number): boolean {
    const i = chunk * PAGES_PER_CHUNK + page;
    if (this.extraRefs[i] === 0) return false;
    this.extraRefs[i]!--;
    return true;
  }

  /**
   * The allocator's index of the 4 KiB page at gpa (its chunk times 512 plus its page in the chunk): a
   * number, not an object, since every fault and free asks.
   */
  private pageIndex(gpa: number): number {
    const offset = gpa - this.base;
    if (offset < 0 || offset >= this.chunkState.length * HUGE_PAGE_SIZE || offset % PAGE_SIZE !== 0) {
      throw new RangeError(`guest page ${gpa.toString(16)} is not the allocator's`);
    }
    return offset / PAGE_SIZE;
  }

  private account(delta: number): void {
    this.committed += delta;
    if (this.committed > this.peak) this.peak = this.committed;
  }
}
