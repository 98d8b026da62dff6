// The Gofer: a separate process that opens host files under the sandbox's root directories for the
// Sentry (its root and every --mount: one process per sandbox), and the only code of tsvisor that
// resolves host paths. Run as `node dist/src/gofer/server.js ROOT [--ro] [ROOT [--ro]]...` (or with
// `--attach`, the roots then coming as the first message) with the socket to the Sentry as fd 3
// (spawn.ts does this); each request names its root by index. It answers
// one request at a time, blocking in recvmsg between them, and exits when the Sentry closes its end.
//
// Confinement: the root is opened once (O_PATH). Every path arrives as components below it, each
// checked again here (no '.', '..', '/', NUL); the walk opens one component at a time with
// openat(O_PATH|O_DIRECTORY|O_NOFOLLOW) from the previous directory fd, so neither '..' nor a
// symlink — however it was swapped in — can lead outside: a symlink met during the walk is ELOOP,
// and the last component is never followed either (the Sentry reads symlinks with readlink and
// resolves them inside the sandbox). Files are opened by first taking an O_PATH fd, checking its
// type, and only then reopening that very inode (so a device node is never opened: EACCES). Kernel
// pseudo-filesystems mounted below the root (/proc, /sys, ... when the root is the host's /) are
// never opened or listed either (EACCES): the sandbox has its own. In read-only mode every request
// that would change the tree gets EROFS.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  EACCES, EBUSY, EEXIST, EINVAL, EIO, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, ENXIO, EOPNOTSUPP, EPERM,
  EROFS,
} from '../abi/errno.js';
import { stderrSink } from '../log/stderr.js';
import { goferHostCalls } from '../platform/gofer-host.js';
import {
  type AttachedRoot, beginReply, checkPath, decodeAttach, decodeRequest, MAX_MESSAGE, MAX_ROOTS, O_ACCMODE, O_CREAT, O_DIRECTORY, O_EXCL, O_NONBLOCK,
  O_PATH, O_RDONLY, O_TMPFILE_BIT, O_TRUNC, O_WRONLY, Op, OPEN_FLAGS_PASSED, PATH_MAX, PROTOCOL_VERSION,
  RENAME_EXCHANGE, RENAME_NOREPLACE, REPLY_FLAGS_OFFSET, REPLY_MORE, type Request, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
  STAT_SIZE, STATFS_SIZE, Writer,
} from './protocol.js';

const host = goferHostCalls();
/** The socket to the Sentry, placed there by spawn.ts. */
const SOCKET_FD = 3;
const AT_REMOVEDIR = 0x200;
/** What recvMsg returns for a message larger than the buffer (Linux EMSGSIZE). */
const EMSGSIZE = 90;
const UTIME_OMIT = (1 << 30) - 2;
const NS_PER_S = 1_000_000_000n;
/** How often open retries when a file it is about to create appears, or one it found disappears. */
const OPEN_RACE_RETRIES = 4;

/** A parent directory fd (the root's own fd, or one the walk opened) and the last component ('' = root). */
interface Parent {
  fd: number;
  name: string;
}

/** Sends w's message, with fd (or none if -1); false when the Sentry's end is gone. */
export type SendReply = (w: Writer, fd: number) => boolean;

export class GoferServer {
  private readonly w = new Writer();
  private readonly statBuf = new Uint8Array(STAT_SIZE);
  private readonly statView = new DataView(this.statBuf.buffer);
  private readonly dirBuf = new Uint8Array(32 * 1024);
  private readonly linkBuf = new Uint8Array(PATH_MAX);
  private readonly statfsBuf = new Uint8Array(STATFS_SIZE);

  /**
   * refusedDevs: st_dev of the kernel pseudo-filesystems mounted below the root (see
   * pseudoFilesystemDevs): files on them are never opened or listed.
   */
  constructor(
    private readonly rootFd: number,
    readonly readOnly: boolean,
    private readonly send: SendReply,
    private readonly refusedDevs: ReadonlySet<number> = new Set(),
  ) {}

  /** Answers one decoded request (null: malformed); false when the Sentry is gone and the Gofer should exit. */
  answer(id: number, op: number, req: Request | null): boolean {
    if (req === null) return this.replyStatus(id, op, -EIO.code);
    try {
      return this.dispatch(id, req);
    } catch (err) {
      // A bug here must not take the Gofer down with it: report it and answer EIO.
      stderrSink.write(`tsvisor gofer: request ${op} failed: ${String(err)}\n`);
      return this.replyStatus(id, op, -EIO.code);
    }
  }

  private dispatch(id: number, req: Request): boolean {
    switch (req.op) {
      case Op.Stat: return this.stat(id, req.path);
      case Op.Open: return this.open(id, req.path, req.flags, req.mode);
      case Op.Readdir: return this.readdir(id, req.path);
      case Op.Readlink: return this.readlink(id, req.path);
      case Op.Statfs: return this.statfs(id);
      case Op.Mkdir: return this.replyStatus(id, req.op, this.withParent(req.path, (p) => this.mkdir(p, req.mode)));
      case Op.Unlink: return this.replyStatus(id, req.op, this.withParent(req.path, (p) => this.unlink(p, req.isDir)));
      case Op.Rename: return this.replyStatus(id, req.op, this.rename(req.from, req.to, req.flags));
      case Op.Symlink: return this.replyStatus(id, req.op, this.withParent(req.path, (p) => this.symlink(req.target, p)));
      case Op.Link: return this.replyStatus(id, req.op, this.link(req.from, req.to));
      case Op.Chmod: return this.replyStatus(id, req.op, this.withParent(req.path, (p) => this.chmod(p, req.mode)));
      case Op.Chown: return this.replyStatus(id, req.op, this.withParent(req.path, (p) => this.chown(p, req.uid, req.gid)));
      case Op.Truncate: return this.replyStatus(id, req.op, this.withParent(req.path, (p) => this.truncate(p, req.length)));
      case Op.Utimens: return this.replyStatus(id, req.op, this.withParent(req.path, (p) => this.utimens(p, req.atimeNs, req.mtimeNs)));
    }
  }

  private replyStatus(id: number, op: number, result: number): boolean {
    beginReply(this.w, id, op, result < 0 ? -result : 0);
    return this.send(this.w, -1);
  }

  // --- the walk ---

  /** Opens every component but the last, one at a time, never following a symlink; or -errno. */
  private parent(path: readonly string[]): Parent | number {
    const bad = checkPath(path);
    if (bad !== null) return -bad.code;
    if (path.length === 0) return { fd: this.rootFd, name: '' };
    let fd = this.rootFd;
    for (let i = 0; i < path.length - 1; i++) {
      const next = host.openat(fd, path[i]!, O_PATH | O_DIRECTORY, 0);
      const err = next < 0 ? this.notFollowed(fd, path[i]!, next) : 0;
      if (fd !== this.rootFd) host.close(fd);
      if (next < 0) return err;
      fd = next;
    }
    return { fd, name: path[path.length - 1]! };
  }

  /** A directory open that failed because name is a symlink reports ELOOP, as RESOLVE_NO_SYMLINKS does. */
  private notFollowed(dirFd: number, name: string, err: number): number {
    if (err !== -ENOTDIR.code && err !== -ELOOP.code) return err;
    return host.fstatat(dirFd, name, this.statBuf) === 0 && this.statType() === S_IFLNK ? -ELOOP.code : err;
  }

  private release(p: Parent): void {
    if (p.fd !== this.rootFd) host.close(p.fd);
  }

  private withParent(path: readonly string[], fn: (p: Parent) => number): number {
    const p = this.parent(path);
    if (typeof p === 'number') return p;
    try {
      return fn(p);
    } finally {
      this.release(p);
    }
  }

  /** An O_PATH fd of the last component itself (not followed), or the root's fd; release with dropPathFd. */
  private pathFd(p: Parent): number {
    return p.name === '' ? p.fd : host.openat(p.fd, p.name, O_PATH, 0);
  }

  private dropPathFd(p: Parent, fd: number): void {
    if (fd !== p.fd) host.close(fd);
  }

  private statType(): number {
    return this.statView.getUint32(24, true) & S_IFMT;
  }

  /** Whether statBuf describes a file on a refused pseudo-filesystem. */
  private refused(): boolean {
    return this.refusedDevs.size > 0 && this.refusedDevs.has(Number(this.statView.getBigUint64(0, true)));
  }

  /** For a request that would create p in read-only mode: EEXIST if it exists (as Linux checks first), else EROFS. */
  private readOnlyCreate(p: Parent): number {
    if (p.name === '') return -EEXIST.code;
    const r = host.fstatat(p.fd, p.name, this.statBuf);
    return r === 0 ? -EEXIST.code : r === -ENOENT.code ? -EROFS.code : r;
  }

  /** For a request that would change p in read-only mode: its lookup error if any, else EROFS. */
  private readOnlyChange(p: Parent): number {
    const r = host.fstatat(p.fd, p.name, this.statBuf);
    return r < 0 ? r : -EROFS.code;
  }

  // --- requests answered with data ---

  private stat(id: number, path: readonly string[]): boolean {
    const r = this.withParent(path, (p) => host.fstatat(p.fd, p.name, this.statBuf));
    if (r < 0) return this.replyStatus(id, Op.Stat, r);
    beginReply(this.w, id, Op.Stat).raw(this.statBuf);
    return this.send(this.w, -1);
  }

  private open(id: number, path: readonly string[], flags: number, mode: number): boolean {
    const fd = this.withParent(path, (p) => this.openIn(p, flags, mode));
    if (fd < 0) return this.replyStatus(id, Op.Open, fd);
    try {
      const r = host.fstat(fd, this.statBuf);
      if (r < 0) return this.replyStatus(id, Op.Open, r);
      beginReply(this.w, id, Op.Open).raw(this.statBuf);
      return this.send(this.w, fd);
    } finally {
      host.close(fd);
    }
  }

  private openIn(p: Parent, flags: number, mode: number): number {
    if ((flags & O_ACCMODE) === O_ACCMODE) return -EINVAL.code;
    if ((flags & (O_PATH | O_TMPFILE_BIT)) !== 0) return -EOPNOTSUPP.code;
    flags &= OPEN_FLAGS_PASSED;
    for (let attempt = 0; attempt < OPEN_RACE_RETRIES; attempt++) {
      const pathFd = this.pathFd(p);
      if (pathFd === -ENOENT.code && (flags & O_CREAT) !== 0) {
        if (this.readOnly) return -EROFS.code;
        // O_EXCL: whatever is created is a new regular file, never something that was already there.
        const fd = host.openat(p.fd, p.name, flags | O_EXCL, mode);
        if (fd === -EEXIST.code && (flags & O_EXCL) === 0) continue; // appeared meanwhile: open it instead
        return fd;
      }
      if (pathFd < 0) return pathFd;
      try {
        const fd = this.reopen(pathFd, flags, p);
        if (fd === -ENOENT.code) continue; // removed meanwhile
        return fd;
      } finally {
        this.dropPathFd(p, pathFd);
      }
    }
    return -ENOENT.code;
  }

  /** Opens the file an O_PATH fd refers to, after checking what it is. */
  private reopen(pathFd: number, flags: number, p: Parent): number {
    const r = host.fstat(pathFd, this.statBuf);
    if (r < 0) return r;
    const type = this.statType();
    const access = flags & O_ACCMODE;
    if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) return -EEXIST.code;
    if (type === S_IFLNK) return -ELOOP.code; // open(2): "the trailing component is a symbolic link" with O_NOFOLLOW
    if ((flags & O_DIRECTORY) !== 0 && type !== S_IFDIR) return -ENOTDIR.code;
    if (type === S_IFSOCK) return -ENXIO.code;
    // Devices and FIFOs are never opened on the host through the Gofer (as on a nodev mount).
    if ((type !== S_IFREG && type !== S_IFDIR) || this.refused()) return -EACCES.code;
    if (type === S_IFDIR && (access !== O_RDONLY || (flags & O_CREAT) !== 0)) return -EISDIR.code;
    if (this.readOnly && type === S_IFREG && (access !== O_RDONLY || (flags & O_TRUNC) !== 0)) return -EROFS.code;
    return host.reopen(pathFd, flags, p.fd, p.name);
  }

  private readdir(id: number, path: readonly string[]): boolean {
    const p = this.parent(path);
    if (typeof p === 'number') return this.replyStatus(id, Op.Readdir, p);
    let fd: number;
    try {
      fd = p.name === ''
        ? host.reopen(p.fd, O_RDONLY | O_DIRECTORY, p.fd, '')
        : host.openat(p.fd, p.name, O_RDONLY | O_DIRECTORY, 0);
      if (fd < 0) fd = this.notFollowed(p.fd, p.name, fd);
    } finally {
      this.release(p);
    }
    if (fd < 0) return this.replyStatus(id, Op.Readdir, fd);
    try {
      const r = host.fstat(fd, this.statBuf);
      if (r < 0 || this.refused()) return this.replyStatus(id, Op.Readdir, r < 0 ? r : -EACCES.code);
      return this.sendEntries(id, fd);
    } finally {
      host.close(fd);
    }
  }

  /** Streams the entries (but '.' and '..') as u64 ino, u8 d_type, u16 length, name; REPLY_MORE on all but the last. */
  private sendEntries(id: number, fd: number): boolean {
    const w = this.w;
    const buf = this.dirBuf;
    const view = new DataView(buf.buffer);
    beginReply(w, id, Op.Readdir, 0, REPLY_MORE);
    for (;;) {
      const n = host.getdents64(fd, buf);
      if (n < 0) return this.replyStatus(id, Op.Readdir, n);
      if (n === 0) break;
      // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[] (NUL-terminated).
      for (let pos = 0; pos + 19 < n;) {
        const reclen = view.getUint16(pos + 16, true);
        if (reclen < 20 || pos + reclen > n) break;
        const nameEnd = buf.indexOf(0, pos + 19);
        const end = nameEnd < 0 || nameEnd > pos + reclen ? pos + reclen : nameEnd;
        const name = buf.subarray(pos + 19, end);
        const dot = name.length === 1 && name[0] === 0x2e;
        const dotdot = name.length === 2 && name[0] === 0x2e && name[1] === 0x2e;
        if (!dot && !dotdot) {
          if (w.pos + 11 + name.length > MAX_MESSAGE) {
            if (!this.send(w, -1)) return false;
            beginReply(w, id, Op.Readdir, 0, REPLY_MORE);
          }
          w.raw(buf.subarray(pos, pos + 8)).u8(buf[pos + 18]!).u16(name.length).raw(name);
        }
        pos += reclen;
      }
    }
    w.bytes[REPLY_FLAGS_OFFSET] = 0; // the last reply: clear REPLY_MORE
    return this.send(w, -1);
  }

  private readlink(id: number, path: readonly string[]): boolean {
    const n = this.withParent(path, (p) => (p.name === '' ? -EINVAL.code : host.readlinkat(p.fd, p.name, this.linkBuf)));
    if (n < 0) return this.replyStatus(id, Op.Readlink, n);
    if (n >= PATH_MAX) return this.replyStatus(id, Op.Readlink, -ENAMETOOLONG.code);
    beginReply(this.w, id, Op.Readlink).u16(n).raw(this.linkBuf.subarray(0, n));
    return this.send(this.w, -1);
  }

  private statfs(id: number): boolean {
    const r = host.fstatfs(this.rootFd, this.statfsBuf);
    if (r < 0) return this.replyStatus(id, Op.Statfs, r);
    beginReply(this.w, id, Op.Statfs).raw(this.statfsBuf);
    return this.send(this.w, -1);
  }

  // --- requests answered with a status (0 or -errno) ---

  private mkdir(p: Parent, mode: number): number {
    if (this.readOnly || p.name === '') return this.readOnlyCreate(p);
    return host.mkdirat(p.fd, p.name, mode);
  }

  private unlink(p: Parent, isDir: boolean): number {
    if (p.name === '') return -EBUSY.code;
    if (this.readOnly) return -EROFS.code;
    return host.unlinkat(p.fd, p.name, isDir ? AT_REMOVEDIR : 0);
  }

  private rename(from: readonly string[], to: readonly string[], flags: number): number {
    if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) !== 0) return -EINVAL.code;
    return this.withParent(from, (a) => this.withParent(to, (b) => {
      if (a.name === '' || b.name === '') return -EBUSY.code;
      if (this.readOnly) return -EROFS.code;
      return host.renameat2(a.fd, a.name, b.fd, b.name, flags);
    }));
  }

  private symlink(target: string, p: Parent): number {
    if (target.length === 0) return -ENOENT.code;
    if (target.includes('\0')) return -EINVAL.code;
    if (Buffer.byteLength(target, 'utf8') >= PATH_MAX) return -ENAMETOOLONG.code;
    if (this.readOnly || p.name === '') return this.readOnlyCreate(p);
    return host.symlinkat(target, p.fd, p.name);
  }

  private link(from: readonly string[], to: readonly string[]): number {
    return this.withParent(from, (a) => this.withParent(to, (b) => {
      if (a.name === '') return -EPERM.code;
      if (this.readOnly || b.name === '') {
        const r = host.fstatat(a.fd, a.name, this.statBuf);
        return r < 0 ? r : this.readOnlyCreate(b);
      }
      return host.linkat(a.fd, a.name, b.fd, b.name);
    }));
  }

  private chmod(p: Parent, mode: number): number {
    const fd = this.pathFd(p);
    if (fd < 0) return fd;
    try {
      const r = host.fstat(fd, this.statBuf);
      if (r < 0) return r;
      if (this.statType() === S_IFLNK) return -EOPNOTSUPP.code; // as fchmodat(AT_SYMLINK_NOFOLLOW) on Linux
      if (this.readOnly) return -EROFS.code;
      return host.chmodFd(fd, mode & 0o7777);
    } finally {
      this.dropPathFd(p, fd);
    }
  }

  private chown(p: Parent, uid: number, gid: number): number {
    if (this.readOnly) return this.readOnlyChange(p);
    return host.fchownat(p.fd, p.name, uid, gid);
  }

  private truncate(p: Parent, length: number): number {
    if (!Number.isSafeInteger(length) || length < 0) return -EINVAL.code;
    const pathFd = this.pathFd(p);
    if (pathFd < 0) return pathFd;
    try {
      const r = host.fstat(pathFd, this.statBuf);
      if (r < 0) return r;
      const type = this.statType();
      if (type === S_IFLNK) return -ELOOP.code;
      if (type === S_IFDIR) return -EISDIR.code;
      if (type !== S_IFREG) return -EINVAL.code;
      if (this.refused()) return -EACCES.code;
      if (this.readOnly) return -EROFS.code;
      // O_NONBLOCK: an open that would wait for a lease to break fails instead of hanging the Gofer.
      const fd = host.reopen(pathFd, O_WRONLY | O_NONBLOCK, p.fd, p.name);
      if (fd < 0) return fd;
      const t = host.ftruncate(fd, length);
      host.close(fd);
      return t;
    } finally {
      this.dropPathFd(p, pathFd);
    }
  }

  private utimens(p: Parent, atimeNs: bigint | null, mtimeNs: bigint | null): number {
    if (this.readOnly) return this.readOnlyChange(p);
    const a = timespec(atimeNs);
    const m = timespec(mtimeNs);
    if (a === null || m === null) return -EINVAL.code;
    return host.utimensat(p.fd, p.name, a[0], a[1], m[0], m[1]);
  }
}

/** Nanoseconds since the epoch as [tv_sec, tv_nsec] with 0 <= tv_nsec < 1e9; null as UTIME_OMIT. */
function timespec(ns: bigint | null): [number, number] | null {
  if (ns === null) return [0, UTIME_OMIT];
  let sec = ns / NS_PER_S;
  let nsec = ns % NS_PER_S;
  if (nsec < 0n) {
    nsec += NS_PER_S;
    sec -= 1n;
  }
  if (sec > BigInt(Number.MAX_SAFE_INTEGER) || sec < -BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return [Number(sec), Number(nsec)];
}

/** Kernel pseudo-filesystems whose files the Gofer never opens when they are mounted below its root. */
const PSEUDO_FILESYSTEMS = new Set([
  'proc', 'sysfs', 'debugfs', 'tracefs', 'securityfs', 'cgroup', 'cgroup2', 'bpf', 'configfs', 'pstore',
  'efivarfs', 'fusectl', 'binfmt_misc', 'devpts', 'mqueue', 'devtmpfs', 'hugetlbfs', 'rpc_pipefs', 'nsfs',
]);

/**
 * st_dev of every pseudo-filesystem mount in /proc/self/mountinfo, except the root's own filesystem
 * (serving /sys itself on purpose stays possible). Fields: id parent major:minor root mountpoint
 * options... - fstype source superoptions.
 */
export function pseudoFilesystemDevs(rootDev: number, mountinfo: string): Set<number> {
  const devs = new Set<number>();
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    const numbers = /^(\d+):(\d+)$/.exec(fields[2] ?? '');
    if (dash < 0 || numbers === null || !PSEUDO_FILESYSTEMS.has(fields[dash + 1] ?? '')) continue;
    const dev = makedev(Number(numbers[1]), Number(numbers[2]));
    if (dev !== rootDev) devs.add(dev);
  }
  return devs;
}

/** glibc's makedev: the st_dev encoding of a major:minor pair. */
function makedev(major: number, minor: number): number {
  return (minor & 0xff) + (major & 0xfff) * 0x100 + Math.floor(minor / 0x100) * 0x100000 + Math.floor(major / 0x1000) * 0x100000000000;
}

/** The roots of one Gofer, by index; null for one that could not be opened (its requests get EIO). */
export class GoferService {
  constructor(private readonly roots: readonly (GoferServer | null)[], private readonly send: SendReply) {}

  /** Answers one request message; false when the Sentry is gone and the Gofer should exit. */
  handle(bytes: Uint8Array, length: number): boolean {
    const { id, root, req } = decodeRequest(bytes, length);
    const op = length >= 6 ? bytes[4]! | (bytes[5]! << 8) : 0;
    const server = this.roots[root];
    if (server !== undefined && server !== null) return server.answer(id, op, req);
    const w = new Writer();
    beginReply(w, id, op, EIO.code);
    return this.send(w, -1);
  }
}

function sendOn(socketFd: number): SendReply {
  const none = new Int32Array(0);
  const one = new Int32Array(1);
  return (w, fd) => {
    let fds = none;
    if (fd >= 0) {
      one[0] = fd;
      fds = one;
    }
    return host.sendMsg(socketFd, w.bytes, w.pos, fds) >= 0;
  };
}

/** `ROOT [--ro] [ROOT [--ro]]...` as roots, or null if that is not what args are. */
function parseRoots(args: readonly string[]): AttachedRoot[] | null {
  const roots: AttachedRoot[] = [];
  for (const arg of args) {
    if (arg === '--ro' && roots.length > 0 && !roots[roots.length - 1]!.readOnly) roots[roots.length - 1]!.readOnly = true;
    else if (arg.startsWith('/')) roots.push({ path: arg, readOnly: false });
    else return null;
  }
  return roots.length > 0 && roots.length <= MAX_ROOTS ? roots : null;
}

/** --attach: the roots from the Sentry's first message; 'gone' if it closed the socket first (a failed start). */
function attachedRoots(): AttachedRoot[] | 'gone' | null {
  const buf = new Uint8Array(MAX_MESSAGE);
  const fds = new Int32Array(8);
  const n = host.recvMsg(SOCKET_FD, buf, fds, -1);
  for (const fd of fds) if (fd >= 0) host.close(fd);
  if (n === 0) return 'gone';
  const roots = n > 0 ? decodeAttach(buf, n) : null;
  if (roots === null) stderrSink.write('tsvisor gofer: the first message is not the directories to serve\n');
  return roots;
}

/** The Gofer process: greet once per root, then answer requests until the Sentry closes the socket. */
export function main(args: readonly string[]): number {
  const roots = args.length === 1 && args[0] === '--attach' ? attachedRoots() : parseRoots(args);
  if (roots === 'gone') return 0;
  if (roots === null) {
    stderrSink.write('usage: node dist/src/gofer/server.js ROOT [--ro] [ROOT [--ro]]... | --attach   (with the socket to the Sentry as fd 3)\n');
    return 2;
  }
  const send = sendOn(SOCKET_FD);
  // The Sentry applies the sandbox's umask itself: files are created with exactly the mode it asks.
  process.umask(0);
  let mountinfo: string | null = null;
  const servers: (GoferServer | null)[] = [];
  for (const root of roots) {
    const rootFd = host.openRoot(root.path);
    const hello = new Writer();
    beginReply(hello, 0, Op.Hello, rootFd < 0 ? -rootFd : 0).u32(PROTOCOL_VERSION);
    if (!send(hello, -1)) {
      stderrSink.write('tsvisor gofer: fd 3 is not a connected socket\n');
      return 2;
    }
    if (rootFd < 0) {
      stderrSink.write(`tsvisor gofer: cannot open ${root.path} (errno ${-rootFd})\n`);
      servers.push(null);
      continue;
    }
    const rootStat = new Uint8Array(STAT_SIZE);
    host.fstat(rootFd, rootStat);
    const rootDev = Number(new DataView(rootStat.buffer).getBigUint64(0, true));
    if (mountinfo === null) {
      try {
        mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
      } catch {
        mountinfo = ''; // no /proc: nothing mounted there to refuse either
      }
    }
    servers.push(new GoferServer(rootFd, root.readOnly, send, pseudoFilesystemDevs(rootDev, mountinfo)));
  }
  const server = new GoferService(servers, send);
  const buf = new Uint8Array(MAX_MESSAGE);
  const fds = new Int32Array(8);
  for (;;) {
    const n = host.recvMsg(SOCKET_FD, buf, fds, -1);
    for (const fd of fds) if (fd >= 0) host.close(fd); // the Sentry never sends fds
    if (n === 0) return 0; // the Sentry closed its end: the sandbox is over
    if (n === -EMSGSIZE) {
      // Too large to be a request; the first bytes still name it, so answer under its id.
      if (!server.handle(buf, 6)) return 0;
      continue;
    }
    if (n < 0) {
      stderrSink.write(`tsvisor gofer: recvmsg failed (errno ${-n})\n`);
      return 1;
    }
    if (!server.handle(buf, n)) return 0;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
