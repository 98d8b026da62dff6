// Inode metadata of the internal filesystems, column by column in typed arrays (STYLE.md point 12: a
// JavaScript object per inode costs far more than these ~60 bytes). A slot is an index into every
// column; slots of freed inodes are reused, inode numbers are not.
import { allocIno, nowNs } from './vfs.js';

const NS = 1_000_000_000;

export class InodeTable {
  mode = new Uint32Array(64);
  uid = new Uint32Array(64);
  gid = new Uint32Array(64);
  nlink = new Uint32Array(64);
  /** Open descriptions of the inode: an unlinked inode lives until the last one closes. */
  opens = new Uint32Array(64);
  rdev = new Uint32Array(64);
  /** Filesystem-specific bits (the overlay's opaque directories). */
  flags = new Uint8Array(64);
  ino = new Float64Array(64);
  /** Times as seconds and nanoseconds: atime, mtime, ctime. */
  sec = new Float64Array(64 * 3);
  nsec = new Uint32Array(64 * 3);
  /** Per-inode object: file pages, directory entries, symlink target. */
  data: unknown[] = [];
  private free: number[] = [];
  private next = 0;

  /** Inodes in use. */
  get count(): number {
    return this.next - this.free.length;
  }

  alloc(mode: number, uid: number, gid: number, data: unknown): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.next++;
      if (slot >= this.mode.length) this.grow();
    }
    this.mode[slot] = mode;
    this.uid[slot] = uid;
    this.gid[slot] = gid;
    this.nlink[slot] = 0;
    this.opens[slot] = 0;
    this.rdev[slot] = 0;
    this.flags[slot] = 0;
    this.ino[slot] = allocIno();
    this.data[slot] = data;
    this.touch(slot, 7);
    return slot;
  }

  release(slot: number): void {
    this.data[slot] = null;
    this.mode[slot] = 0;
    this.free.push(slot);
  }

  /** Sets times to now: which is a mask, 1 atime, 2 mtime, 4 ctime. */
  touch(slot: number, which: number): void {
    const now = nowNs();
    for (let i = 0; i < 3; i++) if ((which & (1 << i)) !== 0) this.setTime(slot, i, now);
  }

  setTime(slot: number, which: number, ns: bigint): void {
    this.sec[slot * 3 + which] = Number(ns / 1_000_000_000n);
    this.nsec[slot * 3 + which] = Number(ns % 1_000_000_000n);
  }

  time(slot: number, which: number): bigint {
    return BigInt(this.sec[slot * 3 + which]!) * BigInt(NS) + BigInt(this.nsec[slot * 3 + which]!);
  }

  private grow(): void {
    const n = this.mode.length * 2;
    const widen = <T extends Uint32Array | Uint8Array | Float64Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.mode = widen(this.mode, n);
    this.uid = widen(this.uid, n);
    this.gid = widen(this.gid, n);
    this.nlink = widen(this.nlink, n);
    this.opens = widen(this.opens, n);
    this.rdev = widen(this.rdev, n);
    this.flags = widen(this.flags, n);
    this.ino = widen(this.ino, n);
    this.sec = widen(this.sec, n * 3);
    this.nsec = widen(this.nsec, n * 3);
  }
}
