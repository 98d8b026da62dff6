// The root filesystem's overlay (as Linux overlayfs without redirect_dir): a read-only lower layer (the
// host's files through the Gofer) under a tmpfs upper layer that takes every change. A file is copied
// up when first opened for writing or changed; a removed lower name leaves a whiteout (a 0/0 character
// device in the upper layer); a directory made where a lower one was removed is opaque (hides the lower
// one). Nothing is written to the host: the changes vanish with the sandbox.
import { EBUSY, EINVAL, ENODATA, ENOENT, ENOSPC, ENOTEMPTY, EOPNOTSUPP, EXDEV, Errno } from '../abi/errno.js';
import type { GuestRanges } from '../mm/guest-ranges.js';
import type { Mappable } from '../mm/mappable.js';
import { type CachingDentry, DENTRY_BUDGET, pruneCache } from './dcache.js';
import { DirectoryFile } from './dir-file.js';
import {
  DT_DIR, O_ACCMODE, O_RDONLY, O_TRUNC, OVERLAYFS_SUPER_MAGIC, PERM_MASK, RENAME_EXCHANGE, S_IFCHR, S_IFDIR, S_IFLNK,
  S_IFMT, S_IFREG, isDir,
} from '../abi/fcntl.js';
import { OPAQUE, type Tmpfs, TmpfsDentry } from './tmpfs.js';
import { XATTR_REPLACE, checkXattrName } from './xattr.js';
import {
  type Creds, Dentry, type DirEntry, FileDescription, FileSystem, type FileStat, type FsContext, type SetAttr,
  allocAnonDev,
} from './vfs.js';

const ROOT: Creds = { uid: 0, gid: 0 };
/** The lower layer (the Gofer's files) and tmpfs never look at the caller; copy-up has none to give. */
const INTERNAL = null as unknown as FsContext;
const COPY_CHUNK = 1 << 20;
/** Negative entries kept per directory. */
const MAX_MISSING = 1024;

function isWhiteout(d: TmpfsDentry): boolean {
  return (d.mode & S_IFMT) === S_IFCHR && d.rdev === 0;
}

export class OverlayFs extends FileSystem {
  readonly type = 'overlay';
  readonly dev = allocAnonDev();
  readonly root: OverlayDentry;
  cached = 0;

  constructor(readonly upper: Tmpfs, lowerRoot: Dentry) {
    super();
    this.root = new OverlayDentry('/', null, this, upper.root, lowerRoot);
    // The upper root stands for the lower one, as if it had been copied up.
    const st = lowerRoot.stat();
    if (!(st instanceof Errno)) {
      upper.root.setattr({ mode: st.mode & PERM_MASK, uid: st.uid, gid: st.gid, atimeNs: st.atimeNs, mtimeNs: st.mtimeNs });
    }
  }

  /** The lower layer's numbers (its size, free space), with overlay's magic. */
  statfs(): Uint8Array | Errno {
    const lower = this.root.lower!.fs.statfs();
    if (lower instanceof Errno) return lower;
    const out = lower.slice();
    new DataView(out.buffer).setBigUint64(0, BigInt(OVERLAYFS_SUPER_MAGIC), true);
    return out;
  }

  noteCached(): void {
    if (++this.cached > DENTRY_BUDGET) this.cached = pruneCache(this.root, DENTRY_BUDGET / 2);
  }

  override release(): void {
    this.root.lower!.fs.release();
  }
}

export class OverlayDentry extends Dentry implements CachingDentry {
  children: Map<string, OverlayDentry> | null = null;
  /**
   * Names known to exist in neither layer. The lower layer does not change under the sandbox (as
   * overlayfs assumes), and every change to the upper one goes through here, so a miss stays a miss
   * until this directory creates the name: a PATH search or a library probe costs one Gofer trip.
   */
  private missing: Set<string> | null = null;

  constructor(
    name: string,
    parent: OverlayDentry | null,
    readonly fs: OverlayFs,
    public upper: TmpfsDentry | null,
    /** The lower layer's dentry: kept after copy-up, for the inode number of directories. */
    readonly lower: Dentry | null,
  ) {
    super(name, parent);
  }

  private get top(): Dentry {
    return this.upper ?? this.lower!;
  }
  get mode(): number {
    return this.top.mode;
  }
  get uid(): number {
    return this.top.uid;
  }
  get gid(): number {
    return this.top.gid;
  }
  /** Directories keep the lower inode number across copy-up; other files report their real one. */
  get ino(): number {
    return isDir(this.mode) && this.lower !== null ? this.lower.ino : this.top.ino;
  }
  override get lockKey(): unknown {
    return this.lower?.lockKey ?? this.upper!.lockKey;
  }

  /**
   * Non-directories show their real inode (as overlayfs without xino); directories are the overlay's,
   * and a merged one reports one link, as overlayfs does rather than counting subdirectories.
   */
  stat(): FileStat | Errno {
    const s = this.top.stat();
    if (s instanceof Errno || !isDir(s.mode)) return s;
    const merged = this.upper !== null && this.lower !== null && !this.opaque;
    return { ...s, dev: this.fs.dev, ino: this.ino, nlink: merged ? 1 : s.nlink };
  }

  private get opaque(): boolean {
    return this.upper !== null && (this.upper.inodeFlags & OPAQUE) !== 0;
  }

  override child(name: string, caller: FsContext): OverlayDentry | Errno {
    const hit = this.children?.get(name);
    if (hit !== undefined) return hit;
    if (!isDir(this.mode) || this.missing?.has(name) === true) return ENOENT;
    let upper: TmpfsDentry | null = null;
    if (this.upper !== null) {
      const u = this.upper.child(name);
      if (!(u instanceof Errno)) {
        if (isWhiteout(u)) return ENOENT;
        upper = u;
      }
    }
    let lower: Dentry | null = null;
    const lowerVisible = this.lower !== null && !this.opaque && (upper === null || isDir(upper.mode));
    if (lowerVisible && isDir(this.lower!.mode)) {
      const l = this.lower!.child(name, caller);
      if (l instanceof Errno) {
        if (l !== ENOENT) return l;
      } else if (upper === null || isDir(l.mode)) {
        lower = l;
      }
    }
    if (upper === null && lower === null) {
      this.missing ??= new Set();
      if (this.missing.size < MAX_MISSING) this.missing.add(name);
      return ENOENT;
    }
    return this.cache(name, upper, lower);
  }

  /** A lower file about to be opened is looked up and opened in one Gofer trip (see GoferDentry). */
  override prepareOpen(name: string, flags: number): void {
    if (this.children?.has(name) === true || this.missing?.has(name) === true || this.opaque) return;
    if (this.lower === null || !isDir(this.lower.mode)) return;
    if (this.upper !== null && !(this.upper.child(name) instanceof Errno)) return;
    this.lower.prepareOpen(name, flags);
  }

  /** name is about to exist here. */
  private found(name: string): void {
    this.missing?.delete(name);
  }

  private cache(name: string, upper: TmpfsDentry | null, lower: Dentry | null): OverlayDentry {
    const d = new OverlayDentry(name, this, this.fs, upper, lower);
    this.children ??= new Map();
    this.children.set(name, d);
    this.fs.noteCached();
    return d;
  }

  override readdir(caller: FsContext): DirEntry[] | Errno {
    const out: DirEntry[] = [];
    const hidden = new Set<string>();
    if (this.upper !== null) {
      for (const [name, d] of this.upper.childNames()) {
        hidden.add(name);
        if (!isWhiteout(d)) out.push({ name, ino: d.ino, type: (d.mode & S_IFMT) >>> 12 });
      }
    }
    if (this.lower !== null && !this.opaque) {
      const lower = this.lower.readdir(caller);
      if (lower instanceof Errno) return lower;
      const dirInos = new Map<string, number>();
      for (const e of lower) {
        if (!hidden.has(e.name)) out.push(e);
        else if (e.type === DT_DIR) dirInos.set(e.name, e.ino);
      }
      // A merged directory reports the lower inode number, as its stat does.
      for (const e of out) if (e.type === DT_DIR && dirInos.has(e.name)) e.ino = dirInos.get(e.name)!;
    }
    return out;
  }

  override readlink(caller: FsContext): string | Errno {
    return this.top.readlink(caller);
  }

  override open(flags: number, caller: FsContext): FileDescription | Errno {
    if (isDir(this.mode)) return new DirectoryFile(flags, this);
    const regular = (this.mode & S_IFMT) === S_IFREG;
    const writes = (flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0;
    if (writes && regular) {
      const r = this.copyUp();
      if (r !== null) return r;
    }
    const real = this.top.open(flags, caller);
    if (real instanceof Errno || this.upper !== null || !regular) return real;
    return new LowerFile(flags, this, real);
  }

  /** Gives this entry (and its parents) an upper copy, with the lower one's contents and attributes. */
  copyUp(): Errno | null {
    if (this.upper !== null) return null;
    const parent = this.parent as OverlayDentry | null;
    if (parent === null) return EINVAL;
    const r = parent.copyUp();
    if (r !== null) return r;
    const lower = this.lower!;
    const st = lower.stat();
    if (st instanceof Errno) return st;
    const dir = parent.upper!;
    const perm = st.mode & PERM_MASK;
    let made: Errno | null;
    switch (st.mode & S_IFMT) {
      case S_IFDIR: made = dir.mkdir(this.name, perm, ROOT); break;
      case S_IFLNK: {
        const target = lower.readlink(INTERNAL);
        made = target instanceof Errno ? target : dir.symlink(this.name, target, ROOT);
        break;
      }
      case S_IFREG: {
        const f = dir.create(this.name, perm, ROOT);
        made = f instanceof Errno ? f : copyData(lower, f);
        break;
      }
      default: made = dir.mknod(this.name, st.mode, st.rdev, ROOT);
    }
    if (made !== null) return made;
    const upper = dir.child(this.name);
    if (upper instanceof Errno) return upper;
    upper.setattr({ mode: perm, uid: st.uid, gid: st.gid, atimeNs: st.atimeNs, mtimeNs: st.mtimeNs });
    this.upper = upper;
    if (this.refs > 0) upper.hold();
    return null;
  }

  /**
   * While something holds this dentry (an open directory, a working directory), it holds its upper
   * one, whose inode then outlives a removal: an fd of a removed directory must still stat as one,
   * not read a tmpfs slot given to another file since.
   */
  protected override firstHold(): void {
    this.upper?.hold();
  }
  protected override lastDrop(): void {
    this.upper?.drop();
  }

  /** Before creating name here: this directory is copied up and a whiteout in the way removed. */
  private prepareCreate(name: string): { dir: TmpfsDentry; replacedWhiteout: boolean } | Errno {
    if (this.deleted) return ENOENT;
    this.found(name);
    const r = this.copyUp();
    if (r !== null) return r;
    const dir = this.upper!;
    const existing = dir.child(name);
    if (!(existing instanceof Errno) && isWhiteout(existing)) {
      dir.unlink(name, existing);
      return { dir, replacedWhiteout: true };
    }
    return { dir, replacedWhiteout: false };
  }

  private created(name: string, dir: TmpfsDentry): OverlayDentry | Errno {
    const u = dir.child(name);
    if (u instanceof Errno) return u;
    this.children?.delete(name);
    return this.cache(name, u, null);
  }

  override create(name: string, mode: number, creds: Creds): Dentry | Errno {
    const p = this.prepareCreate(name);
    if (p instanceof Errno) return p;
    const f = p.dir.create(name, mode, creds);
    return f instanceof Errno ? f : this.created(name, p.dir);
  }

  /**
   * O_TMPFILE: made in the upper layer (this directory copied up first), as overlayfs has done since
   * Linux 6.6; the file is upper-only, and linkat names it there.
   */
  override tmpfile(mode: number, creds: Creds, linkable: boolean): Dentry | Errno {
    if (this.upper === null) {
      if (this.deleted) return ENOENT;
      const r = this.copyUp();
      if (r !== null) return r;
    }
    const u = this.upper!.tmpfile(mode, creds, linkable);
    const d = new OverlayDentry(u.name, this, this.fs, u, null);
    d.deleted = true;
    return d;
  }

  override mkdir(name: string, mode: number, creds: Creds): Errno | null {
    const p = this.prepareCreate(name);
    if (p instanceof Errno) return p;
    const r = p.dir.mkdir(name, mode, creds);
    if (r !== null) return r;
    const d = this.created(name, p.dir);
    if (d instanceof Errno) return d;
    // A directory where a lower one was removed must not show the lower one's entries.
    if (p.replacedWhiteout) d.upper!.setInodeFlags(d.upper!.inodeFlags | OPAQUE);
    return null;
  }

  override mknod(name: string, mode: number, rdev: number, creds: Creds): Errno | null {
    const p = this.prepareCreate(name);
    if (p instanceof Errno) return p;
    const r = p.dir.mknod(name, mode, rdev, creds);
    if (r !== null) return r;
    const d = this.created(name, p.dir);
    return d instanceof Errno ? d : null;
  }

  override symlink(name: string, target: string, creds: Creds): Errno | null {
    const p = this.prepareCreate(name);
    if (p instanceof Errno) return p;
    const r = p.dir.symlink(name, target, creds);
    if (r !== null) return r;
    const d = this.created(name, p.dir);
    return d instanceof Errno ? d : null;
  }

  override link(name: string, existing: Dentry): Errno | null {
    if (!(existing instanceof OverlayDentry) || existing.fs !== this.fs) return EXDEV;
    const c = existing.copyUp();
    if (c !== null) return c;
    const p = this.prepareCreate(name);
    if (p instanceof Errno) return p;
    const r = p.dir.link(name, existing.upper!);
    if (r !== null) return r;
    const d = this.created(name, p.dir);
    return d instanceof Errno ? d : null;
  }

  /** Removes child's upper entry, and hides its lower one behind a whiteout. */
  private remove(name: string, child: OverlayDentry): Errno | null {
    const r = this.copyUp();
    if (r !== null) return r;
    const dir = this.upper!;
    if (child.upper !== null) {
      const gone = isDir(child.upper.mode) ? dir.rmdir(name, child.upper) : dir.unlink(name, child.upper);
      if (gone !== null) return gone;
    }
    if (child.lower !== null || this.lowerHas(name)) {
      const w = dir.mknod(name, S_IFCHR, 0, ROOT);
      if (w !== null) return w;
    }
    this.children?.delete(name);
    child.deleted = true;
    return null;
  }

  /**
   * Whether the lower layer has name, which an upper-only dentry may still hide: one created over a
   * whiteout, or a copied-up file looked up again after its dentry was pruned.
   */
  private lowerHas(name: string): boolean {
    if (this.lower === null || this.opaque || !isDir(this.lower.mode)) return false;
    return this.lower.child(name, INTERNAL) !== ENOENT;
  }

  override unlink(name: string, child: Dentry): Errno | null {
    if (!(child instanceof OverlayDentry)) return ENOENT;
    return this.remove(name, child);
  }

  override rmdir(name: string, child: Dentry): Errno | null {
    if (!(child instanceof OverlayDentry)) return ENOENT;
    const empty = child.emptyForRemoval();
    return empty ?? this.remove(name, child);
  }

  /** A directory may go if the merged view is empty; the whiteouts left in its upper copy go first. */
  private emptyForRemoval(): Errno | null {
    const entries = this.readdir(INTERNAL);
    if (entries instanceof Errno) return entries;
    if (entries.length > 0) return ENOTEMPTY;
    if (this.upper !== null) {
      for (const [name, d] of [...this.upper.childNames()]) this.upper.unlink(name, d);
    }
    return null;
  }

  /**
   * Renames in the upper layer. Like overlayfs without redirect_dir, a directory with a lower part
   * cannot move (EXDEV: mv then copies it), and RENAME_EXCHANGE needs both sides upper-only.
   */
  override rename(oldName: string, child: Dentry, newDir: Dentry, newName: string, replaced: Dentry | null, flags: number): Errno | null {
    if (!(child instanceof OverlayDentry) || !(newDir instanceof OverlayDentry)) return EXDEV;
    if (isDir(child.mode) && child.lower !== null) return EXDEV;
    const target = replaced as OverlayDentry | null;
    if ((flags & RENAME_EXCHANGE) !== 0) {
      if (child.lower !== null || target === null || target.lower !== null) return EXDEV;
    } else if (target !== null && isDir(target.mode)) {
      const empty = target.emptyForRemoval();
      if (empty !== null) return empty;
    }
    const up = child.copyUp() ?? this.copyUp() ?? newDir.copyUp();
    if (up !== null) return up;
    // Asked before the move: afterwards the upper layer has the new name and not the old.
    const hidesOld = child.lower !== null || this.lowerHas(oldName);
    const hidesNew = target !== null && (target.lower !== null || newDir.lowerHas(newName));
    newDir.found(newName);
    const from = this.upper!;
    const to = newDir.upper!;
    const inTheWay = to.child(newName);
    const upperReplaced = inTheWay instanceof Errno ? null : inTheWay;
    const r = from.rename(oldName, child.upper!, to, newName, upperReplaced, flags);
    if (r !== null) return r;
    // The moved directory hides whatever lower directory had the new name.
    if (hidesNew && isDir(child.mode)) child.upper!.setInodeFlags(child.upper!.inodeFlags | OPAQUE);
    if (hidesOld && (flags & RENAME_EXCHANGE) === 0) {
      const w = from.mknod(oldName, S_IFCHR, 0, ROOT);
      if (w !== null) return w;
    }
    this.children?.delete(oldName);
    newDir.children?.delete(newName);
    if ((flags & RENAME_EXCHANGE) !== 0 && target !== null) {
      target.name = oldName;
      target.parent = this;
      this.children?.set(oldName, target);
    } else if (target !== null) {
      target.deleted = true;
    }
    child.name = newName;
    child.parent = newDir;
    newDir.children ??= new Map();
    newDir.children.set(newName, child);
    return null;
  }

  override setattr(attr: SetAttr): Errno | null {
    if (this.parent === null && this.upper === null) return EBUSY;
    const r = this.copyUp();
    return r ?? this.upper!.setattr(attr);
  }

  /**
   * Extended attributes live in the upper layer; the lower one (the Gofer's files) shows none, so a
   * file not yet copied up has none, and setting one copies it up. trusted.overlay.* are overlayfs's
   * own names, which it refuses (EOPNOTSUPP).
   */
  override getxattr(name: string): Uint8Array | Errno {
    if (this.upper !== null) return overlayName(name) ?? this.upper.getxattr(name);
    return overlayName(name) ?? checkXattrName(name) ?? ENODATA;
  }

  override listxattr(): string[] | Errno {
    return this.upper?.listxattr() ?? [];
  }

  override setxattr(name: string, value: Uint8Array, flags: number): Errno | null {
    const bad = overlayName(name) ?? checkXattrName(name);
    if (bad !== null) return bad;
    if (this.upper === null && (flags & XATTR_REPLACE) !== 0) return ENODATA;
    return this.copyUp() ?? this.upper!.setxattr(name, value, flags);
  }

  override removexattr(name: string): Errno | null {
    if (this.upper !== null) return overlayName(name) ?? this.upper.removexattr(name);
    return overlayName(name) ?? checkXattrName(name) ?? ENODATA;
  }
}

/** overlayfs's own attributes (trusted.overlay.*) are not the program's to see or change. */
function overlayName(name: string): Errno | null {
  return name.startsWith('trusted.overlay.') ? EOPNOTSUPP : null;
}

/** Copies a lower regular file's bytes into a new upper file. */
function copyData(lower: Dentry, upper: Dentry): Errno | null {
  const src = lower.open(O_RDONLY, INTERNAL);
  if (src instanceof Errno) return src;
  src.incRef();
  try {
    const data = (upper as TmpfsDentry).fileData;
    const buf = new Uint8Array(COPY_CHUNK);
    for (let pos = 0; ;) {
      const n = src.pread(buf, pos);
      if (n instanceof Errno) return n;
      if (n === 0) return null;
      const w = data.writeAt(pos, buf.subarray(0, n));
      if (w instanceof Errno) return w;
      if (w < n) return ENOSPC;
      pos += n;
    }
  } finally {
    src.decRef();
  }
}

/**
 * A lower regular file opened for reading. If the file is copied up while open, reads go to the
 * upper copy from then on (as overlayfs has done since Linux 4.19), so the change is seen.
 */
class LowerFile extends FileDescription {
  private onUpper = false;

  constructor(flags: number, private readonly dentry: OverlayDentry, private real: FileDescription) {
    super(flags);
    real.incRef();
  }

  private current(): FileDescription {
    if (!this.onUpper && this.dentry.upper !== null) {
      const up = this.dentry.upper.open(O_RDONLY, INTERNAL);
      if (!(up instanceof Errno)) {
        up.incRef();
        this.real.decRef();
        this.real = up;
        this.onUpper = true;
      }
    }
    return this.real;
  }

  override read(buf: Uint8Array): number | Errno {
    const n = this.current().pread(buf, this.offset);
    if (typeof n === 'number') this.offset += n;
    return n;
  }
  override pread(buf: Uint8Array, offset: number): number | Errno {
    return this.current().pread(buf, offset);
  }
  override get readsRanges(): boolean {
    return this.current().readsRanges;
  }
  override readRanges(ranges: GuestRanges, pos: number | null): number | Errno {
    const n = this.current().readRanges(ranges, pos ?? this.offset);
    if (pos === null && typeof n === 'number') this.offset += n;
    return n;
  }
  override seek(offset: number, whence: number): number | Errno {
    const real = this.current();
    real.offset = this.offset;
    const r = real.seek(offset, whence);
    if (typeof r === 'number') this.offset = r;
    return r;
  }
  stat(): FileStat | Errno {
    return this.current().stat();
  }
  override readableBytes(): number | Errno {
    const s = this.stat();
    return s instanceof Errno ? s : Math.max(0, s.size - this.offset);
  }
  override sync(dataOnly: boolean): Errno | null {
    return this.current().sync(dataOnly);
  }
  override mappable(): Mappable | null {
    return this.current().mappable();
  }
  override reopen(flags: number): FileDescription | Errno {
    return this.current().reopen(flags);
  }
  protected override release(): void {
    this.real.decRef();
  }
}
