// read(2), write(2), their positioned and vector forms. Data moves between the file and guest memory in
// place: each physically contiguous run of the buffer is handed to the file as a view, never copied.
// A file that is not ready (an empty pipe) answers EAGAIN; unless the description is O_NONBLOCK the
// task then waits on the file and the call completes when it can. A file that runs a read call itself
// (a terminal: VMIN and VTIME) answers beginRead, and the call waits as it says (readCall).
import { EAGAIN, EBADF, EFAULT, EINTR, EINVAL, EOPNOTSUPP, EPIPE, ERESTARTSYS, ESPIPE, Errno } from '../abi/errno.js';
import { senderInfo } from '../abi/siginfo.js';
import { SI_USER, Signal } from '../abi/signal.js';
import { O_NONBLOCK, POLLIN, POLLOUT } from '../abi/fcntl.js';
import { PIPE_BUF, PIPE_CAPACITY, PipeEnd } from '../fs/pipe.js';
import type { FileDescription, ReadCall } from '../fs/vfs.js';
import type { Cancellable } from '../fs/wait.js';
import { GuestRanges } from '../mm/guest-ranges.js';
import { cancelBlocked, interruptIfDeliverable, sendSignal } from '../kernel/signal-send.js';
import { UnixSocket } from '../net/unix-socket.js';
import { SignalFile } from '../kernel/signalfd.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import { Blocked, type SyscallEntry } from '../kernel/syscall-table.js';
import type { BlockedCall } from '../kernel/blocking.js';
import type { Task } from '../kernel/task.js';
import type { Deadline } from '../kernel/timers.js';
import { checkTerminalRead, checkTerminalWrite } from '../kernel/terminal-control.js';
import { supported } from './define.js';

/** Linux MAX_RW_COUNT: one call moves at most INT_MAX rounded down to a page. */
export const MAX_RW_COUNT = 0x7fff_f000;
/** UIO_MAXIOV. */
const MAX_IOV = 1024;
/** preadv2/pwritev2 flags (RWF_HIPRI, RWF_DSYNC, RWF_SYNC, RWF_NOWAIT, RWF_APPEND): hints we may ignore. */
const RWF_SUPPORTED = 0x1f;

/** Moves up to count bytes at va; at the file offset (pos null) or at pos. Stops at the first short run. */
export function transfer(task: Task, file: FileDescription, va: number, count: number, toGuest: boolean, pos: number | null): number | Errno {
  // One byte more than the value, so that the file can tell a buffer longer than it takes.
  if (file.wholeBufferBytes > 0) return transferWhole(task, file, va, Math.min(count, file.wholeBufferBytes + 1), toGuest, pos);
  if (toGuest ? file.readsRanges : file.writesRanges) return transferRanges(task, file, va, Math.min(count, MAX_RW_COUNT), toGuest, pos);
  let done = 0;
  let error: Errno | null = null;
  const fault = task.mm.forEachRange(va, Math.min(count, MAX_RW_COUNT), toGuest, (gpa, n) => {
    const view = task.mm.view(gpa, n);
    const r = pos === null
      ? (toGuest ? file.read(view) : file.write(view))
      : (toGuest ? file.pread(view, pos + done) : file.pwrite(view, pos + done));
    if (r instanceof Errno) {
      error = r;
      return false;
    }
    done += r;
    return r === n;
  });
  if (done > 0) return done;
  return error ?? fault ?? 0;
}

/** The runs of the buffer of the transfer under way (handlers run one at a time). */
const ranges = new GuestRanges();

/** A transfer as one host call per MAX_RANGES runs of the buffer, for files that take them all at once. */
function transferRanges(task: Task, file: FileDescription, va: number, count: number, toGuest: boolean, pos: number | null): number | Errno {
  let done = 0;
  while (done < count) {
    const fault = task.mm.gatherRanges(va + done, count - done, toGuest, ranges);
    if (ranges.count === 0) return done > 0 ? done : fault ?? 0;
    const at = pos === null ? null : pos + done;
    const r = toGuest ? file.readRanges(ranges, at) : file.writeRanges(ranges, at);
    if (r instanceof Errno) return done > 0 ? done : r;
    done += r;
    if (r < ranges.bytes || fault !== null) return done > 0 ? done : fault ?? 0;
  }
  return done;
}

/** Scratch for files whose values must not be split (eventfd, timerfd): one at a time, as handlers run. */
let bounce = new Uint8Array(8);

/** A transfer through a bounce buffer, for files that must see the whole value at once. */
function transferWhole(task: Task, file: FileDescription, va: number, count: number, toGuest: boolean, pos: number | null): number | Errno {
  if (bounce.length < count) bounce = new Uint8Array(count);
  const buf = bounce.subarray(0, count);
  if (!toGuest) {
    const got = task.mm.copyIn(va, buf);
    if (got instanceof Errno) return got;
    if (got < count) return EFAULT;
  }
  const r = pos === null ? (toGuest ? file.read(buf) : file.write(buf)) : (toGuest ? file.pread(buf, pos) : file.pwrite(buf, pos));
  if (r instanceof Errno || !toGuest) return r;
  const put = task.mm.copyOut(va, buf.subarray(0, r));
  return put === r ? r : EFAULT;
}

/**
 * Which file an attempt that answered EAGAIN waits on, and for what (when it is not always the same);
 * null: it does not wait, EAGAIN is the answer. It decides alone: the file's O_NONBLOCK is for it to
 * heed (untilReady does), as vmsplice does not.
 */
export type WaitTarget = () => readonly [FileDescription, number] | null;

/** A WaitTarget's answer for file and events: null (no wait) when the description is O_NONBLOCK. */
export function untilReady(file: FileDescription, events: number): readonly [FileDescription, number] | null {
  return (file.flags & O_NONBLOCK) !== 0 ? null : [file, events];
}

/**
 * Runs attempt; if the file is not ready (EAGAIN) and blocking, waits for events and tries again,
 * completing the task with the first other answer. attempt returns null to wait for more after
 * partial progress (a pipe write of more than fits). A signal ends the wait with `interrupted`
 * (ERESTARTSYS: read and write on pipes restart under SA_RESTART; a write that moved bytes returns
 * their count). target, if given, names the file and events to wait for after each EAGAIN (sendfile
 * and splice wait on their input or their output), or says not to wait; without it the task waits on
 * file for events unless file is O_NONBLOCK.
 */
export function blockingIo(task: Task, file: FileDescription, events: number, attempt: () => number | Errno | null,
  interrupted: () => number | Errno = () => ERESTARTSYS, target?: WaitTarget): number | Errno | Blocked {
  const first = attempt();
  // The common case, ready at once, allocates nothing more.
  if (first !== null && first !== EAGAIN) return first;
  return waitAndRetry(task, file, events, attempt, interrupted, target, first);
}

function waitAndRetry(task: Task, file: FileDescription, events: number, attempt: () => number | Errno | null,
  interrupted: () => number | Errno, target: WaitTarget | undefined, first: number | Errno | null): number | Errno | Blocked {
  // Without a target: an attempt that made progress (null) or a wait already begun goes on waiting.
  const where = (r: number | Errno | null, again: boolean): readonly [FileDescription, number] | null => {
    if (target !== undefined) return target();
    return r === null || again ? [file, events] : untilReady(file, events);
  };
  let call: BlockedCall | null = null;
  let timer: Cancellable | null = null;
  const retry = (): void => {
    const blocked = call!;
    blocked.retrying = true;
    const r = attempt();
    blocked.retrying = false;
    if (r !== null && r !== EAGAIN) {
      timer?.cancel();
      task.complete(r);
      return;
    }
    const w = where(r, true);
    if (w === null) {
      timer?.cancel();
      task.complete(EAGAIN);
      return;
    }
    blocked.waitOn(timed(w[0].waitFor(w[1], retry)));
    // A signal that came during the attempt interrupts the wait now.
    if (task.blocked === blocked) interruptIfDeliverable(task);
  };
  // A socket's SO_RCVTIMEO or SO_SNDTIMEO: the wait ends with what moved so far, or EAGAIN; a signal
  // then gives EINTR, never a restart (Linux's sock_intr_errno).
  const timeoutNs = file.waitTimeoutNs(events);
  const timed = (c: Cancellable | null): Cancellable | null => (timer === null ? c : {
    cancel: () => {
      c?.cancel();
      timer?.cancel();
    },
  });
  const blockOn = (registration: Cancellable | null): void => {
    if (timeoutNs > 0n) {
      call = task.block(() => {
        const r = interrupted();
        return r === ERESTARTSYS ? EINTR : r;
      });
      timer = task.timers.after(timeoutNs, () => {
        const r = cancelBlocked(task);
        task.complete(r === EINTR ? EAGAIN : r);
      });
    } else {
      call = task.block(interrupted);
    }
    call.waitOn(timed(registration));
  };
  for (let r = first; ; r = attempt()) {
    if (r !== null && r !== EAGAIN) return r;
    const w = where(r, false);
    if (w === null) return EAGAIN;
    const [f, ev] = w;
    // A file that is ready at once (a regular file after a short write) calls back before waitFor
    // returns: try again here, so that the task is never completed while its syscall is still running.
    let inline = true;
    let readyNow = false;
    const registration = f.waitFor(ev, () => {
      if (inline) readyNow = true;
      else retry();
    });
    inline = false;
    if (!readyNow) {
      blockOn(registration);
      return Blocked.instance;
    }
  }
}

/** A background process that uses its controlling terminal: SIGTTIN or SIGTTOU first (terminal-control.ts). */
function terminalJobControl(task: Task, file: FileDescription, write: boolean): Errno | null {
  const tty = file.terminal;
  if (tty === null) return null;
  return write ? checkTerminalWrite(task, tty) : checkTerminalRead(task, tty);
}

export function readAt(task: Task, fd: number, va: number, count: number, pos: number | null): number | Errno | Blocked {
  if (pos !== null && pos < 0) return EINVAL;
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  if (!file.readable) return EBADF;
  const denied = terminalJobControl(task, file, false);
  if (denied !== null) return denied;
  // A signalfd reads the reading thread's signals, whole records at a time.
  if (file instanceof SignalFile) return pos !== null ? ESPIPE : file.readFor(task, va, count);
  if (file instanceof UnixSocket) return pos !== null ? ESPIPE : socketRead(task, file, [[va, count]]);
  if (file instanceof PipeEnd && pos === null) return pipeRead(task, file, va, count, null);
  if (pos === null && file.runsReads) {
    const call = file.beginRead(guestSink(task, [[va, count]]).sink, Math.min(count, MAX_RW_COUNT));
    if (call !== null) return readCall(task, file, call);
  }
  return blockingIo(task, file, POLLIN, () => transfer(task, file, va, count, true, pos));
}

/**
 * A write that, unless the description is O_NONBLOCK, goes on until everything is written, as Linux's
 * blocking writes to pipes, terminals and sockets do (pipe(7)): after a short write the task waits
 * for room and writes the rest. A non-blocking write returns what fitted, or EAGAIN.
 */
export function writeAt(task: Task, fd: number, va: number, count: number, pos: number | null, sigpipe = true): number | Errno | Blocked {
  if (pos !== null && pos < 0) return EINVAL;
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  if (!file.writable) return EBADF;
  const denied = terminalJobControl(task, file, true);
  if (denied !== null) return denied;
  const total = Math.min(count, MAX_RW_COUNT);
  if (file instanceof PipeEnd) return pipeWrite(task, file, va, total);
  const first = withSigpipe(task, sigpipe && file.sigpipeOnEpipe(false), transfer(task, file, va, total, false, pos));
  // All written, a real error, or a non-blocking description: that is the answer.
  if (first === total || (first instanceof Errno && first !== EAGAIN) || (file.flags & O_NONBLOCK) !== 0) return first;
  // A short write (or EAGAIN: nothing fitted): wait for room and write the rest.
  if (first === 0) return 0;
  let done = typeof first === 'number' ? first : 0;
  return blockingIo(task, file, POLLOUT, () => {
    const r = withSigpipe(task, sigpipe && file.sigpipeOnEpipe(done > 0), transfer(task, file, va + done, total - done, false, pos === null ? null : pos + done));
    return afterPartialWrite(file, r, done, total, (n) => (done += n));
  }, () => (done > 0 ? done : ERESTARTSYS));
}

/**
 * The answer of one attempt of a blocking-until-done write that had written `done` of `total` bytes:
 * r is what this attempt wrote (add records it). null means "wait for room, then go on".
 */
function afterPartialWrite(file: FileDescription, r: number | Errno, done: number, total: number, add: (n: number) => void): number | Errno | null {
  if (r === EAGAIN) return done === 0 ? EAGAIN : (file.flags & O_NONBLOCK) !== 0 ? done : null;
  if (r instanceof Errno) return done > 0 ? done : r;
  add(r);
  if (done + r >= total || r === 0) return done + r;
  // A short write: room ran out (or an error is coming, which the next attempt reports).
  return (file.flags & O_NONBLOCK) !== 0 ? done + r : null;
}

/**
 * Writes to a pipe go through a bounce buffer: how much fits depends on the whole write's length
 * (Linux's page-slot rules), which the guest-memory runs alone do not tell. Blocking writes continue
 * as the reader makes room.
 */
function pipeWrite(task: Task, file: PipeEnd, va: number, total: number): number | Errno | Blocked {
  let done = 0;
  const nonblock = (file.flags & O_NONBLOCK) !== 0;
  return blockingIo(task, file, POLLOUT, () => {
    while (done < total) {
      const part = new Uint8Array(Math.min(total - done, PIPE_CAPACITY + PIPE_BUF));
      const got = task.mm.copyIn(va + done, part);
      if (got instanceof Errno) return done > 0 ? done : got;
      const r = file.writePart(part.subarray(0, got), total - done);
      if (r === EAGAIN) return done === 0 ? EAGAIN : nonblock ? done : null;
      // No reader: SIGPIPE even after part of the write went through (Linux pipe_write).
      if (r === EPIPE) sendSigpipe(task);
      if (r instanceof Errno) return done > 0 ? done : r;
      done += r;
      if (got < part.length) return done;
    }
    return done;
  }, () => (done > 0 ? done : ERESTARTSYS));
}

/** SIGPIPE to the writer, as the kernel sends it with EPIPE (from a pipe, or a host pipe or socket). */
export function sendSigpipe(task: Task): void {
  sendSignal(task, senderInfo(Signal.SIGPIPE, SI_USER, task.group.pid, task.uid), false);
}

/** A write's result: EPIPE comes with SIGPIPE. */
function withSigpipe<R extends number | Errno | Blocked>(task: Task, sigpipe: boolean, r: R): R {
  if (r === EPIPE && sigpipe) sendSigpipe(task);
  return r;
}

/**
 * A sink that copies what it is given into the iovecs, in order, across calls: how much it took (a
 * short count at a fault). bytes() is the total so far.
 */
export function guestSink(task: Task, iovs: ReadonlyArray<readonly [number, number]>): { sink: (chunk: Uint8Array) => number; bytes: () => number } {
  let i = 0;
  let off = 0;
  let total = 0;
  const sink = (chunk: Uint8Array): number => {
    let done = 0;
    while (done < chunk.length && i < iovs.length) {
      const [base, length] = iovs[i]!;
      const n = Math.min(length - off, chunk.length - done);
      if (n <= 0) {
        i++;
        off = 0;
        continue;
      }
      const w = task.mm.copyOut(base + off, chunk.subarray(done, done + n));
      const wrote = w instanceof Errno ? 0 : w;
      done += wrote;
      off += wrote;
      total += wrote;
      if (wrote < n) return done;
    }
    return done;
  };
  return { sink, bytes: () => total };
}

/** The total length of iovecs, capped at MAX_RW_COUNT. */
export function iovecsLength(iovs: ReadonlyArray<readonly [number, number]>): number {
  let total = 0;
  for (const [, length] of iovs) total = Math.min(total + length, MAX_RW_COUNT);
  return total;
}

/** read(2) and readv(2) of a socket: one receive, which may stop early (at files passed with the data, dropped here). */
function socketRead(task: Task, file: UnixSocket, iovs: ReadonlyArray<readonly [number, number]>): number | Errno | Blocked {
  const total = iovecsLength(iovs);
  return blockingIo(task, file, POLLIN, () => {
    const r = file.receive(guestSink(task, iovs).sink, total, false);
    if (r instanceof Errno) return r;
    for (const f of r.files ?? []) f.decRef();
    return r.bytes;
  });
}

/**
 * read(2) (va, count) or readv(2) (iovs) of a pipe. Each attempt asks whether the pipe may hold packets
 * (an end was in packet mode): then the whole call is one pipe read through a sink into guest memory
 * (Pipe.readPackets), so that a packet ends it wherever the buffer's pieces fall; otherwise the bytes
 * move piece by piece as for any file. The check is made again after a wait, since a writer may
 * turn packet mode on meanwhile.
 */
function pipeRead(task: Task, file: PipeEnd, va: number, count: number, iovs: ReadonlyArray<readonly [number, number]> | null): number | Errno | Blocked {
  const total = iovs === null ? Math.min(count, MAX_RW_COUNT) : iovecsLength(iovs);
  return blockingIo(task, file, POLLIN, () => {
    if (file.pipe.packetized) return file.pipe.readPackets(guestSink(task, iovs ?? [[va, total]]).sink, total);
    return iovs === null ? transfer(task, file, va, total, true, null) : readPieces(task, file, iovs);
  });
}

/** One attempt of a readv(2) at the file offset, iovec by iovec: what the iovecs took, up to the first short one. */
function readPieces(task: Task, file: FileDescription, iovs: ReadonlyArray<readonly [number, number]>): number | Errno {
  let done = 0;
  for (const [base, length] of iovs) {
    const len = Math.min(length, MAX_RW_COUNT - done);
    if (len <= 0) break;
    const r = transfer(task, file, base, len, true, null);
    if (r instanceof Errno) return done > 0 ? done : r;
    done += r;
    if (r < len) break;
  }
  return done;
}

/**
 * A read the file runs itself (ReadCall): tried at once, then after each wake-up and at its deadline
 * (VTIME), on the task's timers. O_NONBLOCK or a signal ends it with the bytes moved so far, or EAGAIN
 * or ERESTARTSYS (EINTR, or a restart under SA_RESTART, with a new call and a new timer), as n_tty_read.
 */
function readCall(task: Task, file: FileDescription, call: ReadCall): number | Errno | Blocked {
  const first = call.attempt();
  if (first !== EAGAIN) return first;
  if ((file.flags & O_NONBLOCK) !== 0) return call.moved > 0 ? call.moved : EAGAIN;
  const blocked = task.block(() => (call.moved > 0 ? call.moved : ERESTARTSYS));
  let waiter: Cancellable | null = null;
  let timer: Deadline | null = null;
  const stop = (): void => {
    waiter?.cancel();
    timer?.cancel();
    waiter = null;
    timer = null;
  };
  const registration: Cancellable = { cancel: stop };
  const wait = (): void => {
    waiter = call.waitFor(retry);
    const at = call.deadlineNs();
    if (at !== null) timer = task.timers.after(at - process.hrtime.bigint(), retry);
    blocked.waitOn(registration);
  };
  const retry = (): void => {
    stop();
    const r = call.attempt();
    if (r === EAGAIN) wait();
    else task.complete(r);
  };
  wait();
  return Blocked.instance;
}

/** The iovec array: [base, length] pairs, EINVAL if their sum overflows ssize_t. */
export function readIovecs(task: Task, va: number, count: number): Array<[number, number]> | Errno {
  if (count < 0 || count > MAX_IOV) return EINVAL;
  if (count === 0) return [];
  const raw = new Uint8Array(count * 16);
  if (task.mm.copyIn(va, raw) !== raw.length) return EFAULT;
  const view = new DataView(raw.buffer);
  const out: Array<[number, number]> = [];
  let total = 0n;
  for (let i = 0; i < count; i++) {
    const len = view.getBigUint64(i * 16 + 8, true);
    total += len;
    if (len > 0x7fff_ffff_ffff_ffffn || total > 0x7fff_ffff_ffff_ffffn) return EINVAL;
    out.push([Number(view.getBigUint64(i * 16, true)), Number(len)]);
  }
  return out;
}

function vectorAt(task: Task, fd: number, iovVa: number, iovcnt: number, toGuest: boolean, pos: number | null, flags = 0): number | Errno | Blocked {
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  if (toGuest ? !file.readable : !file.writable) return EBADF;
  if ((flags & ~RWF_SUPPORTED) !== 0) return EOPNOTSUPP;
  if (pos !== null && pos < 0) return EINVAL;
  const denied = terminalJobControl(task, file, !toGuest);
  if (denied !== null) return denied;
  const iovs = readIovecs(task, iovVa, iovcnt);
  if (iovs instanceof Errno) return iovs;
  if (toGuest && file instanceof UnixSocket) return pos !== null ? ESPIPE : socketRead(task, file, iovs);
  const total = iovecsLength(iovs);
  if (toGuest && pos === null && file instanceof PipeEnd) return pipeRead(task, file, 0, 0, iovs);
  if (toGuest && pos === null && file.runsReads) {
    const call = file.beginRead(guestSink(task, iovs).sink, total);
    if (call !== null) return readCall(task, file, call);
  }
  // Bytes moved by earlier attempts (a blocking write that waited for room), skipped on the next.
  let before = 0;
  const once = (): number | Errno => {
    let done = 0;
    let skip = before;
    for (const [base, length] of iovs) {
      if (skip >= length) {
        skip -= length;
        continue;
      }
      const len = Math.min(length - skip, MAX_RW_COUNT - before - done);
      if (len <= 0) break;
      const r = transfer(task, file, base + skip, len, toGuest, pos === null ? null : pos + before + done);
      skip = 0;
      if (r === EPIPE && !toGuest && file.sigpipeOnEpipe(before + done > 0)) sendSigpipe(task);
      if (r instanceof Errno) return done > 0 ? done : r;
      done += r;
      if (r < len) break;
    }
    return done;
  };
  if (toGuest) return blockingIo(task, file, POLLIN, once);
  return blockingIo(task, file, POLLOUT, () => afterPartialWrite(file, once(), before, total, (n) => (before += n)),
    () => (before > 0 ? before : ERESTARTSYS));
}

/** The offset of preadv/pwritev: pos_l carries all 64 bits on x86-64; preadv2's -1 means "the file offset". */
function vectorPos(a: SyscallArgs, allowCurrent: boolean): number | null {
  const pos = a.long(3);
  return allowCurrent && pos === -1 ? null : pos;
}

export const readWriteSyscalls: SyscallEntry[] = [
  supported('read', (t, a) => readAt(t, a.int(0), a.ptr(1), a.size(2), null), 'ibz'),
  supported('write', (t, a) => writeAt(t, a.int(0), a.ptr(1), a.size(2), null), 'iBz'),
  supported('pread64', (t, a) => readAt(t, a.int(0), a.ptr(1), a.size(2), a.long(3)), 'ibzl'),
  supported('pwrite64', (t, a) => writeAt(t, a.int(0), a.ptr(1), a.size(2), a.long(3)), 'iBzl'),
  supported('readv', (t, a) => vectorAt(t, a.int(0), a.ptr(1), a.int(2), true, null), 'iVi'),
  supported('writev', (t, a) => vectorAt(t, a.int(0), a.ptr(1), a.int(2), false, null), 'ivi'),
  supported('preadv', (t, a) => vectorAt(t, a.int(0), a.ptr(1), a.int(2), true, vectorPos(a, false)), 'iVil'),
  supported('pwritev', (t, a) => vectorAt(t, a.int(0), a.ptr(1), a.int(2), false, vectorPos(a, false)), 'ivil'),
  supported('preadv2', (t, a) => vectorAt(t, a.int(0), a.ptr(1), a.int(2), true, vectorPos(a, true), a.int(5)), 'iVilxx'),
  supported('pwritev2', (t, a) => vectorAt(t, a.int(0), a.ptr(1), a.int(2), false, vectorPos(a, true), a.int(5)), 'ivilxx'),
];
