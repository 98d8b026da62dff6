// tmpfs: a filesystem in the Sentry. Metadata lives in a typed-array inode table (inode-table.ts),
// file contents in guest-memory pages (file-data.ts), so mmap of a tmpfs file shares its pages. It is
// mounted at /tmp and /dev/shm, holds /dev's nodes, and is the writable upper layer of the overlay.
import { EEXIST, EFBIG, EINVAL, EISDIR, ENODATA, ENOENT, ENOTEMPTY, ENXIO, EOPNOTSUPP, EPERM, Errno } from '../abi/errno.js';
import type { Mappable } from '../mm/mappable.js';
import { DirectoryFile } from './dir-file.js';
import { FileData, FileDataMappable, type PageStore } from './file-data.js';
import {
  MAX_FILE_SIZE, O_APPEND, O_TRUNC, PERM_MASK, RENAME_EXCHANGE, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_ISGID,
  SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET, TMPFS_MAGIC, direntType, isDir,
} from '../abi/fcntl.js';
import { InodeTable } from './inode-table.js';
import { openFifo, Pipe } from './pipe.js';
import { type SealState, sealedAllocate, sealedModeChange, sealedResize, sealedWriteLength } from './seals.js';
import { pathFrom } from './walk.js';
import { XattrSpace, XattrStore, checkXattrName } from './xattr.js';
import {
  type Creds, Dentry, type DirEntry, FileDescription, FileSystem, type FileStat, type FsContext, Mount, type SetAttr,
  allocAnonDev, encodeStatfs,
} from './vfs.js';

/** Character and block devices: what opening a device node gives, by its rdev. */
export interface DeviceOpener {
  open(rdev: number, flags: number, caller: FsContext): FileDescription | Errno;
}

/** Linux tmpfs reports directory sizes as entries times this (BOGO_DIRENT_SIZE). */
const BOGO_DIRENT_SIZE = 20;
const ATIME = 1;
const MTIME = 2;
const CTIME = 4;
/** inode flag: an overlay upper directory that hides the lower one (trusted.overlay.opaque). */
export const OPAQUE = 1;
/** inode flag: an O_TMPFILE file without O_EXCL, which one link may name (Linux's I_LINKABLE). */
const LINKABLE = 2;

export class Tmpfs extends FileSystem {
  readonly type = 'tmpfs';
  readonly dev = allocAnonDev();
  readonly inodes = new InodeTable();
  readonly root: TmpfsDentry;
  /** Extended attributes of the inodes that have some, by slot, and the guest memory they are charged. */
  readonly xattrs = new Map<number, XattrStore>();
  readonly xattrSpace: XattrSpace;

  constructor(readonly store: PageStore, readonly devices: DeviceOpener | null, rootMode = 0o1777, uid = 0, gid = 0) {
    super();
    this.xattrSpace = new XattrSpace(store);
    const slot = this.inodes.alloc(S_IFDIR | rootMode, uid, gid, new Map<string, TmpfsDentry>());
    this.inodes.nlink[slot] = 2;
    this.root = new TmpfsDentry('/', null, this, slot);
  }

  statfs(): Uint8Array {
    const s = this.store.allocator.stats;
    const total = Math.floor(this.store.memory.length / 4096);
    const used = Math.ceil(s.committedBytes / 4096);
    // Linux's tmpfs takes attributes out of its inode space, 1 KiB per inode (BOGO_INODE_SIZE).
    const ffree = (1 << 20) - this.inodes.count - Math.ceil(this.xattrSpace.bytes / 1024);
    return encodeStatfs({
      type: TMPFS_MAGIC, bsize: 4096, blocks: total, bfree: total - used, bavail: total - used,
      files: 1 << 20, ffree, namelen: 255, flags: 0x20 /* ST_VALID */, fsid: this.dev,
    });
  }

  /** One link fewer (unlink) or one open fewer (close): the inode goes when both are zero. */
  maybeFree(slot: number): void {
    const t = this.inodes;
    if (t.nlink[slot] !== 0 || t.opens[slot] !== 0) return;
    const data = t.data[slot];
    if (data instanceof FileData) data.release();
    const xattrs = this.xattrs.get(slot);
    if (xattrs !== undefined) {
      xattrs.release();
      this.xattrs.delete(slot);
    }
    t.release(slot);
  }
}

/**
 * A tmpfs mounted in no namespace (Linux's internal shm_mnt), for files in no directory: memfd_create's.
 * Each is "/NAME" on this mount, unlinked, so /proc/PID/fd and /proc/PID/maps show it as Linux's d_path
 * does ("/memfd:NAME (deleted)"), and the calls that change an open file's inode (fchmod, futimens) find it.
 */
export class InternalTmpfs {
  readonly fs: Tmpfs;
  readonly mount: Mount;

  constructor(store: PageStore) {
    this.fs = new Tmpfs(store, null);
    this.mount = new Mount(this.fs, this.fs.root, null, null, false, 'tmpfs');
  }

  /**
   * A regular file without links, open as flags say, with these seals: it goes with its last open
   * description or mapping.
   */
  createFile(name: string, mode: number, creds: Creds, flags: number, seals: number): TmpfsFile {
    const data = new FileData(this.fs.store);
    data.seals = seals;
    const slot = this.fs.inodes.alloc(S_IFREG | (mode & PERM_MASK), creds.uid, creds.gid, data);
    const dentry = new TmpfsDentry(name, this.fs.root, this.fs, slot);
    dentry.deleted = true;
    const file = new TmpfsFile(flags, dentry);
    file.setLocation({ mount: this.mount, dentry });
    return file;
  }
}

export class TmpfsDentry extends Dentry {
  constructor(name: string, parent: TmpfsDentry | null, readonly fs: Tmpfs, readonly slot: number) {
    super(name, parent);
  }

  get mode(): number {
    return this.fs.inodes.mode[this.slot]!;
  }
  get uid(): number {
    return this.fs.inodes.uid[this.slot]!;
  }
  get gid(): number {
    return this.fs.inodes.gid[this.slot]!;
  }
  get ino(): number {
    return this.fs.inodes.ino[this.slot]!;
  }
  get rdev(): number {
    return this.fs.inodes.rdev[this.slot]!;
  }
  get nlink(): number {
    return this.fs.inodes.nlink[this.slot]!;
  }
  /** Inode numbers of internal filesystems are never reused, so they name the inode for locks. */
  override get lockKey(): unknown {
    return this.ino;
  }
  get inodeFlags(): number {
    return this.fs.inodes.flags[this.slot]!;
  }
  setInodeFlags(flags: number): void {
    this.fs.inodes.flags[this.slot] = flags;
  }

  private get entries(): Map<string, TmpfsDentry> {
    return this.fs.inodes.data[this.slot] as Map<string, TmpfsDentry>;
  }
  get fileData(): FileData {
    return this.fs.inodes.data[this.slot] as FileData;
  }

  stat(): FileStat {
    const t = this.fs.inodes;
    const s = this.slot;
    const type = t.mode[s]! & S_IFMT;
    const data = t.data[s];
    let size = 0;
    let blocks = 0;
    if (data instanceof FileData) {
      size = data.size;
      blocks = data.blocks;
    } else if (type === S_IFDIR) {
      size = (this.entries.size + 2) * BOGO_DIRENT_SIZE;
    } else if (type === S_IFLNK) {
      size = Buffer.byteLength(data as string);
    }
    return {
      dev: this.fs.dev, ino: t.ino[s]!, mode: t.mode[s]!, nlink: t.nlink[s]!, uid: t.uid[s]!, gid: t.gid[s]!,
      rdev: t.rdev[s]!, size, blksize: 4096, blocks, atimeNs: t.time(s, 0), mtimeNs: t.time(s, 1), ctimeNs: t.time(s, 2),
    };
  }

  override child(name: string): TmpfsDentry | Errno {
    if (!isDir(this.mode)) return ENOENT;
    return this.entries.get(name) ?? ENOENT;
  }

  override readdir(): DirEntry[] | Errno {
    const t = this.fs.inodes;
    const out: DirEntry[] = [];
    for (const [name, d] of this.entries) out.push({ name, ino: t.ino[d.slot]!, type: direntType(t.mode[d.slot]!) });
    return out;
  }

  /** Names in this directory, for the overlay's merge and emptiness checks. */
  childNames(): IterableIterator<[string, TmpfsDentry]> {
    return this.entries.entries();
  }

  override readlink(): string | Errno {
    return (this.mode & S_IFMT) === S_IFLNK ? (this.fs.inodes.data[this.slot] as string) : EINVAL;
  }

  override open(flags: number, caller: FsContext): FileDescription | Errno {
    const t = this.fs.inodes;
    switch (this.mode & S_IFMT) {
      case S_IFREG: {
        const truncated = (flags & O_TRUNC) !== 0 ? this.truncateOnOpen() : null;
        return truncated ?? new TmpfsFile(flags, this);
      }
      case S_IFDIR:
        return new DirectoryFile(flags, this);
      case S_IFCHR:
        return this.fs.devices?.open(t.rdev[this.slot]!, flags, caller) ?? ENXIO;
      case S_IFIFO:
        return openFifo(t.data[this.slot] as Pipe, flags) ?? ENXIO;
      default:
        return ENXIO;
    }
  }

  /** O_TRUNC: the contents go, unless the file's seals keep them (F_SEAL_SHRINK: EPERM). */
  truncateOnOpen(): Errno | null {
    const data = this.fileData;
    if (data.size === 0) return null;
    const sealed = sealedResize(data.seals, data.size, 0);
    if (sealed !== null) return sealed;
    data.truncate(0);
    this.touch(MTIME | CTIME);
    return null;
  }

  /** Adds a new inode called name; the VFS has checked that the name is free and allowed. */
  private add(name: string, mode: number, creds: Creds, data: unknown): TmpfsDentry | Errno {
    // A removed directory (someone's working directory) takes no new entries.
    if (this.deleted) return ENOENT;
    if (this.entries.has(name)) return EEXIST;
    const t = this.fs.inodes;
    // A directory with the set-group-ID bit gives new files its group (and new directories the bit).
    const setgid = (this.mode & S_ISGID) !== 0;
    const slot = t.alloc(mode, creds.uid, setgid ? this.gid : creds.gid, data);
    if (setgid && isDir(mode)) t.mode[slot]! |= S_ISGID;
    t.nlink[slot] = isDir(mode) ? 2 : 1;
    if (isDir(mode)) t.nlink[this.slot]!++;
    const d = new TmpfsDentry(name, this, this.fs, slot);
    this.entries.set(name, d);
    t.touch(this.slot, MTIME | CTIME);
    return d;
  }

  override create(name: string, mode: number, creds: Creds): TmpfsDentry | Errno {
    return this.add(name, S_IFREG | (mode & PERM_MASK), creds, new FileData(this.fs.store));
  }

  /**
   * O_TMPFILE: an inode with no links, its dentry "#INO" under this directory but not in it (even a
   * removed directory may have one, as Linux's shmem_tmpfile allows). It goes with its last open.
   */
  override tmpfile(mode: number, creds: Creds, linkable: boolean): TmpfsDentry {
    const t = this.fs.inodes;
    const setgid = (this.mode & S_ISGID) !== 0;
    const slot = t.alloc(S_IFREG | (mode & PERM_MASK), creds.uid, setgid ? this.gid : creds.gid, new FileData(this.fs.store));
    t.nlink[slot] = 0;
    if (linkable) t.flags[slot]! |= LINKABLE;
    const d = new TmpfsDentry(`#${t.ino[slot]!}`, this, this.fs, slot);
    d.deleted = true;
    return d;
  }

  override mkdir(name: string, mode: number, creds: Creds): Errno | null {
    const r = this.add(name, S_IFDIR | (mode & PERM_MASK), creds, new Map<string, TmpfsDentry>());
    return r instanceof Errno ? r : null;
  }

  override mknod(name: string, mode: number, rdev: number, creds: Creds): Errno | null {
    const type = mode & S_IFMT;
    if (type === S_IFDIR || type === S_IFLNK) return EPERM;
    const data = type === S_IFREG ? new FileData(this.fs.store) : type === S_IFIFO ? new Pipe() : {};
    const r = this.add(name, (type === 0 ? S_IFREG : type) | (mode & PERM_MASK), creds, data);
    if (r instanceof Errno) return r;
    this.fs.inodes.rdev[r.slot] = rdev;
    return null;
  }

  override symlink(name: string, target: string, creds: Creds): Errno | null {
    const r = this.add(name, S_IFLNK | 0o777, creds, target);
    return r instanceof Errno ? r : null;
  }

  override link(name: string, existing: Dentry): Errno | null {
    if (!(existing instanceof TmpfsDentry) || existing.fs !== this.fs) return EPERM;
    const t = this.fs.inodes;
    // A file without links may be named only once, and only if O_TMPFILE made it without O_EXCL.
    if (this.deleted || (existing.nlink === 0 && (t.flags[existing.slot]! & LINKABLE) === 0)) return ENOENT;
    if (this.entries.has(name)) return EEXIST;
    t.flags[existing.slot]! &= ~LINKABLE;
    t.nlink[existing.slot]!++;
    t.touch(existing.slot, CTIME);
    this.entries.set(name, new TmpfsDentry(name, this, this.fs, existing.slot));
    t.touch(this.slot, MTIME | CTIME);
    return null;
  }

  override unlink(name: string, child: Dentry): Errno | null {
    if (!(child instanceof TmpfsDentry) || this.entries.get(name) !== child) return ENOENT;
    this.detach(name, child);
    return null;
  }

  override rmdir(name: string, child: Dentry): Errno | null {
    if (!(child instanceof TmpfsDentry) || this.entries.get(name) !== child) return ENOENT;
    if (child.entries.size > 0) return ENOTEMPTY;
    this.detach(name, child);
    return null;
  }

  /** Removes the entry called name; the inode goes when nothing else holds it. */
  private detach(name: string, child: TmpfsDentry): void {
    const t = this.fs.inodes;
    this.entries.delete(name);
    child.deleted = true;
    if (isDir(child.mode)) {
      t.nlink[this.slot]!--;
      t.nlink[child.slot] = 0;
    } else {
      t.nlink[child.slot]!--;
    }
    t.touch(child.slot, CTIME);
    t.touch(this.slot, MTIME | CTIME);
    this.fs.maybeFree(child.slot);
  }

  override rename(oldName: string, child: Dentry, newDir: Dentry, newName: string, replaced: Dentry | null, flags: number): Errno | null {
    if (!(child instanceof TmpfsDentry) || !(newDir instanceof TmpfsDentry) || newDir.fs !== this.fs) return EPERM;
    if (this.entries.get(oldName) !== child) return ENOENT;
    const t = this.fs.inodes;
    if ((flags & RENAME_EXCHANGE) !== 0) {
      if (!(replaced instanceof TmpfsDentry)) return ENOENT;
      this.entries.set(oldName, replaced);
      newDir.entries.set(newName, child);
      if (this !== newDir && isDir(child.mode) !== isDir(replaced.mode)) {
        const delta = isDir(child.mode) ? 1 : -1;
        t.nlink[newDir.slot]! += delta;
        t.nlink[this.slot]! -= delta;
      }
      replaced.name = oldName;
      replaced.parent = this;
    } else {
      if (replaced !== null) {
        if (!(replaced instanceof TmpfsDentry)) return EPERM;
        if (isDir(replaced.mode) && replaced.entries.size > 0) return ENOTEMPTY;
        newDir.detach(newName, replaced);
      }
      this.entries.delete(oldName);
      newDir.entries.set(newName, child);
      if (isDir(child.mode) && this !== newDir) {
        t.nlink[this.slot]!--;
        t.nlink[newDir.slot]!++;
      }
    }
    child.name = newName;
    child.parent = newDir;
    t.touch(child.slot, CTIME);
    t.touch(this.slot, MTIME | CTIME);
    t.touch(newDir.slot, MTIME | CTIME);
    return null;
  }

  override setattr(attr: SetAttr): Errno | null {
    const t = this.fs.inodes;
    const s = this.slot;
    const data = t.data[s];
    if (attr.mode !== undefined && data instanceof FileData) {
      const sealed = sealedModeChange(data.seals, t.mode[s]!, attr.mode);
      if (sealed !== null) return sealed;
    }
    if (attr.size !== undefined) {
      if (!(data instanceof FileData)) return isDir(this.mode) ? EISDIR : EINVAL;
      const sealed = sealedResize(data.seals, data.size, attr.size);
      if (sealed !== null) return sealed;
      if (attr.size !== data.size) {
        data.truncate(attr.size);
        t.touch(s, MTIME);
      }
    }
    if (attr.mode !== undefined) t.mode[s] = (t.mode[s]! & S_IFMT) | (attr.mode & PERM_MASK);
    if (attr.uid !== undefined) t.uid[s] = attr.uid;
    if (attr.gid !== undefined) t.gid[s] = attr.gid;
    if (attr.atimeNs !== undefined) t.setTime(s, 0, attr.atimeNs);
    if (attr.mtimeNs !== undefined) t.setTime(s, 1, attr.mtimeNs);
    t.touch(s, CTIME);
    return null;
  }

  override getxattr(name: string): Uint8Array | Errno {
    const x = this.fs.xattrs.get(this.slot);
    return x !== undefined ? x.get(name) : checkXattrName(name) ?? ENODATA;
  }

  override listxattr(): string[] {
    return this.fs.xattrs.get(this.slot)?.list() ?? [];
  }

  override setxattr(name: string, value: Uint8Array, flags: number): Errno | null {
    let x = this.fs.xattrs.get(this.slot);
    if (x === undefined) {
      x = new XattrStore(this.fs.xattrSpace);
      this.fs.xattrs.set(this.slot, x);
    }
    const r = x.set(name, value, flags);
    if (x.empty) this.fs.xattrs.delete(this.slot);
    if (r === null) this.touch(CTIME);
    return r;
  }

  override removexattr(name: string): Errno | null {
    const x = this.fs.xattrs.get(this.slot);
    if (x === undefined) return checkXattrName(name) ?? ENODATA;
    const r = x.remove(name);
    if (x.empty) this.fs.xattrs.delete(this.slot);
    if (r === null) this.touch(CTIME);
    return r;
  }

  /** Counts an open description (or frees the inode after the last one, if unlinked). */
  opened(delta: 1 | -1): void {
    this.fs.inodes.opens[this.slot]! += delta;
    if (delta < 0) this.fs.maybeFree(this.slot);
  }

  /**
   * A dentry in use (a working directory, an O_PATH or directory fd) keeps its inode as an open file
   * does: after rmdir or unlink it must still answer stat, not read a reused slot.
   */
  protected override firstHold(): void {
    this.opened(1);
  }
  protected override lastDrop(): void {
    this.opened(-1);
  }

  touch(which: number): void {
    this.fs.inodes.touch(this.slot, which);
  }
}

/** An open tmpfs regular file. */
export class TmpfsFile extends FileDescription {
  private readonly data: FileData;

  constructor(flags: number, readonly dentry: TmpfsDentry) {
    super(flags);
    this.data = dentry.fileData;
    dentry.opened(1);
  }

  override read(buf: Uint8Array): number {
    const n = this.data.readAt(this.offset, buf);
    this.offset += n;
    return n;
  }

  override write(buf: Uint8Array): number | Errno {
    if ((this.flags & O_APPEND) !== 0) this.offset = this.data.size;
    const n = this.pwriteAt(buf, this.offset);
    if (typeof n === 'number') this.offset += n;
    return n;
  }

  override pread(buf: Uint8Array, offset: number): number {
    return this.data.readAt(offset, buf);
  }

  /** pwrite(2) on an O_APPEND file appends, whatever the offset (a Linux quirk that BUGS documents). */
  override pwrite(buf: Uint8Array, offset: number): number | Errno {
    return this.pwriteAt(buf, (this.flags & O_APPEND) !== 0 ? this.data.size : offset);
  }

  private pwriteAt(buf: Uint8Array, offset: number): number | Errno {
    if (buf.length === 0) return 0;
    if (offset + buf.length > MAX_FILE_SIZE) return EFBIG;
    const allowed = sealedWriteLength(this.data.seals, offset, buf.length, this.data.size);
    if (allowed instanceof Errno) return allowed;
    const n = this.data.writeAt(offset, allowed < buf.length ? buf.subarray(0, allowed) : buf);
    if (typeof n === 'number') this.dentry.touch(MTIME | CTIME);
    return n;
  }

  override seek(offset: number, whence: number): number | Errno {
    let next: number;
    switch (whence) {
      case SEEK_SET: next = offset; break;
      case SEEK_CUR: next = this.offset + offset; break;
      case SEEK_END: next = this.data.size + offset; break;
      case SEEK_DATA:
      case SEEK_HOLE:
        if (offset < 0) return EINVAL;
        next = this.data.seekData(offset, whence === SEEK_DATA);
        if (next < 0) return ENXIO;
        break;
      default: return EINVAL;
    }
    if (next < 0 || !Number.isSafeInteger(next)) return EINVAL;
    this.offset = next;
    return next;
  }

  /** Nothing to write back: the data lives in memory. */
  override sync(): null {
    return null;
  }

  stat(): FileStat {
    return this.dentry.stat();
  }

  override truncate(length: number): Errno | null {
    return this.dentry.setattr({ size: length });
  }

  override allocate(mode: number, offset: number, length: number): Errno | null {
    const KEEP_SIZE = 1;
    const PUNCH_HOLE = 2;
    const punch = mode === (PUNCH_HOLE | KEEP_SIZE);
    if (mode !== 0 && mode !== KEEP_SIZE && !punch) return EOPNOTSUPP;
    const size = this.data.size;
    const sealed = sealedAllocate(this.data.seals, punch, offset + length, size);
    if (sealed !== null) return sealed;
    if (punch) {
      this.data.punchHole(offset, length);
      this.dentry.touch(MTIME | CTIME);
      return null;
    }
    const r = this.data.allocate(offset, length);
    if (mode === KEEP_SIZE) this.data.size = size;
    this.dentry.touch(MTIME | CTIME);
    return r;
  }

  override readableBytes(): number {
    return Math.max(0, this.data.size - this.offset);
  }

  /** Opening /proc/PID/fd/N of a file in no directory (or no longer in one): the same inode, O_TRUNC applied. */
  override reopen(flags: number): TmpfsFile | Errno {
    const truncated = (flags & O_TRUNC) !== 0 ? this.dentry.truncateOnOpen() : null;
    if (truncated !== null) return truncated;
    const f = new TmpfsFile(flags, this.dentry);
    if (this.location !== null) f.setLocation(this.location);
    return f;
  }

  override mappable(): Mappable {
    const name = this.location === null ? this.dentry.name : pathFrom(null, this.location) ?? this.dentry.name;
    return new FileDataMappable(this.data, name, this);
  }

  /**
   * Files of a tmpfs have seals; one opened through the overlay is the overlay's file to Linux, which
   * has none.
   */
  override get sealState(): SealState | null {
    return this.location === null || this.location.dentry === this.dentry ? this.data : null;
  }

  protected override release(): void {
    this.dentry.opened(-1);
  }
}

export { ATIME, MTIME, CTIME };
