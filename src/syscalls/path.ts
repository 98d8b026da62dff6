// Path-based calls that work before the VFS: readlink of /proc/self/exe, which static glibc asks for.
import { EFAULT, EINVAL, ENAMETOOLONG, ENOENT, Errno } from '../abi/errno.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial } from './define.js';

const PATH_MAX = 4096;

function readlinkPath(task: Task, pathVa: number, bufVa: number, size: number): number | Errno {
  const path = task.mm.readString(pathVa, PATH_MAX, ENAMETOOLONG);
  if (path instanceof Errno) return path;
  if (size <= 0 || size > 0x7fff_ffff) return EINVAL;
  if (path !== '/proc/self/exe' && path !== `/proc/${task.id.pid}/exe`) return ENOENT;
  const target = Buffer.from(task.exePath).subarray(0, size);
  return task.mm.copyOut(bufVa, target) === target.length ? target.length : EFAULT;
}

export const pathSyscalls: SyscallEntry[] = [
  partial('readlink', (t, a: SyscallArgs) => readlinkPath(t, a.ptr(0), a.ptr(1), a.int(2)), 'only /proc/self/exe until the VFS lands', 'sxi'),
  partial('readlinkat', (t, a: SyscallArgs) => readlinkPath(t, a.ptr(1), a.ptr(2), a.int(3)), 'only /proc/self/exe until the VFS lands', 'isxi'),
];
