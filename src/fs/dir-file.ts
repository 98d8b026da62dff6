// An open directory: getdents64 over a snapshot of its entries taken at the first read (and again
// after a rewind), so that entries added or removed meanwhile do not shift the positions of others.
import { EINVAL, EISDIR, Errno } from '../abi/errno.js';
import { DT_DIR, SEEK_CUR, SEEK_END, SEEK_SET } from '../abi/fcntl.js';
import { DIRENT64_HEADER_SIZE } from '../abi/structs.js';
import { type DirEntry, type Dentry, FileDescription, type FileStat, type FsContext } from './vfs.js';

/** struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name, padded to 8. */
function recordLength(name: string): number {
  return (DIRENT64_HEADER_SIZE + Buffer.byteLength(name) + 1 + 7) & ~7;
}

export class DirectoryFile extends FileDescription {
  private entries: DirEntry[] | null = null;

  constructor(flags: number, readonly dentry: Dentry) {
    super(flags);
  }

  override read(): Errno {
    return EISDIR;
  }
  override write(): Errno {
    return EISDIR;
  }

  /** Nothing to write back: the data lives in memory. */
  override sync(): null {
    return null;
  }

  stat(): FileStat | Errno {
    return this.dentry.stat();
  }

  /** Entries as getdents64 records, at most max bytes; EINVAL if even the next one does not fit. */
  getdents64(max: number, caller: FsContext): Uint8Array | Errno {
    if (this.entries === null) {
      const list = this.dentry.readdir(caller);
      if (list instanceof Errno) return list;
      const self = this.dentry;
      this.entries = [
        { name: '.', ino: self.ino, type: DT_DIR },
        { name: '..', ino: self.parent?.ino ?? self.ino, type: DT_DIR },
        ...list,
      ];
    }
    let size = 0;
    let end = this.offset;
    while (end < this.entries.length) {
      const len = recordLength(this.entries[end]!.name);
      if (size + len > max) break;
      size += len;
      end++;
    }
    if (size === 0 && end < this.entries.length) return EINVAL;
    const out = new Uint8Array(size);
    const v = new DataView(out.buffer);
    let pos = 0;
    for (let i = this.offset; i < end; i++) {
      const e = this.entries[i]!;
      const len = recordLength(e.name);
      v.setBigUint64(pos, BigInt(e.ino), true);
      v.setBigInt64(pos + 8, BigInt(i + 1), true);
      v.setUint16(pos + 16, len, true);
      out[pos + 18] = e.type;
      out.set(Buffer.from(e.name), pos + 19);
      pos += len;
    }
    this.offset = end;
    return out;
  }

  /** Positions are entry indexes (what d_off gives); seeking to 0 takes a fresh snapshot. */
  override seek(offset: number, whence: number): number | Errno {
    let next: number;
    if (whence === SEEK_SET) next = offset;
    else if (whence === SEEK_CUR) next = this.offset + offset;
    else if (whence === SEEK_END) return EINVAL;
    else return EINVAL;
    if (next < 0) return EINVAL;
    if (next === 0) this.entries = null;
    this.offset = next;
    return next;
  }
}
