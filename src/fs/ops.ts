// The VFS operations behind the path syscalls: walk, check what Linux checks (types, permissions,
// read-only mounts, sticky directories, rename loops), then ask the filesystem. Error precedence
// follows fs/namei.c where tests can see it.
import {
  EACCES, EBUSY, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, ENOTEMPTY, EPERM, EROFS, EXDEV, Errno,
} from '../abi/errno.js';
import {
  O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOCTTY, O_NOFOLLOW, O_PATH,
  O_RDONLY, O_TMPFILE, O_TRUNC, O_WRONLY, PERM_MASK, RENAME_EXCHANGE, RENAME_NOREPLACE, R_OK, S_IFBLK, S_IFCHR, S_IFDIR,
  S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID, S_ISUID, S_ISVTX, S_IXGRP, W_OK, X_OK, isDir, isSymlink,
} from '../abi/fcntl.js';
import { followLink, resolve, resolveParent, restartWalk, step, stepWithin, type WalkState } from './walk.js';
import {
  type Dentry, type FileDescription, type FileStat, type FsContext, PathFile, type SetAttr, type VirtualDentry,
  inGroup, mayAccess, nowNs,
} from './vfs.js';

function may(ctx: FsContext, d: Dentry, want: number): boolean {
  return mayAccess(d.mode, d.uid, d.gid, ctx.creds, want);
}

/** Creating or removing a name in dir: write and search permission, a writable mount. */
function mayModify(ctx: FsContext, dir: VirtualDentry): Errno | null {
  if (!may(ctx, dir.dentry, W_OK | X_OK)) return EACCES;
  if (dir.mount.readOnly) return EROFS;
  return null;
}

/** In a sticky directory only the owner of the file or of the directory (or root) may remove it. */
function stickyDenied(ctx: FsContext, dir: Dentry, child: Dentry): boolean {
  if ((dir.mode & S_ISVTX) === 0) return false;
  const uid = ctx.creds.uid;
  return uid !== 0 && uid !== dir.uid && uid !== child.uid;
}

/** The raw child (not crossing mounts) after the search permission check. */
function rawChild(ctx: FsContext, dir: VirtualDentry, name: string): Dentry | Errno {
  if (!may(ctx, dir.dentry, X_OK)) return EACCES;
  return dir.dentry.child(name, ctx);
}

/**
 * open(2) of path from start. state: a fresh walk's, or one with openat2's RESOLVE_* restrictions
 * (walk.ts), which every step of the open heeds, O_CREAT's symlinks included.
 */
export function openAt(ctx: FsContext, start: VirtualDentry, path: string, flags: number, mode: number, state: WalkState = { links: 0 }): FileDescription | Errno {
  if ((flags & O_CREAT) === 0) {
    const follow = (flags & O_NOFOLLOW) === 0;
    const parent = resolveParent(ctx, start, path, state);
    if (parent instanceof Errno) return parent;
    const { dir, name } = parent;
    if (parent.trailingSlash || name === '' || name === '.' || name === '..') {
      const vd = resolve(ctx, start, path, follow, restartWalk(state));
      return vd instanceof Errno ? vd : openVd(ctx, vd, flags, false);
    }
    // Filesystems behind a Gofer can look up and open the last name in one round trip.
    dir.dentry.prepareOpen(name, flags);
    const last = stepWithin(ctx, dir, name, state);
    if (last instanceof Errno) return last;
    if (follow && isSymlink(last.dentry.mode)) {
      const vd = resolve(ctx, start, path, true, restartWalk(state));
      return vd instanceof Errno ? vd : openVd(ctx, vd, flags, false);
    }
    return openVd(ctx, last, flags, false);
  }
  let from = start;
  let p = path;
  for (;;) {
    const parent = resolveParent(ctx, from, p, state);
    if (parent instanceof Errno) return parent;
    const { dir, name, trailingSlash } = parent;
    if (name === '' || name === '.' || name === '..' || trailingSlash) return EISDIR;
    const existing = stepWithin(ctx, dir, name, state);
    if (existing instanceof Errno) {
      if (existing !== ENOENT) return existing;
      const denied = mayModify(ctx, dir);
      if (denied !== null) return denied;
      const created = dir.dentry.create(name, mode & ~ctx.umask & PERM_MASK, ctx.creds);
      if (created instanceof Errno) return created;
      return openVd(ctx, { mount: dir.mount, dentry: created }, flags, true);
    }
    if ((flags & O_EXCL) !== 0) return EEXIST;
    if (!isSymlink(existing.dentry.mode)) return openVd(ctx, existing, flags, false);
    if ((flags & O_NOFOLLOW) !== 0) return ELOOP;
    const link = followLink(ctx, dir, existing, state);
    if (link instanceof Errno) return link;
    if (!('target' in link)) return openVd(ctx, link, flags, false);
    // O_CREAT through a dangling symlink creates its target, as Linux does.
    from = link.from;
    p = link.target;
  }
}

/**
 * open(2) with O_TMPFILE (the syscall layer has checked the flags): an unnamed regular file in the
 * directory path names, in Linux's order (do_o_tmpfile, vfs_tmpfile): the walk (ENOENT, ENOTDIR for
 * anything but a directory), a writable mount (EROFS), write and search permission (EACCES), then the
 * filesystem (EOPNOTSUPP if it has no such files). F_GETFL shows O_TMPFILE, as Linux keeps it.
 */
export function openTmpfile(ctx: FsContext, start: VirtualDentry, path: string, flags: number, mode: number, state: WalkState = { links: 0 }): FileDescription | Errno {
  const vd = resolve(ctx, start, path, (flags & O_NOFOLLOW) === 0, state);
  if (vd instanceof Errno) return vd;
  if (!isDir(vd.dentry.mode)) return ENOTDIR;
  if (vd.mount.readOnly) return EROFS;
  if (!may(ctx, vd.dentry, W_OK | X_OK)) return EACCES;
  const made = vd.dentry.tmpfile(mode & ~ctx.umask & PERM_MASK, ctx.creds, (flags & O_EXCL) === 0);
  if (made instanceof Errno) return made;
  const file = openVd(ctx, { mount: vd.mount, dentry: made }, flags & ~O_TMPFILE, true);
  if (!(file instanceof Errno)) file.flags |= O_TMPFILE;
  return file;
}

/** Opens what vd names; `created` skips the permission check, as for a file this open made. */
export function openVd(ctx: FsContext, vd: VirtualDentry, flags: number, created: boolean): FileDescription | Errno {
  const d = vd.dentry;
  const type = d.mode & S_IFMT;
  if ((flags & O_PATH) !== 0) {
    if ((flags & O_DIRECTORY) !== 0 && type !== S_IFDIR) return ENOTDIR;
    const file = new PathFile(O_PATH | (flags & (O_DIRECTORY | O_NOFOLLOW)), d);
    file.setLocation(vd);
    return file;
  }
  if (type === S_IFLNK && (flags & O_NOFOLLOW) !== 0) return ELOOP;
  if ((flags & O_DIRECTORY) !== 0 && type !== S_IFDIR) return ENOTDIR;
  const access = flags & O_ACCMODE;
  const truncate = (flags & O_TRUNC) !== 0 && type === S_IFREG;
  const writes = access !== O_RDONLY || truncate;
  if (type === S_IFDIR && (writes || ((flags & O_CREAT) !== 0 && !created))) return EISDIR;
  if (!created) {
    const want = (access === O_WRONLY ? 0 : R_OK) | (access === O_RDONLY ? 0 : W_OK) | (truncate ? W_OK : 0);
    if (!may(ctx, d, want)) return EACCES;
  }
  if (writes && vd.mount.readOnly && (type === S_IFREG || type === S_IFDIR || type === S_IFLNK)) return EROFS;
  const file = d.open(flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC), ctx);
  if (file instanceof Errno) return file;
  // F_GETFL shows the access mode and status flags; 64-bit Linux adds O_LARGEFILE to every open.
  file.flags = (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY)) | O_LARGEFILE;
  if (file.location === null && !d.anonymous) file.setLocation(vd);
  return file;
}

export function statAt(ctx: FsContext, start: VirtualDentry, path: string, follow: boolean): FileStat | Errno {
  const vd = resolve(ctx, start, path, follow);
  return vd instanceof Errno ? vd : vd.dentry.stat();
}

/** The parent directory and name of an entry about to be created: EEXIST if the name is taken. */
function parentOfNewName(ctx: FsContext, start: VirtualDentry, path: string): ReturnType<typeof resolveParent> {
  const p = resolveParent(ctx, start, path);
  if (p instanceof Errno) return p;
  if (p.name === '' || p.name === '.' || p.name === '..') return EEXIST;
  const existing = step(ctx, p.dir, p.name);
  if (!(existing instanceof Errno)) return EEXIST;
  if (existing !== ENOENT) return existing;
  return p;
}

export function mkdirAt(ctx: FsContext, start: VirtualDentry, path: string, mode: number): Errno | null {
  const p = parentOfNewName(ctx, start, path);
  if (p instanceof Errno) return p;
  return mayModify(ctx, p.dir) ?? p.dir.dentry.mkdir(p.name, mode & ~ctx.umask & (PERM_MASK & ~(S_ISUID | S_ISGID)), ctx.creds);
}

/** mknod(2) of regular files, FIFOs, sockets, and (for root) devices. */
export function mknodAt(ctx: FsContext, start: VirtualDentry, path: string, mode: number, rdev: number): Errno | null {
  const type = mode & S_IFMT;
  if (type === S_IFDIR || type === S_IFLNK || (type !== 0 && ![S_IFREG, 0o010000, 0o140000, S_IFCHR, S_IFBLK].includes(type))) return EINVAL;
  if ((type === S_IFCHR || type === S_IFBLK) && ctx.creds.uid !== 0) return EPERM;
  const p = parentOfNewName(ctx, start, path);
  if (p instanceof Errno) return p;
  const denied = mayModify(ctx, p.dir);
  if (denied !== null) return denied;
  return p.dir.dentry.mknod(p.name, (type === 0 ? S_IFREG : type) | (mode & ~ctx.umask & PERM_MASK), rdev, ctx.creds);
}

/**
 * bind(2)'s socket node: made as mknod makes one (the umask applied to perm), and returned. EEXIST if
 * the name is taken (a symlink too: bind follows none at its last component).
 */
export function makeSocketNode(ctx: FsContext, start: VirtualDentry, path: string, perm: number): VirtualDentry | Errno {
  const p = parentOfNewName(ctx, start, path);
  if (p instanceof Errno) return p;
  const denied = mayModify(ctx, p.dir);
  if (denied !== null) return denied;
  const made = p.dir.dentry.mknod(p.name, S_IFSOCK | (perm & ~ctx.umask & PERM_MASK), 0, ctx.creds);
  if (made !== null) return made;
  const node = p.dir.dentry.child(p.name, ctx);
  return node instanceof Errno ? node : { mount: p.dir.mount, dentry: node };
}

/** connect(2)'s lookup: the node at path (symlinks followed), which the caller must be able to write. */
export function socketNodeAt(ctx: FsContext, start: VirtualDentry, path: string): VirtualDentry | Errno {
  const vd = resolve(ctx, start, path, true);
  if (vd instanceof Errno) return vd;
  return may(ctx, vd.dentry, W_OK) ? vd : EACCES;
}

export function symlinkAt(ctx: FsContext, target: string, start: VirtualDentry, path: string): Errno | null {
  if (target.length === 0) return ENOENT;
  const p = resolveParent(ctx, start, path);
  if (p instanceof Errno) return p;
  if (p.name === '' || p.name === '.' || p.name === '..' || p.trailingSlash) return EEXIST;
  const existing = step(ctx, p.dir, p.name);
  if (!(existing instanceof Errno)) return EEXIST;
  if (existing !== ENOENT) return existing;
  return mayModify(ctx, p.dir) ?? p.dir.dentry.symlink(p.name, target, ctx.creds);
}

export function linkAt(ctx: FsContext, oldStart: VirtualDentry, oldPath: string, newStart: VirtualDentry, newPath: string, follow: boolean): Errno | null {
  const src = resolve(ctx, oldStart, oldPath, follow);
  if (src instanceof Errno) return src;
  // /proc/PID/fd/N of a file with no name left leads to that file, where Linux's magic link does.
  const file = src.dentry.standsFor;
  return linkVd(ctx, file === null ? src : file.location, newStart, newPath);
}

/**
 * A new name for src (linkat's AT_EMPTY_PATH: an open file's place; null for a file in no directory,
 * a pipe's or a host fd's, which is on another mount to Linux). A file whose links are gone may be
 * named only if O_TMPFILE made it without O_EXCL, and once: the filesystem's link checks that.
 */
export function linkVd(ctx: FsContext, src: VirtualDentry | null, newStart: VirtualDentry, newPath: string): Errno | null {
  const p = resolveParent(ctx, newStart, newPath);
  if (p instanceof Errno) return p;
  if (p.name === '' || p.name === '.' || p.name === '..') return EEXIST;
  const existing = step(ctx, p.dir, p.name);
  if (!(existing instanceof Errno)) return EEXIST;
  if (existing !== ENOENT) return existing;
  if (p.trailingSlash) return ENOENT;
  if (src === null || src.mount !== p.dir.mount) return EXDEV;
  if (isDir(src.dentry.mode)) return EPERM;
  return mayModify(ctx, p.dir) ?? p.dir.dentry.link(p.name, src.dentry);
}

export function unlinkAt(ctx: FsContext, start: VirtualDentry, path: string): Errno | null {
  const p = resolveParent(ctx, start, path);
  if (p instanceof Errno) return p;
  if (p.name === '' || p.name === '.' || p.name === '..') return EISDIR;
  const child = rawChild(ctx, p.dir, p.name);
  if (child instanceof Errno) return child;
  if (isDir(child.mode)) return EISDIR;
  if (p.trailingSlash) return ENOTDIR;
  const denied = mayModify(ctx, p.dir);
  if (denied !== null) return denied;
  if (stickyDenied(ctx, p.dir.dentry, child)) return EPERM;
  if (child.mountedOn) return EBUSY;
  return p.dir.dentry.unlink(p.name, child);
}

export function rmdirAt(ctx: FsContext, start: VirtualDentry, path: string): Errno | null {
  const p = resolveParent(ctx, start, path);
  if (p instanceof Errno) return p;
  if (p.name === '.') return EINVAL;
  if (p.name === '..') return ENOTEMPTY;
  if (p.name === '') return EBUSY;
  const child = rawChild(ctx, p.dir, p.name);
  if (child instanceof Errno) return child;
  if (!isDir(child.mode)) return ENOTDIR;
  const denied = mayModify(ctx, p.dir);
  if (denied !== null) return denied;
  if (stickyDenied(ctx, p.dir.dentry, child)) return EPERM;
  if (child.mountedOn || child === ctx.root.dentry) return EBUSY;
  return p.dir.dentry.rmdir(p.name, child);
}

/** Whether ancestor is dir or one of its parents (in one filesystem). */
function isAncestor(ancestor: Dentry, dir: Dentry): boolean {
  for (let d: Dentry | null = dir; d !== null; d = d.parent) if (d === ancestor) return true;
  return false;
}

export function renameAt(ctx: FsContext, oldStart: VirtualDentry, oldPath: string, newStart: VirtualDentry, newPath: string, flags: number): Errno | null {
  const op = resolveParent(ctx, oldStart, oldPath);
  if (op instanceof Errno) return op;
  const np = resolveParent(ctx, newStart, newPath);
  if (np instanceof Errno) return np;
  const special = (n: string): boolean => n === '' || n === '.' || n === '..';
  if (special(op.name) || special(np.name)) return (flags & RENAME_NOREPLACE) !== 0 && !special(op.name) ? EEXIST : EBUSY;
  const src = rawChild(ctx, op.dir, op.name);
  if (src instanceof Errno) return src;
  let dst: Dentry | null;
  const found = rawChild(ctx, np.dir, np.name);
  if (found instanceof Errno) {
    if (found !== ENOENT) return found;
    dst = null;
  } else {
    dst = found;
  }
  if (op.dir.mount !== np.dir.mount) return EXDEV;
  const exchange = (flags & RENAME_EXCHANGE) !== 0;
  if (exchange && dst === null) return ENOENT;
  if ((flags & RENAME_NOREPLACE) !== 0 && dst !== null) return EEXIST;
  if (!isDir(src.mode) && (op.trailingSlash || (np.trailingSlash && (dst === null || !exchange)))) return ENOTDIR;
  if (dst !== null && !exchange) {
    if (isDir(src.mode) && !isDir(dst.mode)) return ENOTDIR;
    if (!isDir(src.mode) && isDir(dst.mode)) return EISDIR;
  }
  const denied = mayModify(ctx, op.dir) ?? mayModify(ctx, np.dir);
  if (denied !== null) return denied;
  if (stickyDenied(ctx, op.dir.dentry, src) || (dst !== null && stickyDenied(ctx, np.dir.dentry, dst))) return EPERM;
  if (dst === src || (dst !== null && dst.fs === src.fs && dst.lockKey === src.lockKey && !isDir(src.mode))) return null;
  // A directory cannot move below itself; the target cannot be an ancestor of the source.
  if (isDir(src.mode) && isAncestor(src, np.dir.dentry)) return EINVAL;
  if (dst !== null && isAncestor(dst, op.dir.dentry)) return exchange ? EINVAL : ENOTEMPTY;
  if (src.mountedOn || dst?.mountedOn === true || src === ctx.root.dentry) return EBUSY;
  return op.dir.dentry.rename(op.name, src, np.dir.dentry, np.name, dst, flags);
}

export function readlinkAt(ctx: FsContext, start: VirtualDentry, path: string): string | Errno {
  const vd = resolve(ctx, start, path, false);
  if (vd instanceof Errno) return vd;
  if (!isSymlink(vd.dentry.mode)) return EINVAL;
  return vd.dentry.readlink(ctx);
}

/** access(2) / faccessat(2): existence, then read/write/execute for the caller. */
export function accessAt(ctx: FsContext, start: VirtualDentry, path: string, mode: number, follow: boolean): Errno | null {
  const vd = resolve(ctx, start, path, follow);
  return vd instanceof Errno ? vd : accessVd(ctx, vd, mode);
}

export function accessVd(ctx: FsContext, vd: VirtualDentry, mode: number): Errno | null {
  if (mode === 0) return null;
  const d = vd.dentry;
  const type = d.mode & S_IFMT;
  if ((mode & W_OK) !== 0 && vd.mount.readOnly && (type === S_IFREG || type === S_IFDIR || type === S_IFLNK)) return EROFS;
  return may(ctx, d, mode) ? null : EACCES;
}

function isOwner(ctx: FsContext, d: Dentry): boolean {
  return ctx.creds.uid === 0 || ctx.creds.uid === d.uid;
}

export function chmodVd(ctx: FsContext, vd: VirtualDentry, mode: number): Errno | null {
  if (vd.mount.readOnly) return EROFS;
  if (!isOwner(ctx, vd.dentry)) return EPERM;
  let m = mode & PERM_MASK;
  // Only a member of the file's group (or root) may set S_ISGID on it.
  if (ctx.creds.uid !== 0 && !inGroup(ctx.creds, vd.dentry.gid)) m &= ~S_ISGID;
  return vd.dentry.setattr({ mode: m });
}

/** chown(2): -1 leaves an id; a non-directory loses S_ISUID (and S_ISGID if group-executable). */
export function chownVd(ctx: FsContext, vd: VirtualDentry, uid: number, gid: number): Errno | null {
  if (vd.mount.readOnly) return EROFS;
  const d = vd.dentry;
  const root = ctx.creds.uid === 0;
  if (uid !== -1 && uid !== d.uid && !root) return EPERM;
  if (gid !== -1 && gid !== d.gid && !(root || (ctx.creds.uid === d.uid && inGroup(ctx.creds, gid)))) return EPERM;
  if (uid === -1 && gid === -1) return null;
  const attr: SetAttr = {};
  if (uid !== -1) attr.uid = uid;
  if (gid !== -1) attr.gid = gid;
  if (!isDir(d.mode) && (d.mode & (S_ISUID | S_ISGID)) !== 0) {
    let m = d.mode & PERM_MASK & ~S_ISUID;
    if ((d.mode & S_IXGRP) !== 0) m &= ~S_ISGID;
    attr.mode = m;
  }
  return d.setattr(attr);
}

export function truncateVd(ctx: FsContext, vd: VirtualDentry, length: number): Errno | null {
  if (length < 0) return EINVAL;
  const d = vd.dentry;
  if (isDir(d.mode)) return EISDIR;
  if ((d.mode & S_IFMT) !== S_IFREG) return EINVAL;
  if (!may(ctx, d, W_OK)) return EACCES;
  if (vd.mount.readOnly) return EROFS;
  return d.setattr({ size: length });
}

/** utimensat(2): null means "now"; undefined leaves the time (UTIME_OMIT). */
export function utimensVd(ctx: FsContext, vd: VirtualDentry, atime: bigint | null | undefined, mtime: bigint | null | undefined): Errno | null {
  if (atime === undefined && mtime === undefined) return null;
  if (vd.mount.readOnly) return EROFS;
  const d = vd.dentry;
  const onlyNow = (atime === null || atime === undefined) && (mtime === null || mtime === undefined);
  // Setting explicit times needs ownership; setting them to now is also allowed with write access.
  if (!isOwner(ctx, d) && (!onlyNow || !may(ctx, d, W_OK))) return onlyNow ? EACCES : EPERM;
  const now = nowNs();
  const attr: SetAttr = {};
  if (atime !== undefined) attr.atimeNs = atime ?? now;
  if (mtime !== undefined) attr.mtimeNs = mtime ?? now;
  return d.setattr(attr);
}
