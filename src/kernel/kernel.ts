// The kernel: owns the tasks, turns each guest event into a syscall dispatch, a page-fault fill or a
// signal, delivers pending signals on the way back to the program, and reports how the program ended.
import { EIO, ENOSYS } from '../abi/errno.js';
import { faultInfo } from '../abi/siginfo.js';
import { Signal, signalCodeName, signalName } from '../abi/signal.js';
import { syscallNumber } from '../abi/syscall-names.js';
import { log, logOnce } from '../log/log.js';
import type { PageAllocator } from '../mm/physical.js';
import { EventKind, MailboxOffset, Reg } from '../platform/mailbox.js';
import { type Context, INTERRUPT_VECTOR, type KvmPlatform, Resume } from '../platform/platform.js';
import { deliverSignals, releaseSignals, signalWork } from './signal-delivery.js';
import { bindSignalMachine } from './signal-machine.js';
import { cancelBlocked, raiseFault, trapInfo } from './signal-send.js';
import { Blocked, RegistersRestored, type SyscallResult, type SyscallTable } from './syscall-table.js';
import { formatSyscallEnter, formatSyscallExit } from './strace.js';
import { SyscallSites } from './syscall-sites.js';
import type { Task, TaskExit } from './task.js';

export interface KernelOptions {
  strace: ((line: string) => void) | null;
  /** Rewrite trapped `mov $nr, %eax; syscall` sites to call the stub instead (exitless mode; default on). */
  patchSyscalls?: boolean;
}

export interface KernelStats {
  syscalls: number;
  faults: number;
  pageTableUpdates: number;
  /** Syscall sites rewritten to skip the trap (syscall-sites.ts). */
  syscallSitesPatched: number;
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

export class Kernel {
  private readonly tasks = new Map<Context, Task>();
  private firstExit: TaskExit | null = null;
  readonly stats: KernelStats = { syscalls: 0, faults: 0, pageTableUpdates: 0, syscallSitesPatched: 0 };

  constructor(
    readonly platform: KvmPlatform,
    readonly allocator: PageAllocator,
    private readonly table: SyscallTable,
    private readonly options: KernelOptions,
  ) {}

  addTask(task: Task): void {
    this.tasks.set(task.ctx, task);
    bindSignalMachine(task.ctx, this.platform);
    task.setCompletionHook((t) => {
      if (this.returnToUser(t, true) === Resume.Stop) this.platform.stop(t.ctx);
      else this.platform.resume(t.ctx);
    });
  }

  /** Runs until every task has exited; returns how the first one (the program) ended. */
  async run(): Promise<TaskExit> {
    for (const task of this.tasks.values()) task.mm.tables.queue = task.ctx.queue;
    // A task may wait for nothing but a signal (pause, a pipe it holds both ends of): the Sentry waits
    // with it, as the host would, rather than find its event loop empty and end.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    try {
      await this.platform.run((ctx, kind) => this.handleEvent(ctx, kind));
    } finally {
      clearInterval(keepAlive);
    }
    for (const task of this.tasks.values()) this.stats.pageTableUpdates += task.mm.tables.updates;
    return this.firstExit ?? { status: null, signal: Signal.SIGKILL, detail: 'no task exited' };
  }

  /** Ends every task with `signal`, as when the sandbox itself is told to stop. */
  killAll(signal: number, detail: string): void {
    for (const task of [...this.tasks.values()]) {
      this.exitTask(task, { status: null, signal, detail });
      this.platform.stop(task.ctx);
    }
  }

  private handleEvent(ctx: Context, kind: EventKind): Resume {
    const task = this.tasks.get(ctx);
    if (task === undefined) return Resume.Stop;
    switch (kind) {
      case EventKind.Syscall:
        return this.syscall(task);
      case EventKind.Fault:
        return this.fault(task);
      case EventKind.Interrupted:
        return Resume.Now;
      default: {
        const reason = ctx.mailbox.u64(MailboxOffset.exitReason);
        const what = kind === EventKind.StubFault
          ? `exception ${ctx.mailbox.u64(MailboxOffset.vector)} inside the guest stub at ${hex(ctx.mailbox.reg(Reg.rip))}`
          : `guest stopped unexpectedly (KVM exit reason ${reason})`;
        log.error(`sandbox failure: ${what}`);
        return this.exitTask(task, { status: null, signal: Signal.SIGKILL, detail: what });
      }
    }
  }

  private syscall(task: Task): Resume {
    const mb = task.ctx.mailbox;
    const nr = mb.reg(Reg.rax);
    const entry = nr < this.table.length ? this.table[nr] : undefined;
    this.stats.syscalls++;
    task.syscalls++;
    const strace = this.options.strace;
    if (strace !== null) strace(formatSyscallEnter(task, entry, nr));
    // Read before the handler runs: the site is where this call came from.
    const trappedAt = task.ctx.userEntry !== 0 && mb.get32(MailboxOffset.trapped) === 1 ? mb.reg(Reg.rip) : -1;
    let result: SyscallResult;
    if (entry?.handler === undefined) {
      const level = entry?.expected === true ? 'info' : 'warn';
      logOnce(level, `syscall-${nr}`, `unimplemented syscall ${entry?.name ?? nr} (${nr}) returns ${(entry?.errno ?? ENOSYS).name}`);
      result = entry?.errno ?? ENOSYS;
    } else {
      try {
        result = entry.handler(task, task.args);
      } catch (err) {
        log.error(`syscall ${entry.name} failed inside the Sentry: ${(err as Error).stack ?? String(err)}`);
        result = EIO;
      }
    }
    if (task.exit !== null) {
      if (strace !== null) strace(' = ?\n');
      return this.exitTask(task, task.exit);
    }
    if (task.syscallSites !== null && RESHAPING_SYSCALLS.has(nr) && task.syscallSites.verify()) {
      mb.set32(MailboxOffset.slowReturn, 1);
    }
    if (trappedAt >= 0 && this.options.patchSyscalls !== false) this.patchSite(task, trappedAt, nr);
    if (result instanceof Blocked) {
      // A signal already waiting interrupts the call before it sleeps (Linux: signal_pending()).
      if (!task.signals.deliverable || task.blocked === null) {
        if (strace !== null) strace(' <blocked>\n');
        return Resume.Later;
      }
      result = cancelBlocked(task);
    }
    if (result instanceof RegistersRestored) {
      if (strace !== null) strace(` = ${mb.regInt(Reg.rax)}\n`);
      return this.returnToUser(task, false);
    }
    mb.setReg(Reg.rax, typeof result === 'number' ? result : -result.code);
    if (strace !== null) strace(formatSyscallExit(result));
    return this.returnToUser(task, true);
  }

  /** The way back to the program: pending signals first (after a syscall, its restart code). */
  private returnToUser(task: Task, syscall: boolean): Resume {
    if (signalWork(task, syscall)) {
      const exit = deliverSignals(task, syscall, this.options.strace);
      if (exit !== null) return this.exitTask(task, exit);
    }
    this.finishBatch(task);
    return Resume.Now;
  }

  private fault(task: Task): Resume {
    const mb = task.ctx.mailbox;
    const vector = mb.u64(MailboxOffset.vector);
    const rip = mb.reg(Reg.rip);
    // Asked for by signal-send.ts when a signal came while the program computed: deliver it now.
    if (vector === INTERRUPT_VECTOR) return this.returnToUser(task, false);
    if (vector === 14) {
      const addr = mb.u64(MailboxOffset.faultAddr);
      const r = task.mm.handleFault(addr, mb.u64(MailboxOffset.errorCode));
      if (r.mapped) {
        this.stats.faults++;
        return this.returnToUser(task, false);
      }
      const signal = Signal[r.signal];
      if (signal === Signal.SIGKILL) {
        return this.exitTask(task, { status: null, signal, detail: `out of guest memory at address ${hex(addr)}, rip ${hex(rip)}` });
      }
      const detail = `${signalCodeName(signal, r.code)} at address ${hex(addr)}, rip ${hex(rip)}`;
      raiseFault(task, faultInfo(signal, r.code, addr), detail, vector, mb.u64(MailboxOffset.errorCode), addr);
      return this.returnToUser(task, false);
    }
    const signal = VECTOR_SIGNALS[vector] ?? Signal.SIGSEGV;
    const what = VECTOR_NAMES[vector] ?? `exception ${vector}`;
    raiseFault(task, trapInfo(vector, signal, rip), `${what} at rip ${hex(rip)}`, vector, mb.u64(MailboxOffset.errorCode), null);
    return this.returnToUser(task, false);
  }

  /** Ends the task: an exit, or a signal whose default action ends it. */
  private exitTask(task: Task, exit: TaskExit): Resume {
    task.exit = exit;
    releaseSignals(task);
    if (exit.signal !== null) log.info(`task ${task.id.tid} killed by ${signalName(exit.signal)}: ${exit.detail}`);
    this.firstExit ??= exit;
    this.tasks.delete(task.ctx);
    this.stats.pageTableUpdates += task.mm.tables.updates;
    task.mm.release();
    return Resume.Stop;
  }

  private patchSite(task: Task, ret: number, nr: number): void {
    const sites = task.syscallSites ??= new SyscallSites(task.mm, task.ctx.userEntry);
    const before = sites.patched;
    sites.consider(ret, nr);
    this.stats.syscallSitesPatched += sites.patched - before;
  }

  private finishBatch(task: Task): void {
    task.mm.tables.endBatch();
  }
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
