// A host directory served by a Gofer process. The Sentry never resolves host paths: it walks its own
// cached dentries and hands the Gofer component arrays below the Gofer's root; metadata calls (stat,
// readdir, create, unlink, rename, ...) are one round trip each (the Gofer tier). An open returns a
// host fd that the Sentry then reads and writes itself with positioned host calls (the host-syscall
// tier), and closes when the last reference to the description goes. On a read-only filesystem (the
// host root under the overlay), plain read-only opens of one file share one host fd while any is open.
import { closeSync, fstatSync, ftruncateSync, readSync, writeSync } from 'node:fs';
import { EINVAL, EISDIR, ENOENT, ENOTEMPTY, ENXIO, EOPNOTSUPP, EXDEV, Errno } from '../abi/errno.js';
import { GoferClient, type GoferStat } from '../gofer/client.js';
import type { GuestRanges } from '../mm/guest-ranges.js';
import type { Mappable } from '../mm/mappable.js';
import type { FileCache, FileVersion, PageCache } from '../mm/page-cache.js';
import { hostCalls } from '../platform/host.js';
import { type CachingDentry, DENTRY_BUDGET, pruneCache } from './dcache.js';
import { DirectoryFile } from './dir-file.js';
import { hostStat, syncHostFd } from './file.js';
import {
  O_ACCMODE, O_APPEND, O_CREAT, O_DIRECT, O_DIRECTORY, O_DSYNC, O_EXCL, O_NOATIME, O_NONBLOCK, O_PATH, O_RDONLY,
  O_RDWR, O_SYNC, O_TRUNC,
  DT_FIFO, DT_SOCK, PERM_MASK, RENAME_EXCHANGE, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET, isDir,
} from '../abi/fcntl.js';
import { openFifo, Pipe } from './pipe.js';
import { pathFrom } from './walk.js';
import {
  type Creds, Dentry, type DirEntry, FileDescription, FileSystem, type FileStat, type SetAttr, allocIno, nowNs,
  syntheticStat,
} from './vfs.js';

/**
 * Flags the Gofer's open gets: access mode and the ones that change host behaviour. Not O_APPEND:
 * F_SETFL may take it away later, which a host fd's flag would not follow, so the Sentry appends.
 */
const HOST_OPEN_FLAGS = O_ACCMODE | O_TRUNC | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME;

export class GoferFs extends FileSystem {
  readonly type = '9p';
  readonly dev: number;
  readonly root: GoferDentry;
  cached = 0;

  /**
   * pageCache: where private mappings of its files find their pages (none: each reads its own).
   * unchanging: the host leaves these files alone while the sandbox runs (the read-only root, as
   * gVisor's default --file-access=exclusive takes its root), so a dentry's stat is asked once.
   */
  private constructor(readonly client: GoferClient, rootStat: GoferStat, readonly pageCache: PageCache | null,
    readonly unchanging: boolean) {
    super();
    this.dev = rootStat.dev;
    this.root = new GoferDentry('/', null, this, rootStat);
  }

  /** A filesystem over client's root; the Gofer's error (EIO if it could not start) otherwise. */
  static open(client: GoferClient, pageCache: PageCache | null = null, unchanging = false): GoferFs | Errno {
    const st = client.stat([]);
    if (st instanceof Errno) return st;
    if (!isDir(st.mode)) return ENOENT;
    return new GoferFs(client, st, pageCache, unchanging && client.readOnly);
  }

  get readOnly(): boolean {
    return this.client.readOnly;
  }

  statfs(): Uint8Array | Errno {
    return this.client.statfs();
  }

  noteCached(): void {
    if (++this.cached > DENTRY_BUDGET) this.cached = pruneCache(this.root, DENTRY_BUDGET / 2);
  }

  override release(): void {
    this.client.close();
  }
}

export class GoferDentry extends Dentry implements CachingDentry {
  children: Map<string, GoferDentry> | null = null;
  mode: number;
  uid: number;
  gid: number;
  dev: number;
  ino: number;
  /** The page cache of the host file, once it was mapped or opened for writing after that. */
  fileCache: FileCache | null = null;
  private linkTarget: string | null = null;
  /** Socket nodes and FIFOs made here: the sandbox's alone (see SandboxNode). */
  private sandboxNodes: Map<string, SandboxNode> | null = null;
  /**
   * An fd opened ahead (by create, or by prepareOpen with these host flags; -1 means any access,
   * the O_RDWR fd of a create), for the open that follows.
   */
  private readyFd = -1;
  private readyFlags = 0;
  /**
   * On a read-only filesystem, the host fd that descriptions opened for plain reading share while one
   * of them is open (gVisor's gofer dentries keep their read fd too): another open or exec of the file,
   * a shared library by the next program, skips the Gofer's round trip. A file the host replaces
   * meanwhile is read through the fd taken before, as the dentry's cached stat already is.
   */
  private sharedRead: SharedFd | null = null;
  /** On an unchanging filesystem, the stat the dentry was made or last opened with: stat answers it. */
  private lastStat: GoferStat | null;

  constructor(name: string, parent: GoferDentry | null, readonly fs: GoferFs, st: GoferStat) {
    super(name, parent);
    this.lastStat = fs.unchanging ? st : null;
    this.mode = st.mode;
    this.uid = st.uid;
    this.gid = st.gid;
    this.dev = st.dev;
    this.ino = st.ino;
  }

  override get lockKey(): unknown {
    return `${this.fs.dev}:${this.ino}`;
  }

  /** Components below the Gofer's root. */
  path(): string[] {
    const out: string[] = [];
    for (let d: GoferDentry = this; d.parent !== null; d = d.parent as GoferDentry) out.push(d.name);
    return out.reverse();
  }

  private childPath(name: string): string[] {
    const p = this.path();
    p.push(name);
    return p;
  }

  private remember(st: GoferStat): void {
    if (this.fs.unchanging) this.lastStat = st;
    this.mode = st.mode;
    this.uid = st.uid;
    this.gid = st.gid;
    if (st.dev !== this.dev || st.ino !== this.ino) this.fileCache = null;
    this.dev = st.dev;
    this.ino = st.ino;
  }

  /** The host file's page cache, as it is now (a change on the host drops its pages); null without one. */
  cacheFor(now: FileVersion & { dev: number; ino: number }): FileCache | null {
    const cache = this.fs.pageCache;
    if (cache === null) return null;
    this.fileCache = cache.file(`${now.dev}:${now.ino}`);
    this.fileCache.validate(now);
    return this.fileCache;
  }

  /** For a writer: the page cache its writes must keep current, if the file has one. */
  private findCache(): void {
    this.fileCache ??= this.fs.pageCache?.existing(`${this.dev}:${this.ino}`) ?? null;
  }

  stat(): FileStat | Errno {
    if (this.lastStat !== null) return this.lastStat;
    const st = this.fs.client.stat(this.path());
    if (st instanceof Errno) return st;
    this.remember(st);
    return st;
  }

  override child(name: string): Dentry | Errno {
    const hit = this.children?.get(name) ?? this.sandboxNodes?.get(name);
    if (hit !== undefined) return hit;
    if (!isDir(this.mode)) return ENOENT;
    const st = this.fs.client.stat(this.childPath(name));
    if (st instanceof Errno) return st;
    return this.cache(name, st);
  }

  private cache(name: string, st: GoferStat): GoferDentry {
    const d = new GoferDentry(name, this, this.fs, st);
    this.children ??= new Map();
    this.children.set(name, d);
    this.fs.noteCached();
    return d;
  }

  private forget(name: string): void {
    const d = this.children?.get(name);
    if (d === undefined) return;
    d.deleted = true;
    this.children!.delete(name);
  }

  override readdir(): DirEntry[] | Errno {
    const entries = this.fs.client.readdir(this.path());
    if (entries instanceof Errno || this.sandboxNodes === null) return entries;
    for (const [name, node] of this.sandboxNodes) entries.push({ name, ino: node.ino, type: (node.mode & S_IFMT) === S_IFIFO ? DT_FIFO : DT_SOCK });
    return entries;
  }

  override readlink(): string | Errno {
    if (this.linkTarget !== null) return this.linkTarget;
    const t = this.fs.client.readlink(this.path());
    if (t instanceof Errno) return t;
    this.linkTarget = t;
    return t;
  }

  override open(flags: number): FileDescription | Errno {
    const type = this.mode & S_IFMT;
    if (type === S_IFDIR) return new DirectoryFile(flags, this);
    if (type === S_IFLNK) return ENXIO;
    const host = flags & HOST_OPEN_FLAGS;
    const shareable = host === O_RDONLY && this.fs.readOnly;
    let fd = this.readyFd;
    this.readyFd = -1;
    if (fd >= 0 && this.readyFlags !== -1 && this.readyFlags !== host) {
      closeQuietly(fd);
      fd = -1;
    }
    if (fd < 0 && shareable && this.sharedRead !== null) return new GoferFile(flags, this.sharedRead.ref(), this);
    if (fd < 0) {
      const r = this.fs.client.open(this.path(), host, 0);
      if (r instanceof Errno) return r;
      fd = r.fd;
      this.remember(r.stat);
    }
    if ((flags & O_ACCMODE) !== O_RDONLY) this.findCache();
    return new GoferFile(flags, shareable ? this.shareRead(fd) : new SharedFd(fd), this);
  }

  private shareRead(fd: number): SharedFd {
    const handle: SharedFd = new SharedFd(fd, () => {
      if (this.sharedRead === handle) this.sharedRead = null;
    });
    this.sharedRead = handle;
    return handle;
  }

  /** The create and the open that follows it share one round trip: the fd waits here. */
  override create(name: string, mode: number): GoferDentry | Errno {
    const r = this.fs.client.open(this.childPath(name), O_CREAT | O_EXCL | O_RDWR, mode);
    if (r instanceof Errno) return r;
    const d = this.cache(name, r.stat);
    d.readyFd = r.fd;
    d.readyFlags = -1;
    return d;
  }

  /**
   * One round trip instead of two for a name not looked up yet: the Gofer's open returns the stat
   * too, so the child is cached with its fd ready. Only plain read-only opens (a symlink, a device or
   * a directory makes the Gofer refuse, and the ordinary lookup then happens).
   */
  override prepareOpen(name: string, flags: number): void {
    if (this.children?.has(name) === true || !isDir(this.mode)) return;
    if ((flags & (O_ACCMODE | O_TRUNC | O_DIRECTORY | O_PATH)) !== O_RDONLY) return;
    const host = flags & HOST_OPEN_FLAGS;
    const r = this.fs.client.open(this.childPath(name), host, 0);
    if (r instanceof Errno) return;
    if ((r.stat.mode & S_IFMT) !== S_IFREG) {
      closeQuietly(r.fd);
      return;
    }
    const d = this.cache(name, r.stat);
    d.readyFd = r.fd;
    d.readyFlags = host;
  }

  override mkdir(name: string, mode: number): Errno | null {
    return this.fs.client.mkdir(this.childPath(name), mode);
  }

  /**
   * Socket nodes (what bind(2) makes) and FIFOs, only in the sandbox: the Gofer has no mknod, and a
   * host socket node would lead no host program to the sandbox's socket (gVisor, too, keeps a FIFO or
   * socket it cannot make on the host as its own). The directory is held while it has some, so the
   * dentry cache keeps them.
   */
  override mknod(name: string, mode: number, _rdev: number, creds: Creds): Errno | null {
    const type = mode & S_IFMT;
    if (type !== S_IFSOCK && type !== S_IFIFO) return EOPNOTSUPP;
    if (this.sandboxNodes === null) {
      this.sandboxNodes = new Map();
      this.hold();
    }
    this.sandboxNodes.set(name, new SandboxNode(name, this, this.fs, mode, creds));
    return null;
  }

  private removeSandboxNode(name: string, node: SandboxNode): Errno | null {
    if (this.sandboxNodes?.get(name) !== node) return ENOENT;
    this.sandboxNodes.delete(name);
    node.deleted = true;
    if (this.sandboxNodes.size === 0) {
      this.sandboxNodes = null;
      this.drop();
    }
    return null;
  }

  override symlink(name: string, target: string, _creds: Creds): Errno | null {
    return this.fs.client.symlink(target, this.childPath(name));
  }

  override link(name: string, existing: Dentry): Errno | null {
    if (!(existing instanceof GoferDentry) || existing.fs !== this.fs) return EINVAL;
    // The Gofer links by path: a file removed (an open fd's, linked by AT_EMPTY_PATH) has none left.
    if (existing.deleted) return ENOENT;
    return this.fs.client.link(existing.path(), this.childPath(name));
  }

  override unlink(name: string, child: Dentry): Errno | null {
    if (child instanceof SandboxNode) return this.removeSandboxNode(name, child);
    const r = this.fs.client.unlink(this.childPath(name), false);
    if (r === null) this.forget(name);
    return r;
  }

  override rmdir(name: string, child: Dentry): Errno | null {
    if (child instanceof GoferDentry && child.sandboxNodes !== null) return ENOTEMPTY;
    const r = this.fs.client.unlink(this.childPath(name), true);
    if (r === null) this.forget(name);
    return r;
  }

  override rename(oldName: string, child: Dentry, newDir: Dentry, newName: string, replaced: Dentry | null, flags: number): Errno | null {
    // A socket node or FIFO is the sandbox's alone: the host cannot move it (nor replace one).
    if (child instanceof SandboxNode || replaced instanceof SandboxNode) return EXDEV;
    if (!(newDir instanceof GoferDentry) || !(child instanceof GoferDentry)) return EINVAL;
    const r = this.fs.client.rename(this.childPath(oldName), newDir.childPath(newName), flags);
    if (r !== null) return r;
    this.children?.delete(oldName);
    if ((flags & RENAME_EXCHANGE) !== 0 && replaced instanceof GoferDentry) {
      newDir.children?.delete(newName);
      replaced.name = oldName;
      replaced.parent = this;
      this.children ??= new Map();
      this.children.set(oldName, replaced);
    } else {
      newDir.forget(newName);
    }
    child.name = newName;
    child.parent = newDir;
    newDir.children ??= new Map();
    newDir.children.set(newName, child);
    return null;
  }

  override setattr(attr: SetAttr): Errno | null {
    const c = this.fs.client;
    const path = this.path();
    if (attr.size !== undefined) {
      if (isDir(this.mode)) return EISDIR;
      const r = c.truncate(path, attr.size);
      if (r !== null) return r;
      this.findCache();
      const size = attr.size;
      this.fileCache?.truncated(size, () => {
        const st = c.stat(path);
        return st instanceof Errno ? null : st;
      });
    }
    if (attr.uid !== undefined || attr.gid !== undefined) {
      const r = c.chown(path, attr.uid ?? -1, attr.gid ?? -1);
      if (r !== null) return r;
    }
    if (attr.mode !== undefined) {
      const r = c.chmod(path, attr.mode);
      if (r !== null) return r;
      this.mode = (this.mode & S_IFMT) | attr.mode;
    }
    if (attr.atimeNs !== undefined || attr.mtimeNs !== undefined) {
      const r = c.utimens(path, attr.atimeNs ?? null, attr.mtimeNs ?? null);
      if (r !== null) return r;
    }
    const st = c.stat(path);
    if (!(st instanceof Errno)) this.remember(st);
    return null;
  }
}

/**
 * A socket node or a FIFO made in a host directory (a FIFO has its pipe here). The sandbox sees it
 * (stat, readdir, open or connect, unlink); the host sees nothing there, and it goes with the sandbox.
 */
class SandboxNode extends Dentry {
  readonly ino = allocIno();
  mode: number;
  uid: number;
  gid: number;
  private readonly timeNs = nowNs();
  private readonly pipe: Pipe | null;

  constructor(name: string, parent: GoferDentry, readonly fs: GoferFs, mode: number, creds: Creds) {
    super(name, parent);
    this.mode = mode & (S_IFMT | PERM_MASK);
    this.uid = creds.uid;
    this.gid = creds.gid;
    this.pipe = (mode & S_IFMT) === S_IFIFO ? new Pipe() : null;
  }

  stat(): FileStat {
    return syntheticStat(this.ino, this.mode, this.fs.dev, { uid: this.uid, gid: this.gid, mtimeNs: this.timeNs });
  }

  override open(flags: number): FileDescription | Errno {
    if (this.pipe === null) return ENXIO;
    return openFifo(this.pipe, flags) ?? ENXIO;
  }

  override setattr(attr: SetAttr): Errno | null {
    if (attr.mode !== undefined) this.mode = (this.mode & S_IFMT) | (attr.mode & PERM_MASK);
    if (attr.uid !== undefined) this.uid = attr.uid;
    if (attr.gid !== undefined) this.gid = attr.gid;
    return null;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already gone with its Gofer
  }
}

/** A host fd shared by the descriptions reopened from one open, or opened for reading (they use positioned I/O only). */
class SharedFd {
  private refs = 1;
  constructor(readonly fd: number, private readonly onClose: (() => void) | null = null) {}
  ref(): this {
    this.refs++;
    return this;
  }
  unref(): void {
    if (--this.refs !== 0) return;
    closeQuietly(this.fd);
    this.onClose?.();
  }
}

/** An open host file: data moves with positioned host reads and writes, straight into guest memory. */
export class GoferFile extends FileDescription {
  private readonly fd: number;

  constructor(flags: number, private readonly host: SharedFd, private readonly dentry: GoferDentry) {
    super(flags);
    this.fd = host.fd;
  }

  /** /proc/self/fd/N of a file deleted meanwhile: a new description over the same host fd. */
  override reopen(flags: number): GoferFile {
    const f = new GoferFile(flags, this.host.ref(), this.dentry);
    if (this.location !== null) f.setLocation(this.location);
    return f;
  }

  override read(buf: Uint8Array): number | Errno {
    const n = this.pread(buf, this.offset);
    if (typeof n === 'number') this.offset += n;
    return n;
  }

  override write(buf: Uint8Array): number | Errno {
    if ((this.flags & O_APPEND) !== 0) {
      const end = this.end();
      if (end instanceof Errno) return end;
      this.offset = end;
    }
    const n = this.writeAt(buf, this.offset);
    if (typeof n === 'number') this.offset += n;
    return n;
  }

  private end(): number | Errno {
    const end = hostCalls().lseek(this.fd, 0, SEEK_END);
    return end < 0 ? (Errno.of(-end) ?? EINVAL) : end;
  }

  override pread(buf: Uint8Array, offset: number): number | Errno {
    try {
      return readSync(this.fd, buf, 0, buf.length, offset);
    } catch (err) {
      return Errno.fromHost(err);
    }
  }

  override get readsRanges(): boolean {
    return true;
  }

  override get writesRanges(): boolean {
    return true;
  }

  override readRanges(ranges: GuestRanges, pos: number | null): number | Errno {
    const n = hostCalls().preadv(this.fd, ranges.memory, ranges.list, ranges.count, pos ?? this.offset);
    if (n < 0) return Errno.of(-n) ?? EINVAL;
    if (pos === null) this.offset += n;
    return n;
  }

  /** As write and pwrite: O_APPEND appends whatever pos says. */
  override writeRanges(ranges: GuestRanges, pos: number | null): number | Errno {
    let at = pos ?? this.offset;
    if ((this.flags & O_APPEND) !== 0) {
      const end = this.end();
      if (end instanceof Errno) return end;
      at = end;
    }
    const n = hostCalls().pwritev(this.fd, ranges.memory, ranges.list, ranges.count, at);
    if (n < 0) return Errno.of(-n) ?? EINVAL;
    const cache = this.dentry.fileCache;
    for (let i = 0, done = 0; cache !== null && done < n; i++) {
      const run = ranges.view(i);
      const written = run.subarray(0, Math.min(run.length, n - done));
      cache.written(at + done, written, this.version);
      done += written.length;
    }
    if (pos === null) this.offset = at + n;
    return n;
  }

  /** pwrite(2) on an O_APPEND file appends, whatever the offset (a Linux quirk that BUGS documents). */
  override pwrite(buf: Uint8Array, offset: number): number | Errno {
    if ((this.flags & O_APPEND) === 0) return this.writeAt(buf, offset);
    const end = this.end();
    return end instanceof Errno ? end : this.writeAt(buf, end);
  }

  private writeAt(buf: Uint8Array, offset: number): number | Errno {
    let n: number;
    try {
      n = writeSync(this.fd, buf, 0, buf.length, offset);
    } catch (err) {
      return Errno.fromHost(err);
    }
    this.dentry.fileCache?.written(offset, buf.subarray(0, n), this.version);
    return n;
  }

  /** The file's version now, for its page cache after a change of the sandbox's own. */
  private readonly version = (): FileVersion | null => {
    const st = this.stat();
    return st instanceof Errno ? null : st;
  };

  override seek(offset: number, whence: number): number | Errno {
    let next: number;
    switch (whence) {
      case SEEK_SET: next = offset; break;
      case SEEK_CUR: next = this.offset + offset; break;
      case SEEK_END: {
        const s = this.stat();
        if (s instanceof Errno) return s;
        next = s.size + offset;
        break;
      }
      case SEEK_DATA:
      case SEEK_HOLE: {
        const r = hostCalls().lseek(this.fd, offset, whence);
        if (r < 0) return Errno.of(-r) ?? EINVAL;
        next = r;
        break;
      }
      default: return EINVAL;
    }
    if (next < 0 || !Number.isSafeInteger(next)) return EINVAL;
    this.offset = next;
    return next;
  }

  stat(): FileStat | Errno {
    try {
      return hostStat(fstatSync(this.fd, { bigint: true }));
    } catch (err) {
      return Errno.fromHost(err);
    }
  }

  /** A mapping's write-back: at the page's own offset even if the file is O_APPEND. */
  writeBack(offset: number, src: Uint8Array): number | Errno {
    return this.writeAt(src, offset);
  }

  override truncate(length: number): Errno | null {
    try {
      ftruncateSync(this.fd, length);
    } catch (err) {
      return Errno.fromHost(err);
    }
    this.dentry.fileCache?.truncated(length, this.version);
    return null;
  }

  /** Mode 0 grows the file to cover the range; KEEP_SIZE reserves nothing (the host allocates on write). */
  override allocate(mode: number, offset: number, length: number): Errno | null {
    if (mode === 1) return null;
    if (mode !== 0) return EOPNOTSUPP;
    const s = this.stat();
    if (s instanceof Errno) return s;
    return offset + length > s.size ? this.truncate(offset + length) : null;
  }

  override sync(dataOnly: boolean): Errno | null {
    return syncHostFd(this.fd, dataOnly);
  }

  override readableBytes(): number | Errno {
    const s = this.stat();
    return s instanceof Errno ? s : Math.max(0, s.size - this.offset);
  }

  override mappable(): Mappable | null {
    if ((this.dentry.mode & S_IFMT) !== S_IFREG) return null;
    const name = this.location === null ? this.dentry.name : pathFrom(null, this.location) ?? this.dentry.name;
    const st = this.stat();
    return new HostFileMappable(this, name, st instanceof Errno ? undefined : this.dentry.cacheFor(st) ?? undefined);
  }

  protected override release(): void {
    this.host.unref();
  }
}

/**
 * A host file as mmap sees it: no pages of its own. Private mappings map the pages of its page cache;
 * shared ones are filled by reads and written back. Each area holds a reference on the description,
 * which keeps the host fd open after close().
 */
class HostFileMappable implements Mappable {
  constructor(private readonly file: GoferFile, readonly mapName: string, readonly cache: FileCache | undefined) {}

  hold(): void {
    this.file.incRef();
  }
  drop(): void {
    this.file.decRef();
  }
  size(): number {
    const s = this.file.stat();
    return s instanceof Errno ? 0 : s.size;
  }
  sharedPage(): null {
    return null;
  }
  readAt(offset: number, dst: Uint8Array): number | Errno {
    return this.file.pread(dst, offset);
  }
  writeAt(offset: number, src: Uint8Array): number | Errno {
    return this.file.writeBack(offset, src);
  }
}
