// poll(2), ppoll(2), select(2), pselect6(2): which of many files are ready, waiting until one is, the
// timeout passes or a signal comes (Linux fs/select.c). Each file answers readiness() (and waitFor()
// to be waited on); the waiting is the kernel's (poll-wait.ts). ppoll and pselect6 wait with a
// temporary signal mask, as sigsuspend does, and write back the time left; so does select.
import { EBADF, EFAULT, EINTR, EINVAL, ERESTART_RESTARTBLOCK, ERESTARTNOHAND, Errno } from '../abi/errno.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM } from '../abi/fcntl.js';
import { SIGSET_SIZE } from '../abi/signal.js';
import { blockUntilReady, type FileWaits } from '../kernel/poll-wait.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { Blocked, SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { supported } from './define.js';

const POLLFD_SIZE = 8;
const NS_PER_SEC = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;
const RLIMIT_NOFILE = 7;
/** The highest address a user buffer may reach (Linux TASK_SIZE_MAX, access_ok). */
const USER_TOP = 0x7fff_ffff_f000;

// ---- the temporary signal mask and the time left, shared with epoll_pwait ------------------------

const sigsetBytes = new Uint8Array(SIGSET_SIZE);
const sigsetView = new DataView(sigsetBytes.buffer);

/**
 * ppoll, pselect6, epoll_pwait: sets the mask to wait with (va 0: none). The old mask comes back with
 * restoreMask, or, when a signal interrupted the call, after the handler's frame saved it, as
 * sigsuspend's does (signal-delivery.ts restores savedMask).
 */
export function swapMask(task: Task, va: number, size: number): boolean | Errno {
  if (va === 0) return false;
  if (size !== SIGSET_SIZE) return EINVAL;
  if (task.mm.copyIn(va, sigsetBytes) !== SIGSET_SIZE) return EFAULT;
  const sig = task.signals;
  sig.savedMask = sig.mask;
  sig.setMask(sigsetView.getBigUint64(0, true));
  return true;
}

/** Linux restore_saved_sigmask_unless(interrupted): an interrupted call leaves it to signal delivery. */
export function restoreMask(task: Task, swapped: boolean, interrupted: boolean): void {
  if (!swapped || interrupted) return;
  const sig = task.signals;
  if (sig.savedMask === null) return;
  sig.setMask(sig.savedMask);
  sig.savedMask = null;
}

/** Now on the clock the waits run on (the host's monotonic clock, as the task's timers). */
function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

const timeBytes = new Uint8Array(16);
const timeView = new DataView(timeBytes.buffer);

/** A struct timespec (or, microseconds, a timeval) as nanoseconds; EINVAL when Linux's timespec64_valid fails. */
function readTimeout(task: Task, va: number, timeval: boolean): bigint | Errno {
  if (task.mm.copyIn(va, timeBytes) !== 16) return EFAULT;
  const sec = timeView.getBigInt64(0, true);
  const frac = timeView.getBigInt64(8, true);
  if (!timeval) {
    if (sec < 0n || frac < 0n || frac >= NS_PER_SEC) return EINVAL;
    return sec * NS_PER_SEC + frac;
  }
  // select folds whole seconds of tv_usec into tv_sec before checking (kern_select).
  const s = sec + frac / 1_000_000n;
  const ns = (frac % 1_000_000n) * 1000n;
  if (s < 0n || ns < 0n) return EINVAL;
  return s * NS_PER_SEC + ns;
}

/** The timeout an optional struct (null pointer: wait for ever) gives, and when it ends (null: never, or now). */
function optionalTimeout(task: Task, va: number, timeval: boolean): { timeoutNs: bigint | null; endNs: bigint | null } | Errno {
  if (va === 0) return { timeoutNs: null, endNs: null };
  const timeoutNs = readTimeout(task, va, timeval);
  if (timeoutNs instanceof Errno) return timeoutNs;
  return { timeoutNs, endNs: timeoutNs === 0n ? null : monotonicNs() + timeoutNs };
}

/**
 * Linux poll_select_finish: the time left written back (not for a zero timeout); if it cannot be
 * written, an interrupted call may not restart with the old value: EINTR.
 */
function writeTimeLeft(task: Task, va: number, endNs: bigint | null, timeval: boolean, r: number | Errno): number | Errno {
  if (va === 0 || endNs === null) return r;
  const left = endNs - monotonicNs();
  const ns = left > 0n ? left : 0n;
  timeView.setBigInt64(0, ns / NS_PER_SEC, true);
  timeView.setBigInt64(8, timeval ? (ns % NS_PER_SEC) / 1000n : ns % NS_PER_SEC, true);
  if (task.mm.copyOut(va, timeBytes) === 16) return r;
  return r === ERESTARTNOHAND ? EINTR : r;
}

// ---- poll ----------------------------------------------------------------------------------------

/** The pollfd array of the call that does not wait; a call that waits keeps a copy of its own. */
let pollScratch = new Uint8Array(64 * POLLFD_SIZE);
let pollScratchView = new DataView(pollScratch.buffer);

/** Fills in revents for every entry: the count of entries with any, or null for none. */
function pollScan(task: Task, fds: DataView, nfds: number, waits: FileWaits | null): number | null {
  let count = 0;
  for (let i = 0; i < nfds; i++) {
    const at = i * POLLFD_SIZE;
    const fd = fds.getInt32(at, true);
    let revents = 0;
    if (fd >= 0) {
      const file = task.fds.get(fd);
      if (file instanceof Errno) {
        revents = POLLNVAL;
      } else {
        const events = fds.getUint16(at + 4, true);
        revents = file.readiness() & (events | POLLERR | POLLHUP);
        if (revents === 0 && count === 0 && waits !== null) waits.on(file, events);
      }
    }
    fds.setUint16(at + 6, revents, true);
    if (revents !== 0) count++;
  }
  return count > 0 ? count : null;
}

/**
 * The shared part of poll and ppoll: timeoutNs null waits for ever. finish writes the time left and
 * restores the mask; the revents are written back on every return but the error ones, as Linux.
 */
function doPoll(task: Task, fdsVa: number, nfds: number, timeoutNs: bigint | null, interrupted: Errno,
  finish: (r: number | Errno) => number | Errno): number | Errno | Blocked {
  if (nfds > task.rlimits[RLIMIT_NOFILE]![0]) return finish(EINVAL);
  const bytes = nfds * POLLFD_SIZE;
  if (pollScratch.length < bytes) {
    pollScratch = new Uint8Array(bytes);
    pollScratchView = new DataView(pollScratch.buffer);
  }
  let buf = pollScratch.subarray(0, bytes);
  if (bytes > 0 && task.mm.copyIn(fdsVa, buf) !== bytes) return finish(EFAULT);
  let view = pollScratchView;
  const writeBack = (r: number | Errno): number | Errno => {
    if (r === EFAULT || r === EINVAL) return finish(r);
    if (bytes > 0 && task.mm.copyOut(fdsVa, buf) !== bytes) return finish(EFAULT);
    return finish(r);
  };
  const first = pollScan(task, view, nfds, null);
  if (first !== null || timeoutNs === 0n) return writeBack(first ?? 0);
  // Waiting: this call's array must outlive the scratch.
  buf = buf.slice();
  view = new DataView(buf.buffer);
  return blockUntilReady(task, (waits) => pollScan(task, view, nfds, waits), timeoutNs, writeBack, interrupted);
}

function poll(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const ms = a.int(2);
  if (ms < 0) return doPoll(task, a.ptr(0), a.uint(1), null, ERESTARTNOHAND, (r) => r);
  return pollUntil(task, a.ptr(0), a.uint(1), monotonicNs() + BigInt(ms) * NS_PER_MS);
}

/**
 * A timed poll: interrupted by a signal that runs no handler, it goes on through restart_syscall with
 * the time left, as Linux's do_restart_poll (an untimed one simply starts again).
 */
function pollUntil(task: Task, fdsVa: number, nfds: number, deadlineNs: bigint): number | Errno | Blocked {
  const left = deadlineNs - monotonicNs();
  return doPoll(task, fdsVa, nfds, left > 0n ? left : 0n, ERESTART_RESTARTBLOCK, (r) => {
    if (r === ERESTART_RESTARTBLOCK) task.restartBlock = () => pollUntil(task, fdsVa, nfds, deadlineNs);
    return r;
  });
}

function ppoll(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const tsVa = a.ptr(2);
  const timeout = optionalTimeout(task, tsVa, false);
  if (timeout instanceof Errno) return timeout;
  const { timeoutNs, endNs } = timeout;
  const swapped = swapMask(task, a.ptr(3), a.size(4));
  if (swapped instanceof Errno) return swapped;
  return doPoll(task, a.ptr(0), a.uint(1), timeoutNs, ERESTARTNOHAND, (r) => {
    restoreMask(task, swapped, r === ERESTARTNOHAND);
    return writeTimeLeft(task, tsVa, endNs, false, r);
  });
}

// ---- select --------------------------------------------------------------------------------------

/** Linux's POLLIN_SET, POLLOUT_SET and POLLEX_SET: which events make an fd ready for each set. */
const IN_SET = POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR;
const OUT_SET = POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR;
const EX_SET = POLLPRI;

/** One select call's fd sets: in, out, except as given (null: not given) and the results. */
class FdSets {
  readonly given: Array<Uint8Array | null> = [null, null, null];
  readonly result: Uint8Array[];

  constructor(readonly nfds: number, readonly bytes: number) {
    this.result = [new Uint8Array(bytes), new Uint8Array(bytes), new Uint8Array(bytes)];
  }

  wanted(set: number, fd: number): boolean {
    const g = this.given[set];
    return g !== null && g !== undefined && (g[fd >> 3]! & (1 << (fd & 7))) !== 0;
  }

  /** The result bits of every file ready now: their count, or null for none. */
  scan(task: Task, waits: FileWaits | null): number | null {
    for (const r of this.result) r.fill(0);
    let count = 0;
    for (let fd = 0; fd < this.nfds; fd++) {
      const wantIn = this.wanted(0, fd);
      const wantOut = this.wanted(1, fd);
      const wantEx = this.wanted(2, fd);
      if (!wantIn && !wantOut && !wantEx) continue;
      const file = task.fds.get(fd);
      if (file instanceof Errno) continue;
      const mask = file.readiness();
      const bit = 1 << (fd & 7);
      let ready = false;
      if (wantIn && (mask & IN_SET) !== 0) {
        this.result[0]![fd >> 3]! |= bit;
        count++;
        ready = true;
      }
      if (wantOut && (mask & OUT_SET) !== 0) {
        this.result[1]![fd >> 3]! |= bit;
        count++;
        ready = true;
      }
      if (wantEx && (mask & EX_SET) !== 0) {
        this.result[2]![fd >> 3]! |= bit;
        count++;
        ready = true;
      }
      if (!ready && count === 0 && waits !== null) waits.on(file, (wantIn ? POLLIN : 0) | (wantOut ? POLLOUT : 0) | (wantEx ? POLLPRI : 0));
    }
    return count > 0 ? count : null;
  }
}

/**
 * The fds select looks at: Linux clamps nfds to the size of the fd table, which starts at 64 and
 * grows in powers of two from 128 (expand_fdtable); bits beyond it are left alone.
 */
function fdTableSize(task: Task): number {
  const high = task.fds.highWater;
  if (high <= 64) return 64;
  let size = 128;
  while (size < high) size *= 2;
  return size;
}

function doSelect(task: Task, nfds: number, setVas: readonly [number, number, number], timeoutNs: bigint | null,
  finish: (r: number | Errno) => number | Errno): number | Errno | Blocked {
  if (nfds < 0) return finish(EINVAL);
  const n = Math.min(nfds, fdTableSize(task));
  const bytes = Math.ceil(n / 64) * 8;
  const sets = new FdSets(n, bytes);
  for (let s = 0; s < 3; s++) {
    if (setVas[s] === 0) continue;
    const g = new Uint8Array(bytes);
    if (bytes > 0 && task.mm.copyIn(setVas[s]!, g) !== bytes) return finish(EFAULT);
    sets.given[s] = g;
  }
  // Every fd named must be open (Linux max_select_fd).
  for (let fd = 0; fd < n; fd++) {
    if ((sets.wanted(0, fd) || sets.wanted(1, fd) || sets.wanted(2, fd)) && task.fds.get(fd) instanceof Errno) return finish(EBADF);
  }
  const writeBack = (r: number | Errno): number | Errno => {
    // An interrupted select leaves the sets as they were (core_sys_select's `goto out`).
    if (r instanceof Errno) return finish(r);
    for (let s = 0; s < 3; s++) {
      if (setVas[s] !== 0 && bytes > 0 && task.mm.copyOut(setVas[s]!, sets.result[s]!) !== bytes) return finish(EFAULT);
    }
    return finish(r);
  };
  const first = sets.scan(task, null);
  if (first !== null || timeoutNs === 0n) return writeBack(first ?? 0);
  return blockUntilReady(task, (waits) => sets.scan(task, waits), timeoutNs, writeBack, ERESTARTNOHAND);
}

function select(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const tvVa = a.ptr(4);
  const timeout = optionalTimeout(task, tvVa, true);
  if (timeout instanceof Errno) return timeout;
  const { timeoutNs, endNs } = timeout;
  return doSelect(task, a.int(0), [a.ptr(1), a.ptr(2), a.ptr(3)], timeoutNs, (r) => writeTimeLeft(task, tvVa, endNs, true, r));
}

/** pselect6's sixth argument: a pointer to { const sigset_t *ss; size_t ss_len; }. */
function pselect6(task: Task, a: SyscallArgs): number | Errno | Blocked {
  let maskVa = 0;
  let maskSize = 0;
  if (a.ptr(5) !== 0) {
    if (task.mm.copyIn(a.ptr(5), timeBytes) !== 16) return EFAULT;
    maskVa = Number(timeView.getBigUint64(0, true));
    maskSize = Number(timeView.getBigUint64(8, true));
    if (!Number.isSafeInteger(maskVa)) maskVa = USER_TOP;
  }
  const tsVa = a.ptr(4);
  const timeout = optionalTimeout(task, tsVa, false);
  if (timeout instanceof Errno) return timeout;
  const { timeoutNs, endNs } = timeout;
  const swapped = swapMask(task, maskVa, maskSize);
  if (swapped instanceof Errno) return swapped;
  return doSelect(task, a.int(0), [a.ptr(1), a.ptr(2), a.ptr(3)], timeoutNs, (r) => {
    restoreMask(task, swapped, r === ERESTARTNOHAND);
    return writeTimeLeft(task, tsVa, endNs, false, r);
  });
}

export const pollSyscalls: SyscallEntry[] = [
  supported('poll', poll, 'Qui'),
  supported('ppoll', ppoll, 'Qutxz'),
  supported('select', select, 'iXXXU'),
  supported('pselect6', pselect6, 'iXXXtp'),
];
