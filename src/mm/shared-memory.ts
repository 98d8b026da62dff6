// Shared anonymous memory (mmap MAP_SHARED|MAP_ANONYMOUS): like Linux's shmem object behind /dev/zero,
// one set of pages that every area mapping it sees, created zeroed as they are first touched. The object
// holds one reference on each page; each mapping takes its own. The pages go back to the host when the
// last area using the object is gone.
import { ENOMEM, type Errno } from '../abi/errno.js';
import { PAGE_SIZE } from '../platform/layout.js';
import type { Mappable } from './mappable.js';
import type { PageAllocator } from './physical.js';

export class SharedMemory implements Mappable {
  readonly mapName = '/dev/zero (deleted)';
  private readonly pages = new Map<number, number>();
  private users = 0;

  constructor(private readonly allocator: PageAllocator, private readonly length: number, private readonly bytes: Uint8Array) {}

  size(): number {
    return this.length;
  }

  sharedPage(offset: number): number | Errno {
    const index = Math.floor(offset / PAGE_SIZE);
    let gpa = this.pages.get(index);
    if (gpa === undefined) {
      gpa = this.allocator.allocPage();
      if (gpa < 0) return ENOMEM;
      this.pages.set(index, gpa);
    }
    return gpa;
  }

  readAt(offset: number, dst: Uint8Array): number {
    const n = Math.max(0, Math.min(dst.length, this.length - offset));
    for (let done = 0; done < n;) {
      const pos = offset + done;
      const chunk = Math.min(n - done, PAGE_SIZE - (pos % PAGE_SIZE));
      const gpa = this.pages.get(Math.floor(pos / PAGE_SIZE));
      if (gpa === undefined) dst.fill(0, done, done + chunk);
      else dst.set(this.bytes.subarray(gpa + (pos % PAGE_SIZE), gpa + (pos % PAGE_SIZE) + chunk), done);
      done += chunk;
    }
    return n;
  }

  writeAt(offset: number, src: Uint8Array): number | Errno {
    const n = Math.max(0, Math.min(src.length, this.length - offset));
    for (let done = 0; done < n;) {
      const pos = offset + done;
      const chunk = Math.min(n - done, PAGE_SIZE - (pos % PAGE_SIZE));
      const gpa = this.sharedPage(pos - (pos % PAGE_SIZE));
      if (typeof gpa !== 'number') return done > 0 ? done : gpa;
      this.bytes.set(src.subarray(done, done + chunk), gpa + (pos % PAGE_SIZE));
      done += chunk;
    }
    return n;
  }

  /** Pages the object holds now (for tests and mincore of unmapped parts). */
  get pageCount(): number {
    return this.pages.size;
  }

  /** Whether the page at offset exists (mincore reports it resident even where not mapped here). */
  hasPage(offset: number): boolean {
    return this.pages.has(Math.floor(offset / PAGE_SIZE));
  }

  /** MADV_REMOVE: the object's pages in [offset, offset+length) go (mappings drop theirs first). */
  punch(offset: number, length: number): void {
    this.allocator.batchFrees(() => {
      for (let pos = offset; pos < offset + length; pos += PAGE_SIZE) {
        const index = Math.floor(pos / PAGE_SIZE);
        const gpa = this.pages.get(index);
        if (gpa === undefined) continue;
        this.allocator.freePage(gpa);
        this.pages.delete(index);
      }
    });
  }

  hold(): void {
    this.users++;
  }

  drop(): void {
    if (--this.users > 0) return;
    this.allocator.batchFrees(() => {
      for (const gpa of this.pages.values()) this.allocator.freePage(gpa);
    });
    this.pages.clear();
  }
}
