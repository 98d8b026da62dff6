// Extended attributes: getxattr, setxattr, listxattr, removexattr and their l- (no-follow) and f- (fd)
// forms. The Sentry's filesystems keep no extended attributes, so after the checks Linux makes first
// (the attribute name, the size, the flags, the path or fd, a read-only mount) each call answers as a
// filesystem without xattr support does: EOPNOTSUPP. Programs read that as "no ACLs, no labels"
// (ls, cp -a, tar, Python's shutil).
import { E2BIG, EBADF, EINVAL, ENOENT, EOPNOTSUPP, ERANGE, EROFS, Errno } from '../abi/errno.js';
import { AT_FDCWD } from '../abi/fcntl.js';
import type { VirtualDentry } from '../fs/vfs.js';
import { resolve } from '../fs/walk.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial } from './define.js';
import { readPath, startAt } from './path.js';

/** XATTR_NAME_MAX and XATTR_SIZE_MAX (include/uapi/linux/limits.h). */
const XATTR_NAME_MAX = 255;
const XATTR_SIZE_MAX = 65536;
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;
const NOTE = 'no filesystem keeps extended attributes: EOPNOTSUPP after the name, size, flag, path and read-only checks';

/** import_xattr_name: EFAULT, or ERANGE for an empty name or one over 255 bytes. */
function checkName(task: Task, va: number): Errno | null {
  const name = task.mm.readString(va, XATTR_NAME_MAX, ERANGE);
  if (name instanceof Errno) return name;
  return name === '' ? ERANGE : null;
}

function byPath(task: Task, va: number, follow: boolean): VirtualDentry | Errno {
  const path = readPath(task, va);
  if (path instanceof Errno) return path;
  if (path === '') return ENOENT;
  const start = startAt(task, AT_FDCWD, path);
  if (start instanceof Errno) return start;
  return resolve(task.fs, start, path, follow);
}

function byFd(task: Task, fd: number): VirtualDentry | null | Errno {
  const file = task.fds.get(fd);
  if (file instanceof Errno) return EBADF;
  return file.location;
}

type Where = (task: Task, a: SyscallArgs) => VirtualDentry | null | Errno;
const path = (follow: boolean): Where => (task, a) => byPath(task, a.ptr(0), follow);
const fd: Where = (task, a) => byFd(task, a.int(0));

function get(where: Where): (task: Task, a: SyscallArgs) => number | Errno {
  return (task, a) => {
    const bad = checkName(task, a.ptr(1));
    if (bad !== null) return bad;
    const vd = where(task, a);
    return vd instanceof Errno ? vd : EOPNOTSUPP;
  };
}

function list(where: Where): (task: Task, a: SyscallArgs) => number | Errno {
  return (task, a) => {
    const vd = where(task, a);
    return vd instanceof Errno ? vd : EOPNOTSUPP;
  };
}

function set(where: Where): (task: Task, a: SyscallArgs) => number | Errno {
  return (task, a) => {
    if ((a.int(4) & ~(XATTR_CREATE | XATTR_REPLACE)) !== 0) return EINVAL;
    const bad = checkName(task, a.ptr(1));
    if (bad !== null) return bad;
    if (a.size(3) > XATTR_SIZE_MAX) return E2BIG;
    const vd = where(task, a);
    if (vd instanceof Errno) return vd;
    if (vd !== null && vd.mount.readOnly) return EROFS;
    return EOPNOTSUPP;
  };
}

function remove(where: Where): (task: Task, a: SyscallArgs) => number | Errno {
  return (task, a) => {
    const bad = checkName(task, a.ptr(1));
    if (bad !== null) return bad;
    const vd = where(task, a);
    if (vd instanceof Errno) return vd;
    if (vd !== null && vd.mount.readOnly) return EROFS;
    return EOPNOTSUPP;
  };
}

export const xattrSyscalls: SyscallEntry[] = [
  partial('getxattr', get(path(true)), NOTE, 'sspz'),
  partial('lgetxattr', get(path(false)), NOTE, 'sspz'),
  partial('fgetxattr', get(fd), NOTE, 'ispz'),
  partial('listxattr', list(path(true)), NOTE, 'spz'),
  partial('llistxattr', list(path(false)), NOTE, 'spz'),
  partial('flistxattr', list(fd), NOTE, 'ipz'),
  partial('setxattr', set(path(true)), NOTE, 'sspzx'),
  partial('lsetxattr', set(path(false)), NOTE, 'sspzx'),
  partial('fsetxattr', set(fd), NOTE, 'ispzx'),
  partial('removexattr', remove(path(true)), NOTE, 'ss'),
  partial('lremovexattr', remove(path(false)), NOTE, 'ss'),
  partial('fremovexattr', remove(fd), NOTE, 'is'),
];
