// What a file must offer to back a mapping (mmap of a file). src/fs implements it; src/mm only uses it.
import type { Errno } from '../abi/errno.js';

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
  /** MAP_PRIVATE and write-back-less files: reads the file at offset into dst; returns bytes read. */
  readAt(offset: number, dst: Uint8Array): number | Errno;
  /** msync / munmap of a MAP_SHARED mapping of a file without its own pages: writes src at offset. */
  writeAt(offset: number, src: Uint8Array): number | Errno;
  /** For /proc/PID/maps: the path shown, and the device and inode. */
  readonly mapName: string;
}
