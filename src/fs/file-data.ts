// The contents of a tmpfs regular file: guest-memory pages from the mm allocator, indexed by page
// number. A MAP_SHARED mapping of the file maps these same pages (with its own reference), so the
// file and every mapping of it see one copy. Holes read as zeros and take no memory.
import { ENOSPC, Errno } from '../abi/errno.js';
import { F_SEAL_SEAL } from '../abi/fcntl.js';
import type { Mappable } from '../mm/mappable.js';
import type { PageAllocator, PageStore } from '../mm/physical.js';
import { PAGE_SHIFT, PAGE_SIZE } from '../platform/layout.js';
import type { SealState } from './seals.js';

export type { PageStore };

/**
 * A PageStore whose machine is created after the filesystems (the program is found through them
 * first); nothing reads or writes file pages before bind().
 */
export class LatePageStore implements PageStore {
  private bound: PageStore | null = null;

  bind(memory: Uint8Array, allocator: PageAllocator): void {
    this.bound = { memory, allocator };
  }
  get memory(): Uint8Array {
    return this.machine().memory;
  }
  get allocator(): PageAllocator {
    return this.machine().allocator;
  }
  private machine(): PageStore {
    if (this.bound === null) throw new Error('guest memory used before the machine exists');
    return this.bound;
  }
}

/** Page numbers below this index live in a typed array; a sparse file's far pages go in a Map. */
const DENSE_LIMIT = 1 << 18;
const EMPTY = new Uint32Array(0);

export class FileData implements SealState {
  size = 0;
  /** F_SEAL_* of the file (seals.ts): none can be added to a file made sealed against sealing. */
  seals = F_SEAL_SEAL;
  writableMappings = 0;
  /** Page frame numbers (gpa >> 12); 0 is a hole (page 0 belongs to the platform, never a file). */
  private dense: Uint32Array = EMPTY;
  private sparse: Map<number, number> | null = null;
  private pageCount = 0;

  constructor(private readonly store: PageStore) {}

  /** 512-byte blocks in use, for st_blocks. */
  get blocks(): number {
    return this.pageCount * (PAGE_SIZE / 512);
  }

  /** Guest-physical address of page index i, or 0 for a hole. */
  page(i: number): number {
    const pfn = i < DENSE_LIMIT ? (i < this.dense.length ? this.dense[i]! : 0) : (this.sparse?.get(i) ?? 0);
    return pfn * PAGE_SIZE;
  }

  /** The page at index i, allocated (zeroed) if it is a hole; -1 when guest memory is exhausted. */
  ensurePage(i: number): number {
    const gpa = this.page(i);
    if (gpa !== 0) return gpa;
    const fresh = this.store.allocator.allocPage();
    if (fresh < 0) return -1;
    this.setPage(i, fresh >>> PAGE_SHIFT);
    this.pageCount++;
    return fresh;
  }

  readAt(offset: number, dst: Uint8Array): number {
    if (offset >= this.size) return 0;
    const n = Math.min(dst.length, this.size - offset);
    const mem = this.store.memory;
    let done = 0;
    while (done < n) {
      const pos = offset + done;
      const inPage = pos % PAGE_SIZE;
      const chunk = Math.min(n - done, PAGE_SIZE - inPage);
      const gpa = this.page(Math.floor(pos / PAGE_SIZE));
      if (gpa === 0) dst.fill(0, done, done + chunk);
      else dst.set(mem.subarray(gpa + inPage, gpa + inPage + chunk), done);
      done += chunk;
    }
    return n;
  }

  /** Writes src at offset, growing the file; ENOSPC only if nothing could be written. */
  writeAt(offset: number, src: Uint8Array): number | Errno {
    const mem = this.store.memory;
    let done = 0;
    while (done < src.length) {
      const pos = offset + done;
      const inPage = pos % PAGE_SIZE;
      const chunk = Math.min(src.length - done, PAGE_SIZE - inPage);
      const gpa = this.ensurePage(Math.floor(pos / PAGE_SIZE));
      if (gpa < 0) break;
      mem.set(src.subarray(done, done + chunk), gpa + inPage);
      done += chunk;
    }
    if (done === 0 && src.length > 0) return ENOSPC;
    if (offset + done > this.size) this.size = offset + done;
    return done;
  }

  /** Sets the size; pages wholly past the end go back, the tail of the last page is zeroed. */
  truncate(size: number): void {
    if (size < this.size) {
      const firstGone = Math.ceil(size / PAGE_SIZE);
      this.freeFrom(firstGone);
      const tail = size % PAGE_SIZE;
      if (tail !== 0) {
        const gpa = this.page(Math.floor(size / PAGE_SIZE));
        if (gpa !== 0) this.store.memory.fill(0, gpa + tail, gpa + PAGE_SIZE);
      }
    }
    this.size = size;
  }

  /**
   * fallocate mode 0: pages for [offset, offset+length) now, and the size grown to cover them. When
   * memory runs out, the pages this call added go back (as shmem_fallocate undoes) and it is ENOSPC.
   */
  allocate(offset: number, length: number): Errno | null {
    const first = Math.floor(offset / PAGE_SIZE);
    const last = Math.floor((offset + length - 1) / PAGE_SIZE);
    const added: number[] = [];
    for (let i = first; i <= last; i++) {
      if (this.page(i) !== 0) continue;
      if (this.ensurePage(i) < 0) {
        for (const j of added) this.freePage(j);
        return ENOSPC;
      }
      added.push(i);
    }
    if (offset + length > this.size) this.size = offset + length;
    return null;
  }

  /** FALLOC_FL_PUNCH_HOLE: whole pages inside the range are freed, partial ones zeroed. */
  punchHole(offset: number, length: number): void {
    const end = Math.min(offset + length, this.size);
    for (let pos = offset; pos < end;) {
      const i = Math.floor(pos / PAGE_SIZE);
      const inPage = pos % PAGE_SIZE;
      const chunk = Math.min(end - pos, PAGE_SIZE - inPage);
      const gpa = this.page(i);
      if (gpa !== 0) {
        if (chunk === PAGE_SIZE) this.freePage(i);
        else this.store.memory.fill(0, gpa + inPage, gpa + inPage + chunk);
      }
      pos += chunk;
    }
  }

  /** SEEK_DATA / SEEK_HOLE: the next offset >= from in data (or in a hole); -1 if none. */
  seekData(from: number, wantData: boolean): number {
    if (from >= this.size) return -1;
    const first = Math.floor(from / PAGE_SIZE);
    if (!wantData) {
      // Holes are found quickly: the scan stops at the first missing page (or the end).
      for (let i = first; ; i++) {
        if (i * PAGE_SIZE >= this.size) return this.size;
        if (this.page(i) === 0) return Math.max(from, i * PAGE_SIZE);
      }
    }
    let found = -1;
    for (let i = first; i < this.dense.length; i++) {
      if (this.dense[i] !== 0) {
        found = i;
        break;
      }
    }
    if (found < 0 && this.sparse !== null) {
      for (const i of this.sparse.keys()) if (i >= first && (found < 0 || i < found)) found = i;
    }
    if (found < 0 || found * PAGE_SIZE >= this.size) return -1;
    return Math.max(from, found * PAGE_SIZE);
  }

  /** Gives every page back (the inode is gone). */
  release(): void {
    this.freeFrom(0);
    this.size = 0;
  }

  private freeFrom(first: number): void {
    for (let i = first; i < this.dense.length; i++) if (this.dense[i] !== 0) this.freePage(i);
    if (this.sparse !== null) for (const i of [...this.sparse.keys()]) if (i >= first) this.freePage(i);
  }

  private freePage(i: number): void {
    const gpa = this.page(i);
    if (gpa === 0) return;
    this.setPage(i, 0);
    this.pageCount--;
    this.store.allocator.freePage(gpa);
  }

  private setPage(i: number, pfn: number): void {
    if (i >= DENSE_LIMIT) {
      this.sparse ??= new Map();
      if (pfn === 0) this.sparse.delete(i);
      else this.sparse.set(i, pfn);
      return;
    }
    if (i >= this.dense.length) {
      if (pfn === 0) return;
      const grown = new Uint32Array(Math.min(DENSE_LIMIT, Math.max(i + 1, this.dense.length * 2, 4)));
      grown.set(this.dense);
      this.dense = grown;
    }
    this.dense[i] = pfn;
  }
}

/**
 * A tmpfs file as mmap sees it: MAP_SHARED maps the file's own pages. Each area holds a reference on
 * the open description (as vma->vm_file does), so the file outlives close(); without a description
 * (/dev/zero's anonymous shared memory) the pages go with the last area.
 */
export class FileDataMappable implements Mappable {
  private holders = 0;

  constructor(private readonly data: FileData, readonly mapName: string, private readonly owner: { incRef(): void; decRef(): void } | null) {}

  hold(writable: boolean): void {
    if (writable) this.data.writableMappings++;
    if (this.owner !== null) this.owner.incRef();
    else this.holders++;
  }

  drop(writable: boolean): void {
    if (writable) this.data.writableMappings--;
    if (this.owner !== null) this.owner.decRef();
    else if (--this.holders === 0) this.data.release();
  }

  size(): number {
    return this.data.size;
  }

  sharedPage(offset: number): number | null | Errno {
    const gpa = this.data.ensurePage(Math.floor(offset / PAGE_SIZE));
    return gpa < 0 ? ENOSPC : gpa;
  }

  readAt(offset: number, dst: Uint8Array): number | Errno {
    return this.data.readAt(offset, dst);
  }

  writeAt(offset: number, src: Uint8Array): number | Errno {
    return this.data.writeAt(offset, src);
  }
}
