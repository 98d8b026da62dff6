// Wait queues: how a file that is not ready (an empty pipe, a held lock) tells a blocked task when to
// try again. fs may not use the kernel's Blocked; the syscall layer registers a callback here, returns
// Blocked, and the callback retries the operation and completes the task. A waiter can be taken back
// (a signal interrupted the wait): it leaves the queue at once.
//
// Two kinds of entry: a Waiter is called once and leaves (a blocked read, one poll); a Subscription
// stays and is told of every notify until cancelled (an epoll interest, which must see each edge).

/** A registered wait that can be taken back: a queue entry, a host fd watch, a retry timer. */
export interface Cancellable {
  cancel(): void;
}

/**
 * A persistent interest in a file's readiness (epoll's interest list): told of changes until cancelled.
 * onChange gets the events that may have changed and answers whether it woke a waiter (for
 * EPOLLEXCLUSIVE: the queue stops at the first exclusive subscriber that did).
 */
export interface ReadinessSubscription extends Cancellable {
  /**
   * The subscriber looked and found the file not ready: a file whose notifications are one-shot
   * waits (the default, over waitFor) waits again now; a file with a queue of its own ignores it.
   */
  rearm(): void;
}

export type ReadinessListener = (events: number) => boolean;

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

class Subscription implements ReadinessSubscription {
  live = true;
  constructor(
    private readonly queue: WaitQueue,
    readonly events: number,
    readonly onChange: ReadinessListener,
    readonly exclusive: boolean,
  ) {}

  cancel(): void {
    if (!this.live) return;
    this.live = false;
    this.queue.unsubscribe(this);
  }

  rearm(): void {}
}

export class WaitQueue {
  private waiters: Waiter[] = [];
  private subscribers: Subscription[] = [];
  /** notify() is walking the subscribers: cancellations only mark them, and the walk compacts after. */
  private walking = 0;
  private deadSubscribers = false;

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

  /** Calls onChange at every notify of any of events, until the subscription is cancelled. */
  subscribe(events: number, onChange: ReadinessListener, exclusive = false): ReadinessSubscription {
    const s = new Subscription(this, events, onChange, exclusive);
    this.subscribers.push(s);
    return s;
  }

  unsubscribe(s: Subscription): void {
    if (this.walking > 0) {
      this.deadSubscribers = true;
      return;
    }
    const i = this.subscribers.indexOf(s);
    if (i >= 0) this.subscribers.splice(i, 1);
  }

  get size(): number {
    return this.waiters.length + this.subscribers.length;
  }

  /**
   * Wakes the waiters interested in any of events, in the order they came, and tells the
   * subscribers. Each waiter is removed before it runs, so a waiter that still cannot proceed
   * registers again at the end of the queue.
   */
  notify(events: number): void {
    if (this.subscribers.length > 0) this.tellSubscribers(events);
    const all = this.waiters;
    if (all.length === 0) return;
    let ready: Waiter[] | null = null;
    let kept = 0;
    for (let i = 0; i < all.length; i++) {
      const w = all[i]!;
      if ((w.events & events) !== 0) (ready ??= []).push(w);
      else all[kept++] = w;
    }
    if (ready === null) return;
    all.length = kept;
    for (const w of ready) w.callback();
  }

  private tellSubscribers(events: number): void {
    const subs = this.subscribers;
    const n = subs.length;
    let exclusiveWoken = false;
    this.walking++;
    try {
      for (let i = 0; i < n; i++) {
        const s = subs[i]!;
        if (!s.live || (s.events & events) === 0) continue;
        if (s.exclusive) {
          // EPOLLEXCLUSIVE: one exclusive subscriber that woke a waiter is enough.
          if (exclusiveWoken) continue;
          if (s.onChange(events & s.events)) exclusiveWoken = true;
        } else {
          s.onChange(events & s.events);
        }
      }
    } finally {
      this.walking--;
    }
    if (this.walking === 0 && this.deadSubscribers) {
      this.deadSubscribers = false;
      this.subscribers = this.subscribers.filter((s) => s.live);
    }
  }
}
