// What signal delivery needs of the vCPU context a task runs on: the guest stub's signal hops, the
// shape of the FPU/AVX state, and a way to interrupt the program when a signal comes while it
// computes without syscalls (the platform injects an interrupt; the event is a delivery point).
import { MailboxOffset } from '../platform/mailbox.js';
import type { Context, KvmPlatform } from '../platform/platform.js';
import type { Task } from './task.js';

export interface SignalMachine {
  enter: number;
  leave: number;
  restore: number;
  restoreFx: number;
  /** The stub's XSAVE image of the initial state. */
  fpuInit: number;
  /** XCR0, the size of its XSAVE area, the MXCSR bits the CPU accepts. */
  features: number;
  xsaveSize: number;
  mxcsrMask: number;
  platform: KvmPlatform;
  /** A pending retry of an interrupt the program could not take yet (it was inside the stub). */
  retry: NodeJS.Timeout | null;
}

/**
 * How long an interrupt request may wait before it is made again: the program was on its way back
 * from a syscall when it came, and that return had already looked for signals.
 */
const RETRY_MS = 2;

const machines = new WeakMap<Context, SignalMachine>();

/** Records the hops and FPU shape of a context before its task first runs. */
export function bindSignalMachine(ctx: Context, platform: KvmPlatform): void {
  const fpu = platform.extendedState(ctx);
  machines.set(ctx, {
    enter: platform.stubEntry(ctx, 'sig_enter'), leave: platform.stubEntry(ctx, 'sig_leave'),
    restore: platform.stubEntry(ctx, 'sig_restore'), restoreFx: platform.stubEntry(ctx, 'sig_restore_fx'),
    fpuInit: platform.stubEntry(ctx, 'fpu_init'), features: fpu.features >>> 0, xsaveSize: fpu.size, mxcsrMask: fpu.mxcsrMask >>> 0,
    platform, retry: null,
  });
}

export function machineOf(ctx: Context): SignalMachine {
  const m = machines.get(ctx);
  if (m === undefined) throw new Error(`vCPU context ${ctx.id} has no signal machine (bindSignalMachine)`);
  return m;
}

/**
 * A signal is deliverable to a task that runs (not blocked, not in a syscall), or its process stops:
 * interrupt it, and ask again shortly while it still has reason to come back and still runs.
 */
export function requestInterrupt(task: Task): void {
  const ctx = task.ctx;
  const m = ctx === null ? undefined : machines.get(ctx);
  // Not runnable: the kernel is handling an event of the task (a signal it sends itself, a fault), whose
  // return delivers it.
  if (ctx === null || m === undefined || !ctx.runnable) return;
  m.platform.interrupt(ctx);
  if (m.retry !== null) return;
  const check = (): void => {
    m.retry = null;
    if (task.exit !== null || task.ctx !== ctx || task.blocked !== null || !task.needsInterrupt || !ctx.runnable) return;
    m.platform.interrupt(ctx);
    m.retry = setTimeout(check, RETRY_MS).unref();
  };
  m.retry = setTimeout(check, RETRY_MS).unref();
}

/** Nothing is left to deliver: an interrupt not yet taken is not needed any more. */
export function withdrawInterrupt(task: Task): void {
  task.ctx?.mailbox.set32(MailboxOffset.interrupt, 0);
}
