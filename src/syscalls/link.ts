// Names: unlink, unlinkat, rename, renameat, renameat2, link, linkat, symlink, symlinkat.
import { EINVAL, ENOENT, Errno } from '../abi/errno.js';
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT,
} from '../abi/fcntl.js';
import { linkAt, linkVd, renameAt, rmdirAt, symlinkAt, unlinkAt } from '../fs/ops.js';
import type { VirtualDentry } from '../fs/vfs.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial, supported } from './define.js';
import { readPath, startAt, targetAt } from './path.js';

/** A path argument and where it starts; '' is ENOENT. */
function pathArg(task: Task, dirfd: number, va: number): { start: VirtualDentry; path: string } | Errno {
  const path = readPath(task, va);
  if (path instanceof Errno) return path;
  if (path === '') return ENOENT;
  const start = startAt(task, dirfd, path);
  return start instanceof Errno ? start : { start, path };
}

function unlink(task: Task, dirfd: number, pathVa: number, flags: number): number | Errno {
  if ((flags & ~AT_REMOVEDIR) !== 0) return EINVAL;
  const p = pathArg(task, dirfd, pathVa);
  if (p instanceof Errno) return p;
  const r = (flags & AT_REMOVEDIR) !== 0 ? rmdirAt(task.fs, p.start, p.path) : unlinkAt(task.fs, p.start, p.path);
  return r ?? 0;
}

function rename(task: Task, oldDirfd: number, oldVa: number, newDirfd: number, newVa: number, flags: number): number | Errno {
  if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) !== 0) return EINVAL;
  if ((flags & RENAME_EXCHANGE) !== 0 && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) !== 0) return EINVAL;
  // RENAME_WHITEOUT is for overlay filesystems themselves and needs CAP_MKNOD.
  if ((flags & RENAME_WHITEOUT) !== 0) return EINVAL;
  const from = pathArg(task, oldDirfd, oldVa);
  if (from instanceof Errno) return from;
  const to = pathArg(task, newDirfd, newVa);
  if (to instanceof Errno) return to;
  return renameAt(task.fs, from.start, from.path, to.start, to.path, flags) ?? 0;
}

function link(task: Task, oldDirfd: number, oldVa: number, newDirfd: number, newVa: number, flags: number): number | Errno {
  if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) !== 0) return EINVAL;
  const follow = (flags & AT_SYMLINK_FOLLOW) !== 0;
  const oldPath = readPath(task, oldVa);
  if (oldPath instanceof Errno) return oldPath;
  if (oldPath === '' && (flags & AT_EMPTY_PATH) !== 0) {
    // linkat(fd, "", ..., AT_EMPTY_PATH) names the open file itself (an O_TMPFILE one, or any other:
    // Linux lets a caller with CAP_DAC_READ_SEARCH, and since 6.10 the file's opener, do it).
    const from = targetAt(task, oldDirfd, oldVa, flags, follow);
    if (from instanceof Errno) return from;
    const to = pathArg(task, newDirfd, newVa);
    if (to instanceof Errno) return to;
    return linkVd(task.fs, from.file === null ? from.vd : from.file.location, to.start, to.path) ?? 0;
  }
  const from = pathArg(task, oldDirfd, oldVa);
  if (from instanceof Errno) return from;
  const to = pathArg(task, newDirfd, newVa);
  if (to instanceof Errno) return to;
  return linkAt(task.fs, from.start, from.path, to.start, to.path, follow) ?? 0;
}

function symlink(task: Task, targetVa: number, dirfd: number, pathVa: number): number | Errno {
  const target = readPath(task, targetVa);
  if (target instanceof Errno) return target;
  const p = pathArg(task, dirfd, pathVa);
  if (p instanceof Errno) return p;
  return symlinkAt(task.fs, target, p.start, p.path) ?? 0;
}

export const linkSyscalls: SyscallEntry[] = [
  supported('unlink', (t, a) => unlink(t, AT_FDCWD, a.ptr(0), 0), 's'),
  supported('unlinkat', (t, a) => unlink(t, a.int(0), a.ptr(1), a.int(2)), 'dsA'),
  supported('rename', (t, a) => rename(t, AT_FDCWD, a.ptr(0), AT_FDCWD, a.ptr(1), 0), 'ss'),
  supported('renameat', (t, a) => rename(t, a.int(0), a.ptr(1), a.int(2), a.ptr(3), 0), 'dsds'),
  partial('renameat2', (t, a) => rename(t, a.int(0), a.ptr(1), a.int(2), a.ptr(3), a.uint(4)), 'RENAME_WHITEOUT is refused (EINVAL)', 'dsdsx'),
  supported('link', (t, a) => link(t, AT_FDCWD, a.ptr(0), AT_FDCWD, a.ptr(1), 0), 'ss'),
  supported('linkat', (t, a) => link(t, a.int(0), a.ptr(1), a.int(2), a.ptr(3), a.int(4)), 'dsdsA'),
  supported('symlink', (t, a) => symlink(t, a.ptr(0), AT_FDCWD, a.ptr(1)), 'ss'),
  supported('symlinkat', (t, a) => symlink(t, a.ptr(0), a.int(1), a.ptr(2)), 'sds'),
];
