// What a file must offer to back a mapping (mmap of a file). src/fs implements it; src/mm only uses it.
// shared-memory.ts implements it for MAP_SHARED|MAP_ANONYMOUS, and BufferMappable below for bytes held
// in memory (a program exec cannot map otherwise: a generated file; and tests).
import type { Errno } from '../abi/errno.js';
import type { FileCache } from './page-cache.js';

export interface Mappable {
  /** Size in bytes now: a page wholly past the end gives SIGBUS when touched, as in Linux. */
  size(): number;
  /**
   * MAP_SHARED: the guest-physical address of the page holding file offset `offset` (page aligned),
   * created zeroed if the file has none there yet. The caller gets its own reference
   * (PageAllocator.ref) and frees it with PageAllocator.freePage when it unmaps. A file without pages
   * of its own (a host file) returns null, and the mapping is filled and written back instead.
   */
  sharedPage(offset: number): number | null | Errno;
  /**
   * A file without pages of its own that keeps a page cache (a host file): private mappings map its
   * cached pages, read with readAt, instead of reading copies of their own.
   */
  readonly cache?: FileCache;
  /** MAP_PRIVATE and write-back-less files: reads the file at offset into dst; returns bytes read. */
  readAt(offset: number, dst: Uint8Array): number | Errno;
  /** msync / munmap of a MAP_SHARED mapping of a file without its own pages: writes src at offset. */
  writeAt(offset: number, src: Uint8Array): number | Errno;
  /** For /proc/PID/maps: the path shown, and the device and inode. */
  readonly mapName: string;
  /**
   * An area starts (hold) or stops (drop) using the object; every split area holds its own reference.
   * Like Linux's vma->vm_file, a mapping keeps its file open after the program closes the fd: a file
   * description implements these with its reference count. Objects without a lifetime leave them out.
   * writable: the area is shared and may write to the object (Linux counts these in i_mmap_writable,
   * which F_SEAL_WRITE waits out); a drop says what its hold said.
   */
  hold?(writable: boolean): void;
  drop?(writable: boolean): void;
}

/** A read-only file held in host memory (the program image at exec): no pages of its own. */
export class BufferMappable implements Mappable {
  constructor(private readonly bytes: Uint8Array, readonly mapName: string) {}

  size(): number {
    return this.bytes.length;
  }
  sharedPage(): null {
    return null;
  }
  readAt(offset: number, dst: Uint8Array): number {
    if (offset >= this.bytes.length) return 0;
    const part = this.bytes.subarray(offset, Math.min(this.bytes.length, offset + dst.length));
    dst.set(part);
    return part.length;
  }
  writeAt(): number {
    // The image is a private copy of the file: nothing is ever written back to it.
    return 0;
  }
}
