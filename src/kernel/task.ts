// A task: one thread of a program, bound to the vCPU context that runs its user code.
import { ERESTARTSYS, type Errno } from '../abi/errno.js';
import type { FdTable } from '../fs/fd-table.js';
import type { FsContext, MemoryArea, ProcessView } from '../fs/vfs.js';
import type { AddressSpace } from '../mm/address-space.js';
import type { Context } from '../platform/platform.js';
import { Reg } from '../platform/mailbox.js';
import { BlockedCall } from './blocking.js';
import { ProcessSignals, ThreadSignals } from './signals.js';
import { SyscallArgs } from './syscall-args.js';
import type { SyscallSites } from './syscall-sites.js';

export interface TaskIdentity {
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  gid: number;
}

/** How the task ended: an exit status, or the signal that killed it. */
export type TaskExit = { status: number; signal: null } | { status: null; signal: number; detail: string };

export class Task implements ProcessView {
  readonly args: SyscallArgs;
  exit: TaskExit | null = null;
  /** set_tid_address / set_robust_list: kept for the thread-exit protocol. */
  clearChildTid = 0;
  robustList = 0;
  /** prctl(PR_SET_NAME): at most 15 bytes, like Linux's comm. */
  comm: string;
  /** FS base as last set by arch_prctl, for ARCH_GET_FS. */
  fsBase = 0;
  /** Resource limits (soft, hard) by RLIMIT_* number; Infinity is RLIM_INFINITY. */
  readonly rlimits: Array<[number, number]> = defaultRlimits();
  syscalls = 0;
  /** This task's rewritten syscall sites and their trampolines (exitless mode). */
  syscallSites: SyscallSites | null = null;
  /** The thread's signal state; its `process` part (dispositions, shared pending) is the process's. */
  readonly signals = new ThreadSignals(new ProcessSignals());
  /** The blocked syscall a signal may interrupt (blocking.ts); null while the task is not blocked. */
  blocked: BlockedCall | null = null;
  private onComplete: ((task: Task) => void) | null = null;

  constructor(
    readonly id: TaskIdentity,
    readonly mm: AddressSpace,
    readonly ctx: Context,
    readonly fds: FdTable,
    /** Path of the executable inside the sandbox, for /proc/self/exe. */
    readonly exePath: string,
    /** Root, working directory and umask (fs-owned; /proc/self reads the task through it). */
    readonly fs: FsContext,
  ) {
    fs.process = this;
    this.args = new SyscallArgs(ctx.mailbox);
    const base = exePath.slice(exePath.lastIndexOf('/') + 1);
    this.comm = base.slice(0, 15);
  }

  /**
   * A syscall about to return Blocked registers itself: what it waits on goes into the BlockedCall, and
   * `interrupted` says what it returns if a signal comes first (ERESTARTSYS unless said).
   */
  block(interrupted: () => number | Errno = () => ERESTARTSYS): BlockedCall {
    this.blocked = new BlockedCall(interrupted);
    return this.blocked;
  }

  /** Finishes a syscall that returned Blocked: stores the result and lets the task run. */
  complete(result: number | Errno): void {
    this.blocked = null;
    this.ctx.mailbox.setReg(Reg.rax, typeof result === 'number' ? result : -result.code);
    this.onComplete?.(this);
  }

  /** /proc/PID/maps: the address space's areas. */
  memoryMap(): MemoryArea[] {
    return this.mm.vmas.list.map((v) => ({
      start: v.start, end: v.end, prot: v.prot, shared: v.shared, offset: v.offset, dev: 0, ino: 0, name: v.name,
    }));
  }

  /** Set by the kernel: how a completed blocking syscall gets the task running again. */
  setCompletionHook(hook: (task: Task) => void): void {
    this.onComplete = hook;
  }
}

export const RLIM_INFINITY = Infinity;
export const RLIMIT_COUNT = 16;

/** Linux's defaults for a process started by a login shell (include/asm-generic/resource.h). */
function defaultRlimits(): Array<[number, number]> {
  const limits: Array<[number, number]> = [];
  for (let i = 0; i < RLIMIT_COUNT; i++) limits.push([RLIM_INFINITY, RLIM_INFINITY]);
  limits[3] = [8 * 1024 * 1024, RLIM_INFINITY]; // RLIMIT_STACK
  limits[4] = [0, RLIM_INFINITY]; // RLIMIT_CORE
  limits[6] = [63_432, 63_432]; // RLIMIT_NPROC
  limits[7] = [1024, 4096]; // RLIMIT_NOFILE
  limits[8] = [8 * 1024 * 1024, 8 * 1024 * 1024]; // RLIMIT_MEMLOCK
  limits[11] = [63_432, 63_432]; // RLIMIT_SIGPENDING
  limits[12] = [819_200, 819_200]; // RLIMIT_MSGQUEUE
  limits[13] = [0, 0]; // RLIMIT_NICE
  limits[14] = [0, 0]; // RLIMIT_RTPRIO
  return limits;
}
