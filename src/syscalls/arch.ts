// arch_prctl(2): the FS base (thread-local storage). The stub loads it with wrfsbase before it returns
// to the program, so no VM exit is spent on it.
import { EFAULT, EINVAL, EPERM, Errno } from '../abi/errno.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { USER_TOP } from '../platform/layout.js';
import { partial } from './define.js';

const ARCH_SET_FS = 0x1002;
const ARCH_GET_FS = 0x1003;
const ARCH_GET_CPUID = 0x1011;

function archPrctl(task: Task, a: SyscallArgs): number | Errno {
  switch (a.int(0)) {
    case ARCH_SET_FS: {
      const base = a.ptr(1);
      if (base >= USER_TOP) return EPERM;
      task.fsBase = base;
      task.ctx?.setFsBase(base);
      return 0;
    }
    case ARCH_GET_FS: {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigUint64(0, BigInt(task.fsBase), true);
      return task.mm.copyOut(a.ptr(1), out) === 8 ? 0 : EFAULT;
    }
    case ARCH_GET_CPUID:
      return 1;
    default:
      return EINVAL;
  }
}

export const archSyscalls: SyscallEntry[] = [
  partial('arch_prctl', archPrctl, 'ARCH_SET_FS, ARCH_GET_FS, ARCH_GET_CPUID; no GS base', 'ap'),
];
