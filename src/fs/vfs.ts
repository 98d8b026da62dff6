// The core of the VFS: filesystems, dentries, mounts, a task's filesystem context and the open file
// description. One module because each refers to the others (a dentry opens a description, a
// description remembers where it was opened), and the layering check forbids import cycles.
//
// A Dentry is a name in the tree of one filesystem; the filesystem subclasses it and keeps its own
// state in it (tmpfs: an index into a typed-array inode table; the Gofer filesystem: the cached result
// of the last stat). A Mount places a filesystem's root on a dentry of another one; a VirtualDentry
// (mount + dentry) is a position in the sandbox's namespace, which path walks (walk.ts) move through.
import { EBADF, EINVAL, ENODEV, ENOTDIR, ENXIO, EOPNOTSUPP, EPERM, ESPIPE, Errno } from '../abi/errno.js';
import type { AddressSpace } from '../mm/address-space.js';
import type { Mappable } from '../mm/mappable.js';
import type { GuestRanges } from '../mm/guest-ranges.js';
import type { SealState } from './seals.js';
import type { Cancellable, ReadinessListener, ReadinessSubscription } from './wait.js';
import type { Terminal } from './terminal.js';
import {
  DEFAULT_POLLMASK, O_ACCMODE, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, S_IFDIR, S_IFMT, isDir,
} from '../abi/fcntl.js';

import type { DirEntry, FileStat } from '../abi/stat.js';
import { STATFS_SIZE } from '../abi/structs.js';

export type { DirEntry, FileStat };

/** chmod, chown, truncate, utimensat: the fields given change, the others stay. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** Nanoseconds since the epoch. */
  atimeNs?: bigint;
  mtimeNs?: bigint;
}

export interface Creds {
  uid: number;
  gid: number;
  /** Supplementary groups (setgroups); none if absent. */
  groups?: readonly number[];
}

/** Linux's in_group_p: gid is the caller's group for access, the effective one or a supplementary one. */
export function inGroup(creds: Creds, gid: number): boolean {
  return creds.gid === gid || (creds.groups?.includes(gid) ?? false);
}

/**
 * Discretionary access check (fs/namei.c generic_permission) for an inode with mode, uid and gid.
 * want is a mask of R_OK (4), W_OK (2), X_OK (1). Root passes everything but execution of a file
 * without any execute bit (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH).
 */
export function mayAccess(mode: number, uid: number, gid: number, creds: Creds, want: number): boolean {
  if (creds.uid === 0) return (want & 1) === 0 || isDir(mode) || (mode & 0o111) !== 0;
  const bits = creds.uid === uid ? mode >> 6 : inGroup(creds, gid) ? mode >> 3 : mode;
  return (bits & want & 7) === (want & 7);
}

/** Linux's get_next_ino for internal filesystems and anonymous files (pipes). */
let nextIno = 1;
export function allocIno(): number {
  return nextIno++;
}

/** Anonymous device numbers (major 0) for filesystems without a host device, as Linux's get_anon_bdev. */
let nextAnonMinor = 0x20;
export function allocAnonDev(): number {
  const minor = nextAnonMinor++;
  return (minor & 0xff) | ((minor & ~0xff) << 12);
}

/** Offset from the monotonic clock to wall-clock time, fixed at start-up (as time.ts does). */
const realtimeOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
/** Wall-clock time in nanoseconds, for file timestamps. */
export function nowNs(): bigint {
  return process.hrtime.bigint() + realtimeOffset;
}

export abstract class FileSystem {
  /** As /proc/mounts shows it: tmpfs, overlay, proc, sysfs, 9p (the Gofer, as gVisor shows it). */
  abstract readonly type: string;
  /** st_dev of its files (host filesystems report the host's). */
  abstract readonly dev: number;
  /** struct statfs (STATFS_SIZE bytes). */
  abstract statfs(): Uint8Array | Errno;
  /** Host resources (the Gofer connection, fds kept for mappings) go with the sandbox. */
  release(): void {}
}

/** struct statfs (x86-64): type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen, frsize, flags. */
export function encodeStatfs(f: {
  type: number; bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number;
  namelen: number; flags: number; fsid?: number;
}): Uint8Array {
  const out = new Uint8Array(STATFS_SIZE);
  const v = new DataView(out.buffer);
  const u64 = [f.type, f.bsize, f.blocks, f.bfree, f.bavail, f.files, f.ffree];
  u64.forEach((x, i) => v.setBigUint64(i * 8, BigInt(x), true));
  v.setUint32(56, (f.fsid ?? 0) >>> 0, true);
  v.setBigUint64(64, BigInt(f.namelen), true);
  v.setBigUint64(72, BigInt(f.bsize), true);
  v.setBigUint64(80, BigInt(f.flags), true);
  return out;
}

/** A name in one filesystem's tree. Subclasses implement what their filesystem supports. */
export abstract class Dentry {
  /** Open files, working directories and mounts holding it: a cached dentry is not evicted while > 0. */
  refs = 0;
  /** A filesystem is mounted on it (MountNamespace knows which). */
  mountedOn = false;
  /** Unlinked or replaced while something still held it: /proc shows " (deleted)", getcwd ENOENT. */
  deleted = false;

  constructor(public name: string, public parent: Dentry | null) {}

  /** Something (an open file, a working directory, a mount) uses this dentry from now on. */
  hold(): void {
    if (this.refs++ === 0) this.firstHold();
  }
  drop(): void {
    if (--this.refs === 0) this.lastDrop();
  }
  /** Hooks for filesystems whose inodes live while a dentry of theirs is in use (tmpfs). */
  protected firstHold(): void {}
  protected lastDrop(): void {}

  abstract readonly fs: FileSystem;
  /** st_mode as last known, without a round trip: walks use its type and permission bits. */
  abstract readonly mode: number;
  abstract readonly uid: number;
  abstract readonly gid: number;
  abstract readonly ino: number;
  abstract stat(): FileStat | Errno;

  /**
   * The child called name, looked up (and cached) by the filesystem: ENOENT if none. caller is the
   * task walking (for /proc/self); most filesystems ignore it.
   */
  child(_name: string, _caller: FsContext): Dentry | Errno {
    return ENOTDIR;
  }
  readdir(_caller: FsContext): DirEntry[] | Errno {
    return ENOTDIR;
  }
  readlink(_caller: FsContext): string | Errno {
    return EINVAL;
  }
  /**
   * /proc's magic links (fd/N, exe, cwd) lead to a place, not to a path: where, given self (the
   * link's own position); null for ordinary symlinks.
   */
  magicLink(_caller: FsContext, _self: VirtualDentry): VirtualDentry | Errno | null {
    return null;
  }
  /**
   * An open of the child called name is coming (a read-only one, not yet looked up): a filesystem
   * whose lookup and open are each a round trip may do both in one now. Only a hint: the walk and
   * checks follow as usual.
   */
  prepareOpen(_name: string, _flags: number): void {}
  /** A new open file description. O_TRUNC is the filesystem's to apply. */
  open(_flags: number, _caller: FsContext): FileDescription | Errno {
    return ENXIO;
  }
  /** Creates a regular file and returns its dentry. */
  create(_name: string, _mode: number, _creds: Creds): Dentry | Errno {
    return EPERM;
  }
  /**
   * O_TMPFILE in this directory: a regular file with no links, whose dentry (named "#INO", as Linux's
   * d_tmpfile names it) is in no directory. linkable: one linkat may give it a name (not with O_EXCL).
   * EOPNOTSUPP where the filesystem cannot make one.
   */
  tmpfile(_mode: number, _creds: Creds, _linkable: boolean): Dentry | Errno {
    return EOPNOTSUPP;
  }
  mkdir(_name: string, _mode: number, _creds: Creds): Errno | null {
    return EPERM;
  }
  mknod(_name: string, _mode: number, _rdev: number, _creds: Creds): Errno | null {
    return EPERM;
  }
  symlink(_name: string, _target: string, _creds: Creds): Errno | null {
    return EPERM;
  }
  /** A new name for existing (a non-directory of the same filesystem). */
  link(_name: string, _existing: Dentry): Errno | null {
    return EPERM;
  }
  unlink(_name: string, _child: Dentry): Errno | null {
    return EPERM;
  }
  rmdir(_name: string, _child: Dentry): Errno | null {
    return EPERM;
  }
  /**
   * Moves child (called oldName here) to newName in newDir, replacing `replaced` if not null. The VFS
   * has checked types, emptiness and loops; the filesystem moves the dentry itself (name, parent).
   */
  rename(_oldName: string, _child: Dentry, _newDir: Dentry, _newName: string, _replaced: Dentry | null, _flags: number): Errno | null {
    return EPERM;
  }
  setattr(_attr: SetAttr): Errno | null {
    return EPERM;
  }
  /**
   * Extended attributes (xattr.ts has checked the caller's rights): a filesystem without them answers
   * EOPNOTSUPP, and lists none. One that has them checks the name (checkXattrName) and answers ENODATA
   * for a missing one.
   */
  getxattr(_name: string): Uint8Array | Errno {
    return EOPNOTSUPP;
  }
  listxattr(): string[] | Errno {
    return [];
  }
  /** flags: XATTR_CREATE, XATTR_REPLACE; the filesystem keeps value as it is. */
  setxattr(_name: string, _value: Uint8Array, _flags: number): Errno | null {
    return EOPNOTSUPP;
  }
  removexattr(_name: string): Errno | null {
    return EOPNOTSUPP;
  }
  /** Opening it gives a file with no place of its own (the pipe behind /proc/PID/fd/N). */
  get anonymous(): boolean {
    return false;
  }
  /**
   * The open file this dentry stands for (/proc/PID/fd/N of a file with no name left, or none ever):
   * linkat through it with AT_SYMLINK_FOLLOW names that file, as Linux's magic link gives its f_path.
   */
  get standsFor(): FileDescription | null {
    return null;
  }
  /** A key for advisory locks (flock, fcntl): one per inode. */
  get lockKey(): unknown {
    return this;
  }
}

export class Mount {
  constructor(
    readonly fs: FileSystem,
    readonly root: Dentry,
    /** Where it is mounted: null for the namespace root. */
    readonly parent: Mount | null,
    readonly mountpoint: Dentry | null,
    readonly readOnly: boolean,
    /** The first field of /proc/mounts. */
    readonly source: string,
  ) {}
}

export interface VirtualDentry {
  readonly mount: Mount;
  readonly dentry: Dentry;
}

export class MountNamespace {
  readonly mounts: Mount[] = [];
  private readonly onDentry = new Map<Dentry, Mount>();
  readonly root: Mount;

  constructor(fs: FileSystem, root: Dentry, readOnly: boolean, source: string) {
    this.root = new Mount(fs, root, null, null, readOnly, source);
    root.hold();
    this.mounts.push(this.root);
  }

  /** Mounts fs on the directory at `at`; a later mount on the same place hides the earlier one. */
  mount(at: VirtualDentry, fs: FileSystem, root: Dentry, readOnly: boolean, source: string): Mount | Errno {
    if (!isDir(at.dentry.mode)) return ENOTDIR;
    const m = new Mount(fs, root, at.mount, at.dentry, readOnly, source);
    at.dentry.mountedOn = true;
    at.dentry.hold();
    root.hold();
    this.onDentry.set(at.dentry, m);
    this.mounts.push(m);
    return m;
  }

  /** The mount whose root covers dentry (of parent), or null. */
  mountedAt(dentry: Dentry): Mount | null {
    return dentry.mountedOn ? this.onDentry.get(dentry) ?? null : null;
  }

  release(): void {
    const seen = new Set<FileSystem>();
    for (const m of this.mounts) {
      if (seen.has(m.fs)) continue;
      seen.add(m.fs);
      m.fs.release();
    }
  }
}

/** What /proc shows of a process; the kernel's Task implements it. */
export interface ProcessView {
  readonly id: {
    pid: number; tid: number; ppid: number; uid: number; gid: number; euid: number; suid: number; egid: number; sgid: number;
  };
  /** Supplementary groups, as /proc/PID/status's Groups: line lists them. */
  readonly groups: readonly number[];
  readonly comm: string;
  /** The program's path inside the sandbox. */
  readonly exePath: string;
  readonly fds: FdLookup;
  readonly fs: FsContext;
  /** Its address space: memory use, and what exec left there (arguments, environment, auxv). */
  readonly mm: AddressSpace;
  /** sched_setaffinity's mask; null for every CPU of the machine. */
  readonly cpuAffinity: bigint | null;
  /** Process group, session, live threads, and whether it is a zombie waiting for its parent. */
  readonly pgid: number;
  readonly sid: number;
  readonly threads: number;
  readonly zombie: boolean;
  /** Stopped by a job-control signal (SIGSTOP, SIGTSTP, ...) until SIGCONT; waiting in a blocked syscall. */
  readonly stopped: boolean;
  readonly sleeping: boolean;
  memoryMap(): readonly MemoryArea[];
  /** Its controlling terminal (what /dev/tty opens), or null. */
  readonly tty: Terminal | null;
  /** Its live threads (/proc/PID/task), each seen as this process with its own tid, name and state. */
  threadViews(): readonly ProcessView[];
  /**
   * CPU time in ns: [user, system, waited-for children's user, children's system], of the whole process,
   * or (thread) of this thread alone, which has no children's share.
   */
  cpuTimes(thread: boolean): [bigint, bigint, bigint, bigint];
}

export interface MemoryArea {
  start: number;
  end: number;
  prot: number;
  shared: boolean;
  offset: number;
  dev: number;
  ino: number;
  name: string;
}

export interface FdLookup {
  get(fd: number): FileDescription | Errno;
  /** Open descriptors in ascending order. */
  openFds(): number[];
}

/** A task's view of the filesystem: root, working directory, umask and credentials. */
export class FsContext {
  umask = 0o022;
  /** Set by the kernel once the task exists: /proc/self is this process. */
  process: ProcessView | null = null;

  constructor(readonly ns: MountNamespace, public root: VirtualDentry, public cwd: VirtualDentry, readonly creds: Creds) {
    root.dentry.hold();
    cwd.dentry.hold();
  }

  setCwd(vd: VirtualDentry): void {
    vd.dentry.hold();
    this.cwd.dentry.drop();
    this.cwd = vd;
  }

  /** fork(2) without CLONE_FS: the same root, working directory and umask, from now on apart. */
  fork(): FsContext {
    const copy = new FsContext(this.ns, this.root, this.cwd, { ...this.creds });
    copy.umask = this.umask;
    return copy;
  }

  /** The last process using it is gone. */
  release(): void {
    this.root.dentry.drop();
    this.cwd.dentry.drop();
  }
}

/** Where a read's bytes go (guest memory, in order): takes chunk and answers how much it took (less at a fault). */
export type ReadSink = (chunk: Uint8Array) => number;

/**
 * One read(2) of a file whose rules span the whole call rather than each piece of the buffer: a
 * terminal's VMIN and VTIME (Linux n_tty_read, which takes bytes as they come and times the gaps), a pty
 * master's packet-mode status byte. The syscall layer asks attempt() at the start and each time the
 * call may go on, waiting in between on waitFor() and until deadlineNs().
 */
export interface ReadCall {
  /** Bytes moved into the sink so far: what the call returns if a signal or O_NONBLOCK ends it early. */
  readonly moved: number;
  /** Moves what it may; the call's answer, or EAGAIN to wait. */
  attempt(): number | Errno;
  /** Calls callback once when the call may go on (input came, the other side went); never at once. */
  waitFor(callback: () => void): Cancellable;
  /** When a waiting call must be tried again whatever comes (its VTIME), by process.hrtime.bigint(); null: no timer. */
  deadlineNs(): bigint | null;
}

/**
 * An open file description, shared by every fd that dup() made of it. Regular files keep their offset
 * here; reads and writes are given views of guest memory and move data in place.
 */
/**
 * F_SETOWN's owner of a file description: a thread, a process or a process group (F_OWNER_TID,
 * F_OWNER_PID, F_OWNER_PGRP) that a socket signals when urgent data comes (SIGURG).
 */
export interface FileOwner {
  readonly type: number;
  readonly id: number;
  signal(signo: number): void;
}

export abstract class FileDescription {
  private refs = 0;
  /** F_SETOWN: who is told of urgent data; null for no one. */
  fileOwner: FileOwner | null = null;
  /** Run when the last reference goes (locks held by the description), one per id. */
  private releaseHooks: Map<unknown, () => void> | null = null;
  /** Where it was opened: for /proc/PID/fd, fchdir, *at calls; null for pipes and host stdio. */
  location: VirtualDentry | null = null;
  /** File offset of seekable files. */
  offset = 0;

  constructor(
    /** open(2) access mode and status flags (O_APPEND, O_NONBLOCK, ...), as F_GETFL reports them. */
    public flags: number,
  ) {}

  get readable(): boolean {
    const mode = this.flags & O_ACCMODE;
    return (this.flags & O_PATH) === 0 && (mode === O_RDONLY || mode === O_RDWR);
  }
  get writable(): boolean {
    const mode = this.flags & O_ACCMODE;
    return (this.flags & O_PATH) === 0 && (mode === O_WRONLY || mode === O_RDWR);
  }
  /** The host fd behind it when host ioctls and lseek apply (host stdio); -1 if none. */
  get hostFd(): number {
    return -1;
  }
  /** The terminal it is (a pty slave, a host terminal) for the tty ioctls and job control; null: ENOTTY. */
  get terminal(): Terminal | null {
    return null;
  }
  /** F_GETFL. */
  statusFlags(): number {
    return this.flags;
  }

  /** Reads at the file offset into buf (a view of guest memory); 0 at end of file. EAGAIN: not ready. */
  read(_buf: Uint8Array): number | Errno {
    return EINVAL;
  }
  write(_buf: Uint8Array): number | Errno {
    return EINVAL;
  }
  pread(_buf: Uint8Array, _offset: number): number | Errno {
    return ESPIPE;
  }
  pwrite(_buf: Uint8Array, _offset: number): number | Errno {
    return ESPIPE;
  }
  /**
   * Whether readRanges (writeRanges) moves data between the file and guest memory in one host call
   * (a host fd's preadv/pwritev): the syscall layer then gathers the buffer's runs for it instead of
   * calling read/write once per run.
   */
  get readsRanges(): boolean {
    return false;
  }
  get writesRanges(): boolean {
    return false;
  }
  /** As read (pos null) or pread into every run of ranges, in order; only where readsRanges. */
  readRanges(_ranges: GuestRanges, _pos: number | null): number | Errno {
    return EINVAL;
  }
  /** As write (pos null) or pwrite from every run of ranges, in order; only where writesRanges. */
  writeRanges(_ranges: GuestRanges, _pos: number | null): number | Errno {
    return EINVAL;
  }
  /** lseek: the new offset. */
  seek(_offset: number, _whence: number): number | Errno {
    return ESPIPE;
  }
  abstract stat(): FileStat | Errno;
  truncate(_length: number): Errno | null {
    return EINVAL;
  }
  /** fallocate(2). */
  allocate(_mode: number, _offset: number, _length: number): Errno | null {
    return ENODEV;
  }
  /** fsync(2), or fdatasync(2) with dataOnly: EINVAL for files that cannot be synced (pipes). */
  sync(_dataOnly: boolean): Errno | null {
    return EINVAL;
  }
  /** FIONREAD. */
  readableBytes(): number | Errno {
    return EINVAL;
  }
  /**
   * EPIPE from a write comes with SIGPIPE, afterPart: once part of the write went (a pipe's always
   * does, as pipe_write; a socket's does not, and a Unix seqpacket socket's never).
   */
  sigpipeOnEpipe(_afterPart: boolean): boolean {
    return true;
  }
  /**
   * Events ready now, as the file's Linux poll method answers them (pipes: POLLIN|POLLRDNORM, an
   * eventfd: POLLIN alone; POLLHUP, POLLERR). Files that never block: DEFAULT_POLLMASK.
   */
  readiness(): number {
    return DEFAULT_POLLMASK;
  }
  /**
   * Calls callback once when any of events may be ready; files that never block call it at once and
   * return null. Otherwise the waiter, which cancel() takes back. This and readiness() are all a file
   * needs for poll, select and epoll.
   */
  waitFor(_events: number, callback: () => void): Cancellable | null {
    callback();
    return null;
  }
  /**
   * A read(2) or readv(2) at the file offset that the file runs itself (ReadCall: terminals), moving at
   * most total bytes into sink; null: the syscall layer calls read() with views of guest memory.
   */
  beginRead(_sink: ReadSink, _total: number): ReadCall | null {
    return null;
  }
  /** Whether beginRead may answer now: only then does the syscall layer build a sink for it. */
  get runsReads(): boolean {
    return false;
  }
  /** How long a blocking wait for events may last, in ns (0: as long as it takes); a socket's SO_RCVTIMEO, SO_SNDTIMEO. */
  waitTimeoutNs(_events: number): bigint {
    return 0n;
  }
  /**
   * Tells onChange each time some of events may have changed, until cancelled (epoll's interest list,
   * which must see every edge). Files with a wait queue subscribe to it (WaitQueue.subscribe); this
   * default re-arms a one-shot waitFor whenever the subscriber found the file not ready (rearm()).
   * exclusive: EPOLLEXCLUSIVE, where a queue wakes one exclusive subscriber.
   */
  subscribe(events: number, onChange: ReadinessListener, _exclusive = false): ReadinessSubscription {
    return new WaitForSubscription(this, events, onChange);
  }
  /**
   * Whether the file has a poll method on Linux (epoll_ctl refuses the others with EPERM: regular
   * files, directories, /dev/null). Any file that waits (overrides waitFor or subscribe) has one.
   */
  get pollable(): boolean {
    return this.waitFor !== FileDescription.prototype.waitFor || this.subscribe !== FileDescription.prototype.subscribe;
  }
  /**
   * Reads and writes must see the whole buffer in one piece, up to this many bytes (an eventfd's or a
   * timerfd's 8-byte value): the syscall layer then copies through a bounce buffer of at most one
   * byte more (so the file can tell a longer buffer) instead of handing the file one view per
   * physically contiguous run. 0: any split is fine.
   */
  get wholeBufferBytes(): number {
    return 0;
  }
  /** mmap of this file: pages (tmpfs) or reads and write-backs (host files); null if it cannot be mapped. */
  mappable(): Mappable | null {
    return null;
  }
  /**
   * The seals of the file's inode (seals.ts; fcntl F_ADD_SEALS, F_GET_SEALS, and mmap's check): tmpfs
   * files have them, memfd_create's among them; null for the rest, where the seal commands are EINVAL.
   */
  get sealState(): SealState | null {
    return null;
  }
  /** Opening /proc/PID/fd/N of a file without a location (a pipe, host stdio): a new description. */
  reopen(_flags: number): FileDescription | Errno {
    return ENXIO;
  }
  /** What /proc/PID/fd/N shows when the file has no location ("pipe:[12]"). */
  describe(): string {
    return 'anon_inode:[unknown]';
  }
  /** Last reference gone: give back host fds, wake the other end of a pipe, drop locks. */
  protected release(): void {}

  incRef(): void {
    this.refs++;
  }
  /** How many references hold it (fds, files in flight, waits). */
  get references(): number {
    return this.refs;
  }
  decRef(): void {
    if (--this.refs === 0) {
      this.release();
      if (this.releaseHooks !== null) for (const hook of this.releaseHooks.values()) hook();
      this.releaseHooks = null;
      if (this.location !== null) this.location.dentry.drop();
    }
  }
  /** Runs hook when the description goes; a later hook with the same id replaces it. */
  onRelease(id: unknown, hook: () => void): void {
    this.releaseHooks ??= new Map();
    this.releaseHooks.set(id, hook);
  }
  /** Takes back the hook onRelease set under id. */
  offRelease(id: unknown): void {
    this.releaseHooks?.delete(id);
  }
  /** Sets where it was opened (holding the dentry). */
  setLocation(vd: VirtualDentry): void {
    vd.dentry.hold();
    if (this.location !== null) this.location.dentry.drop();
    this.location = vd;
  }
}

/** The descriptions O_PATH gives: a place to start *at calls from, or to fstat; no I/O. */
export class PathFile extends FileDescription {
  constructor(flags: number, private readonly dentry: Dentry) {
    super(flags);
  }
  override read(): Errno {
    return EBADF;
  }
  override write(): Errno {
    return EBADF;
  }
  stat(): FileStat | Errno {
    return this.dentry.stat();
  }
}

/** A stat for files without an inode elsewhere (pipes, devices, synthetic files). */
export function syntheticStat(ino: number, mode: number, dev: number, opts: Partial<FileStat> = {}): FileStat {
  const t = opts.mtimeNs ?? bootTimeNs;
  return {
    dev, ino, mode, nlink: (mode & S_IFMT) === S_IFDIR ? 2 : 1, uid: 0, gid: 0, rdev: 0, size: 0,
    blksize: 4096, blocks: 0, atimeNs: t, mtimeNs: t, ctimeNs: t, ...opts,
  };
}

export const bootTimeNs = nowNs();

/** FileDescription.subscribe for files whose only notification is the one-shot waitFor. */
class WaitForSubscription implements ReadinessSubscription {
  private pending: Cancellable | null = null;
  private armed = false;
  private live = true;

  constructor(private readonly file: FileDescription, private readonly events: number, private readonly onChange: ReadinessListener) {
    this.rearm();
  }

  rearm(): void {
    if (!this.live || this.armed) return;
    this.armed = true;
    const c = this.file.waitFor(this.events, () => this.fired());
    // A file that was ready called back at once (armed is false again): nothing to hold.
    if (this.armed) this.pending = c;
  }

  cancel(): void {
    this.live = false;
    this.armed = false;
    const c = this.pending;
    this.pending = null;
    c?.cancel();
  }

  private fired(): void {
    this.armed = false;
    this.pending = null;
    // Not re-armed here: the file is probably ready now, and a one-shot wait would fire again at once.
    if (this.live) this.onChange(this.events);
  }
}
