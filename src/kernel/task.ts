// A task: one thread. What it owns alone (its tid, its registers while it is not on a vCPU, its signal
// signal state, FS base, clear_child_tid, robust list, the call it is blocked in); what it shares with the other threads of its process
// is in its ThreadGroup. While it runs, it is bound to one vCPU Context.
import { ERESTARTSYS, type Errno } from '../abi/errno.js';
import type { FdTable } from '../fs/fd-table.js';
import type { FsContext, MemoryArea, ProcessView } from '../fs/vfs.js';
import type { Terminal } from '../fs/terminal.js';
import type { AddressSpace } from '../mm/address-space.js';
import type { Context } from '../platform/platform.js';
import { REG_COUNT, Reg } from '../platform/mailbox.js';
import { BlockedCall } from './blocking.js';
import type { Kernel } from './kernel.js';
import { ThreadSignals } from './signals.js';
import type { SyscallArgs } from './syscall-args.js';
import type { Blocked } from './syscall-table.js';
import type { Machine } from './machine.js';
import type { SyscallSites } from './syscall-sites.js';
import type { ThreadGroup } from './thread-group.js';
import { TaskTimers } from './timers.js';
import type { Clocks } from './timekeeper.js';

export { RLIM_INFINITY, RLIMIT_COUNT } from './thread-group.js';

/** The ids a new task starts with: real ones, and effective and saved ones if they differ. */
export interface TaskIdentity {
  uid: number;
  gid: number;
  euid?: number;
  egid?: number;
  suid?: number;
  sgid?: number;
  /** Supplementary groups, sorted as setgroups(2) leaves them; none if absent. */
  groups?: readonly number[];
}

/** How the task ended: an exit status, or the signal that killed it. */
export type TaskExit = { status: number; signal: null } | { status: null; signal: number; detail: string };

/** The ids /proc and the id syscalls show; ppid follows the parent as orphans are reparented. */
export class TaskIds {
  constructor(private readonly task: Task) {}
  get pid(): number {
    return this.task.group.pid;
  }
  get tid(): number {
    return this.task.tid;
  }
  get ppid(): number {
    return this.task.group.parent?.pid ?? 0;
  }
  get uid(): number {
    return this.task.uid;
  }
  get gid(): number {
    return this.task.gid;
  }
  /** Effective, saved and filesystem ids, as /proc/PID/status lists them (fsuid follows euid here). */
  get euid(): number {
    return this.task.euid;
  }
  get suid(): number {
    return this.task.suid;
  }
  get egid(): number {
    return this.task.egid;
  }
  get sgid(): number {
    return this.task.sgid;
  }
}

/** Registers as the mailbox holds them: 18 u64 in struct kvm_regs order, as u32 pairs. */
export type RegisterFile = Uint32Array;

export function newRegisterFile(): RegisterFile {
  return new Uint32Array(REG_COUNT * 2);
}

export function setRegister(regs: RegisterFile, r: Reg, value: number): void {
  regs[r * 2] = value >>> 0;
  regs[r * 2 + 1] = Math.floor(value / 0x1_0000_0000) >>> 0;
}

export class Task implements ProcessView {
  readonly id = new TaskIds(this);
  /** Set by a handler (exit, exit_group, a fatal signal): the kernel ends the task after the call. */
  exit: TaskExit | null = null;
  /** The vCPU this task runs on; null before it starts and after it ended. */
  ctx: Context | null = null;
  /** Told once when the thread ends (its thread pidfds become readable). */
  readonly exitListeners = new Set<() => void>();

  /** The context of a task that is handling a syscall or fault (it has one then, by construction). */
  get running(): Context {
    const ctx = this.ctx;
    if (ctx === null) throw new Error(`task ${this.tid} has no vCPU context`);
    return ctx;
  }
  /** Syscall arguments, read from the mailbox of the task's context (set when it gets one). */
  args!: SyscallArgs;
  /** Registers to load when the task next gets a context (a new thread, fork's child, exec). */
  startRegs: RegisterFile | null = null;
  /** set_tid_address / CLONE_CHILD_CLEARTID: zeroed and futex-woken when the thread exits. */
  clearChildTid = 0;
  robustList = 0;
  /** prctl(PR_SET_NAME): at most 15 bytes, like Linux's comm. */
  comm: string;
  /** FS base as last set by arch_prctl or CLONE_SETTLS, for ARCH_GET_FS and new contexts. */
  fsBase = 0;
  syscalls = 0;
  /** Mask, own pending signals, alternate stack; its `process` part is the group's. */
  readonly signals: ThreadSignals;
  /** The blocked syscall a signal may interrupt (blocking.ts); null while the task is not blocked. */
  blocked: BlockedCall | null = null;
  /**
   * Linux's restart_block: how restart_syscall(2) continues a call interrupted with
   * ERESTART_RESTARTBLOCK (a sleep or a timed poll, with the time left) when no handler ran.
   */
  restartBlock: (() => number | Errno | Blocked) | null = null;
  /**
   * Parked by a group stop on its way back to the program (job-control.ts); afterSyscall: the return
   * still has a syscall's result (and maybe a restart code) to deliver once continued.
   */
  parked: { afterSyscall: boolean } | null = null;
  /** Real, effective and saved ids (credentials are per thread, as on Linux). */
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  suid: number;
  sgid: number;
  /** Supplementary groups, ascending (setgroups sorts them, duplicates kept). */
  groups: readonly number[];
  /**
   * CPU time, measured by the Sentry: user is the time its vCPU ran the program between events, system
   * the time the Sentry spent on its events; runningSince the host time it was last let run (0: not now).
   */
  userNs = 0n;
  systemNs = 0n;
  runningSince = 0n;

  /** Its CPU time so far (CLOCK_THREAD_CPUTIME_ID), the current run included. */
  cpuTimeNs(now = process.hrtime.bigint()): bigint {
    return this.userNs + this.systemNs + (this.runningSince !== 0n && now > this.runningSince ? now - this.runningSince : 0n);
  }
  /** Deadlines the task waits for (sleeps); cancelled when it exits. */
  readonly timers = new TaskTimers();
  /** sched_setaffinity's mask (bit n: CPU n); null is every CPU of the machine. */
  cpuAffinity: bigint | null = null;
  private onComplete: ((task: Task, result: number | Errno) => void) | null = null;

  constructor(
    readonly kernel: Kernel,
    readonly tid: number,
    public group: ThreadGroup,
    ids: TaskIdentity,
    comm: string,
  ) {
    this.uid = ids.uid;
    this.gid = ids.gid;
    this.euid = this.suid = ids.euid ?? ids.uid;
    this.egid = this.sgid = ids.egid ?? ids.gid;
    if (ids.suid !== undefined) this.suid = ids.suid;
    if (ids.sgid !== undefined) this.sgid = ids.sgid;
    this.groups = ids.groups ?? [];
    this.signals = new ThreadSignals(group.signals);
    this.comm = comm.slice(0, 15);
  }

  get mm(): AddressSpace {
    return this.group.mm;
  }
  get fds(): FdTable {
    return this.group.fds;
  }
  get fs(): FsContext {
    return this.group.fs;
  }
  get rlimits(): Array<[number, number]> {
    return this.group.rlimits;
  }
  get exePath(): string {
    return this.group.exePath;
  }
  get pgid(): number {
    return this.group.pgid;
  }
  get sid(): number {
    return this.group.sid;
  }
  get threads(): number {
    return this.group.tasks.size;
  }
  get tty(): Terminal | null {
    return this.group.tty;
  }
  cpuTimes(thread: boolean): [bigint, bigint, bigint, bigint] {
    if (!thread) return this.group.cpuTimes();
    const all = this.cpuTimeNs();
    return [all - this.systemNs, this.systemNs, 0n, 0n];
  }
  threadViews(): readonly Task[] {
    return [...this.group.tasks].filter((t) => t.exit === null).sort((a, b) => a.tid - b.tid);
  }
  get zombie(): boolean {
    return this.group.zombie;
  }
  /** Waiting in a blocked syscall (state S in /proc). */
  get sleeping(): boolean {
    return this.blocked !== null;
  }
  /** Stopped by job control (state T in /proc). */
  get stopped(): boolean {
    return this.group.stopped;
  }
  /** The task must come back to the Sentry: a signal to deliver, or a group stop it has not joined yet. */
  get needsInterrupt(): boolean {
    return this.signals.deliverable || (this.group.stopSignal !== 0 && this.parked === null);
  }
  /** The machine the sandbox shows (--cpus, --memory). */
  get machine(): Machine {
    return this.kernel.machine;
  }
  /** The clocks its syscalls read: the sandbox's timekeeper, which the vDSO reads too. */
  get clocks(): Clocks {
    return this.kernel.clocks;
  }
  get syscallSites(): SyscallSites | null {
    return this.kernel.syscallSitesOf(this);
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
    const ctx = this.ctx;
    if (ctx === null) return;
    ctx.mailbox.setReg(Reg.rax, typeof result === 'number' ? result : -result.code);
    this.onComplete?.(this, result);
  }

  /** /proc/PID/maps: the address space's areas. */
  memoryMap(): MemoryArea[] {
    return this.mm.vmas.list.map((v) => ({
      start: v.start, end: v.end, prot: v.prot, shared: v.shared, offset: v.offset, dev: v.dev, ino: v.ino, name: v.name,
    }));
  }

  /** Set by the kernel: how a completed blocking syscall gets the task running again. */
  setCompletionHook(hook: (task: Task, result: number | Errno) => void): void {
    this.onComplete = hook;
  }
}
