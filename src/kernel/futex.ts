// Futex wait queues (Linux kernel/futex/): tasks waiting on a 32-bit word, keyed as get_futex_key does.
// A private futex (FUTEX_PRIVATE_FLAG, or any futex in private memory) is named by its address space
// and virtual address; a futex in shared memory by the guest-physical address of the word, so every
// mapping of the same page finds the same queue. Waking honours the bitsets of FUTEX_WAIT_BITSET.
import type { AddressSpace } from '../mm/address-space.js';
import type { PageAllocator } from '../mm/physical.js';

export interface FutexWaiter {
  key: number;
  bitset: number;
  /** Called once when a wake or requeue-wake picks this waiter (it is off the queue by then). */
  wake: () => void;
  /** The queues it is on now (a requeue may move it). */
  queues: FutexQueues;
}

export class FutexQueues {
  private readonly byKey = new Map<number, FutexWaiter[]>();

  add(key: number, bitset: number, wake: () => void): FutexWaiter {
    const w: FutexWaiter = { key, bitset, wake, queues: this };
    this.insert(w);
    return w;
  }

  /** Queues a waiter at the end of its key's queue. */
  private insert(w: FutexWaiter): void {
    w.queues = this;
    const list = this.byKey.get(w.key);
    if (list === undefined) this.byKey.set(w.key, [w]);
    else list.push(w);
  }

  /** Takes a waiter off whichever queue it is on (a timeout); false if a wake already took it. */
  static remove(w: FutexWaiter): boolean {
    return w.queues.take(w);
  }

  private take(w: FutexWaiter): boolean {
    const list = this.byKey.get(w.key);
    const i = list?.indexOf(w) ?? -1;
    if (list === undefined || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.byKey.delete(w.key);
    return true;
  }

  waiting(key: number): number {
    return this.byKey.get(key)?.length ?? 0;
  }

  /**
   * Wakes waiters on key whose bitset meets bitset, in arrival order. Like futex_wake, it stops once
   * `max` have woken, and a max of 0 or less still wakes one ("if (++ret >= nr_wake) break").
   */
  wake(key: number, bitset: number, max: number): number {
    const list = this.byKey.get(key);
    if (list === undefined) return 0;
    const woken: FutexWaiter[] = [];
    for (let i = 0; i < list.length;) {
      const w = list[i]!;
      if ((w.bitset & bitset) === 0) { i++; continue; }
      list.splice(i, 1);
      woken.push(w);
      if (woken.length >= max) break;
    }
    if (list.length === 0) this.byKey.delete(key);
    for (const w of woken) w.wake();
    return woken.length;
  }

  /**
   * FUTEX_REQUEUE: wakes up to wakeMax waiters on key, then moves up to requeueMax of the rest to
   * toKey of `to`. Returns woken + moved, as Linux does.
   */
  requeue(key: number, wakeMax: number, to: FutexQueues, toKey: number, requeueMax: number): number {
    const woken = this.wake(key, 0xffff_ffff, wakeMax);
    const list = this.byKey.get(key);
    if (list === undefined || requeueMax <= 0) return woken;
    const moved = list.splice(0, requeueMax);
    if (list.length === 0) this.byKey.delete(key);
    // The waiter objects move, so that a waiter's timeout still finds its own on the new queue.
    for (const w of moved) {
      w.key = toKey;
      to.insert(w);
    }
    return woken + moved.length;
  }
}

const privateQueues = new WeakMap<AddressSpace, FutexQueues>();
const sharedQueues = new WeakMap<PageAllocator, FutexQueues>();

/** The queues of private futexes of one address space (keyed by virtual address). */
export function privateFutexes(mm: AddressSpace): FutexQueues {
  let q = privateQueues.get(mm);
  if (q === undefined) privateQueues.set(mm, (q = new FutexQueues()));
  return q;
}

/** The queues of futexes in shared memory (keyed by guest-physical address), for the whole sandbox. */
export function sharedFutexes(allocator: PageAllocator): FutexQueues {
  let q = sharedQueues.get(allocator);
  if (q === undefined) sharedQueues.set(allocator, (q = new FutexQueues()));
  return q;
}
