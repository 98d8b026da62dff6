// Signal state, as Linux keeps it (kernel/signal.c) and split the way gVisor splits it:
//   ProcessSignals  what the threads of a process share: the dispositions table (sighand), the
//                   process-wide pending set (shared_pending), the ITIMER_REAL timer
//   ThreadSignals   what one thread owns: its mask, its own pending set, its alternate stack, the mask
//                   to restore after sigsuspend
// Both are plain state plus the decisions that need nothing else: which signal comes next, what a
// default action is, whether a new signal is ignored at once. Delivery (frames, registers, the vCPU)
// is in signal-delivery.ts.
import { EINVAL, ENOMEM, EPERM, type Errno } from '../abi/errno.js';
import {
  ALL_SIGNALS, MINSIGSTKSZ, NSIG, SA_KNOWN, Signal, SIG_DFL, SIG_IGN, SIGRTMIN, sigBit, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, UNBLOCKABLE,
} from '../abi/signal.js';
import type { SigAction, SigStack } from '../abi/sigframe.js';
import { infoSigno, type SigInfo } from '../abi/siginfo.js';
import { WaitQueue } from '../fs/wait.js';
import type { CpuIntervalTimer, IntervalTimer } from './itimer.js';
import type { PosixTimer } from './posix-timers.js';

export const enum DefaultAction {
  Terminate,
  /** Terminate "with core": the status says so; no core file is written (RLIMIT_CORE is 0). */
  Core,
  Ignore,
  Stop,
  Continue,
}

const CORE = [Signal.SIGQUIT, Signal.SIGILL, Signal.SIGTRAP, Signal.SIGABRT, Signal.SIGBUS, Signal.SIGFPE,
  Signal.SIGSEGV, Signal.SIGXCPU, Signal.SIGXFSZ, Signal.SIGSYS];
const IGNORE = [Signal.SIGCHLD, Signal.SIGURG, Signal.SIGWINCH];
const STOP = [Signal.SIGSTOP, Signal.SIGTSTP, Signal.SIGTTIN, Signal.SIGTTOU];

/** What SIG_DFL does with each signal (signal(7)). */
export function defaultAction(signo: number): DefaultAction {
  if ((CORE as readonly number[]).includes(signo)) return DefaultAction.Core;
  if ((IGNORE as readonly number[]).includes(signo)) return DefaultAction.Ignore;
  if ((STOP as readonly number[]).includes(signo)) return DefaultAction.Stop;
  if (signo === Signal.SIGCONT) return DefaultAction.Continue;
  return DefaultAction.Terminate;
}

/** Faults: dequeued before any other pending signal (Linux SYNCHRONOUS_MASK). */
const SYNCHRONOUS = sigBit(Signal.SIGSEGV) | sigBit(Signal.SIGBUS) | sigBit(Signal.SIGILL) | sigBit(Signal.SIGTRAP) |
  sigBit(Signal.SIGFPE) | sigBit(Signal.SIGSYS);

/** A queued signal: its siginfo, and for reports a description of where it came from. */
export interface QueuedSignal {
  info: SigInfo;
  detail: string;
  /** Called as it is taken off its queue (a POSIX timer's signal fills in its overrun count then). */
  onDequeue?: () => void;
}

/** A set of pending signals with their siginfo: one of each standard signal, a queue of each real-time one. */
export class PendingSignals {
  /** Bit n-1 set while signal n is pending. */
  set = 0n;
  private readonly queues = new Map<number, QueuedSignal[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds a signal; false when a standard signal of that number is already pending (they coalesce). */
  enqueue(q: QueuedSignal): boolean {
    const signo = infoSigno(q.info);
    const list = this.queues.get(signo);
    if (list !== undefined && signo < SIGRTMIN) return false;
    if (list === undefined) this.queues.set(signo, [q]);
    else list.push(q);
    this.set |= sigBit(signo);
    this.count++;
    return true;
  }

  /** Takes the first queued instance of signo, or null. */
  dequeue(signo: number): QueuedSignal | null {
    const list = this.queues.get(signo);
    if (list === undefined) return null;
    const q = list.shift()!;
    this.count--;
    if (list.length === 0) {
      this.queues.delete(signo);
      this.set &= ~sigBit(signo);
    }
    q.onDequeue?.();
    return q;
  }

  contains(q: QueuedSignal): boolean {
    return this.queues.get(infoSigno(q.info))?.includes(q) ?? false;
  }

  /** Drops every instance of the signals in mask. */
  flush(mask: bigint): void {
    for (const signo of [...this.queues.keys()]) {
      if ((mask & sigBit(signo)) === 0n) continue;
      this.count -= this.queues.get(signo)!.length;
      this.queues.delete(signo);
      this.set &= ~sigBit(signo);
    }
  }
}

/** The lowest signal in set, faults first, or 0 (Linux next_signal). */
export function nextSignal(set: bigint): number {
  const sync = set & SYNCHRONOUS;
  const pick = sync !== 0n ? sync : set;
  if (pick === 0n) return 0;
  let signo = 1;
  let low = BigInt.asUintN(32, pick);
  let rest = pick;
  if (low === 0n) {
    rest = pick >> 32n;
    low = BigInt.asUintN(32, rest);
    signo = 33;
  }
  return signo + 31 - Math.clz32(Number(low & -low));
}

const DEFAULT_ACTION: SigAction = Object.freeze({ handler: SIG_DFL, flags: 0, restorer: 0, mask: 0n });
const IGNORE_ACTION: SigAction = Object.freeze({ handler: SIG_IGN, flags: 0, restorer: 0, mask: 0n });

/** Per process: what each signal does, the pending set all threads share, and the real-time interval timer. */
export class ProcessSignals {
  /** Dispositions by signal number (index 0 unused); one array for processes cloned with CLONE_SIGHAND. */
  private actions: SigAction[];
  readonly pending = new PendingSignals();
  /** The threads that can take a process-directed signal. */
  readonly threads = new Set<ThreadSignals>();
  /** ITIMER_REAL (setitimer, alarm), ITIMER_VIRTUAL and ITIMER_PROF, each made at first use. */
  realTimer: IntervalTimer | null = null;
  virtualTimer: CpuIntervalTimer | null = null;
  profTimer: CpuIntervalTimer | null = null;
  /** POSIX timers (timer_create), by id; deleted at exec and exit. */
  readonly posixTimers = new Map<number, PosixTimer>();
  /** The id the next timer_create hands out (they are not reused, as on Linux). */
  nextTimerId = 0;
  /** Notified whenever a signal is queued for the process or one of its threads: signalfd readers wait here. */
  readonly queued = new WaitQueue();

  constructor(actions: SigAction[] = Array.from({ length: NSIG + 1 }, () => DEFAULT_ACTION)) {
    this.actions = actions;
  }

  /** A new process's: the same dispositions (the very table with CLONE_SIGHAND), nothing pending. */
  fork(shareHandlers: boolean): ProcessSignals {
    return new ProcessSignals(shareHandlers ? this.actions : [...this.actions]);
  }

  /** exec: caught signals go back to SIG_DFL, ignored ones stay ignored; a shared table is left to the others. */
  resetForExec(): void {
    this.deleteTimers();
    this.actions = this.actions.map((a) => (a.handler === SIG_IGN ? IGNORE_ACTION : DEFAULT_ACTION));
  }

  action(signo: number): SigAction {
    return this.actions[signo]!;
  }

  /**
   * Sets a disposition (rt_sigaction; the caller checked signo): unknown flags are dropped, SIGKILL and
   * SIGSTOP leave the mask, and a signal now ignored is discarded wherever it is pending (POSIX 3.3.1.3).
   */
  setAction(signo: number, next: SigAction): void {
    this.actions[signo] = Object.freeze({ ...next, flags: (next.flags & SA_KNOWN) >>> 0, mask: next.mask & ~UNBLOCKABLE });
    if (this.ignores(signo)) {
      const bit = sigBit(signo);
      this.pending.flush(bit);
      for (const t of this.threads) t.pending.flush(bit);
    }
    this.changed();
  }

  /** SA_RESETHAND: back to SIG_DFL once the handler is entered (the flags stay, as on Linux). */
  resetHandler(signo: number): void {
    this.actions[signo] = Object.freeze({ ...this.actions[signo]!, handler: SIG_DFL });
  }

  /** Whether the disposition throws the signal away (SIG_IGN, or SIG_DFL whose action is to ignore). */
  ignores(signo: number): boolean {
    const h = this.actions[signo]!.handler;
    if (h === SIG_IGN) return true;
    if (h !== SIG_DFL) return false;
    const d = defaultAction(signo);
    // SIGCONT's work is done when it is sent (job-control.ts prepareSignal); with SIG_DFL nothing is left.
    return d === DefaultAction.Ignore || d === DefaultAction.Continue;
  }

  /** exec and exit: every POSIX timer goes. */
  deleteTimers(): void {
    for (const t of [...this.posixTimers.values()]) t.delete();
    this.posixTimers.clear();
  }

  /** Pending or masks changed: every thread works out again whether it has a signal to take. */
  changed(): void {
    for (const t of this.threads) t.recompute();
  }
}

/** After rt_sigreturn: the FPU/AVX state to load from the frame (already checked), on the way back. */
export interface FpuRestore {
  /** Guest address of the XSAVE (or FXSAVE) area. */
  area: number;
  /** Components to load from it, and components to reset to their initial state first. */
  loadMask: number;
  initMask: number;
  /** The frame has only the legacy region (no FP_XSTATE_MAGIC1/2): FXRSTOR. */
  legacyOnly: boolean;
}

/** Per thread: the mask, the thread's own pending signals, the alternate signal stack. */
export class ThreadSignals {
  /** Blocked signals (never SIGKILL or SIGSTOP). */
  mask = 0n;
  /** rt_sigtimedwait: the mask before the waited-for signals were unblocked for the wait (else 0). */
  realBlocked = 0n;
  /** sigsuspend (and the like): the mask to restore once a handler is set up; null if none. */
  savedMask: bigint | null = null;
  readonly pending = new PendingSignals();
  altStack: SigStack = { sp: 0, flags: SS_DISABLE, size: 0 };
  /** A pending signal is not blocked: the next return to the program must deliver it. Kept up to date. */
  deliverable = false;
  /** Set by rt_sigreturn, used up by the return to the program that follows. */
  fpuRestore: FpuRestore | null = null;
  /** The last fault that became a signal: what the frame's sigcontext reports (trapno, err, cr2). */
  trapNo = 0;
  errorCode = 0;
  cr2 = 0;

  constructor(readonly process: ProcessSignals) {
    process.threads.add(this);
  }

  setMask(mask: bigint): void {
    this.mask = mask & ~UNBLOCKABLE & ALL_SIGNALS;
    this.recompute();
  }

  recompute(): void {
    this.deliverable = ((this.pending.set | this.process.pending.set) & ~this.mask) !== 0n;
  }

  /** The next signal to deliver to this thread, taken off its queue; null when none is unblocked. */
  take(): QueuedSignal | null {
    const own = this.pending.set & ~this.mask;
    const shared = this.process.pending.set & ~this.mask;
    let q: QueuedSignal | null = null;
    // The thread's own signals first, as Linux's dequeue_signal: its faults come before anything else.
    const mine = nextSignal(own);
    if (mine !== 0) q = this.pending.dequeue(mine);
    else {
      const theirs = nextSignal(shared);
      if (theirs !== 0) q = this.process.pending.dequeue(theirs);
    }
    this.process.changed();
    return q;
  }

  /**
   * sigaltstack(2) (Linux do_sigaltstack) at stack pointer sp: the current stack as the call reports it,
   * then the new one if given. EPERM while running on the alternate stack, EINVAL for unknown flags,
   * ENOMEM below MINSIGSTKSZ.
   */
  setAltStack(next: SigStack | null, sp: number): { old: SigStack; error: Errno | null } {
    const cur = this.altStack;
    const old = { sp: cur.sp, size: cur.size, flags: this.altStackFlags(sp) | (cur.flags & SS_AUTODISARM) };
    if (next === null) return { old, error: null };
    if (this.onAltStack(sp)) return { old, error: EPERM };
    const mode = next.flags & ~SS_AUTODISARM;
    if (mode !== SS_DISABLE && mode !== SS_ONSTACK && mode !== 0) return { old, error: EINVAL };
    if (cur.sp === next.sp && cur.size === next.size && cur.flags === next.flags) return { old, error: null };
    if (mode === SS_DISABLE) this.altStack = { sp: 0, size: 0, flags: next.flags };
    else if (next.size < MINSIGSTKSZ) return { old, error: ENOMEM };
    else this.altStack = { ...next };
    return { old, error: null };
  }

  /** SS_AUTODISARM: the alternate stack is forgotten once a handler starts on it. */
  disarmAltStack(): void {
    this.altStack = { sp: 0, flags: SS_DISABLE, size: 0 };
  }

  /** Linux __on_sig_stack: sp in (ss_sp, ss_sp + ss_size], whatever the flags (the overflow check). */
  withinAltStack(sp: number): boolean {
    const s = this.altStack;
    return sp > s.sp && sp - s.sp <= s.size;
  }

  /** rt_sigtimedwait: the next pending signal of `set`, blocked or not, taken off its queue; or null. */
  takeFrom(set: bigint): QueuedSignal | null {
    const mine = nextSignal(this.pending.set & set);
    const q = mine !== 0 ? this.pending.dequeue(mine) : this.process.pending.dequeue(nextSignal(this.process.pending.set & set));
    if (q !== null) this.process.changed();
    return q;
  }

  /** Signals pending for this thread or its process and blocked (rt_sigpending). */
  blockedPending(): bigint {
    return (this.pending.set | this.process.pending.set) & this.mask;
  }

  /** sigaltstack's ss_flags for a stack pointer: SS_DISABLE, SS_ONSTACK (sp on it) or 0. */
  altStackFlags(sp: number): number {
    if (this.altStack.size === 0) return SS_DISABLE;
    return this.onAltStack(sp) ? SS_ONSTACK : 0;
  }

  /** Linux on_sig_stack: sp in (ss_sp, ss_sp + ss_size]; never while SS_AUTODISARM is in force. */
  onAltStack(sp: number): boolean {
    const s = this.altStack;
    if ((s.flags & SS_AUTODISARM) !== 0) return false;
    return sp > s.sp && sp - s.sp <= s.size;
  }

  /** The thread has exited; with the last one the process's timers go. */
  release(): void {
    this.process.threads.delete(this);
    if (this.process.threads.size === 0) {
      this.process.realTimer?.cancel();
      this.process.virtualTimer?.cancel();
      this.process.profTimer?.cancel();
      this.process.deleteTimers();
    }
  }
}
