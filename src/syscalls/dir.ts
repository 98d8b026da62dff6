// Directories: getdents64 (and the old getdents), mkdir, mkdirat, rmdir, mknod, mknodat.
import { EFAULT, EINVAL, ENOENT, ENOTDIR, Errno } from '../abi/errno.js';
import { DirectoryFile } from '../fs/dir-file.js';
import { AT_FDCWD } from '../abi/fcntl.js';
import { mkdirAt, mknodAt, rmdirAt } from '../fs/ops.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { supported } from './define.js';
import { readPath, startAt } from './path.js';

/** Up to count bytes of directory records; 0 at the end of the directory. */
function getdents64(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  if (!(file instanceof DirectoryFile)) return ENOTDIR;
  const records = file.getdents64(Math.min(a.size(2), 0x7fff_f000), task.fs);
  if (records instanceof Errno) return records;
  return task.mm.copyOut(a.ptr(1), records) === records.length ? records.length : EFAULT;
}

/**
 * The old struct linux_dirent: d_ino, d_off (longs), d_reclen, the name, then d_type in the record's
 * last byte. Converted from getdents64's records, which have the same fields in another order.
 */
function getdents(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  if (!(file instanceof DirectoryFile)) return ENOTDIR;
  const max = Math.min(a.size(2), 0x7fff_f000);
  const start = file.offset;
  // The old records are at most 8 bytes longer: ask for fewer, then convert.
  const records = file.getdents64(max, task.fs);
  if (records instanceof Errno) return records;
  const v = new DataView(records.buffer);
  const chunks: Uint8Array[] = [];
  let size = 0;
  let taken = 0;
  for (let pos = 0; pos < records.length;) {
    const len64 = v.getUint16(pos + 16, true);
    const name = records.subarray(pos + 19, records.indexOf(0, pos + 19));
    const len = (18 + name.length + 2 + 7) & ~7;
    if (size + len > max) break;
    const rec = new Uint8Array(len);
    const rv = new DataView(rec.buffer);
    rv.setBigUint64(0, v.getBigUint64(pos, true), true);
    rv.setBigUint64(8, v.getBigUint64(pos + 8, true), true);
    rv.setUint16(16, len, true);
    rec.set(name, 18);
    rec[len - 1] = records[pos + 18]!;
    chunks.push(rec);
    size += len;
    taken++;
    pos += len64;
  }
  // Records that did not fit are read again next time.
  file.offset = start + taken;
  if (taken === 0 && records.length > 0) return EINVAL;
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return task.mm.copyOut(a.ptr(1), all) === size ? size : EFAULT;
}

function mkdir(task: Task, dirfd: number, pathVa: number, mode: number): number | Errno {
  const path = readPath(task, pathVa);
  if (path instanceof Errno) return path;
  if (path === '') return ENOENT;
  const start = startAt(task, dirfd, path);
  if (start instanceof Errno) return start;
  return mkdirAt(task.fs, start, path, mode) ?? 0;
}

function rmdir(task: Task, a: SyscallArgs): number | Errno {
  const path = readPath(task, a.ptr(0));
  if (path instanceof Errno) return path;
  if (path === '') return ENOENT;
  return rmdirAt(task.fs, task.fs.cwd, path) ?? 0;
}

function mknod(task: Task, dirfd: number, pathVa: number, mode: number, dev: number): number | Errno {
  const path = readPath(task, pathVa);
  if (path instanceof Errno) return path;
  if (path === '') return ENOENT;
  const start = startAt(task, dirfd, path);
  if (start instanceof Errno) return start;
  return mknodAt(task.fs, start, path, mode, dev) ?? 0;
}

export const dirSyscalls: SyscallEntry[] = [
  supported('getdents64', getdents64, 'ipz'),
  supported('getdents', getdents, 'ipz'),
  supported('mkdir', (t, a) => mkdir(t, AT_FDCWD, a.ptr(0), a.int(1)), 'so'),
  supported('mkdirat', (t, a) => mkdir(t, a.int(0), a.ptr(1), a.int(2)), 'dso'),
  supported('rmdir', rmdir, 's'),
  supported('mknod', (t, a) => mknod(t, AT_FDCWD, a.ptr(0), a.int(1), a.uint(2)), 'sox'),
  supported('mknodat', (t, a) => mknod(t, a.int(0), a.ptr(1), a.int(2), a.uint(3)), 'dsox'),
];
