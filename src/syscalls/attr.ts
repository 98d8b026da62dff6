// Attributes: access, faccessat(2), chmod family, chown family, truncate, ftruncate, fallocate, fsync,
// fdatasync, sync_file_range, sync, syncfs, utimensat, utimes, utime, futimesat, umask.
import { EBADF, EFAULT, EINVAL, EISDIR, ENODEV, EOPNOTSUPP, EPERM, ESPIPE, Errno } from '../abi/errno.js';
import { DirectoryFile } from '../fs/dir-file.js';
import {
  AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, PERM_MASK, S_IFBLK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG,
  SYNC_FILE_RANGE_VALID, UTIME_NOW, UTIME_OMIT, isSymlink,
} from '../abi/fcntl.js';
import { accessAt, accessVd, chmodVd, chownVd, truncateVd, utimensVd } from '../fs/ops.js';
import { resolve } from '../fs/walk.js';
import { type FileDescription, PathFile, type VirtualDentry } from '../fs/vfs.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { supported } from './define.js';
import { placeAt, readPath, startAt } from './path.js';

const NS = 1_000_000_000n;

function access(task: Task, dirfd: number, pathVa: number, mode: number, flags: number): number | Errno {
  if ((mode & ~7) !== 0) return EINVAL;
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return EINVAL;
  const path = readPath(task, pathVa);
  if (path instanceof Errno) return path;
  const check = (): number | Errno => {
    if (path === '' && (flags & AT_EMPTY_PATH) !== 0) {
      const t = placeAt(task, dirfd, pathVa, flags, true);
      return t instanceof Errno ? t : accessVd(task.fs, t, mode) ?? 0;
    }
    const start = startAt(task, dirfd, path);
    if (start instanceof Errno) return start;
    return accessAt(task.fs, start, path, mode, (flags & AT_SYMLINK_NOFOLLOW) === 0) ?? 0;
  };
  return (flags & AT_EACCESS) !== 0 ? check() : asRealIds(task, check);
}

/**
 * access(2) checks as the real ids, not the effective ones (Linux's access_override_creds); the
 * walk and the check are synchronous, so the credentials are swapped for them and put back.
 */
function asRealIds(task: Task, fn: () => number | Errno): number | Errno {
  const creds = task.fs.creds;
  const { uid, gid } = creds;
  if (uid === task.uid && gid === task.gid) return fn();
  creds.uid = task.uid;
  creds.gid = task.gid;
  try {
    return fn();
  } finally {
    creds.uid = uid;
    creds.gid = gid;
  }
}

/** The place an fd was opened at, for fchmod, fchown, futimens. */
function fdPlace(task: Task, fd: number): VirtualDentry | Errno {
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  // Pipes and host stdio have no inode in the sandbox to change.
  return file.location ?? EPERM;
}

function chmodAt(task: Task, dirfd: number, pathVa: number, mode: number, flags: number): number | Errno {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return EINVAL;
  const vd = placeAt(task, dirfd, pathVa, flags, (flags & AT_SYMLINK_NOFOLLOW) === 0);
  if (vd instanceof Errno) return vd;
  if (isSymlink(vd.dentry.mode)) return EOPNOTSUPP;
  return chmodVd(task.fs, vd, mode & PERM_MASK) ?? 0;
}

function fchmod(task: Task, a: SyscallArgs): number | Errno {
  const vd = fdPlace(task, a.int(0));
  return vd instanceof Errno ? vd : chmodVd(task.fs, vd, a.int(1) & PERM_MASK) ?? 0;
}

function chownAt(task: Task, dirfd: number, pathVa: number, uid: number, gid: number, flags: number): number | Errno {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return EINVAL;
  const vd = placeAt(task, dirfd, pathVa, flags, (flags & AT_SYMLINK_NOFOLLOW) === 0);
  return vd instanceof Errno ? vd : chownVd(task.fs, vd, uid, gid) ?? 0;
}

function fchown(task: Task, a: SyscallArgs): number | Errno {
  const vd = fdPlace(task, a.int(0));
  return vd instanceof Errno ? vd : chownVd(task.fs, vd, a.int(1), a.int(2)) ?? 0;
}

function truncate(task: Task, a: SyscallArgs): number | Errno {
  const path = readPath(task, a.ptr(0));
  if (path instanceof Errno) return path;
  const vd = resolve(task.fs, task.fs.cwd, path, true);
  if (vd instanceof Errno) return vd;
  return truncateVd(task.fs, vd, a.long(1)) ?? 0;
}

function ftruncate(task: Task, a: SyscallArgs): number | Errno {
  const length = a.long(1);
  if (length < 0) return EINVAL;
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  if (!file.writable || !isRegularFile(file)) return EINVAL;
  if (file.location?.mount.readOnly === true) return EINVAL;
  return file.truncate(length) ?? 0;
}

function isRegularFile(file: FileDescription): boolean {
  const s = file.stat();
  return !(s instanceof Errno) && (s.mode & S_IFMT) === S_IFREG;
}

function fallocate(task: Task, a: SyscallArgs): number | Errno {
  const mode = a.int(1);
  const offset = a.long(2);
  const length = a.long(3);
  if (offset < 0 || length <= 0) return EINVAL;
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  if (!file.writable) return EBADF;
  if (file instanceof DirectoryFile) return EISDIR;
  const s = file.stat();
  if (s instanceof Errno) return s;
  if ((s.mode & S_IFMT) === S_IFIFO) return ESPIPE;
  if ((s.mode & S_IFMT) !== S_IFREG) return ENODEV;
  return file.allocate(mode, offset, length) ?? 0;
}

function fsync(task: Task, a: SyscallArgs, dataOnly: boolean): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  return file.sync(dataOnly) ?? 0;
}

/**
 * sync_file_range(2): Linux's checks (flags, a negative offset or end, an end before the offset, then
 * ESPIPE unless a regular file, directory, block device or symlink), then nothing to do: tmpfs lives in
 * memory and a host file's writes are already the host's, whose page cache writes them back.
 */
function syncFileRange(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno || file instanceof PathFile) return EBADF;
  if ((a.uint(3) & ~SYNC_FILE_RANGE_VALID) !== 0) return EINVAL;
  const offset = BigInt.asIntN(64, a.u64(1));
  const end = BigInt.asIntN(64, offset + BigInt.asIntN(64, a.u64(2)));
  if (offset < 0n || end < 0n || end < offset) return EINVAL;
  const s = file.stat();
  if (s instanceof Errno) return s;
  const type = s.mode & S_IFMT;
  if (type !== S_IFREG && type !== S_IFDIR && type !== S_IFBLK && type !== S_IFLNK) return ESPIPE;
  return 0;
}

/**
 * Times from the program: null for "now", undefined for "leave it". Reads `count` pairs of
 * (seconds, sub-second) longs; usec says the second field is microseconds (struct timeval).
 */
function readTimes(task: Task, va: number, usec: boolean): [bigint | null | undefined, bigint | null | undefined] | Errno {
  if (va === 0) return [null, null];
  const raw = new Uint8Array(32);
  if (task.mm.copyIn(va, raw) !== 32) return EFAULT;
  const v = new DataView(raw.buffer);
  const one = (i: number): bigint | null | undefined | Errno => {
    const sec = v.getBigInt64(i * 16, true);
    const sub = v.getBigInt64(i * 16 + 8, true);
    if (!usec && sub === BigInt(UTIME_NOW)) return null;
    if (!usec && sub === BigInt(UTIME_OMIT)) return undefined;
    if (sub < 0n || sub >= (usec ? 1_000_000n : NS)) return EINVAL;
    return sec * NS + (usec ? sub * 1000n : sub);
  };
  const at = one(0);
  const mt = one(1);
  if (at instanceof Errno) return at;
  if (mt instanceof Errno) return mt;
  return [at, mt];
}

function utimensat(task: Task, a: SyscallArgs): number | Errno {
  const flags = a.int(3);
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return EINVAL;
  const times = readTimes(task, a.ptr(2), false);
  if (times instanceof Errno) return times;
  // A NULL path changes the file dirfd refers to (what futimens does).
  const vd = a.ptr(1) === 0
    ? (a.int(0) === AT_FDCWD ? EFAULT : fdPlace(task, a.int(0)))
    : placeAt(task, a.int(0), a.ptr(1), flags, (flags & AT_SYMLINK_NOFOLLOW) === 0);
  if (vd instanceof Errno) return vd;
  return utimensVd(task.fs, vd, times[0], times[1]) ?? 0;
}

function utimesAt(task: Task, dirfd: number, pathVa: number, timesVa: number): number | Errno {
  const times = readTimes(task, timesVa, true);
  if (times instanceof Errno) return times;
  const vd = placeAt(task, dirfd, pathVa, 0, true);
  if (vd instanceof Errno) return vd;
  return utimensVd(task.fs, vd, times[0], times[1]) ?? 0;
}

/** utime(2): struct utimbuf is two time_t seconds. */
function utime(task: Task, a: SyscallArgs): number | Errno {
  let times: [bigint | null, bigint | null] = [null, null];
  if (a.ptr(1) !== 0) {
    const raw = new Uint8Array(16);
    if (task.mm.copyIn(a.ptr(1), raw) !== 16) return EFAULT;
    const v = new DataView(raw.buffer);
    times = [v.getBigInt64(0, true) * NS, v.getBigInt64(8, true) * NS];
  }
  const vd = placeAt(task, AT_FDCWD, a.ptr(0), 0, true);
  if (vd instanceof Errno) return vd;
  return utimensVd(task.fs, vd, times[0], times[1]) ?? 0;
}

function umask(task: Task, a: SyscallArgs): number {
  const old = task.fs.umask;
  task.fs.umask = a.int(0) & 0o777;
  return old;
}

function syncfs(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  return file instanceof Errno ? file : 0;
}

export const attrSyscalls: SyscallEntry[] = [
  supported('access', (t, a) => access(t, AT_FDCWD, a.ptr(0), a.int(1), 0), 'sF'),
  supported('faccessat', (t, a) => access(t, a.int(0), a.ptr(1), a.int(2), 0), 'dsF'),
  supported('faccessat2', (t, a) => access(t, a.int(0), a.ptr(1), a.int(2), a.int(3)), 'dsFA'),
  supported('chmod', (t, a) => chmodAt(t, AT_FDCWD, a.ptr(0), a.int(1), 0), 'so'),
  supported('fchmod', fchmod, 'io'),
  supported('fchmodat', (t, a) => chmodAt(t, a.int(0), a.ptr(1), a.int(2), 0), 'dso'),
  supported('fchmodat2', (t, a) => chmodAt(t, a.int(0), a.ptr(1), a.int(2), a.int(3)), 'dsoA'),
  supported('chown', (t, a) => chownAt(t, AT_FDCWD, a.ptr(0), a.int(1), a.int(2), 0), 'sii'),
  supported('lchown', (t, a) => chownAt(t, AT_FDCWD, a.ptr(0), a.int(1), a.int(2), AT_SYMLINK_NOFOLLOW), 'sii'),
  supported('fchown', fchown, 'iii'),
  supported('fchownat', (t, a) => chownAt(t, a.int(0), a.ptr(1), a.int(2), a.int(3), a.int(4)), 'dsiiA'),
  supported('truncate', truncate, 'sl'),
  supported('ftruncate', ftruncate, 'il'),
  supported('fallocate', fallocate, 'ixll'),
  supported('fsync', (t, a) => fsync(t, a, false), 'i'),
  supported('fdatasync', (t, a) => fsync(t, a, true), 'i'),
  supported('sync_file_range', syncFileRange, 'illx'),
  supported('sync', () => 0, ''),
  supported('syncfs', syncfs, 'i'),
  supported('utimensat', utimensat, 'dspA'),
  supported('utimes', (t, a) => utimesAt(t, AT_FDCWD, a.ptr(0), a.ptr(1)), 'sp'),
  supported('futimesat', (t, a) => utimesAt(t, a.int(0), a.ptr(1), a.ptr(2)), 'dsp'),
  supported('utime', utime, 'sp'),
  supported('umask', umask, 'o'),
];
