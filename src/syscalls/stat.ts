// fstat(2) and newfstatat(2). Until the VFS lands, only open descriptors can be stat'ed
// (fstat, or newfstatat with AT_EMPTY_PATH); a path gets ENOENT.
import { EFAULT, EINVAL, ENOENT, Errno } from '../abi/errno.js';
import type { FileStat } from '../fs/file.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial, supported } from './define.js';

const AT_EMPTY_PATH = 0x1000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_NO_AUTOMOUNT = 0x800;
const STAT_SIZE = 144;

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
    v.setBigInt64(72 + i * 16, times[i]! / 1_000_000_000n, true);
    v.setBigInt64(80 + i * 16, times[i]! % 1_000_000_000n, true);
  }
  return out;
}

function statFd(task: Task, fd: number, buf: number): number | Errno {
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  const s = file.stat();
  if (s instanceof Errno) return s;
  const bytes = encodeStat(s);
  return task.mm.copyOut(buf, bytes) === bytes.length ? 0 : EFAULT;
}

function fstat(task: Task, a: SyscallArgs): number | Errno {
  return statFd(task, a.int(0), a.ptr(1));
}

function newfstatat(task: Task, a: SyscallArgs): number | Errno {
  const flags = a.int(3);
  if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)) !== 0) return EINVAL;
  const path = task.mm.readString(a.ptr(1), 4096, EINVAL);
  if (path instanceof Errno) return path;
  if (path === '' && (flags & AT_EMPTY_PATH) !== 0) return statFd(task, a.int(0), a.ptr(2));
  return ENOENT;
}

export const statSyscalls: SyscallEntry[] = [
  supported('fstat', fstat, 'ix'),
  partial('newfstatat', newfstatat, 'open descriptors only (AT_EMPTY_PATH); paths need the VFS', 'isxx'),
];
