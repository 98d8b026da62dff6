// futex(2): wait and wake on a word of guest memory (gVisor's sys_futex.go), over src/kernel/futex.ts.
import { EAGAIN, EFAULT, EINVAL, ENOSYS, Errno } from '../abi/errno.js';
import {
  FUTEX_CLOCK_REALTIME, FUTEX_CMD_MASK, FUTEX_CMP_REQUEUE, FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_WAIT,
  FUTEX_WAIT_BITSET, FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP,
} from '../abi/sched.js';
import { FUTEX_BITSET_MATCH_ANY } from '../kernel/futex.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import { Blocked, type SyscallEntry, type SyscallResult } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial } from './define.js';
import { CLOCK_MONOTONIC, CLOCK_REALTIME } from '../kernel/timekeeper.js';
import { nowNs, readTimespec } from './time.js';

/** When a timed wait ends: an absolute time on one clock, as Linux keeps it (for the restart too). */
interface Deadline {
  readonly clock: number;
  readonly ns: bigint;
}

/** The timeout argument as a deadline (FUTEX_WAIT's is relative to now), null for none. */
function deadlineOf(task: Task, va: number, absolute: boolean, realtime: boolean): Deadline | null | Errno {
  if (va === 0) return null;
  const ns = readTimespec(task, va);
  if (ns instanceof Errno) return ns;
  const clock = realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC;
  if (absolute) return { clock, ns };
  const now = nowNs(task, clock);
  if (now instanceof Errno) return now;
  return { clock, ns: now + ns };
}

/**
 * FUTEX_WAIT and FUTEX_WAIT_BITSET. A timed wait interrupted by a signal that runs no handler goes on
 * through restart_syscall to the same deadline, with the key looked up and the word compared again
 * (Linux's futex_wait_restart).
 */
function waitUntil(
  task: Task, key: string, uaddr: number, shared: boolean, val: number, bitset: number, deadline: Deadline | null,
): number | Errno | Blocked {
  let ms: number | null = null;
  if (deadline !== null) {
    const now = nowNs(task, deadline.clock);
    if (now instanceof Errno) return now;
    ms = Number(deadline.ns - now) / 1e6;
  }
  const futexes = task.kernel.futexes;
  const restart = deadline === null ? null : () => {
    task.restartBlock = () => {
      const again = futexes.key(task.mm, uaddr, shared);
      return again instanceof Errno ? again : waitUntil(task, again, uaddr, shared, val, bitset, deadline);
    };
  };
  return futexes.wait(task, key, uaddr, val, bitset, ms, restart) ?? Blocked.instance;
}

/** FUTEX_WAKE_OP: the operation on *uaddr2 and the comparison of its old value (futex.h FUTEX_OP). */
function wakeOp(task: Task, uaddr2: number, encoded: number): boolean | Errno {
  const op = (encoded >>> 28) & 0xf;
  const cmp = (encoded >>> 24) & 0xf;
  let oparg = (encoded << 8) >> 20;
  const cmparg = (encoded << 20) >> 20;
  if ((op & 8) !== 0) oparg = 1 << (oparg & 31);
  const old = task.kernel.futexes.load(task.mm, uaddr2);
  if (old instanceof Errno) return old;
  let next: number;
  switch (op & 7) {
    case 0: next = oparg; break;
    case 1: next = old + oparg; break;
    case 2: next = old | oparg; break;
    case 3: next = old & ~oparg; break;
    case 4: next = old ^ oparg; break;
    default: return ENOSYS;
  }
  const bytes = new Uint8Array(new Uint32Array([next >>> 0]).buffer);
  if (task.mm.copyOut(uaddr2, bytes) !== 4) return EFAULT;
  const o = old | 0;
  switch (cmp) {
    case 0: return o === cmparg;
    case 1: return o !== cmparg;
    case 2: return o < cmparg;
    case 3: return o <= cmparg;
    case 4: return o > cmparg;
    case 5: return o >= cmparg;
    default: return ENOSYS;
  }
}

function futex(task: Task, a: SyscallArgs): SyscallResult {
  const uaddr = a.ptr(0);
  const opWord = a.int(1);
  const val = a.uint(2);
  const shared = (opWord & FUTEX_PRIVATE_FLAG) === 0;
  const realtime = (opWord & FUTEX_CLOCK_REALTIME) !== 0;
  const cmd = opWord & FUTEX_CMD_MASK;
  const futexes = task.kernel.futexes;
  if (realtime && cmd !== FUTEX_WAIT && cmd !== FUTEX_WAIT_BITSET) return ENOSYS;
  const key = futexes.key(task.mm, uaddr, shared);
  if (key instanceof Errno) return key;
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const bitset = cmd === FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : a.uint(5);
      const deadline = deadlineOf(task, a.ptr(3), cmd === FUTEX_WAIT_BITSET, realtime);
      if (deadline instanceof Errno) return deadline;
      return waitUntil(task, key, uaddr, shared, val, bitset, deadline);
    }
    case FUTEX_WAKE:
      return futexes.wake(key, val);
    case FUTEX_WAKE_BITSET: {
      const bitset = a.uint(5);
      return bitset === 0 ? EINVAL : futexes.wake(key, val, bitset);
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      const key2 = futexes.key(task.mm, a.ptr(4), shared);
      if (key2 instanceof Errno) return key2;
      if (cmd === FUTEX_CMP_REQUEUE) {
        const cur = futexes.load(task.mm, uaddr);
        if (cur instanceof Errno) return cur;
        if (cur !== a.uint(5)) return EAGAIN;
      }
      const move = a.ptr(3);
      if ((val | 0) < 0 || move > 0x7fff_ffff) return EINVAL;
      return futexes.requeue(key, key2, val, move);
    }
    case FUTEX_WAKE_OP: {
      const uaddr2 = a.ptr(4);
      const key2 = futexes.key(task.mm, uaddr2, shared);
      if (key2 instanceof Errno) return key2;
      const hit = wakeOp(task, uaddr2, a.uint(5));
      if (hit instanceof Errno) return hit;
      const woken = futexes.wake(key, val);
      return woken + (hit ? futexes.wake(key2, a.ptr(3) & 0x7fff_ffff) : 0);
    }
    default:
      // The priority-inheritance family (LOCK_PI, UNLOCK_PI, TRYLOCK_PI, *_REQUEUE_PI) and FUTEX_FD.
      return ENOSYS;
  }
}

export const futexSyscalls: SyscallEntry[] = [
  partial('futex', futex, 'WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET, WAKE_BITSET; the PI family returns ENOSYS', 'pixppx'),
];
