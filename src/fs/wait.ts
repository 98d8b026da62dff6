// Wait queues: how a file that is not ready (an empty pipe, a held lock) tells a blocked task when to
// try again. fs may not use the kernel's Blocked; the syscall layer registers a callback here, returns
// Blocked, and the callback retries the operation and completes the task. A waiter can be taken back
// (a signal interrupted the wait): it leaves the queue at once.

/** A registered wait that can be taken back: a queue entry, a host fd watch, a retry timer. */
export interface Cancellable {
  cancel(): void;
}

export class Waiter implements Cancellable {
  constructor(
    private readonly queue: WaitQueue,
    readonly events: number,
    readonly callback: () => void,
  ) {}

  /** Leaves the queue; the callback will not run. */
  cancel(): void {
    this.queue.cancel(this);
  }
}

export class WaitQueue {
  private waiters: Waiter[] = [];

  /** Calls callback once, the next time any of events is signalled. Returns a handle for cancel. */
  add(events: number, callback: () => void): Waiter {
    const w = new Waiter(this, events, callback);
    this.waiters.push(w);
    return w;
  }

  cancel(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  get size(): number {
    return this.waiters.length;
  }

  /**
   * Wakes the waiters interested in any of events, in the order they came. Each is removed before it
   * runs, so a waiter that still cannot proceed registers again at the end of the queue.
   */
  notify(events: number): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => (w.events & events) !== 0);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => (w.events & events) === 0);
    for (const w of ready) w.callback();
  }
}
