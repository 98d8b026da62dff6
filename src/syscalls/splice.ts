// splice(2), tee(2) and vmsplice(2): data into, out of and between pipes without passing through the
// program's memory (vmsplice: through it, copied). The pipe's pages are moved or filled as Linux lays
// them out (fs/pipe.ts: insert, spliceTo), so how much fits matches; a pipe that is empty or full
// waits through blockingIo (read-write.ts), on whichever side is not ready.
import { EAGAIN, EBADF, EFAULT, EINVAL, EPIPE, ESPIPE, Errno } from '../abi/errno.js';
import {
  O_APPEND, O_NONBLOCK, POLLIN, POLLOUT, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK, SEEK_CUR, SPLICE_F_ALL, SPLICE_F_NONBLOCK,
} from '../abi/fcntl.js';
import { type Pipe, PipeEnd } from '../fs/pipe.js';
import type { FileDescription } from '../fs/vfs.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { Blocked, SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial, supported } from './define.js';
import { blockingIo, guestSink, iovecsLength, MAX_RW_COUNT, readIovecs, sendSigpipe, untilReady, type WaitTarget } from './read-write.js';
import { copy, copyBlockedOn, readOffset, writeOffset } from './sendfile.js';

const PAGE = 4096;
/** File data goes into a pipe through this bounce buffer, this much at a time. */
const CHUNK = 64 * 1024;
let bounce: Uint8Array | null = null;

/** The side the last attempt found not ready (the one to wait on). */
let waitingOn: 'input' | 'output' = 'input';

/** What splice does with a file that is not a pipe. */
const enum Kind { Regular, Socket, Other, Unsupported }

function fileType(file: FileDescription): number {
  const st = file.stat();
  return st instanceof Errno ? 0 : st.mode & S_IFMT;
}

/**
 * Files without Linux's splice_read or splice_write (directories; eventfd, timerfd, signalfd, epoll and
 * other anonymous inodes, whose mode has no type) are EINVAL.
 */
function kindOf(file: FileDescription): Kind {
  const type = fileType(file);
  if (type === S_IFREG) return Kind.Regular;
  if (type === S_IFSOCK) return Kind.Socket;
  if (type === 0 || type === S_IFDIR) return Kind.Unsupported;
  return Kind.Other;
}

/** A pipe of the Sentry's, or (null) not one: a host pipe on stdio is a pipe too, read and written as a file. */
function sentryPipe(file: FileDescription): Pipe | null {
  return file instanceof PipeEnd ? file.pipe : null;
}

/** The Sentry's pipes, and host pipes (stdio), which have a host fd; no other file needs a stat to tell. */
function isPipe(file: FileDescription): boolean {
  return file instanceof PipeEnd || (file.hostFd >= 0 && fileType(file) === S_IFIFO);
}

/**
 * Waits on input for POLLIN or output for POLLOUT, whichever the last attempt found not ready; not at
 * all on a side that is non-blocking (SPLICE_F_NONBLOCK for the pipe side, its own O_NONBLOCK).
 */
function waitTarget(input: FileDescription, out: FileDescription, nonblockIn: boolean, nonblockOut: boolean): WaitTarget {
  return () => (waitingOn === 'input' ? (nonblockIn ? null : untilReady(input, POLLIN)) : (nonblockOut ? null : untilReady(out, POLLOUT)));
}

/**
 * Pipe to pipe, moving (splice) or duplicating (tee) its pages, as splice_pipe_to_pipe and link_pipe
 * after ipipe_prep and opipe_prep: an empty input with writers waits, a full output waits, an output
 * without readers is EPIPE with SIGPIPE, an empty input without writers is 0.
 */
function pipeToPipe(task: Task, input: PipeEnd, out: PipeEnd, count: number, nonblock: boolean, keep: boolean): number | Errno | Blocked {
  const ip = input.pipe;
  const op = out.pipe;
  const attempt = (): number | Errno => {
    waitingOn = 'input';
    if (ip.size === 0 && ip.writers > 0) return EAGAIN;
    waitingOn = 'output';
    if (op.readers === 0) {
      sendSigpipe(task);
      return EPIPE;
    }
    if (op.room === 0) return EAGAIN;
    if (ip.size === 0) return 0;
    return ip.spliceTo(op, count, keep);
  };
  return blockingIo(task, input, POLLIN, attempt, undefined, waitTarget(input, out, nonblock, nonblock));
}

// The file a pipe's pages are written to, where (null: its offset), and what went wrong.
let sinkFile: FileDescription | null = null;
let sinkPos: number | null = null;
let sinkDone = 0;
let sinkError: Errno | null = null;

/** Pipe.drain's sink for pipe to file: writes the chunk, and says how much went. */
function fileSink(chunk: Uint8Array): number {
  let taken = 0;
  while (taken < chunk.length) {
    const part = taken === 0 ? chunk : chunk.subarray(taken);
    const w = sinkPos === null ? sinkFile!.write(part) : sinkFile!.pwrite(part, sinkPos + sinkDone);
    if (w instanceof Errno) {
      sinkError = w;
      break;
    }
    if (w === 0) break;
    taken += w;
    sinkDone += w;
  }
  return taken;
}

/**
 * Pipe to file or socket (iter_file_splice_write, splice_to_socket): waits for data in the pipe, then
 * writes what is there, up to count. The output's own O_NONBLOCK says whether it waits for room.
 */
function pipeToFile(task: Task, input: PipeEnd, out: FileDescription, offVa: number, off: number | null, count: number,
  nonblock: boolean): number | Errno | Blocked {
  const ip = input.pipe;
  const attempt = (): number | Errno => {
    waitingOn = 'input';
    if (ip.size === 0) return ip.writers === 0 ? 0 : EAGAIN;
    sinkFile = out;
    sinkPos = off;
    sinkDone = 0;
    sinkError = null;
    const n = ip.drain(count, fileSink);
    sinkFile = null;
    if (n === 0 && sinkError !== null) {
      waitingOn = 'output';
      if (sinkError === EPIPE) sendSigpipe(task);
      return sinkError;
    }
    if (off !== null && writeOffset(task, offVa, off + n) !== null) return EFAULT;
    return n;
  };
  return blockingIo(task, input, POLLIN, attempt, undefined, waitTarget(input, out, nonblock, false));
}

/**
 * File or socket to pipe (splice_file_to_pipe): waits for a free page, then reads what the free pages
 * hold, up to count. A regular file's data is laid out by its pages, so from an offset within a page
 * the first holds less; others fill whole pages.
 */
function fileToPipe(task: Task, input: FileDescription, kind: Kind, offVa: number, off: number | null, out: PipeEnd, count: number,
  nonblock: boolean): number | Errno | Blocked {
  const op = out.pipe;
  const attempt = (): number | Errno => {
    waitingOn = 'output';
    if (op.readers === 0) {
      sendSigpipe(task);
      return EPIPE;
    }
    if (op.room === 0) return EAGAIN;
    let align = 0;
    if (kind === Kind.Regular) {
      const at = off ?? input.seek(0, SEEK_CUR);
      if (at instanceof Errno) return at;
      align = at % PAGE;
    }
    const want = Math.min(count, op.room * PAGE - align);
    bounce ??= new Uint8Array(CHUNK);
    waitingOn = 'input';
    let done = 0;
    while (done < want) {
      const buf = bounce.subarray(0, Math.min(CHUNK - ((align + done) % PAGE), want - done));
      const r = off === null ? input.read(buf) : input.pread(buf, off + done);
      if (r instanceof Errno) {
        if (done > 0) break;
        return r;
      }
      if (r === 0) break;
      op.insert(buf.subarray(0, r), align + done);
      done += r;
      if (r < buf.length) break;
    }
    if (off !== null && writeOffset(task, offVa, off + done) !== null) return EFAULT;
    return done;
  };
  return blockingIo(task, input, POLLIN, attempt, undefined, waitTarget(input, out, nonblock, nonblock));
}

/** A host pipe and a file, or two host pipes: read and write through sendfile's bounce buffer. */
function hostPipeCopy(task: Task, input: FileDescription, inOffVa: number, inOff: number | null, out: FileDescription, outOffVa: number,
  outOff: number | null, count: number, nonblock: boolean): number | Errno | Blocked {
  const inPipe = isPipe(input);
  const attempt = (): number | Errno => {
    const r = copy(input, inOff, out, outOff, count);
    waitingOn = copyBlockedOn();
    if (r === EPIPE) sendSigpipe(task);
    if (r instanceof Errno) return r;
    if (inOff !== null && writeOffset(task, inOffVa, inOff + r) !== null) return EFAULT;
    if (outOff !== null && writeOffset(task, outOffVa, outOff + r) !== null) return EFAULT;
    return r;
  };
  return blockingIo(task, input, POLLIN, attempt, undefined, waitTarget(input, out, nonblock && inPipe, nonblock && !inPipe));
}

/**
 * splice(2), with Linux's order of checks: a zero length is 0 at once, then flags, fds, an offset
 * given for a pipe (ESPIPE), the offsets' memory, the access modes, and what each side may be.
 */
function splice(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const len = a.size(4);
  if (len === 0) return 0;
  const flags = a.uint(5);
  if ((flags & ~SPLICE_F_ALL) !== 0) return EINVAL;
  const input = task.fds.get(a.int(0));
  if (input instanceof Errno) return EBADF;
  const out = task.fds.get(a.int(2));
  if (out instanceof Errno) return EBADF;
  const inPipe = isPipe(input);
  const outPipe = isPipe(out);
  const inOffVa = a.ptr(1);
  const outOffVa = a.ptr(3);
  if ((inPipe && inOffVa !== 0) || (outPipe && outOffVa !== 0)) return ESPIPE;
  const outOff = readOffset(task, outOffVa);
  if (outOff === EFAULT) return outOff;
  const inOff = readOffset(task, inOffVa);
  if (inOff === EFAULT) return inOff;
  if (!input.readable || !out.writable) return EBADF;
  if (inOff instanceof Errno || outOff instanceof Errno) return EINVAL;
  const count = Math.min(len, MAX_RW_COUNT);
  let nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  const ip = sentryPipe(input);
  const op = sentryPipe(out);
  let inKind = Kind.Other;
  if (inPipe && outPipe) {
    if (ip !== null && ip === op) return EINVAL;
    if (((input.flags | out.flags) & O_NONBLOCK) !== 0) nonblock = true;
  } else if (inPipe) {
    const kind = kindOf(out);
    if ((outOff !== null && kind === Kind.Socket) || (out.statusFlags() & O_APPEND) !== 0 || kind === Kind.Unsupported) return EINVAL;
    if ((input.flags & O_NONBLOCK) !== 0) nonblock = true;
  } else if (outPipe) {
    inKind = kindOf(input);
    if ((inOff !== null && inKind === Kind.Socket) || inKind === Kind.Unsupported) return EINVAL;
    if ((out.flags & O_NONBLOCK) !== 0) nonblock = true;
  } else {
    return EINVAL;
  }
  if (ip !== null && op !== null) return pipeToPipe(task, input as PipeEnd, out as PipeEnd, count, nonblock, false);
  if (ip !== null) return pipeToFile(task, input as PipeEnd, out, outOffVa, outOff, count, nonblock);
  if (op !== null) return fileToPipe(task, input, inKind, inOffVa, inOff, out as PipeEnd, count, nonblock);
  return hostPipeCopy(task, input, inOffVa, inOff, out, outOffVa, outOff, count, nonblock);
}

/** tee(2): flags first, then a zero length, then both fds; only two different pipes of the Sentry's. */
function tee(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const flags = a.uint(3);
  if ((flags & ~SPLICE_F_ALL) !== 0) return EINVAL;
  const len = a.size(2);
  if (len === 0) return 0;
  const input = task.fds.get(a.int(0));
  if (input instanceof Errno) return EBADF;
  const out = task.fds.get(a.int(1));
  if (out instanceof Errno) return EBADF;
  if (!input.readable || !out.writable) return EBADF;
  if (!(input instanceof PipeEnd) || !(out instanceof PipeEnd) || input.pipe === out.pipe) return EINVAL;
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0 || ((input.flags | out.flags) & O_NONBLOCK) !== 0;
  return pipeToPipe(task, input, out, Math.min(len, MAX_RW_COUNT), nonblock, true);
}

/**
 * vmsplice(2): the iovecs' memory into a pipe written to, or a pipe's data out to them when the fd only
 * reads. Only SPLICE_F_NONBLOCK makes it not wait (not the pipe's O_NONBLOCK, as in Linux). Into the
 * pipe each run of the user's pages is a page of its own, at its offset in the page, as many as are
 * free: a short count rather than waiting for more room.
 */
function vmsplice(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const flags = a.uint(3);
  if ((flags & ~SPLICE_F_ALL) !== 0) return EINVAL;
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return EBADF;
  const toPipe = file.writable;
  if (!toPipe && !file.readable) return EBADF;
  const nr = a.size(2);
  const iovs = readIovecs(task, a.ptr(1), nr > 1024 ? -1 : nr);
  if (iovs instanceof Errno) return iovs;
  const total = iovecsLength(iovs);
  if (total === 0) return 0;
  if (!(file instanceof PipeEnd)) return EBADF;
  const pipe = file.pipe;
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  const target: WaitTarget = () => (nonblock ? null : [file, toPipe ? POLLOUT : POLLIN]);
  if (!toPipe) {
    return blockingIo(task, file, POLLIN, () => {
      if (pipe.size === 0) return pipe.writers === 0 ? 0 : EAGAIN;
      const n = pipe.drain(total, guestSink(task, iovs).sink);
      return n > 0 ? n : EFAULT;
    }, undefined, target);
  }
  return blockingIo(task, file, POLLOUT, () => {
    if (pipe.readers === 0) {
      sendSigpipe(task);
      return EPIPE;
    }
    if (pipe.room === 0) return EAGAIN;
    bounce ??= new Uint8Array(CHUNK);
    let done = 0;
    for (const [base, length] of iovs) {
      for (let at = 0; at < length && pipe.room > 0 && done < total;) {
        const va = base + at;
        const n = Math.min(PAGE - (va % PAGE), length - at, total - done);
        const buf = bounce.subarray(0, n);
        const got = task.mm.copyIn(va, buf);
        const ok = got instanceof Errno ? 0 : got;
        if (ok > 0) pipe.insert(buf.subarray(0, ok), va % PAGE);
        done += ok;
        if (ok < n) return done > 0 ? done : EFAULT;
        at += n;
      }
    }
    return done;
  }, undefined, target);
}

export const spliceSyscalls: SyscallEntry[] = [
  supported('splice', splice, 'ipipzx'),
  partial('tee', tee, 'the Sentry\'s own pipes only: a host pipe on stdio is `EINVAL`', 'iizx'),
  partial('vmsplice', vmsplice, 'the Sentry\'s own pipes only (a host pipe on stdio is `EBADF`); the memory is copied, so a change to it after the call does not reach the reader', 'ipzx'),
];
