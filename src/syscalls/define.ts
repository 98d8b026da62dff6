// Helpers that keep each family's table entries one line long.
import { ENOSYS, type Errno } from '../abi/errno.js';
import { syscallNumber } from '../abi/syscall-names.js';
import { type ArgFormat, type SyscallEntry, type SyscallHandler, Support } from '../kernel/syscall-table.js';

export function supported(name: string, handler: SyscallHandler, args?: ArgFormat): SyscallEntry {
  return { nr: syscallNumber(name), name, support: Support.Full, handler, args };
}

export function partial(name: string, handler: SyscallHandler, note: string, args?: ArgFormat): SyscallEntry {
  return { nr: syscallNumber(name), name, support: Support.Partial, handler, note, args };
}

export function unsupported(name: string, note: string, errno: Errno = ENOSYS): SyscallEntry {
  return { nr: syscallNumber(name), name, support: Support.None, note, errno, expected: true };
}
