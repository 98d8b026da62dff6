// futex(2): the waits and wakes glibc's locks, condition variables, once-initialisation and thread
// joins are built on (Linux kernel/futex/syscalls.c, waitwake.c, requeue.c). The queues are in
// src/kernel/futex.ts; a wait blocks only its task, with an optional deadline.
import { EAGAIN, EFAULT, EINVAL, ENOSYS, ETIMEDOUT, Errno } from '../abi/errno.js';
import { FutexQueues, type FutexWaiter, privateFutexes, sharedFutexes } from '../kernel/futex.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import { Blocked, type SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { USER_TOP } from '../platform/layout.js';
import { partial } from './define.js';
import { CLOCK_MONOTONIC, CLOCK_REALTIME, clockNowNs, readTimespec } from './time.js';

const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_REQUEUE = 3;
const FUTEX_CMP_REQUEUE = 4;
const FUTEX_WAKE_OP = 5;
const FUTEX_LOCK_PI = 6;
const FUTEX_UNLOCK_PI = 7;
const FUTEX_TRYLOCK_PI = 8;
const FUTEX_WAIT_BITSET = 9;
const FUTEX_WAKE_BITSET = 10;
const FUTEX_WAIT_REQUEUE_PI = 11;
const FUTEX_CMP_REQUEUE_PI = 12;
const FUTEX_LOCK_PI2 = 13;
const FUTEX_PRIVATE_FLAG = 128;
const FUTEX_CLOCK_REALTIME = 256;
const FUTEX_BITSET_MATCH_ANY = 0xffff_ffff;
/** setTimeout's longest delay; longer deadlines are reached in steps. */
const MAX_TIMER_MS = 0x7fff_ffff;

/** Where the futex word's queue is: the address space's private queues, or the sandbox's shared ones. */
interface FutexKey {
  queues: FutexQueues;
  key: number;
}

/**
 * get_futex_key: the word must be 4-byte aligned and in user space. A private futex is named by its
 * address without touching memory; a shared one by the guest-physical address of the word, unless
 * the memory is private anyway (then Linux, too, names it by address).
 */
function keyOf(task: Task, uaddr: number, shared: boolean): FutexKey | Errno {
  if (uaddr % 4 !== 0) return EINVAL;
  if (!Number.isSafeInteger(uaddr) || uaddr < 0 || uaddr + 4 > USER_TOP) return EFAULT;
  if (shared) {
    const vma = task.mm.vmas.find(uaddr);
    if (vma === undefined) return EFAULT;
    if (vma.shared) {
      // Fault the page in (a read), then name the word by where it lives.
      if (readWord(task, uaddr) instanceof Errno) return EFAULT;
      const gpa = task.mm.tables.translate(uaddr);
      if (gpa < 0) return EFAULT;
      return { queues: sharedFutexes(task.mm.allocator), key: gpa };
    }
  }
  return { queues: privateFutexes(task.mm), key: uaddr };
}

function readWord(task: Task, uaddr: number): number | Errno {
  const word = new Uint8Array(4);
  if (task.mm.copyIn(uaddr, word) !== 4) return EFAULT;
  return (word[0]! | (word[1]! << 8) | (word[2]! << 16) | (word[3]! << 24)) >>> 0;
}

/** Runs fn at a monotonic deadline of any length; returns a function that cancels it. */
function atDeadline(deadlineNs: bigint, fn: () => void): () => void {
  let timer: NodeJS.Timeout | null = null;
  const arm = (): void => {
    const left = deadlineNs - clockNowNs(CLOCK_MONOTONIC);
    if (left <= 0n) {
      timer = null;
      fn();
      return;
    }
    timer = setTimeout(arm, Math.min(MAX_TIMER_MS, Number((left + 999_999n) / 1_000_000n)));
  };
  arm();
  return () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
}

/**
 * FUTEX_WAIT / FUTEX_WAIT_BITSET: if the word still holds val, sleep until a wake whose bitset meets
 * ours, or the deadline (monotonic ns; null for none).
 */
function wait(task: Task, uaddr: number, shared: boolean, val: number, bitset: number, deadlineNs: bigint | null): number | Errno | Blocked {
  const k = keyOf(task, uaddr, shared);
  if (k instanceof Errno) return k;
  const current = readWord(task, uaddr);
  if (current instanceof Errno) return current;
  if (current !== val) return EAGAIN;
  if (deadlineNs !== null && deadlineNs <= clockNowNs(CLOCK_MONOTONIC)) return ETIMEDOUT;
  let cancelTimer: (() => void) | null = null;
  const waiter: FutexWaiter = k.queues.add(k.key, bitset, () => {
    cancelTimer?.();
    task.complete(0);
  });
  if (deadlineNs !== null) {
    cancelTimer = atDeadline(deadlineNs, () => {
      if (FutexQueues.remove(waiter)) task.complete(ETIMEDOUT);
    });
  }
  return Blocked.instance;
}

/** The timeout of a wait: FUTEX_WAIT's is relative, FUTEX_WAIT_BITSET's absolute on its clock. */
function deadline(task: Task, va: number, absolute: boolean, realtime: boolean): bigint | null | Errno {
  if (va === 0) return null;
  const ts = readTimespec(task, va);
  if (ts instanceof Errno) return ts;
  const now = clockNowNs(CLOCK_MONOTONIC);
  if (!absolute) return now + ts;
  // An absolute CLOCK_REALTIME deadline becomes the monotonic instant it stands for now.
  return realtime ? now + (ts - clockNowNs(CLOCK_REALTIME)) : ts;
}

/** FUTEX_WAKE_OP's operation on the second word, and its comparison of the old value. */
function wakeOpValue(encoded: number, old: number): { next: number; wake2: boolean } | Errno {
  const op = (encoded >>> 28) & 7;
  const shiftArg = (encoded >>> 28) & 8;
  const cmp = (encoded >>> 24) & 15;
  let oparg = (encoded << 8) >> 20; // sign-extended 12 bits
  const cmparg = (encoded << 20) >> 20;
  if (shiftArg !== 0) {
    if (oparg < 0 || oparg > 31) oparg &= 31; // Linux warns and masks
    oparg = (1 << oparg) | 0;
  }
  let next: number;
  switch (op) {
    case 0: next = oparg; break; // FUTEX_OP_SET
    case 1: next = old + oparg; break; // ADD
    case 2: next = old | oparg; break; // OR
    case 3: next = old & ~oparg; break; // ANDN
    case 4: next = old ^ oparg; break; // XOR
    default: return ENOSYS;
  }
  const o = old | 0;
  let wake2: boolean;
  switch (cmp) {
    case 0: wake2 = o === cmparg; break;
    case 1: wake2 = o !== cmparg; break;
    case 2: wake2 = o < cmparg; break;
    case 3: wake2 = o <= cmparg; break;
    case 4: wake2 = o > cmparg; break;
    case 5: wake2 = o >= cmparg; break;
    default: return ENOSYS;
  }
  return { next: next >>> 0, wake2 };
}

function wakeOp(task: Task, a: SyscallArgs, shared: boolean): number | Errno {
  const k1 = keyOf(task, a.ptr(0), shared);
  if (k1 instanceof Errno) return k1;
  const uaddr2 = a.ptr(4);
  const k2 = keyOf(task, uaddr2, shared);
  if (k2 instanceof Errno) return k2;
  const old = readWord(task, uaddr2);
  if (old instanceof Errno) return old;
  const r = wakeOpValue(a.uint(5), old);
  if (r instanceof Errno) return r;
  const word = new Uint8Array(4);
  new DataView(word.buffer).setUint32(0, r.next, true);
  if (task.mm.copyOut(uaddr2, word) !== 4) return EFAULT;
  let woken = k1.queues.wake(k1.key, FUTEX_BITSET_MATCH_ANY, a.int(2));
  // nr_wake2 travels in the timeout argument.
  if (r.wake2) woken += k2.queues.wake(k2.key, FUTEX_BITSET_MATCH_ANY, a.int(3));
  return woken;
}

function requeue(task: Task, a: SyscallArgs, shared: boolean, compare: boolean): number | Errno {
  const wakeMax = a.int(2);
  const requeueMax = a.int(3); // val2, in the timeout argument
  if (wakeMax < 0 || requeueMax < 0) return EINVAL;
  const from = keyOf(task, a.ptr(0), shared);
  if (from instanceof Errno) return from;
  const to = keyOf(task, a.ptr(4), shared);
  if (to instanceof Errno) return to;
  if (compare) {
    const current = readWord(task, a.ptr(0));
    if (current instanceof Errno) return current;
    if (current !== a.uint(5)) return EAGAIN;
  }
  if (from.queues === to.queues && from.key === to.key) return from.queues.wake(from.key, FUTEX_BITSET_MATCH_ANY, wakeMax);
  return from.queues.requeue(from.key, wakeMax, to.queues, to.key, requeueMax);
}

function futex(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const op = a.int(1);
  const cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  const shared = (op & FUTEX_PRIVATE_FLAG) === 0;
  const realtime = (op & FUTEX_CLOCK_REALTIME) !== 0;
  if (realtime && cmd !== FUTEX_WAIT_BITSET && cmd !== FUTEX_WAIT_REQUEUE_PI && cmd !== FUTEX_LOCK_PI2) return ENOSYS;
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const bitset = cmd === FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : a.uint(5);
      if (bitset === 0) return EINVAL;
      const when = deadline(task, a.ptr(3), cmd === FUTEX_WAIT_BITSET, realtime);
      if (when instanceof Errno) return when;
      return wait(task, a.ptr(0), shared, a.uint(2), bitset, when);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      const bitset = cmd === FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : a.uint(5);
      if (bitset === 0) return EINVAL;
      const k = keyOf(task, a.ptr(0), shared);
      if (k instanceof Errno) return k;
      return k.queues.wake(k.key, bitset, a.int(2));
    }
    case FUTEX_REQUEUE:
      return requeue(task, a, shared, false);
    case FUTEX_CMP_REQUEUE:
      return requeue(task, a, shared, true);
    case FUTEX_WAKE_OP:
      return wakeOp(task, a, shared);
    case FUTEX_LOCK_PI:
    case FUTEX_UNLOCK_PI:
    case FUTEX_TRYLOCK_PI:
    case FUTEX_WAIT_REQUEUE_PI:
    case FUTEX_CMP_REQUEUE_PI:
    case FUTEX_LOCK_PI2:
      return ENOSYS;
    default:
      return ENOSYS;
  }
}

export const futexSyscalls: SyscallEntry[] = [
  partial('futex', futex, 'WAIT, WAKE, their BITSET forms, REQUEUE, CMP_REQUEUE, WAKE_OP; the priority-inheritance operations give ENOSYS; a wait is not interrupted by signals yet', 'xiuxxu'),
];
