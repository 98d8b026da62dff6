// Extended attributes: getxattr, setxattr, listxattr, removexattr and their l- (no-follow) and f- (fd)
// forms. This file reads the arguments in Linux's order (the fd, the flags, the name, the value, the
// path) and copies results out; src/fs/xattr.ts checks the caller's rights and asks the filesystem.
// tmpfs (/tmp, /dev/shm, --tmpfs, the overlay's upper layer) keeps user.*, trusted.* and security.*
// attributes; the Gofer's files have none and keep none (EOPNOTSUPP), as a filesystem without
// extended attributes.
import { E2BIG, EBADF, EFAULT, EINVAL, ENOENT, ERANGE, Errno } from '../abi/errno.js';
import { AT_FDCWD, O_PATH } from '../abi/fcntl.js';
import type { VirtualDentry } from '../fs/vfs.js';
import { resolve } from '../fs/walk.js';
import {
  XATTR_CREATE, XATTR_LIST_MAX, XATTR_NAME_MAX, XATTR_REPLACE, XATTR_SIZE_MAX, type XattrTarget, changeXattr, getXattr,
  listXattr,
} from '../fs/xattr.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial } from './define.js';
import { readPath, startAt } from './path.js';

const NOTE = 'tmpfs and the overlay keep user.*, trusted.*, security.* (no system.*: no POSIX ACLs); '
  + '--mount files keep none (EOPNOTSUPP)';

/** import_xattr_name: EFAULT, or ERANGE for an empty name or one over 255 bytes. */
function readName(task: Task, va: number): string | Errno {
  const name = task.mm.readString(va, XATTR_NAME_MAX, ERANGE);
  return name === '' ? ERANGE : name;
}

/**
 * Where the call acts. The f- forms look the fd up before anything else (EBADF, for O_PATH fds too);
 * the path forms after the name and value have been read.
 */
interface Where {
  /** Checks made first: an fd's EBADF. */
  early(task: Task, a: SyscallArgs): Errno | null;
  target(task: Task, a: SyscallArgs): XattrTarget | Errno;
}

/** A place in the namespace as the checks of src/fs/xattr.ts see it. */
function targetOf(vd: VirtualDentry): XattrTarget {
  const d = vd.dentry;
  return { mode: d.mode, uid: d.uid, gid: d.gid, dentry: d, readOnly: vd.mount.readOnly };
}

const path = (follow: boolean): Where => ({
  early: () => null,
  target(task, a) {
    const p = readPath(task, a.ptr(0));
    if (p instanceof Errno) return p;
    if (p === '') return ENOENT;
    const start = startAt(task, AT_FDCWD, p);
    if (start instanceof Errno) return start;
    const vd = resolve(task.fs, start, p, follow);
    return vd instanceof Errno ? vd : targetOf(vd);
  },
});

const fd: Where = {
  early(task, a) {
    const file = task.fds.get(a.int(0));
    return file instanceof Errno || (file.flags & O_PATH) !== 0 ? EBADF : null;
  },
  target(task, a) {
    const file = task.fds.get(a.int(0));
    if (file instanceof Errno) return EBADF;
    if (file.location !== null) return targetOf(file.location);
    // A pipe, a socket, host stdio: an inode of a filesystem without attributes.
    const st = file.stat();
    if (st instanceof Errno) return st;
    return { mode: st.mode, uid: st.uid, gid: st.gid, dentry: null, readOnly: false };
  },
};

function get(where: Where): (task: Task, a: SyscallArgs) => number | Errno {
  return (task, a) => {
    const early = where.early(task, a);
    if (early !== null) return early;
    const name = readName(task, a.ptr(1));
    if (name instanceof Errno) return name;
    const t = where.target(task, a);
    if (t instanceof Errno) return t;
    const value = getXattr(task.fs.creds, t, name);
    if (value instanceof Errno) return value;
    const size = Math.min(a.size(3), XATTR_SIZE_MAX);
    if (size === 0) return value.length;
    if (value.length > size) return ERANGE;
    return task.mm.copyOut(a.ptr(2), value) === value.length ? value.length : EFAULT;
  };
}

function list(where: Where): (task: Task, a: SyscallArgs) => number | Errno {
  return (task, a) => {
    const early = where.early(task, a);
    if (early !== null) return early;
    const t = where.target(task, a);
    if (t instanceof Errno) return t;
    const names = listXattr(task.fs.creds, t);
    if (names instanceof Errno) return names;
    const out = Buffer.from(names.map((n) => `${n}\0`).join(''));
    const size = Math.min(a.size(2), XATTR_LIST_MAX);
    if (size === 0) return out.length;
    if (out.length > size) return size >= XATTR_LIST_MAX ? E2BIG : ERANGE;
    return task.mm.copyOut(a.ptr(1), out) === out.length ? out.length : EFAULT;
  };
}

function set(where: Where): (task: Task, a: SyscallArgs) => number | Errno {
  return (task, a) => {
    const early = where.early(task, a);
    if (early !== null) return early;
    const flags = a.int(4);
    if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) !== 0) return EINVAL;
    const name = readName(task, a.ptr(1));
    if (name instanceof Errno) return name;
    const size = a.size(3);
    if (size > XATTR_SIZE_MAX) return E2BIG;
    const value = new Uint8Array(size);
    if (size > 0 && task.mm.copyIn(a.ptr(2), value) !== size) return EFAULT;
    const t = where.target(task, a);
    if (t instanceof Errno) return t;
    return changeXattr(task.fs.creds, t, name, value, flags) ?? 0;
  };
}

function remove(where: Where): (task: Task, a: SyscallArgs) => number | Errno {
  return (task, a) => {
    const early = where.early(task, a);
    if (early !== null) return early;
    const name = readName(task, a.ptr(1));
    if (name instanceof Errno) return name;
    const t = where.target(task, a);
    if (t instanceof Errno) return t;
    return changeXattr(task.fs.creds, t, name, null, 0) ?? 0;
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
