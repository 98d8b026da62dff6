// File status: stat, lstat, fstat, newfstatat, statx, statfs, fstatfs.
import { EFAULT, EINVAL, Errno } from '../abi/errno.js';
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW, PIPEFS_MAGIC,
} from '../abi/fcntl.js';
import { STAT_SIZE, STATX_SIZE } from '../abi/structs.js';
import { resolve } from '../fs/walk.js';
import { type FileStat, type VirtualDentry, encodeStatfs } from '../fs/vfs.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { readPath, startAt, targetAt } from './path.js';
import { supported } from './define.js';

/** STATX_BASIC_STATS: type, mode, nlink, uid, gid, atime, mtime, ctime, ino, size, blocks. */
const STATX_BASIC_STATS = 0x7ff;
const STATX_RESERVED = 0x8000_0000;
/** ST_RDONLY in struct statfs f_flags. */
const ST_RDONLY = 1;

/** struct stat, x86-64 layout (arch/x86/include/uapi/asm/stat.h). */
export function encodeStat(s: FileStat): Uint8Array {
  const out = new Uint8Array(STAT_SIZE);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(s.dev), true);
  v.setBigUint64(8, BigInt(s.ino), true);
  v.setBigUint64(16, BigInt(s.nlink), true);
  v.setUint32(24, s.mode, true);
  v.setUint32(28, s.uid, true);
  v.setUint32(32, s.gid, true);
  v.setBigUint64(40, BigInt(s.rdev), true);
  v.setBigInt64(48, BigInt(s.size), true);
  v.setBigInt64(56, BigInt(s.blksize), true);
  v.setBigInt64(64, BigInt(s.blocks), true);
  const times = [s.atimeNs, s.mtimeNs, s.ctimeNs];
  for (let i = 0; i < 3; i++) {
    const [sec, nsec] = splitNs(times[i]!);
    v.setBigInt64(72 + i * 16, sec, true);
    v.setBigInt64(80 + i * 16, nsec, true);
  }
  return out;
}

/** Seconds and nanoseconds, nanoseconds always in [0, 1e9) (times before 1970 too). */
function splitNs(ns: bigint): [bigint, bigint] {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += 1_000_000_000n;
  }
  return [sec, nsec];
}

/** dev_t's major and minor (MAJOR/MINOR of the new encoding). */
function devParts(dev: number): [number, number] {
  const hi = Math.floor(dev / 2 ** 32);
  const lo = dev >>> 0;
  const major = ((lo >>> 8) & 0xfff) | ((hi & ~0xfff) >>> 0);
  const minor = (lo & 0xff) | ((lo >>> 12) & ~0xff);
  return [major >>> 0, minor >>> 0];
}

/** struct statx (include/uapi/linux/stat.h). */
function encodeStatx(s: FileStat): Uint8Array {
  const out = new Uint8Array(STATX_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, STATX_BASIC_STATS, true);
  v.setUint32(4, s.blksize, true);
  v.setUint32(16, s.nlink, true);
  v.setUint32(20, s.uid, true);
  v.setUint32(24, s.gid, true);
  v.setUint16(28, s.mode, true);
  v.setBigUint64(32, BigInt(s.ino), true);
  v.setBigUint64(40, BigInt(s.size), true);
  v.setBigUint64(48, BigInt(s.blocks), true);
  const times: Array<[number, bigint]> = [[64, s.atimeNs], [96, s.ctimeNs], [112, s.mtimeNs]];
  for (const [at, ns] of times) {
    const [sec, nsec] = splitNs(ns);
    v.setBigInt64(at, sec, true);
    v.setUint32(at + 8, Number(nsec), true);
  }
  const [rdevMajor, rdevMinor] = devParts(s.rdev);
  const [devMajor, devMinor] = devParts(s.dev);
  v.setUint32(128, rdevMajor, true);
  v.setUint32(132, rdevMinor, true);
  v.setUint32(136, devMajor, true);
  v.setUint32(140, devMinor, true);
  return out;
}

function statTarget(task: Task, dirfd: number, pathVa: number, flags: number): FileStat | Errno {
  const t = targetAt(task, dirfd, pathVa, flags, (flags & AT_SYMLINK_NOFOLLOW) === 0);
  if (t instanceof Errno) return t;
  return t.file !== null ? t.file.stat() : t.vd.dentry.stat();
}

function copyOutAll(task: Task, va: number, bytes: Uint8Array): number | Errno {
  return task.mm.copyOut(va, bytes) === bytes.length ? 0 : EFAULT;
}

function statAt(task: Task, dirfd: number, pathVa: number, bufVa: number, flags: number): number | Errno {
  if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)) !== 0) return EINVAL;
  const s = statTarget(task, dirfd, pathVa, flags);
  return s instanceof Errno ? s : copyOutAll(task, bufVa, encodeStat(s));
}

function fstat(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  const s = file.stat();
  return s instanceof Errno ? s : copyOutAll(task, a.ptr(1), encodeStat(s));
}

function statx(task: Task, a: SyscallArgs): number | Errno {
  const flags = a.int(2);
  if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE)) !== 0) return EINVAL;
  if ((flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) return EINVAL;
  if ((a.uint(3) & STATX_RESERVED) !== 0) return EINVAL;
  const s = statTarget(task, a.int(0), a.ptr(1), flags);
  return s instanceof Errno ? s : copyOutAll(task, a.ptr(4), encodeStatx(s));
}

/** struct statfs of the filesystem under vd, with ST_RDONLY for a read-only mount. */
function statfsOf(vd: VirtualDentry | null): Uint8Array | Errno {
  if (vd === null) {
    return encodeStatfs({ type: PIPEFS_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, flags: 0 });
  }
  const raw = vd.mount.fs.statfs();
  if (raw instanceof Errno) return raw;
  const out = raw.slice();
  if (vd.mount.readOnly) {
    const v = new DataView(out.buffer);
    v.setBigUint64(80, v.getBigUint64(80, true) | BigInt(ST_RDONLY), true);
  }
  return out;
}

function statfs(task: Task, a: SyscallArgs): number | Errno {
  const path = readPath(task, a.ptr(0));
  if (path instanceof Errno) return path;
  const start = startAt(task, AT_FDCWD, path);
  if (start instanceof Errno) return start;
  const vd = resolve(task.fs, start, path, true);
  if (vd instanceof Errno) return vd;
  const bytes = statfsOf(vd);
  return bytes instanceof Errno ? bytes : copyOutAll(task, a.ptr(1), bytes);
}

function fstatfs(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  const bytes = statfsOf(file.location);
  return bytes instanceof Errno ? bytes : copyOutAll(task, a.ptr(1), bytes);
}

export const statSyscalls: SyscallEntry[] = [
  supported('stat', (t, a) => statAt(t, AT_FDCWD, a.ptr(0), a.ptr(1), 0), 'sS'),
  supported('lstat', (t, a) => statAt(t, AT_FDCWD, a.ptr(0), a.ptr(1), AT_SYMLINK_NOFOLLOW), 'sS'),
  supported('fstat', fstat, 'iS'),
  supported('newfstatat', (t, a) => statAt(t, a.int(0), a.ptr(1), a.ptr(2), a.int(3)), 'dsSA'),
  supported('statx', statx, 'dsAxp'),
  supported('statfs', statfs, 'sp'),
  supported('fstatfs', fstatfs, 'ip'),
];
