// The kernel: owns the processes (thread groups) and their tasks, binds each running task to a vCPU
// context, turns each guest event into a syscall dispatch, a page-fault fill or a signal, delivers
// pending signals on the way back to the program, and reports how the first process (pid 1) ended.
//
// Tasks and contexts. Every live task has a context of its own (one vCPU each, at most MAX_VCPUS);
// the host schedules the vCPU threads (exitless mode) or the run loop takes runnable contexts in turn
// (exit mode). A context whose task ended is kept and handed to the next task: it bounces to the stub's
// start_context on the idle root (a PML4 with only the shared entries), finishes there whatever the
// dead address space still needs the guest to do (scrubbing its page tables), and waits. Giving it a
// task is writing the task's register file into the mailbox and queueing a switch to the task's root;
// the stub applies both on its way back to user mode. A context whose task is killed while its guest
// code runs (not inside the stub) cannot be redirected and is stopped for good.
import { EIO, ENOSYS } from '../abi/errno.js';
import { childInfo, faultInfo, senderInfo, type SigInfo } from '../abi/siginfo.js';
import { CLD_DUMPED, CLD_EXITED, CLD_KILLED, SA_NOCLDWAIT, SI_USER, SIG_IGN, Signal, signalCodeName, signalName } from '../abi/signal.js';
import { syscallNumber } from '../abi/syscall-names.js';
import type { FdTable } from '../fs/fd-table.js';
import type { Procfs } from '../fs/proc.js';
import type { InternalTmpfs } from '../fs/tmpfs.js';
import type { Dentry, FsContext } from '../fs/vfs.js';
import { log, logOnce } from '../log/log.js';
import { AddressSpace, type AddressSpaceLayout, type MemoryLimits } from '../mm/address-space.js';
import type { PageAllocator } from '../mm/physical.js';
import { EventKind, MailboxOffset, Reg } from '../platform/mailbox.js';
import { type Context, INTERRUPT_VECTOR, type KvmPlatform, Resume } from '../platform/platform.js';
import { Futexes } from './futex.js';
import { type Clocks, hostClocks } from './timekeeper.js';
import type { Vdso } from '../loader/vdso.js';
import type { Machine } from './machine.js';
import { checkGroupStopped, endGroupStop } from './job-control.js';
import { DeliveryStopped, deliverSignals, releaseSignals, signalWork } from './signal-delivery.js';
import { bindSignalMachine, withdrawInterrupt } from './signal-machine.js';
import { cancelBlocked, raiseFault, sendToProcess, trapInfo, wakeAfterStop } from './signal-send.js';
import { detachSession } from './terminal-control.js';
import { Blocked, RegistersRestored, type SyscallResult, type SyscallTable } from './syscall-table.js';
import { SyscallArgs } from './syscall-args.js';
import type { SyscallTracer } from './strace.js';
import { Shootdowns } from './shootdown.js';
import { SyscallSites } from './syscall-sites.js';
import { newRegisterFile, type RegisterFile, setRegister, Task, type TaskExit, type TaskIdentity } from './task.js';
import { ProcessSignals } from './signals.js';
import { defaultRlimits, type GroupExit, ThreadGroup } from './thread-group.js';

export interface KernelOptions {
  /** --strace: told of every syscall (strace.ts). */
  strace: SyscallTracer | null;
  /** Rewrite trapped `mov $nr, %eax; syscall` sites to call the stub instead (exitless mode; default on). */
  patchSyscalls?: boolean;
  /** /proc, where every process is registered while it exists. */
  procfs?: Procfs | null;
  /** Address-space layout randomisation for exec (default on). */
  aslr?: boolean;
  /** Makes the layout of a new address space (exec); the loader's choice. */
  layout: () => AddressSpaceLayout;
  /** The vDSO exec maps into every new image (null: none). */
  vdso?: Vdso | null;
  /** The machine the sandbox shows (--cpus, --memory). */
  machine: Machine;
  /** Where memfd_create makes its files: a tmpfs mounted nowhere (Linux's internal shm_mnt). */
  memfds: InternalTmpfs;
}

export interface KernelStats {
  syscalls: number;
  faults: number;
  pageTableUpdates: number;
  /** Syscall sites rewritten to skip the trap (syscall-sites.ts). */
  syscallSitesPatched: number;
  /** Processes and threads created (fork, vfork, clone), and vCPU contexts made for them. */
  tasksCreated: number;
  contexts: number;
  /** TLB shootdowns (shootdown.ts): changes other vCPUs had to flush for, and of those, the ones waited for. */
  tlbShootdowns: number;
  tlbShootdownsWaited: number;
  /** When the first syscall came (performance.now(), ms since the Sentry started; 0: none yet), for --stats. */
  firstSyscallAt: number;
}

/** What a new process is made of (the sandbox's first program; exec fills a fresh one). */
export interface ProcessImage {
  mm: AddressSpace;
  fds: FdTable;
  fs: FsContext;
  exePath: string;
  /** The name exec gave it (the loader's comm). */
  comm: string;
  entry: number;
  sp: number;
  ids: { uid: number; gid: number };
  argRange?: [number, number];
  envRange?: [number, number];
}

/** x86 exception vectors and the signal Linux sends for each (arch/x86/kernel/traps.c). */
const VECTOR_SIGNALS: Record<number, number> = {
  0: Signal.SIGFPE, 1: Signal.SIGTRAP, 3: Signal.SIGTRAP, 4: Signal.SIGSEGV, 5: Signal.SIGSEGV, 6: Signal.SIGILL,
  7: Signal.SIGFPE, 10: Signal.SIGSEGV, 11: Signal.SIGBUS, 12: Signal.SIGBUS, 13: Signal.SIGSEGV,
  16: Signal.SIGFPE, 17: Signal.SIGBUS, 19: Signal.SIGFPE,
};
const VECTOR_NAMES: Record<number, string> = {
  0: 'divide error', 1: 'debug trap', 3: 'breakpoint', 6: 'invalid opcode', 13: 'general protection fault',
  14: 'page fault', 17: 'alignment check', 19: 'SIMD floating-point exception',
};

/** Syscalls that can replace, unmap, reprotect or wipe existing mappings (a trampoline page among them). */
const RESHAPING_SYSCALLS = new Set([
  syscallNumber('mmap'), syscallNumber('mprotect'), syscallNumber('munmap'), syscallNumber('mremap'),
  syscallNumber('madvise'), syscallNumber('shmat'), syscallNumber('remap_file_pages'), syscallNumber('pkey_mprotect'),
]);
const USER_RFLAGS = 0x202;
/** Linux's pid_max default: pids are handed out upwards, wrapping to 2 (pid 1 is init's). */
const PID_MAX = 4_194_304;
/** Signals whose default action dumps core (status 128+N with the core flag in wait). */
const CORE_SIGNALS = new Set<number>([Signal.SIGQUIT, Signal.SIGILL, Signal.SIGTRAP, Signal.SIGABRT, Signal.SIGBUS,
  Signal.SIGFPE, Signal.SIGSEGV, Signal.SIGSYS, 24 /* SIGXCPU */, 25 /* SIGXFSZ */]);

/** An address space no task uses any more whose tables the guest must still scrub (see AddressSpace.retire). */
interface Dying {
  mm: AddressSpace;
  /** 0: the batch that switches away from it is still to be replayed; 1: retire now; 2: retiring. */
  phase: number;
  /** Free contexts that still had it loaded and are switching away; retiring waits for them. */
  waiting: number;
}

/** The kernel's record of one vCPU context. */
interface Slot {
  task: Task | null;
  readonly args: SyscallArgs;
  readonly dying: Dying[];
  /**
   * The address space whose root the context has loaded (or will have, at its next return). A free
   * context keeps a live process's root, so the next thread of that process takes it without a switch:
   * on PVM a switch of roots costs milliseconds of shadow paging.
   */
  loaded: AddressSpace;
  /** The dying address space this free context is switching away from. */
  switching: Dying | null;
}

export class Kernel {
  /** Every task that exists, by tid (threads and thread-group leaders alike). */
  readonly tasks = new Map<number, Task>();
  /** Every process that exists (zombies included), by pid. */
  readonly groups = new Map<number, ThreadGroup>();
  readonly futexes = new Futexes();
  readonly stats: KernelStats = {
    syscalls: 0, faults: 0, pageTableUpdates: 0, syscallSitesPatched: 0, tasksCreated: 0, contexts: 0, tlbShootdowns: 0,
    tlbShootdownsWaited: 0, firstSyscallAt: 0,
  };
  private readonly slots = new Map<Context, Slot>();
  private readonly freeContexts: Context[] = [];
  /** Address spaces to retire whose last context was stopped: adopted by the next context's batch. */
  private readonly orphans: Dying[] = [];
  /** How many thread groups share each address space, fd table and fs context. */
  private readonly users = new Map<object, number>();
  private readonly sites = new Map<AddressSpace, SyscallSites>();
  /** The context a process's last thread left from, parked: it retires the address space. */
  private readonly lastContext = new Map<ThreadGroup, Context>();
  /** A root with only the shared entries: what a context without a task has loaded. */
  private readonly idle: AddressSpace;
  private readonly shootdowns: Shootdowns;
  get machine(): Machine {
    return this.options.machine;
  }

  get memfds(): InternalTmpfs {
    return this.options.memfds;
  }

  /** The sandbox's clocks; the sandbox sets its timekeeper once the first vCPU exists (it needs its TSC). */
  clocks: Clocks;
  private init: ThreadGroup | null = null;
  private initExit: TaskExit | null = null;
  private lastPid = 0;
  private finished = false;

  constructor(
    readonly platform: KvmPlatform,
    readonly allocator: PageAllocator,
    private readonly table: SyscallTable,
    readonly options: KernelOptions,
  ) {
    this.idle = new AddressSpace(platform.memory, allocator, platform.rootEntries, { mmapBase: 0 });
    this.clocks = hostClocks();
    this.shootdowns = new Shootdowns(platform);
  }

  // ---- processes -------------------------------------------------------------------------------

  /** The first process of the sandbox: pid 1, its own session and process group. */
  createProcess(image: ProcessImage): Task {
    const pid = this.allocPid();
    const group = new ThreadGroup(pid, null, pid, pid, image.mm, image.fds, image.fs, image.exePath,
      Signal.SIGCHLD, new ProcessSignals(), defaultRlimits());
    group.argRange = image.argRange ?? [0, 0];
    group.envRange = image.envRange ?? [0, 0];
    this.init ??= group;
    const task = this.newTask(pid, group, image.ids, image.comm);
    for (const shared of [image.mm, image.fds, image.fs]) this.share(shared);
    image.fds.lockOwner = pid;
    image.mm.limits = memoryLimits(group);
    task.startRegs = entryRegisters(image.entry, image.sp);
    this.startTask(task);
    return task;
  }

  /** A new task in `group` with tid `tid`, known to the kernel and to /proc, not yet running. */
  newTask(tid: number, group: ThreadGroup, ids: TaskIdentity, comm: string): Task {
    const task = new Task(this, tid, group, ids, comm);
    group.tasks.add(task);
    task.mm.tasks++;
    this.tasks.set(tid, task);
    if (!this.groups.has(group.pid)) {
      this.groups.set(group.pid, group);
      // /proc/self of a process's fs context (a CLONE_FS sharer keeps the first one's).
      group.fs.process ??= task;
      this.options.procfs?.register(task);
    }
    this.stats.tasksCreated++;
    return task;
  }

  allocPid(): number {
    for (let i = 0; i < PID_MAX; i++) {
      this.lastPid = this.lastPid >= PID_MAX - 1 ? 2 : this.lastPid + 1;
      const pid = this.lastPid;
      if (!this.tasks.has(pid) && !this.groups.has(pid) && !this.isGroupId(pid)) return pid;
    }
    return -1;
  }

  /** Whether some process group or session still carries this id (Linux does not reuse those). */
  private isGroupId(id: number): boolean {
    for (const g of this.groups.values()) if (g.pgid === id || g.sid === id) return true;
    return false;
  }

  /** One more thread group uses this address space, fd table or fs context. */
  share(resource: object): void {
    this.users.set(resource, (this.users.get(resource) ?? 0) + 1);
  }

  /** One thread group less uses it; returns how many still do. */
  unshare(resource: object): number {
    const n = (this.users.get(resource) ?? 1) - 1;
    if (n <= 0) this.users.delete(resource);
    else this.users.set(resource, n);
    return Math.max(0, n);
  }

  sharedBy(resource: object): number {
    return this.users.get(resource) ?? 0;
  }

  /** The process with this pid, zombies included. */
  group(pid: number): ThreadGroup | undefined {
    return this.groups.get(pid);
  }

  /** The process a /proc/PID directory names (pidfd_send_signal takes one for a pidfd), or null. */
  processOfProcDirectory(dir: Dentry): ThreadGroup | null {
    const view = this.options.procfs?.processOfDirectory(dir) ?? null;
    return view instanceof Task ? view.group : null;
  }

  get initProcess(): ThreadGroup | null {
    return this.init;
  }

  // ---- running ---------------------------------------------------------------------------------

  /** Runs until pid 1 has exited (and with it every other process); returns how it ended. */
  async run(): Promise<TaskExit> {
    await this.platform.run((ctx, kind) => this.handleEvent(ctx, kind));
    return this.initExit ?? { status: null, signal: Signal.SIGKILL, detail: 'no task exited' };
  }

  /**
   * The sandbox's state for a report when it seems to hang (`tsvisor` on SIGQUIT): each task, what it
   * waits on, and its vCPU as the platform sees it; then each vCPU that runs no task.
   */
  describeState(): string[] {
    const lines: string[] = [];
    const seen = new Set<Context>();
    for (const t of this.tasks.values()) {
      const state = t.exit !== null ? 'exiting' : t.parked !== null ? 'stopped' : t.blocked !== null ? 'blocked' : t.ctx?.handling ? 'in the Sentry' : 'runnable';
      const on = t.ctx === null ? 'no vCPU' : this.platform.describe(t.ctx);
      if (t.ctx !== null) seen.add(t.ctx);
      lines.push(`task ${t.tid} (pid ${t.group.pid}, ${t.comm}): ${state}, ${t.syscalls} syscalls; ${on}`);
    }
    for (const ctx of this.slots.keys()) if (!seen.has(ctx)) lines.push(`no task: ${this.platform.describe(ctx)}`);
    return lines;
  }

  /** Ends every process with `signal`, as when the sandbox itself is told to stop. */
  killAll(signal: number, detail: string): void {
    const init = this.init;
    if (init === null || init.exit !== null) {
      this.shutdown();
      return;
    }
    this.killGroup(init, { status: null, signal, core: false, detail }, null);
  }

  /** Puts a task on a context: a free one if there is, else a new vCPU. */
  startTask(task: Task): void {
    const mm = task.mm;
    let i = this.freeContexts.findIndex((c) => this.slots.get(c)!.loaded === mm);
    if (i < 0) i = this.freeContexts.length - 1;
    const ctx = i >= 0 ? this.freeContexts.splice(i, 1)[0]! : this.platform.newContext(mm.tables.root);
    let slot = this.slots.get(ctx);
    if (slot === undefined) {
      slot = { task: null, args: new SyscallArgs(ctx.mailbox), dying: [], loaded: mm, switching: null };
      this.slots.set(ctx, slot);
      this.stats.contexts++;
      bindSignalMachine(ctx, this.platform);
      this.bind(task, ctx);
      return; // its first event (start_context's syscall) loads the registers
    }
    this.bind(task, ctx);
    if (slot.loaded !== mm) {
      ctx.queue.switchRoot(mm.tables.root);
      slot.loaded = mm;
    }
    this.loadStartRegisters(task, ctx);
    this.finishBatch(ctx);
    this.resumeTask(task, ctx);
  }

  private bind(task: Task, ctx: Context): void {
    const slot = this.slots.get(ctx)!;
    slot.task = task;
    task.ctx = ctx;
    task.args = slot.args;
    task.mm.tables.queue = ctx.queue;
    task.setCompletionHook((t, result) => {
      const at = t.ctx;
      if (at === null) return;
      this.options.strace?.resumed(t, result);
      // null: a signal ended the task, and releasing its context already moved the context on; Later:
      // its process is stopped.
      if (this.returnToUser(t, at, true) === Resume.Now) this.resumeTask(t, at);
    });
  }

  private loadStartRegisters(task: Task, ctx: Context): void {
    const regs = task.startRegs!;
    task.startRegs = null;
    ctx.mailbox.u32.set(regs, MailboxOffset.regs >> 2);
    ctx.setFsBase(task.fsBase);
  }

  /** Every event, with the CPU time of its task: until now the program ran; the handling is system time. */
  private handleEvent(ctx: Context, kind: EventKind): Resume {
    // Before this event queues anything: what the vCPU replayed since its last event is settled.
    ctx.queue.noteReplayed();
    if (this.shootdowns.waiting) this.shootdowns.noteEvent(ctx);
    const task = this.slots.get(ctx)?.task ?? null;
    if (task === null) return this.dispatchEvent(ctx, kind);
    const start = process.hrtime.bigint();
    if (task.runningSince !== 0n) task.userNs += start - task.runningSince;
    task.runningSince = 0n;
    const result = this.dispatchEvent(ctx, kind);
    const end = process.hrtime.bigint();
    task.systemNs += end - start;
    if (result === Resume.Now && task.ctx === ctx) task.runningSince = end;
    return result;
  }

  /** A task that waited (a blocked call, a stop) runs again. */
  private resumeTask(task: Task, ctx: Context): void {
    task.runningSince = process.hrtime.bigint();
    this.platform.resume(ctx);
  }

  private dispatchEvent(ctx: Context, kind: EventKind): Resume {
    const slot = this.slots.get(ctx);
    if (slot === undefined) return Resume.Stop;
    // A preemption tick in guest code (exit mode): nothing waits at the stub, just run on.
    if (kind === EventKind.Interrupted) return Resume.Now;
    const task = slot.task;
    if (task === null) return this.idleEvent(ctx, slot);
    if (task.startRegs !== null) {
      // A new context's first event: start_context asking for its task.
      this.loadStartRegisters(task, ctx);
      this.finishBatch(ctx);
      return Resume.Now;
    }
    task.mm.tables.queue = ctx.queue;
    switch (kind) {
      case EventKind.Syscall:
        return this.syscall(task, ctx, slot);
      case EventKind.Fault:
        return this.fault(task, ctx);
      default: {
        const reason = ctx.mailbox.u64(MailboxOffset.exitReason);
        const what = kind === EventKind.StubFault
          ? `exception ${ctx.mailbox.u64(MailboxOffset.vector)} inside the guest stub at ${hex(ctx.mailbox.reg(Reg.rip))}` +
            ` (rsp ${hex(ctx.mailbox.reg(Reg.rsp))}, cr2 ${hex(ctx.mailbox.u64(MailboxOffset.faultAddr))})`
          : `guest stopped unexpectedly (KVM exit reason ${reason})`;
        log.error(`sandbox failure: ${what}`);
        slot.task = null;
        task.ctx = null;
        this.killGroup(task.group, { status: null, signal: Signal.SIGKILL, core: false, detail: what }, null);
        return Resume.Stop;
      }
    }
  }

  /** A context without a task: it finishes retiring dead address spaces, then waits to be given one. */
  private idleEvent(ctx: Context, slot: Slot): Resume {
    if (this.finished) return Resume.Stop;
    if (slot.switching !== null) {
      slot.switching.waiting--;
      slot.switching = null;
    }
    this.finishBatch(ctx);
    if (slot.dying.length > 0) {
      this.parkRegisters(ctx);
      return Resume.Now;
    }
    this.freeContexts.push(ctx);
    return Resume.Later;
  }

  /** The register file that sends a context to start_context, where it asks again. */
  private parkRegisters(ctx: Context): void {
    const regs = newRegisterFile();
    setRegister(regs, Reg.rip, this.platform.startEntry(ctx.id));
    setRegister(regs, Reg.rflags, USER_RFLAGS);
    ctx.mailbox.u32.set(regs, MailboxOffset.regs >> 2);
  }

  private syscall(task: Task, ctx: Context, slot: Slot): Resume {
    const mb = ctx.mailbox;
    const nr = mb.reg(Reg.rax);
    const entry = nr < this.table.length ? this.table[nr] : undefined;
    if (this.stats.syscalls++ === 0) this.stats.firstSyscallAt = performance.now();
    task.syscalls++;
    const strace = this.options.strace;
    if (strace !== null) strace.enter(task, entry, nr);
    // Read before the handler runs: the site is where this call came from.
    const trappedAt = ctx.userEntry !== 0 && mb.get32(MailboxOffset.trapped) === 1 ? mb.reg(Reg.rip) : -1;
    let result: SyscallResult;
    if (entry?.handler === undefined) {
      const level = entry?.expected === true ? 'info' : 'warn';
      logOnce(level, `syscall-${nr}`, `unimplemented syscall ${entry?.name ?? nr} (${nr}) returns ${(entry?.errno ?? ENOSYS).name}`);
      result = entry?.errno ?? ENOSYS;
    } else {
      try {
        result = entry.handler(task, slot.args);
      } catch (err) {
        log.error(`syscall ${entry.name} failed inside the Sentry: ${(err as Error).stack ?? String(err)}`);
        result = EIO;
      }
    }
    if (task.exit !== null || task.ctx !== ctx || task.startRegs !== null) {
      // The task ended (exit, exit_group, a fatal signal), or exec or exit gave its context new work.
      if (strace !== null) strace.ended(task);
      if (task.exit !== null && task.ctx === ctx) this.exitTask(task, task.exit);
      return this.afterHandover(ctx, slot);
    }
    const sites = this.sites.get(task.mm);
    if (sites !== undefined && RESHAPING_SYSCALLS.has(nr) && sites.verify()) {
      mb.set32(MailboxOffset.slowReturn, 1);
    }
    if (trappedAt >= 0 && this.options.patchSyscalls !== false) this.patchSite(task, trappedAt, nr);
    if (result instanceof Blocked) {
      // A signal already waiting interrupts the call before it sleeps (Linux: signal_pending()).
      if (!task.signals.deliverable || task.blocked === null) {
        if (strace !== null) strace.blocked(task);
        // A blocked thread counts as stopped: the stop of its process may be complete now.
        if (task.group.stopSignal !== 0) checkGroupStopped(this, task.group);
        return Resume.Later;
      }
      result = cancelBlocked(task);
    }
    if (result instanceof RegistersRestored) {
      if (strace !== null) strace.exit(task, mb.regInt(Reg.rax));
      return this.returnToUser(task, ctx, false) ?? this.afterHandover(ctx, slot);
    }
    mb.setReg(Reg.rax, typeof result === 'number' ? result : -result.code);
    if (strace !== null) strace.exit(task, result);
    return this.returnToUser(task, ctx, true) ?? this.afterHandover(ctx, slot);
  }

  /**
   * The way back to the program: pending signals first (after a syscall, its restart code). null when
   * a signal ended the task's process instead; Later when its process is stopped (the task parks).
   */
  private returnToUser(task: Task, ctx: Context, syscall: boolean): Resume.Now | Resume.Later | null {
    if (task.group.stopSignal !== 0) return this.park(task, syscall);
    if (signalWork(task, syscall)) {
      const exit = deliverSignals(task, syscall, this.options.strace);
      if (exit instanceof DeliveryStopped) return this.park(task, exit.syscall);
      if (exit !== null && exit.signal !== null) {
        this.killGroup(task.group, { status: null, signal: exit.signal, core: CORE_SIGNALS.has(exit.signal), detail: exit.detail }, task);
        return null;
      }
    }
    this.finishBatch(ctx);
    return task.mm.tables.weakened ? this.shootDown(task, ctx) : Resume.Now;
  }

  /**
   * The task took something away from its address space: the other vCPUs that have it loaded drop
   * their old translations before it runs on (shootdown.ts). Later: it waits for them, and then goes
   * the way back to user code once more (a signal or a stop may have come meanwhile).
   */
  private shootDown(task: Task, ctx: Context): Resume.Now | Resume.Later {
    const mm = task.mm;
    mm.tables.weakened = false;
    if (!this.shootdowns.needed) return Resume.Now;
    const others: Context[] = [];
    for (const [c, slot] of this.slots) if (c !== ctx && slot.loaded === mm) others.push(c);
    if (others.length === 0) return Resume.Now;
    this.stats.tlbShootdowns++;
    const waits = this.shootdowns.start(others, () => {
      if (task.ctx === ctx && task.exit === null && this.returnToUser(task, ctx, false) === Resume.Now) this.resumeTask(task, ctx);
    });
    if (!waits) return Resume.Now;
    this.stats.tlbShootdownsWaited++;
    return Resume.Later;
  }

  /** A group stop: the task waits here, its context not resumed, until SIGCONT (resumeParked). */
  private park(task: Task, afterSyscall: boolean): Resume.Later {
    task.parked = { afterSyscall };
    withdrawInterrupt(task);
    checkGroupStopped(this, task.group);
    return Resume.Later;
  }

  /** SIGCONT: a parked task finishes its way back to the program. */
  resumeParked(task: Task): void {
    const parked = task.parked;
    const ctx = task.ctx;
    task.parked = null;
    if (parked === null || ctx === null || task.exit !== null) return;
    if (this.returnToUser(task, ctx, parked.afterSyscall) === Resume.Now) this.resumeTask(task, ctx);
  }

  /** A stop ended: threads blocked in syscalls take the signals that came meanwhile. */
  wakeAfterStop(group: ThreadGroup): void {
    wakeAfterStop(group);
  }

  /** A signal from the kernel to a process (job control's SIGCHLD). */
  signalProcess(group: ThreadGroup, info: SigInfo): void {
    sendToProcess(group, info);
  }

  /** After a handler that took the task off its context: what the context does next. */
  private afterHandover(ctx: Context, slot: Slot): Resume {
    if (this.finished || ctx.stopped) return Resume.Stop;
    if (slot.task !== null && slot.task.startRegs !== null) {
      // exec loaded a new image for the same task on the same context.
      this.loadStartRegisters(slot.task, ctx);
    }
    this.finishBatch(ctx);
    return Resume.Now;
  }

  private fault(task: Task, ctx: Context): Resume {
    const mb = ctx.mailbox;
    const vector = mb.u64(MailboxOffset.vector);
    const rip = mb.reg(Reg.rip);
    const slot = this.slots.get(ctx)!;
    // Asked for by signal-machine.ts when a signal came while the program computed: deliver it now.
    if (vector === INTERRUPT_VECTOR) return this.returnToUser(task, ctx, false) ?? this.afterHandover(ctx, slot);
    if (vector === 14) {
      const addr = mb.u64(MailboxOffset.faultAddr);
      const r = task.mm.handleFault(addr, mb.u64(MailboxOffset.errorCode));
      if (r.mapped) {
        this.stats.faults++;
        return this.returnToUser(task, ctx, false) ?? this.afterHandover(ctx, slot);
      }
      const signal = Signal[r.signal];
      if (signal === Signal.SIGKILL) {
        const detail = `out of guest memory at address ${hex(addr)}, rip ${hex(rip)}`;
        this.killGroup(task.group, { status: null, signal, core: false, detail }, task);
        return this.afterHandover(ctx, slot);
      }
      const detail = `${signalCodeName(signal, r.code)} at address ${hex(addr)}, rip ${hex(rip)}`;
      raiseFault(task, faultInfo(signal, r.code, addr), detail, vector, mb.u64(MailboxOffset.errorCode), addr);
    } else {
      const signal = VECTOR_SIGNALS[vector] ?? Signal.SIGSEGV;
      const what = VECTOR_NAMES[vector] ?? `exception ${vector}`;
      raiseFault(task, trapInfo(vector, signal, rip), `${what} at rip ${hex(rip)}`, vector, mb.u64(MailboxOffset.errorCode), null);
    }
    return this.returnToUser(task, ctx, false) ?? this.afterHandover(ctx, slot);
  }

  // ---- ending tasks and processes ----------------------------------------------------------------

  /** exit(2) of one thread; the process ends with its last thread. */
  exitTask(task: Task, exit: TaskExit): void {
    const group = task.group;
    if (exit.signal !== null && group.groupExit === null) {
      this.killGroup(group, { status: null, signal: exit.signal, core: CORE_SIGNALS.has(exit.signal), detail: exit.detail }, task);
      return;
    }
    this.endTask(task);
    if (group.tasks.size === 0) {
      this.groupExited(group, group.groupExit ?? { status: exit.status ?? 0, signal: null, core: false, detail: '' });
    }
  }

  /** exit_group(2), a fatal signal: every thread of the group ends; `current` is the caller, if any. */
  killGroup(group: ThreadGroup, exit: GroupExit, current: Task | null): void {
    if (group.exit !== null) return;
    group.groupExit ??= exit;
    endGroupStop(group);
    if (exit.signal !== null) log.info(`process ${group.pid} killed by ${signalName(exit.signal)}: ${exit.detail}`);
    for (const t of [...group.tasks]) if (t !== current) this.endTask(t);
    if (current !== null && group.tasks.has(current)) this.endTask(current);
    if (group.tasks.size === 0) this.groupExited(group, group.groupExit);
  }

  /** exec: every thread of the caller's process but the caller ends. */
  endOtherThreads(task: Task): void {
    for (const t of [...task.group.tasks]) if (t !== task) this.endTask(t);
  }

  /** Takes one task out of the kernel: its context is freed, its tid released, clear_child_tid woken. */
  private endTask(task: Task): void {
    if (!task.group.tasks.delete(task)) return;
    task.mm.tasks--;
    task.group.lastUid = task.uid;
    task.group.exitedUserNs += task.userNs + (task.runningSince !== 0n ? process.hrtime.bigint() - task.runningSince : 0n);
    task.group.exitedSystemNs += task.systemNs;
    task.runningSince = 0n;
    this.tasks.delete(task.tid);
    for (const tell of [...task.exitListeners]) tell();
    task.exitListeners.clear();
    releaseSignals(task);
    task.timers.cancelAll();
    if (task.exit === null) task.exit = { status: 0, signal: null };
    this.futexes.forget(task);
    if (task.clearChildTid !== 0 && this.sharedBy(task.mm) > 0) {
      // Linux's mm_release: zero the tid word and wake one waiter (pthread_join).
      task.mm.copyOut(task.clearChildTid, new Uint8Array(4));
      this.futexes.wakeAddress(task.mm, task.clearChildTid, 1);
    }
    const ctx = task.ctx;
    task.ctx = null;
    task.parked = null;
    task.setCompletionHook(() => {});
    if (ctx !== null) this.releaseContext(ctx, task.group);
    // One thread fewer to wait for: a stop of its process may be complete now.
    if (task.group.stopSignal !== 0) checkGroupStopped(this, task.group);
  }

  /** The context's task is gone: park it on the idle root (or stop it, if its guest code is running). */
  private releaseContext(ctx: Context, group: ThreadGroup): void {
    const slot = this.slots.get(ctx)!;
    slot.task = null;
    if (this.finished || !ctx.atStub) {
      this.platform.stop(ctx);
      return;
    }
    // The last thread of a process leaves its root for the idle one; a thread with siblings keeps it.
    if (group.tasks.size === 0 && this.sharedBy(group.mm) <= 1) {
      this.lastContext.set(group, ctx);
      ctx.queue.switchRoot(this.idle.tables.root);
      slot.loaded = this.idle;
    }
    this.parkRegisters(ctx);
    // The handler in progress (if this is the calling task's context) answers it; else wake it here.
    if (!ctx.handling) {
      this.finishBatch(ctx);
      this.platform.resume(ctx);
    }
  }

  /** Every thread of the process has ended: release what it held, become a zombie, tell the parent. */
  private groupExited(group: ThreadGroup, exit: GroupExit): void {
    if (group.exit !== null) return;
    group.exit = exit;
    for (const tell of [...group.exitListeners]) tell();
    group.exitListeners.clear();
    // A session leader's end hangs up its terminal's foreground group (Linux disassociate_ctty).
    if (group.pid === group.sid && group.tty !== null) detachSession(this, group);
    this.releaseResources(group);
    const vforkParent = group.vforkParent;
    group.vforkParent = null;
    if (vforkParent !== null) this.vforkDone(group, vforkParent);
    // Orphans go to the nearest subreaper above, else to init (Linux's find_new_reaper).
    if (group !== this.init) {
      for (const child of group.children) this.reparent(child, group);
    }
    group.children.clear();
    if (group === this.init) {
      this.initExit = exit.signal === null
        ? { status: exit.status!, signal: null }
        : { status: null, signal: exit.signal, detail: exit.detail };
      this.killEveryone();
      return;
    }
    const parent = group.parent;
    if (parent !== null && parent.exit === null && group.exitSignal !== 0) {
      // Linux do_notify_parent: the exit signal (SIGCHLD for fork) with how the child ended.
      const code = exit.signal === null ? CLD_EXITED : exit.core ? CLD_DUMPED : CLD_KILLED;
      sendToProcess(parent, childInfo(group.exitSignal, code, group.pid, group.lastUid, exit.signal ?? exit.status!));
    }
    if (parent === null || parent.exit !== null || this.reapsAutomatically(parent, group)) {
      this.reap(group);
    }
    parent?.notifyChildWaiters();
  }

  private releaseResources(group: ThreadGroup): void {
    if (this.unshare(group.fds) === 0) group.fds.closeAll();
    if (this.unshare(group.fs) === 0) group.fs.release();
    this.dropAddressSpace(group.mm, this.lastContext.get(group) ?? null);
    this.lastContext.delete(group);
  }

  /** A thread group stopped using mm; the last one out hands it over for retiring. */
  dropAddressSpace(mm: AddressSpace, via: Context | null): void {
    if (this.unshare(mm) > 0) return;
    mm.dropAreas();
    this.sites.delete(mm);
    this.stats.pageTableUpdates += mm.tables.updates;
    // Retired only once no context can have it loaded: from the batch after the switch away.
    const dying: Dying = { mm, phase: 0, waiting: 0 };
    for (const [other, s] of this.slots) {
      if (s.task !== null || s.loaded !== mm || other === via || other.stopped) continue;
      other.queue.switchRoot(this.idle.tables.root);
      s.loaded = this.idle;
      s.switching = dying;
      dying.waiting++;
      const free = this.freeContexts.indexOf(other);
      if (free >= 0) {
        this.freeContexts.splice(free, 1);
        this.finishBatch(other);
        this.platform.resume(other);
      }
    }
    const slot = via !== null ? this.slots.get(via) : undefined;
    if (slot !== undefined) slot.dying.push(dying);
    else this.orphans.push(dying);
  }

  private reparent(child: ThreadGroup, dead: ThreadGroup): void {
    let reaper: ThreadGroup | null = dead.parent;
    while (reaper !== null && !reaper.subreaper) reaper = reaper.parent;
    reaper = reaper !== null && reaper.exit === null ? reaper : this.init;
    child.parent = reaper;
    // The new parent hears SIGCHLD, whatever the old one asked for (Linux reparent_leader).
    child.exitSignal = Signal.SIGCHLD;
    if (child.parentDeathSignal !== 0) sendToProcess(child, senderInfo(child.parentDeathSignal, SI_USER, dead.pid, 0));
    if (reaper === null || reaper.exit !== null) {
      if (child.zombie) this.reap(child);
      return;
    }
    reaper.children.add(child);
    if (child.zombie) reaper.notifyChildWaiters();
  }

  /** SIGCHLD ignored (SIG_IGN or SA_NOCLDWAIT): the child is not left as a zombie. */
  private reapsAutomatically(parent: ThreadGroup, child: ThreadGroup): boolean {
    if (child.exitSignal !== Signal.SIGCHLD) return false;
    const action = parent.signals.action(Signal.SIGCHLD);
    return action.handler === SIG_IGN || (action.flags & SA_NOCLDWAIT) !== 0;
  }

  /** wait(2) collected it, or nobody will: the pid is free again. */
  reap(group: ThreadGroup): void {
    if (group.reaped) return;
    group.reaped = true;
    group.parent?.children.delete(group);
    this.groups.delete(group.pid);
    this.options.procfs?.unregister(group.pid);
  }

  /** The vfork child exec'd or exited: its parent runs again, with the child's pid as clone's result. */
  vforkDone(child: ThreadGroup, parent: Task): void {
    parent.complete(child.pid);
  }

  private killEveryone(): void {
    for (const g of [...this.groups.values()]) {
      if (g.exit === null) this.killGroup(g, { status: null, signal: Signal.SIGKILL, core: false, detail: 'init exited' }, null);
    }
    this.shutdown();
  }

  private shutdown(): void {
    if (this.finished) return;
    this.finished = true;
    for (const ctx of this.slots.keys()) if (!ctx.handling) this.platform.stop(ctx);
    this.freeContexts.length = 0;
    this.futexes.clear();
    // No guest runs any more: what is left of the address spaces goes back without scrubbing.
    const dying = [...this.orphans.splice(0), ...[...this.slots.values()].flatMap((s) => s.dying.splice(0))];
    for (const d of dying) {
      d.mm.tables.queue = null;
      d.mm.release();
    }
    this.idle.release();
  }

  // ---- address spaces and call sites -------------------------------------------------------------

  /** The rewritten call sites of the task's address space (null until a site of it has trapped). */
  syscallSitesOf(task: Task): SyscallSites | null {
    return this.sites.get(task.mm) ?? null;
  }

  /** fork: the child's copy of the rewritten sites (its trampolines are copies too). */
  forkSites(parent: AddressSpace, child: AddressSpace): void {
    const s = this.sites.get(parent);
    if (s !== undefined) this.sites.set(child, s.fork(child));
  }

  /** exec replaced the task's address space: its context switches to the new root at the next return. */
  replaceAddressSpace(task: Task, mm: AddressSpace, regs: RegisterFile): void {
    const old = task.group.mm;
    const ctx = task.ctx!;
    task.group.mm = mm;
    old.tasks--;
    mm.tasks++;
    this.share(mm);
    mm.tables.queue = ctx.queue;
    ctx.queue.switchRoot(mm.tables.root);
    this.slots.get(ctx)!.loaded = mm;
    task.fsBase = 0;
    task.startRegs = regs;
    this.dropAddressSpace(old, ctx);
  }

  private patchSite(task: Task, ret: number, nr: number): void {
    let sites = this.sites.get(task.mm);
    if (sites === undefined) {
      sites = new SyscallSites(task.mm);
      this.sites.set(task.mm, sites);
    }
    const before = sites.patched;
    sites.consider(ret, nr);
    this.stats.syscallSitesPatched += sites.patched - before;
  }

  /** Ends the batch of page-table writes that ctx replays next, and moves dying address spaces on. */
  private finishBatch(ctx: Context): void {
    const slot = this.slots.get(ctx);
    slot?.task?.mm.tables.endBatch();
    if (slot === undefined) return;
    if (this.orphans.length > 0) {
      for (const d of this.orphans.splice(0)) {
        d.phase = Math.max(1, d.phase);
        slot.dying.push(d);
      }
    }
    for (let i = slot.dying.length - 1; i >= 0; i--) {
      const d = slot.dying[i]!;
      if (d.phase === 0 || d.waiting > 0) {
        if (d.waiting === 0) d.phase = 1;
        continue;
      }
      d.mm.tables.queue = ctx.queue;
      if (d.phase === 1) {
        d.mm.retire();
        d.phase = 2;
      }
      d.mm.tables.endBatch();
      if (!d.mm.tablesPending) {
        d.mm.tables.queue = null;
        slot.dying.splice(i, 1);
      }
    }
  }
}

/** The resource limits that bound a process's address space (RLIMIT_DATA, STACK, AS). */
export function memoryLimits(group: ThreadGroup): MemoryLimits {
  return {
    data: () => group.rlimits[2]![0], stack: () => group.rlimits[3]![0], addressSpace: () => group.rlimits[9]![0],
  };
}

/** The register file of a program's first instruction: everything zero but rip, rsp and rflags. */
export function entryRegisters(entry: number, sp: number): RegisterFile {
  const regs = newRegisterFile();
  setRegister(regs, Reg.rip, entry);
  setRegister(regs, Reg.rsp, sp);
  setRegister(regs, Reg.rflags, USER_RFLAGS);
  return regs;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
