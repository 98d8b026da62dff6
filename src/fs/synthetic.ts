// Building blocks of /proc and /sys: trees whose files are generated when opened (the contents are a
// snapshot taken at open, as a seq_file's first read would be), whose symlinks may be magic (leading
// to a place rather than a path), and whose directories may list entries that change (one per
// process, one per open fd). A few files take writes: a sysctl's integers (sysctlNode).
import { EACCES, EINVAL, ENOENT, Errno } from '../abi/errno.js';
import { DirectoryFile } from './dir-file.js';
import { S_IFDIR, S_IFLNK, S_IFREG, SEEK_CUR, SEEK_END, SEEK_SET, direntType } from '../abi/fcntl.js';
import {
  Dentry, type DirEntry, FileDescription, FileSystem, type FileStat,
  type FsContext, type VirtualDentry, allocAnonDev, allocIno, encodeStatfs, syntheticStat,
} from './vfs.js';

export class SyntheticFs extends FileSystem {
  readonly dev = allocAnonDev();

  constructor(readonly type: string, private readonly magic: number) {
    super();
  }

  statfs(): Uint8Array {
    // ST_VALID, and ST_RELATIME | ST_NOSUID | ST_NODEV | ST_NOEXEC as proc and sysfs are mounted.
    return encodeStatfs({
      type: this.magic, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255,
      flags: 0x20 | 0x1000 | 0x2 | 0x4 | 0x8, fsid: this.dev,
    });
  }
}

export abstract class SynthNode extends Dentry {
  readonly ino: number;
  readonly uid: number = 0;
  readonly gid: number = 0;

  constructor(name: string, parent: Dentry | null, readonly fs: SyntheticFs, readonly mode: number, ino?: number) {
    super(name, parent);
    this.ino = ino ?? allocIno();
  }

  stat(): FileStat | Errno {
    return syntheticStat(this.ino, this.mode, this.fs.dev);
  }
}

export type Content = (caller: FsContext) => string | Uint8Array | Errno;

/** What a sysctl file does with the integers one write gave (fewer than it holds: the rest stay). */
export type SysctlStore = (values: number[]) => Errno | null;

/**
 * The integers of a write to a sysctl file, as proc_dointvec reads them: decimal, optionally
 * negative, separated and surrounded by white space; anything else is EINVAL.
 */
export function parseSysctlInts(text: string, max: number): number[] | Errno {
  const words = text.split(/[ \t\n]+/).filter((w) => w !== '');
  if (words.length > max) return EINVAL;
  const values: number[] = [];
  for (const w of words) {
    if (!/^-?\d{1,10}$/.test(w)) return EINVAL;
    values.push(Number(w));
  }
  return values;
}

/** Entries a directory computes when asked: one per process, one per fd. */
export interface DynamicEntries {
  list(caller: FsContext): DirEntry[];
  lookup(name: string, caller: FsContext, dir: SynthDir): SynthNode | null;
}

export class SynthDir extends SynthNode {
  private readonly fixed = new Map<string, SynthNode>();

  constructor(name: string, parent: Dentry | null, fs: SyntheticFs, private readonly dynamic: DynamicEntries | null = null, mode = 0o555, ino?: number) {
    super(name, parent, fs, S_IFDIR | mode, ino);
  }

  override stat(): FileStat | Errno {
    return syntheticStat(this.ino, this.mode, this.fs.dev, { nlink: 2 + [...this.fixed.values()].filter((n) => n instanceof SynthDir).length });
  }

  override child(name: string, caller: FsContext): Dentry | Errno {
    return this.fixed.get(name) ?? this.dynamic?.lookup(name, caller, this) ?? ENOENT;
  }

  override readdir(caller: FsContext): DirEntry[] {
    const out: DirEntry[] = [];
    for (const [name, n] of this.fixed) out.push({ name, ino: n.ino, type: direntType(n.mode) });
    if (this.dynamic !== null) out.push(...this.dynamic.list(caller));
    return out;
  }

  override open(flags: number): FileDescription {
    return new DirectoryFile(flags, this);
  }

  dirNode(name: string, dynamic: DynamicEntries | null = null, mode = 0o555): SynthDir {
    const d = new SynthDir(name, this, this.fs, dynamic, mode);
    this.fixed.set(name, d);
    return d;
  }

  fileNode(name: string, content: Content, mode = 0o444): SynthFile {
    const f = new SynthFile(name, this, this.fs, content, mode);
    this.fixed.set(name, f);
    return f;
  }

  /** A sysctl of count integers, shown tab-separated, that a write (its opener's permission checked: root) sets. */
  sysctlNode(name: string, count: number, show: () => readonly number[], store: SysctlStore): SynthFile {
    const f = new SynthFile(name, this, this.fs, () => `${show().join('\t')}\n`, 0o644, undefined, { count, store });
    this.fixed.set(name, f);
    return f;
  }

  symlinkNode(name: string, target: (caller: FsContext) => string | Errno, jump: Jump | null = null): SynthLink {
    const l = new SynthLink(name, this, this.fs, target, jump);
    this.fixed.set(name, l);
    return l;
  }
}

export class SynthFile extends SynthNode {
  constructor(
    name: string, parent: Dentry | null, fs: SyntheticFs, readonly content: Content, mode = 0o444, ino?: number,
    private readonly sysctl: { count: number; store: SysctlStore } | null = null,
  ) {
    super(name, parent, fs, S_IFREG | mode, ino);
  }

  override open(flags: number, caller: FsContext): FileDescription | Errno {
    if ((flags & 3) !== 0 && this.sysctl === null) return EACCES;
    const bytes = this.content(caller);
    if (bytes instanceof Errno) return bytes;
    const snapshot = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    if (this.sysctl !== null) return new SysctlFile(flags, snapshot, this, this.sysctl.count, this.sysctl.store);
    return new SnapshotFile(flags, snapshot, this);
  }
}

export type Jump = (caller: FsContext, self: VirtualDentry) => VirtualDentry | Errno | null;

export class SynthLink extends SynthNode {
  constructor(
    name: string, parent: Dentry | null, fs: SyntheticFs,
    private readonly target: (caller: FsContext) => string | Errno,
    private readonly jump: Jump | null = null, ino?: number, mode = 0o777,
  ) {
    super(name, parent, fs, S_IFLNK | mode, ino);
  }

  override readlink(caller: FsContext): string | Errno {
    return this.target(caller);
  }

  override magicLink(caller: FsContext, self: VirtualDentry): VirtualDentry | Errno | null {
    return this.jump === null ? null : this.jump(caller, self);
  }
}

/** An open generated file: the bytes as they were at open. */
export class SnapshotFile extends FileDescription {
  constructor(flags: number, private readonly bytes: Uint8Array, private readonly node: Dentry) {
    super(flags);
  }

  override read(buf: Uint8Array): number {
    const n = this.pread(buf, this.offset);
    this.offset += n;
    return n;
  }

  override pread(buf: Uint8Array, offset: number): number {
    if (offset >= this.bytes.length) return 0;
    const n = Math.min(buf.length, this.bytes.length - offset);
    buf.set(this.bytes.subarray(offset, offset + n));
    return n;
  }

  override write(_buf: Uint8Array): number | Errno {
    return EINVAL;
  }

  override seek(offset: number, whence: number): number | Errno {
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? this.offset : whence === SEEK_END ? this.bytes.length : -1;
    if (base < 0 || base + offset < 0) return EINVAL;
    this.offset = base + offset;
    return this.offset;
  }

  /** Nothing to write back: the data lives in memory. */
  override sync(): null {
    return null;
  }

  stat(): FileStat | Errno {
    return this.node.stat();
  }

  override readableBytes(): number {
    return Math.max(0, this.bytes.length - this.offset);
  }
}

/** An open sysctl file: reads show the value at open; each write is parsed whole and stored. */
class SysctlFile extends SnapshotFile {
  constructor(flags: number, bytes: Uint8Array, node: Dentry, private readonly count: number, private readonly store: SysctlStore) {
    super(flags, bytes, node);
  }

  override write(buf: Uint8Array): number | Errno {
    const values = parseSysctlInts(Buffer.from(buf).toString('latin1'), this.count);
    if (values instanceof Errno) return values;
    if (values.length > 0) {
      const e = this.store(values);
      if (e !== null) return e;
    }
    return buf.length;
  }

  override pwrite(buf: Uint8Array): number | Errno {
    return this.write(buf);
  }
}
