// A blocked syscall that a signal can interrupt. The syscall registers what it waits on (a waiter
// from a file's wait queue, a timer) and what it returns if interrupted; whoever finishes the
// operation calls task.complete(), and a signal instead cancels the registration (the waiter leaves
// its queue, the timer is cleared) and completes the task with the interrupted result.
//
// The interrupted results are Linux's restart codes (ERESTARTSYS and the rest, in abi/errno.ts): on
// the way back to the program they become EINTR or a restart of the call, depending on the handler
// (signal-delivery.ts).
import type { Errno } from '../abi/errno.js';

/** Something registered that can be taken back: a wait-queue entry, a timer. */
export interface Cancellable {
  cancel(): void;
}

export class BlockedCall {
  /** What the call waits on right now; a retrying call replaces it each time it waits again. */
  private waiting: Cancellable | null = null;

  constructor(
    /** The result if a signal interrupts the call: a restart code, or the progress made so far. */
    readonly interrupted: () => number | Errno,
  ) {}

  /** Registers what the call now waits on (null: nothing, the callback ran at once). */
  waitOn(c: Cancellable | null): void {
    this.waiting = c;
  }

  /** A signal: unregister, and say what the call returns. */
  cancel(): number | Errno {
    const c = this.waiting;
    this.waiting = null;
    c?.cancel();
    return this.interrupted();
  }
}

/** Node's timers take at most 2^31 - 1 ms (a longer one fires after 1 ms). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Fires once the host's CLOCK_MONOTONIC reaches deadlineNs, never before (a Node timer can fire up to
 * a millisecond early, against a loop time read before it was armed): for sleeps and deadlines.
 */
export function deadlineTimer(deadlineNs: bigint, fire: () => void): Cancellable {
  let handle: NodeJS.Timeout | null = null;
  const arm = (): void => {
    const left = deadlineNs - process.hrtime.bigint();
    if (left <= 0n && handle !== null) {
      handle = null;
      fire();
      return;
    }
    const ms = left <= 0n ? 0 : Number((left + 999_999n) / 1_000_000n);
    handle = setTimeout(arm, Math.min(ms, MAX_TIMEOUT_MS));
  };
  arm();
  return {
    cancel: () => {
      if (handle !== null) clearTimeout(handle);
      handle = null;
    },
  };
}
