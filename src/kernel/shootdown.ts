// TLB shootdowns (Linux's flush_tlb_mm_range, gVisor's bounce of the vCPUs an address space is dirty
// on): once a change took something away from an address space (an entry unmapped, made read-only,
// pointed at another frame: mprotect, fork's copy-on-write, a copy-on-write break), no other vCPU that
// has it loaded may go on using what its TLB cached before. On PVM the shadow page tables are KVM's,
// and the caller's replay of the entry (before its own return) makes KVM flush every vCPU, so nothing
// more is needed. With nested paging (VMX, SVM) each vCPU's TLB is its own: every other context that
// has the address space loaded flushes its TLB on its next way back to user code, and the task that
// made the change waits until each of them that runs user code right now has been interrupted into
// the stub (its next event). With exits one vCPU runs at a time, so there the flush alone does.
import type { Context, KvmPlatform } from '../platform/platform.js';

/** How long an interrupt may go untaken before it is asked for again (it came while the vCPU was in the stub). */
const RETRY_MS = 2;

interface Wait {
  /** Contexts still running user code with the old translations. */
  readonly running: Set<Context>;
  readonly done: () => void;
}

export class Shootdowns {
  private readonly waits: Wait[] = [];
  private retry: NodeJS.Timeout | null = null;
  /** Whether the platform needs them at all. */
  readonly needed: boolean;

  constructor(private readonly platform: KvmPlatform) {
    this.needed = platform.flavour !== 'pvm';
  }

  /** Some wait is open: every event is checked against it. */
  get waiting(): boolean {
    return this.waits.length > 0;
  }

  /**
   * Flushes `others` (contexts with the changed address space loaded) and, if some of them run user
   * code now, interrupts them and calls `done` once each has stopped in the stub; false when there was
   * nothing to wait for (`done` is then not called).
   */
  start(others: readonly Context[], done: () => void): boolean {
    let running: Set<Context> | null = null;
    for (const ctx of others) {
      if (ctx.stopped) continue;
      ctx.queue.flushAll();
      // Not runnable: in the Sentry or parked, it passes the stub's replay before user code again.
      if (!this.platform.exitless || !ctx.runnable) continue;
      (running ??= new Set()).add(ctx);
      this.platform.interrupt(ctx);
    }
    if (running === null) return false;
    this.waits.push({ running, done });
    this.retry ??= setTimeout(() => this.again(), RETRY_MS);
    return true;
  }

  /** An event of ctx: it is in the stub, so it flushes before it runs user code again. */
  noteEvent(ctx: Context): void {
    this.settle((w) => w.running.delete(ctx));
  }

  /** The interrupts not taken yet, asked for again; contexts that stopped count as flushed. */
  private again(): void {
    this.retry = null;
    this.settle((w) => {
      for (const ctx of w.running) {
        if (ctx.stopped || !ctx.runnable) w.running.delete(ctx);
        else this.platform.interrupt(ctx);
      }
    });
    if (this.waits.length > 0) this.retry = setTimeout(() => this.again(), RETRY_MS);
  }

  private settle(update: (w: Wait) => void): void {
    for (let i = 0; i < this.waits.length;) {
      const w = this.waits[i]!;
      update(w);
      if (w.running.size > 0) {
        i++;
        continue;
      }
      this.waits.splice(i, 1);
      w.done();
    }
    if (this.waits.length === 0 && this.retry !== null) {
      clearTimeout(this.retry);
      this.retry = null;
    }
  }
}
