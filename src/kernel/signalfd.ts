// signalfd(2): a file whose reads take pending signals of its mask as 128-byte struct
// signalfd_siginfo records (Linux fs/signalfd.c). A read dequeues from the reading thread's own pending
// set, then its process's, as a handler would, but never runs one; with nothing pending it blocks (an
// interruptible wait, like a pipe's) or answers EAGAIN when O_NONBLOCK. Every signal queued for the
// process wakes the readers (ProcessSignals.queued), who look again.
//
// readiness() and waitFor() are asked without a reader, so they answer for the thread that made the
// file (poll on a signalfd made by another thread of the process sees the process's pending set and
// that thread's own).
import { EAGAIN, EFAULT, EINVAL, ERESTARTSYS, type Errno } from '../abi/errno.js';
import { O_NONBLOCK, O_RDWR, POLLIN } from '../abi/fcntl.js';
import { type SigInfo, SIGINFO_SIZE } from '../abi/siginfo.js';
import { SI_KERNEL, SI_SIGIO, SI_TIMER, SI_USER, Signal } from '../abi/signal.js';
import type { Cancellable } from '../fs/wait.js';
import { allocAnonDev, allocIno, FileDescription, type FileStat, syntheticStat } from '../fs/vfs.js';
import type { ThreadSignals } from './signals.js';
import { Blocked } from './syscall-table.js';
import type { Task } from './task.js';

/** sizeof(struct signalfd_siginfo). */
export const SIGNALFD_SIGINFO_SIZE = 128;
const anonDev = allocAnonDev();
const NSIGPOLL = 6;

/** Field offsets of struct signalfd_siginfo (include/uapi/linux/signalfd.h). */
const enum Ssi {
  signo = 0, errno = 4, code = 8, pid = 12, uid = 16, fd = 20, tid = 24, band = 28, overrun = 32, trapno = 36,
  status = 40, int = 44, ptr = 48, utime = 56, stime = 64, addr = 72,
}

/**
 * siginfo_t to signalfd_siginfo, by the union arm the signal's code selects (Linux siginfo_layout and
 * signalfd_copyinfo): kill, timer, poll, fault, child, or queued with a value.
 */
export function toSignalfdInfo(info: SigInfo): Uint8Array {
  const src = new DataView(info.buffer, info.byteOffset, SIGINFO_SIZE);
  const out = new Uint8Array(SIGNALFD_SIGINFO_SIZE);
  const v = new DataView(out.buffer);
  const signo = src.getInt32(0, true);
  const code = src.getInt32(8, true);
  v.setUint32(Ssi.signo, signo, true);
  v.setInt32(Ssi.errno, src.getInt32(4, true), true);
  v.setInt32(Ssi.code, code, true);
  const pidUid = (): void => {
    v.setUint32(Ssi.pid, src.getUint32(16, true), true);
    v.setUint32(Ssi.uid, src.getUint32(20, true), true);
  };
  const value = (): void => {
    v.setInt32(Ssi.int, src.getInt32(24, true), true);
    v.setBigUint64(Ssi.ptr, src.getBigUint64(24, true), true);
  };
  const fault = signo === Signal.SIGSEGV || signo === Signal.SIGBUS || signo === Signal.SIGILL ||
    signo === Signal.SIGFPE || signo === Signal.SIGTRAP;
  if (code > SI_USER && code < SI_KERNEL) {
    if (fault) v.setBigUint64(Ssi.addr, src.getBigUint64(16, true), true);
    else if (signo === Signal.SIGCHLD) {
      pidUid();
      v.setInt32(Ssi.status, src.getInt32(24, true), true);
      v.setBigUint64(Ssi.utime, src.getBigUint64(32, true), true);
      v.setBigUint64(Ssi.stime, src.getBigUint64(40, true), true);
    } else if (signo === Signal.SIGIO && code <= NSIGPOLL) {
      v.setUint32(Ssi.band, Number(src.getBigInt64(16, true) & 0xffff_ffffn), true);
      v.setInt32(Ssi.fd, src.getInt32(24, true), true);
    } else pidUid();
  } else if (code === SI_TIMER) {
    v.setUint32(Ssi.tid, src.getUint32(16, true), true);
    v.setUint32(Ssi.overrun, src.getUint32(20, true), true);
    value();
  } else if (code === SI_SIGIO) {
    v.setUint32(Ssi.band, Number(src.getBigInt64(16, true) & 0xffff_ffffn), true);
    v.setInt32(Ssi.fd, src.getInt32(24, true), true);
  } else if (code < 0) {
    pidUid();
    value();
  } else pidUid();
  return out;
}

export class SignalFile extends FileDescription {
  private readonly ino = allocIno();

  constructor(
    flags: number,
    /** The signals it reads (never SIGKILL or SIGSTOP); signalfd on the fd changes it. */
    public mask: bigint,
    /** The thread that made it: whose pending sets readiness() looks at. */
    private readonly owner: ThreadSignals,
  ) {
    super(O_RDWR | (flags & O_NONBLOCK));
  }

  stat(): FileStat {
    return syntheticStat(this.ino, 0o600, anonDev, { blksize: 4096 });
  }

  override describe(): string {
    return 'anon_inode:[signalfd]';
  }

  override readiness(): number {
    return ((this.owner.pending.set | this.owner.process.pending.set) & this.mask) !== 0n ? POLLIN : 0;
  }

  override waitFor(events: number, callback: () => void): Cancellable | null {
    if ((this.readiness() & events) !== 0) {
      callback();
      return null;
    }
    return this.owner.process.queued.add(events, callback);
  }

  /** read(2) by a task: as many records as fit, at least one (blocking for it unless O_NONBLOCK). */
  readFor(task: Task, va: number, count: number): number | Errno | Blocked {
    if (count < SIGNALFD_SIGINFO_SIZE) return EINVAL;
    const first = this.take(task, va, count);
    if (first !== EAGAIN || (this.flags & O_NONBLOCK) !== 0) return first;
    const queue = task.signals.process.queued;
    const call = task.block(() => ERESTARTSYS);
    const retry = (): void => {
      const r = this.take(task, va, count);
      if (r === EAGAIN) call.waitOn(queue.add(POLLIN, retry));
      else task.complete(r);
    };
    call.waitOn(queue.add(POLLIN, retry));
    return Blocked.instance;
  }

  /** read(2) without a reader (readv's path): the owner's signals. */
  override read(buf: Uint8Array): number | Errno {
    if (buf.length < SIGNALFD_SIGINFO_SIZE) return EINVAL;
    let done = 0;
    while (buf.length - done >= SIGNALFD_SIGINFO_SIZE) {
      const q = this.owner.takeFrom(this.mask);
      if (q === null) break;
      buf.set(toSignalfdInfo(q.info), done);
      done += SIGNALFD_SIGINFO_SIZE;
    }
    return done > 0 ? done : EAGAIN;
  }

  /** Dequeues into the reader's buffer; a record that cannot be written is lost, as on Linux (EFAULT). */
  private take(task: Task, va: number, count: number): number | Errno {
    let done = 0;
    while (count - done >= SIGNALFD_SIGINFO_SIZE) {
      const q = task.signals.takeFrom(this.mask);
      if (q === null) break;
      if (task.mm.copyOut(va + done, toSignalfdInfo(q.info)) !== SIGNALFD_SIGINFO_SIZE) return done > 0 ? done : EFAULT;
      done += SIGNALFD_SIGINFO_SIZE;
    }
    return done > 0 ? done : EAGAIN;
  }
}
