// Futexes: wait queues keyed by a word of guest memory (Linux kernel/futex/, gVisor's kernel/futex).
// A private futex is keyed by (address space, virtual address); a shared one by the guest-physical
// address of the word, so that processes mapping the same memory (MAP_SHARED, a file) meet there.
import { EAGAIN, EFAULT, EINVAL, ERESTART_RESTARTBLOCK, ERESTARTSYS, ETIMEDOUT, Errno } from '../abi/errno.js';
import type { AddressSpace } from '../mm/address-space.js';
import type { Task } from './task.js';
import type { Deadline } from './timers.js';

export const FUTEX_BITSET_MATCH_ANY = 0xffff_ffff;

interface FutexWaiter {
  task: Task;
  key: string;
  bitset: number;
  timer: Deadline | null;
}

export class Futexes {
  private readonly queues = new Map<string, FutexWaiter[]>();
  private readonly byTask = new Map<Task, FutexWaiter>();
  private readonly mmIds = new WeakMap<AddressSpace, number>();
  private nextMmId = 1;

  /** The key of the futex word at addr, or EFAULT/EINVAL. */
  key(mm: AddressSpace, addr: number, shared: boolean): string | Errno {
    if (addr % 4 !== 0) return EINVAL;
    if (!shared) {
      let id = this.mmIds.get(mm);
      if (id === undefined) {
        id = this.nextMmId++;
        this.mmIds.set(mm, id);
      }
      return `${id}:${addr}`;
    }
    let gpa = -1;
    const r = mm.forEachRange(addr, 4, false, (g) => {
      gpa = g;
    });
    if (r !== null || gpa < 0) return EFAULT;
    return `p:${gpa}`;
  }

  /** Reads the u32 at addr (EFAULT when it cannot be read). */
  load(mm: AddressSpace, addr: number): number | Errno {
    const word = new Uint8Array(4);
    if (mm.copyIn(addr, word) !== 4) return EFAULT;
    return (word[0]! | (word[1]! << 8) | (word[2]! << 16) | (word[3]! << 24)) >>> 0;
  }

  /**
   * FUTEX_WAIT: blocks the task while *addr == expected, until a wake or the deadline (ms from now;
   * null = none). Returns EAGAIN at once when the word differs. The result comes through task.complete.
   * A timed wait interrupted by a signal calls `onRestartBlock` (to set the task's restart_syscall).
   */
  wait(
    task: Task, key: string, addr: number, expected: number, bitset: number, timeoutMs: number | null,
    onRestartBlock: (() => void) | null = null,
  ): Errno | null {
    if (bitset === 0) return EINVAL;
    const value = this.load(task.mm, addr);
    if (value instanceof Errno) return value;
    if (value !== expected >>> 0) return EAGAIN;
    if (timeoutMs !== null && timeoutMs <= 0) return ETIMEDOUT;
    const waiter: FutexWaiter = { task, key, bitset, timer: null };
    this.enqueue(waiter);
    if (timeoutMs !== null) {
      waiter.timer = task.timers.after(BigInt(Math.ceil(timeoutMs * 1e6)), () => {
        waiter.timer = null;
        this.remove(waiter);
        task.complete(ETIMEDOUT);
      });
    }
    // Interrupted, an untimed wait restarts under SA_RESTART; a timed one gives EINTR to a handler and
    // otherwise goes on through restart_syscall.
    task.block(() => {
      if (timeoutMs === null) return ERESTARTSYS;
      onRestartBlock?.();
      return ERESTART_RESTARTBLOCK;
    }).waitOn({ cancel: () => this.remove(waiter) });
    return null;
  }

  /** FUTEX_WAKE: wakes up to n waiters on key whose bitset meets `bitset`; returns how many. */
  wake(key: string, n: number, bitset = FUTEX_BITSET_MATCH_ANY): number {
    const queue = this.queues.get(key);
    if (queue === undefined) return 0;
    let woken = 0;
    for (let i = 0; i < queue.length && woken < n;) {
      const w = queue[i]!;
      if ((w.bitset & bitset) === 0) {
        i++;
        continue;
      }
      queue.splice(i, 1);
      this.settle(w);
      woken++;
      w.task.complete(0);
    }
    if (queue.length === 0) this.queues.delete(key);
    return woken;
  }

  /** Wakes waiters of the private futex at addr of mm (clear_child_tid on thread exit). */
  wakeAddress(mm: AddressSpace, addr: number, n: number): void {
    const k = this.key(mm, addr, false);
    if (typeof k === 'string') this.wake(k, n);
    const s = this.key(mm, addr, true);
    if (typeof s === 'string') this.wake(s, n);
  }

  /** FUTEX_REQUEUE: wakes n on `from`, moves up to `move` more to `to`; returns woken + moved. */
  requeue(from: string, to: string, n: number, move: number): number {
    const woken = this.wake(from, n);
    const queue = this.queues.get(from);
    if (queue === undefined || move <= 0) return woken;
    const moving = queue.splice(0, move);
    if (queue.length === 0) this.queues.delete(from);
    for (const w of moving) {
      w.key = to;
      this.enqueue(w);
    }
    return woken + moving.length;
  }

  /** A task ended or was interrupted: it no longer waits anywhere. */
  forget(task: Task): void {
    const w = this.byTask.get(task);
    if (w !== undefined) this.remove(w);
  }

  clear(): void {
    for (const w of this.byTask.values()) w.timer?.cancel();
    this.byTask.clear();
    this.queues.clear();
  }

  private enqueue(w: FutexWaiter): void {
    let queue = this.queues.get(w.key);
    if (queue === undefined) {
      queue = [];
      this.queues.set(w.key, queue);
    }
    queue.push(w);
    this.byTask.set(w.task, w);
  }

  private remove(w: FutexWaiter): void {
    const queue = this.queues.get(w.key);
    if (queue !== undefined) {
      const i = queue.indexOf(w);
      if (i >= 0) queue.splice(i, 1);
      if (queue.length === 0) this.queues.delete(w.key);
    }
    this.settle(w);
  }

  private settle(w: FutexWaiter): void {
    w.timer?.cancel();
    w.timer = null;
    if (this.byTask.get(w.task) === w) this.byTask.delete(w.task);
  }
}
