// The shape of the syscall table. The table itself is data in src/syscalls/table.ts; the kernel only
// looks numbers up in it.
import type { Errno } from '../abi/errno.js';
import type { SyscallArgs } from './syscall-args.js';
import type { Task } from './task.js';

/** The task waits; whoever finishes the operation calls task.complete(result). */
export class Blocked {
  static readonly instance = new Blocked();
  readonly blocked = true;
  private constructor() {}
}

/** rt_sigreturn: every register is restored, rax included; the dispatcher leaves the register file be. */
export class RegistersRestored {
  static readonly instance = new RegistersRestored();
  readonly restored = true;
  private constructor() {}
}

export type SyscallResult = number | Errno | Blocked | RegistersRestored;
export type SyscallHandler = (task: Task, args: SyscallArgs) => SyscallResult;

export const enum Support {
  Full = 'supported',
  Partial = 'partial',
  None = 'unimplemented',
}

/** How --strace shows each argument, one character per argument: the kinds are listed in strace-args.ts. */
export type ArgFormat = string;

export interface SyscallEntry {
  nr: number;
  name: string;
  support: Support;
  handler?: SyscallHandler;
  /** For Partial, what is missing; for None, why it is not there. */
  note?: string;
  /** For None: what the call returns (ENOSYS unless said). */
  errno?: Errno;
  /** For None: a deliberate gap that programs are known to cope with; logged at info, not warn. */
  expected?: boolean;
  args?: ArgFormat;
}

export type SyscallTable = ReadonlyArray<SyscallEntry | undefined>;
