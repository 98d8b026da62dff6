// The physically contiguous runs of guest memory that one guest buffer occupies, gathered by
// AddressSpace.gatherRanges so that a read or write of a host fd is one vectored host call
// (preadv/pwritev) however scattered the buffer's pages are, instead of one call per run.

/** Most runs one host call takes (Linux's IOV_MAX). */
export const MAX_RANGES = 1024;

export class GuestRanges {
  /** The guest memory the runs are in (set by gatherRanges). */
  memory: Uint8Array = new Uint8Array(0);
  /** (guest-physical address, length) pairs, count of them. */
  readonly list = new Float64Array(2 * MAX_RANGES);
  count = 0;
  /** The runs' total length. */
  bytes = 0;

  clear(memory: Uint8Array): void {
    this.memory = memory;
    this.count = 0;
    this.bytes = 0;
  }

  /** Adds a run; false when there is no room for it. Made once, so that passing it allocates nothing. */
  readonly add = (gpa: number, length: number): boolean => {
    if (this.count === MAX_RANGES) return false;
    this.list[2 * this.count] = gpa;
    this.list[2 * this.count + 1] = length;
    this.count++;
    this.bytes += length;
    return true;
  };

  /** A view of run i. */
  view(i: number): Uint8Array {
    const gpa = this.list[2 * i]!;
    return this.memory.subarray(gpa, gpa + this.list[2 * i + 1]!);
  }
}
