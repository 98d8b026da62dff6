// A blocked syscall that a signal can interrupt. The syscall registers what it waits on (a waiter
// from a file's wait queue, a timer) and what it returns if interrupted; whoever finishes the
// operation calls task.complete(), and a signal instead cancels the registration (the waiter leaves
// its queue, the timer is cleared) and completes the task with the interrupted result.
//
// The interrupted results are Linux's restart codes (ERESTARTSYS and the rest, in abi/errno.ts): on
// the way back to the program they become EINTR or a restart of the call, depending on the handler
// (signal-delivery.ts).
import type { Errno } from '../abi/errno.js';
import type { Cancellable } from '../fs/wait.js';

/** Something registered that can be taken back (a wait-queue entry, a timer): the one fs/wait.ts defines. */
export type { Cancellable };

export class BlockedCall {
  /** What the call waits on right now; a retrying call replaces it each time it waits again. */
  private waiting: Cancellable | null = null;
  /**
   * Set while the call tries its operation again: a signal that comes meanwhile (one the operation
   * raises itself, a pipe write's SIGPIPE) is delivered on the call's way back, or interrupts the wait
   * that follows, and does not cancel the attempt under way.
   */
  retrying = false;

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
    this.abandon();
    return this.interrupted();
  }

  /** The task ends: unregister, with no answer to give. */
  abandon(): void {
    const c = this.waiting;
    this.waiting = null;
    c?.cancel();
  }
}
