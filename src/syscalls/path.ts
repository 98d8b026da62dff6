// Paths from the program: reading them, where a *at call starts (dirfd), and the calls about the
// working directory and symlinks: getcwd, chdir, fchdir, readlink, readlinkat.
import { EACCES, EBADF, EFAULT, EINVAL, ENAMETOOLONG, ENOENT, ENOTDIR, ERANGE, Errno } from '../abi/errno.js';
import { AT_EMPTY_PATH, AT_FDCWD, PATH_MAX, X_OK, isDir } from '../abi/fcntl.js';
import { readlinkAt } from '../fs/ops.js';
import { pathOf, resolve } from '../fs/walk.js';
import { type FileDescription, type VirtualDentry, mayAccess } from '../fs/vfs.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { supported } from './define.js';

/** A path argument: EFAULT, ENAMETOOLONG past PATH_MAX; '' is returned (callers say ENOENT). */
export function readPath(task: Task, va: number): string | Errno {
  return task.mm.readString(va, PATH_MAX - 1, ENAMETOOLONG);
}

/** Where a relative path of a *at call starts: the working directory, or dirfd's directory. */
export function startAt(task: Task, dirfd: number, path: string): VirtualDentry | Errno {
  const ctx = task.fs;
  if (path.startsWith('/')) return ctx.root;
  if (dirfd === AT_FDCWD) return ctx.cwd;
  const file = task.fds.get(dirfd);
  if (file instanceof Errno) return file;
  if (file.location === null || !isDir(file.location.dentry.mode)) return ENOTDIR;
  return file.location;
}

/** What a stat-like call names: a place, or (AT_EMPTY_PATH on a pipe) just an open file. */
export type Target = { vd: VirtualDentry; file: null } | { vd: VirtualDentry | null; file: FileDescription };

/** dirfd + path as *at calls take them; with AT_EMPTY_PATH an empty path means dirfd itself. */
export function targetAt(task: Task, dirfd: number, pathVa: number, flags: number, follow: boolean): Target | Errno {
  const path = readPath(task, pathVa);
  if (path instanceof Errno) return path;
  if (path === '') {
    if ((flags & AT_EMPTY_PATH) === 0) return ENOENT;
    if (dirfd === AT_FDCWD) return { vd: task.fs.cwd, file: null };
    const file = task.fds.get(dirfd);
    if (file instanceof Errno) return file;
    return { vd: file.location, file };
  }
  const start = startAt(task, dirfd, path);
  if (start instanceof Errno) return start;
  const vd = resolve(task.fs, start, path, follow);
  return vd instanceof Errno ? vd : { vd, file: null };
}

/** A path-only target (for calls that change a place: chmod, chown, utimensat...). */
export function placeAt(task: Task, dirfd: number, pathVa: number, flags: number, follow: boolean): VirtualDentry | Errno {
  const t = targetAt(task, dirfd, pathVa, flags, follow);
  if (t instanceof Errno) return t;
  return t.vd ?? EBADF;
}

function copyString(task: Task, bufVa: number, size: number, s: string, truncate: boolean): number | Errno {
  const bytes = Buffer.from(s);
  if (!truncate && bytes.length + 1 > size) return ERANGE;
  const out = truncate ? bytes.subarray(0, size) : Buffer.concat([bytes, Buffer.alloc(1)]);
  return task.mm.copyOut(bufVa, out) === out.length ? out.length : EFAULT;
}

function readlink(task: Task, dirfd: number, pathVa: number, bufVa: number, size: number): number | Errno {
  if (size <= 0) return EINVAL;
  const path = readPath(task, pathVa);
  if (path instanceof Errno) return path;
  if (path === '') {
    // readlinkat(fd, "", ...) reads the link an O_PATH|O_NOFOLLOW fd names.
    const file = dirfd === AT_FDCWD ? null : task.fds.get(dirfd);
    if (file instanceof Errno) return file;
    if (file?.location == null) return ENOENT;
    const t = file.location.dentry.readlink(task.fs);
    return t instanceof Errno ? t : copyString(task, bufVa, size, t, true);
  }
  const start = startAt(task, dirfd, path);
  if (start instanceof Errno) return start;
  const target = readlinkAt(task.fs, start, path);
  return target instanceof Errno ? target : copyString(task, bufVa, Math.min(size, 0x7fff_ffff), target, true);
}

function getcwd(task: Task, a: SyscallArgs): number | Errno {
  const cwd = task.fs.cwd;
  if (cwd.dentry.deleted) return ENOENT;
  const path = pathOf(task.fs, cwd) ?? '(unreachable)';
  return copyString(task, a.ptr(0), a.size(1), path, false);
}

function changeDir(task: Task, vd: VirtualDentry): number | Errno {
  const d = vd.dentry;
  if (!isDir(d.mode)) return ENOTDIR;
  if (!mayAccess(d.mode, d.uid, d.gid, task.fs.creds, X_OK)) return EACCES;
  task.fs.setCwd(vd);
  return 0;
}

function chdir(task: Task, a: SyscallArgs): number | Errno {
  const path = readPath(task, a.ptr(0));
  if (path instanceof Errno) return path;
  if (path === '') return ENOENT;
  const vd = resolve(task.fs, task.fs.cwd, path, true);
  return vd instanceof Errno ? vd : changeDir(task, vd);
}

function fchdir(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  return file.location === null ? ENOTDIR : changeDir(task, file.location);
}

export const pathSyscalls: SyscallEntry[] = [
  supported('readlink', (t, a) => readlink(t, AT_FDCWD, a.ptr(0), a.ptr(1), a.int(2)), 'sbi'),
  supported('readlinkat', (t, a) => readlink(t, a.int(0), a.ptr(1), a.ptr(2), a.int(3)), 'dsbi'),
  supported('getcwd', getcwd, 'pz'),
  supported('chdir', chdir, 's'),
  supported('fchdir', fchdir, 'i'),
];
