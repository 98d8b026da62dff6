// epoll_create(2), epoll_create1, epoll_ctl(2), epoll_wait(2), epoll_pwait, epoll_pwait2: the
// interest and ready lists are the file's (fs/epoll.ts); waiting is the kernel's (poll-wait.ts). The
// checks come in Linux's order (fs/eventpoll.c). An interrupted epoll_wait is EINTR whatever the
// handler's SA_RESTART, as on Linux.
import { EBADF, EFAULT, EINTR, EINVAL, EPERM, Errno } from '../abi/errno.js';
import { POLLIN } from '../abi/fcntl.js';
import { EPOLL_CLOEXEC, EPOLL_CTL_DEL, EPOLL_EVENT_SIZE, EpollFile } from '../fs/epoll.js';
import { blockUntilReady } from '../kernel/poll-wait.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { Blocked, SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { supported } from './define.js';
import { install } from './open.js';
import { restoreMask, swapMask } from './poll.js';
import { readTimespec } from './time.js';

/** Linux EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event). */
const EP_MAX_EVENTS = Math.floor(0x7fff_ffff / EPOLL_EVENT_SIZE);
const USER_TOP = 0x7fff_ffff_f000;
const NS_PER_MS = 1_000_000n;

function create(task: Task, flags: number): number | Errno {
  if ((flags & ~EPOLL_CLOEXEC) !== 0) return EINVAL;
  return install(task, new EpollFile(0), (flags & EPOLL_CLOEXEC) !== 0);
}

const eventBytes = new Uint8Array(EPOLL_EVENT_SIZE);
const eventView = new DataView(eventBytes.buffer);

function epollCtl(task: Task, a: SyscallArgs): number | Errno {
  const op = a.int(1);
  if (op !== EPOLL_CTL_DEL && task.mm.copyIn(a.ptr(3), eventBytes) !== EPOLL_EVENT_SIZE) return EFAULT;
  const ep = task.fds.get(a.int(0));
  if (ep instanceof Errno) return ep;
  const target = task.fds.get(a.int(2));
  if (target instanceof Errno) return target;
  if (!target.pollable) return EPERM;
  if (!(ep instanceof EpollFile) || ep === target) return EINVAL;
  const events = op === EPOLL_CTL_DEL ? 0 : eventView.getUint32(0, true);
  return ep.control(op, target, a.int(2), events, eventView.getUint32(4, true), eventView.getUint32(8, true)) ?? 0;
}

/** The most events one call reports. */
const MAX_PER_CALL = 1024;
/** The ready events of a call that does not wait; one that waits keeps a buffer of its own. */
const eventScratch = new Uint8Array(MAX_PER_CALL * EPOLL_EVENT_SIZE);
const eventScratchView = new DataView(eventScratch.buffer);

/**
 * epoll_wait and its forms: timeoutNs null waits for ever. finish restores a temporary mask (an
 * interrupted call leaves it to signal delivery).
 */
function wait(task: Task, epfd: number, eventsVa: number, max: number, timeoutNs: bigint | null,
  finish: (r: number | Errno) => number | Errno): number | Errno | Blocked {
  if (max <= 0 || max > EP_MAX_EVENTS) return finish(EINVAL);
  const bytes = max * EPOLL_EVENT_SIZE;
  if (eventsVa + bytes > USER_TOP) return finish(EFAULT);
  const ep = task.fds.get(epfd);
  if (ep instanceof Errno) return finish(EBADF);
  if (!(ep instanceof EpollFile)) return finish(EINVAL);
  // One call reports at most MAX_PER_CALL events (fewer than asked is allowed): a huge maxevents
  // cannot make the Sentry allocate much.
  const limit = Math.min(max, MAX_PER_CALL);
  let buf = eventScratch;
  let view = eventScratchView;
  const deliver = (n: number): number | Errno => {
    if (task.mm.copyOut(eventsVa, buf.subarray(0, n * EPOLL_EVENT_SIZE)) !== n * EPOLL_EVENT_SIZE) return EFAULT;
    return n;
  };
  const first = ep.collect(view, limit);
  if (first > 0) return finish(deliver(first));
  if (timeoutNs === 0n) return finish(0);
  // Waiting: this call's buffer must outlive the scratch.
  buf = new Uint8Array(limit * EPOLL_EVENT_SIZE);
  view = new DataView(buf.buffer);
  return blockUntilReady(task, (waits) => {
    const n = ep.collect(view, limit);
    if (n > 0) return deliver(n);
    if (waits !== null) waits.on(ep, POLLIN);
    return null;
  }, timeoutNs, finish, EINTR);
}

function epollWait(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const ms = a.int(3);
  return wait(task, a.int(0), a.ptr(1), a.int(2), ms < 0 ? null : BigInt(ms) * NS_PER_MS, (r) => r);
}

function epollPwait(task: Task, a: SyscallArgs, timeoutNs: bigint | null): number | Errno | Blocked {
  const swapped = swapMask(task, a.ptr(4), a.size(5));
  if (swapped instanceof Errno) return swapped;
  return wait(task, a.int(0), a.ptr(1), a.int(2), timeoutNs, (r) => {
    restoreMask(task, swapped, r === EINTR);
    return r;
  });
}

function epollPwait2(task: Task, a: SyscallArgs): number | Errno | Blocked {
  let timeoutNs: bigint | null = null;
  if (a.ptr(3) !== 0) {
    const t = readTimespec(task, a.ptr(3));
    if (t instanceof Errno) return t;
    timeoutNs = t;
  }
  return epollPwait(task, a, timeoutNs);
}

export const epollSyscalls: SyscallEntry[] = [
  supported('epoll_create', (t, a) => (a.int(0) <= 0 ? EINVAL : create(t, 0)), 'i'),
  supported('epoll_create1', (t, a) => create(t, a.int(0)), 'C'),
  supported('epoll_ctl', epollCtl, 'iEiY'),
  supported('epoll_wait', epollWait, 'iWii'),
  supported('epoll_pwait', (t, a) => epollPwait(t, a, a.int(3) < 0 ? null : BigInt(a.int(3)) * NS_PER_MS), 'iWiixz'),
  supported('epoll_pwait2', epollPwait2, 'iWitxz'),
];
