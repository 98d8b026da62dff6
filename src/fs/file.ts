// Host-backed descriptions: the program's stdin, stdout and stderr (or a terminal) stay host fds, read
// and written with host syscalls (the host-syscall tier). Other kinds live beside their filesystems.
//
// A host pipe, socket or terminal may be slow (a reader that sleeps, a terminal scrolled by a slow
// emulator), and a blocking host call would stop the whole Sentry. So the Sentry reads and writes such
// an fd through a description of its own, opened again through /proc/self/fd with O_NONBLOCK (the
// user's description, shared with the shell and Node.js, keeps its flags); where that cannot be done
// (a socket) the shared description is made non-blocking until the file is released, as Node.js does
// for its own stdio pipes. A call that would block answers EAGAIN, and the task waits for readiness
// from the event loop (platform/fd-watch.ts): a blocking read waits for data, a blocking write goes
// on until everything is written, as on Linux; only a program that asked for O_NONBLOCK sees EAGAIN.
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, openSync, readlinkSync, readSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { EAGAIN, EBADF, EFAULT, EINTR, EINVAL, ENOTTY, Errno } from '../abi/errno.js';
import { HostFdWatch } from '../platform/fd-watch.js';
import { hostCalls } from '../platform/host.js';
import {
  DEFAULT_POLLMASK, O_ACCMODE, O_NOCTTY, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, POLLERR, POLLIN, POLLOUT, POLLPRI,
  POLLRDBAND, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM, S_IFMT, S_IFREG, SEEK_CUR,
} from '../abi/fcntl.js';
import { ICANON } from '../abi/termios.js';
import { hostTerminal } from './host-terminal.js';
import { ReadRule, type Terminal } from './terminal.js';
import { FileDescription, type FileStat, type ReadCall, type ReadSink } from './vfs.js';
import type { Cancellable } from './wait.js';

export { FileDescription, type FileStat } from './vfs.js';

/** How a host file is read and written: which fd, and what to undo when it goes. */
interface HostIo {
  fd: number;
  /** The Sentry opened fd itself and closes it. */
  owned: boolean;
  /** Flags to put back on the shared description (it was made non-blocking), or -1. */
  restoreFlags: number;
  /** A pipe, socket or terminal: reads and writes may have to wait. */
  blocks: boolean;
}

/** A pipe, socket or terminal: the kinds of host file that can block. */
function canBlock(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket() || (st.isCharacterDevice() && isatty(fd));
  } catch {
    return false;
  }
}

function hostIo(fd: number, accessMode: number): HostIo {
  if (!canBlock(fd)) return { fd, owned: false, restoreFlags: -1, blocks: false };
  try {
    return { fd: openSync(`/proc/self/fd/${fd}`, accessMode | O_NONBLOCK | O_NOCTTY), owned: true, restoreFlags: -1, blocks: true };
  } catch {
    // A socket (ENXIO), a FIFO without a reader, or no /proc: the shared description it is.
  }
  const host = hostCalls();
  const flags = host.getFlags(fd);
  if (flags < 0 || (flags & O_NONBLOCK) !== 0 || host.setFlags(fd, flags | O_NONBLOCK) < 0) return { fd, owned: false, restoreFlags: -1, blocks: true };
  return { fd, owned: false, restoreFlags: flags, blocks: true };
}

/** Everything a host poll may report that a guest may ask for. */
const HOST_POLL_EVENTS = POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | POLLRDHUP;

/** How soon a host fd that the event loop cannot watch, but that was not ready, is tried again. */
const UNWATCHABLE_RETRY_MS = 10;

export class HostFile extends FileDescription {
  private readonly io: HostIo;
  /** Readiness of io.fd; created at the first wait, null if the host cannot watch it. */
  private watch: HostFdWatch | null | undefined = undefined;
  private tty: Terminal | null | undefined = undefined;

  constructor(private readonly fd: number, readable: boolean, writable: boolean) {
    super(readable && writable ? O_RDWR : writable ? O_WRONLY : O_RDONLY);
    this.io = hostIo(fd, this.flags & O_ACCMODE);
  }

  override get hostFd(): number {
    return this.io.fd;
  }

  /** A host terminal, shared by every description of it (its state is the sandbox's, restored at the end). */
  override get terminal(): Terminal | null {
    if (this.tty === undefined) {
      const t = this.io.blocks && isatty(this.fd) ? hostTerminal(this.fd) : null;
      this.tty = t instanceof Errno ? null : t;
    }
    return this.tty;
  }

  /** The host's flags (O_APPEND, O_NONBLOCK as the host fd has them) with the guest's access mode. */
  override statusFlags(): number {
    const r = hostCalls().getFlags(this.fd);
    if (r < 0) return this.flags;
    return (r & ~(O_ACCMODE | O_NONBLOCK)) | (this.flags & (O_ACCMODE | O_NONBLOCK));
  }

  /** EAGAIN when nothing is there yet: the syscall layer waits (waitFor) unless the program chose O_NONBLOCK. */
  override read(buf: Uint8Array): number | Errno {
    if (!this.readable) return EBADF;
    for (;;) {
      try {
        return readSync(this.io.fd, buf, 0, buf.length, null);
      } catch (err) {
        const e = Errno.fromHost(err);
        if (e !== EINTR) return e;
      }
    }
  }

  /**
   * A host terminal runs its reads out of canonical mode (HostTerminalRead): the Sentry reads the host
   * fd without blocking, which the host answers with what is there at once, so VMIN and VTIME are the
   * Sentry's to keep. In canonical mode the host's line is the answer and the plain read does.
   */
  override get runsReads(): boolean {
    return this.terminal !== null;
  }

  override beginRead(sink: ReadSink, total: number): ReadCall | null {
    const t = this.terminal?.getTermios();
    if (t === undefined || t instanceof Errno || (t.lflag & ICANON) !== 0) return null;
    return new HostTerminalRead(this, sink, total, new ReadRule(false, t));
  }

  /** Writes what fits now: a short count, or EAGAIN when nothing fits (the syscall layer waits for room). */
  override write(buf: Uint8Array): number | Errno {
    if (!this.writable) return EBADF;
    let done = 0;
    while (done < buf.length) {
      try {
        done += writeSync(this.io.fd, buf, done, buf.length - done);
      } catch (err) {
        const e = Errno.fromHost(err);
        if (e === EINTR) continue;
        return done > 0 ? done : e;
      }
    }
    return done;
  }

  override pread(buf: Uint8Array, offset: number): number | Errno {
    if (!this.readable) return EBADF;
    try {
      return readSync(this.io.fd, buf, 0, buf.length, offset);
    } catch (err) {
      return Errno.fromHost(err);
    }
  }

  override pwrite(buf: Uint8Array, offset: number): number | Errno {
    if (!this.writable) return EBADF;
    try {
      return writeSync(this.io.fd, buf, 0, buf.length, offset);
    } catch (err) {
      return Errno.fromHost(err);
    }
  }

  override seek(offset: number, whence: number): number | Errno {
    const r = hostCalls().lseek(this.io.fd, offset, whence);
    return r < 0 ? (Errno.of(-r) ?? EINVAL) : r;
  }

  /**
   * The host's answer, from a poll(2) of the Sentry's description that does not wait. Sockets and
   * terminals answer whatever the description's mode (as on Linux); a pipe's description has the
   * guest's access mode.
   */
  override readiness(): number {
    if (!this.io.blocks) return DEFAULT_POLLMASK;
    const r = hostCalls().pollNow(this.io.fd, HOST_POLL_EVENTS);
    return r < 0 ? POLLERR : r;
  }

  /** Host pipes, sockets and terminals have a poll method; host regular files do not (epoll: EPERM). */
  override get pollable(): boolean {
    return this.io.blocks;
  }

  /**
   * Waits for the host fd from the event loop. A file that cannot block (a regular file) is ready at
   * once; one the host cannot watch is looked at again after a short while.
   */
  override waitFor(events: number, callback: () => void): Cancellable | null {
    if (this.watch === undefined) this.watch = this.io.blocks ? HostFdWatch.open(this.io.fd) : null;
    // The host watch knows readable and writable; a wait for hang-ups alone waits for readable too.
    if ((events & (POLLIN | POLLOUT)) === 0) events |= POLLIN;
    if (this.watch !== null) return this.watch.wait(events, callback);
    if (!this.io.blocks) {
      callback();
      return null;
    }
    const retry = setTimeout(callback, UNWATCHABLE_RETRY_MS);
    return { cancel: () => clearTimeout(retry) };
  }

  /** FIONREAD of a host regular file or terminal; a host pipe would need the host ioctl (ENOTTY). */
  override readableBytes(): number | Errno {
    const tty = this.terminal;
    if (tty !== null) return tty.inputBytes();
    const s = this.stat();
    if (s instanceof Errno) return s;
    if ((s.mode & S_IFMT) !== S_IFREG) return ENOTTY;
    const pos = hostCalls().lseek(this.fd, 0, SEEK_CUR);
    return pos < 0 ? (Errno.of(-pos) ?? EINVAL) : Math.max(0, s.size - pos);
  }

  override sync(dataOnly: boolean): Errno | null {
    return syncHostFd(this.fd, dataOnly);
  }

  /** The host's stat; a terminal the sandbox shows as /dev/pts/N (its location) is that node, for ttyname. */
  stat(): FileStat | Errno {
    if (this.location !== null) return this.location.dentry.stat();
    try {
      return hostStat(fstatSync(this.fd, { bigint: true }));
    } catch (err) {
      return Errno.fromHost(err);
    }
  }

  override reopen(flags: number): HostFile {
    const mode = flags & O_ACCMODE;
    return new HostFile(this.fd, mode !== O_WRONLY, mode !== O_RDONLY);
  }

  /** What the host calls it ("pipe:[123]", "/dev/pts/0"): the user chose these fds. */
  override describe(): string {
    try {
      return readlinkSync(`/proc/self/fd/${this.fd}`);
    } catch {
      return `host:[${this.fd}]`;
    }
  }

  /** The watch and the Sentry's own description go; the user's fd stays open, with its flags as they were. */
  protected override release(): void {
    this.watch?.close();
    this.watch = null;
    if (this.io.owned) closeSync(this.io.fd);
    if (this.io.restoreFlags >= 0) hostCalls().setFlags(this.fd, this.io.restoreFlags);
  }
}

/** A Node bigint stat as a FileStat. */
export function hostStat(s: import('node:fs').BigIntStats): FileStat {
  return {
    dev: Number(s.dev), ino: Number(s.ino), mode: Number(s.mode), nlink: Number(s.nlink), uid: Number(s.uid),
    gid: Number(s.gid), rdev: Number(s.rdev), size: Number(s.size), blksize: Number(s.blksize),
    blocks: Number(s.blocks), atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs,
  };
}

/** fsync(2) or fdatasync(2) of a host fd the Sentry holds for the program. */
export function syncHostFd(fd: number, dataOnly: boolean): Errno | null {
  try {
    if (dataOnly) fdatasyncSync(fd);
    else fsyncSync(fd);
    return null;
  } catch (err) {
    return Errno.fromHost(err);
  }
}

/** The most one host read of a terminal takes at a time. */
const TERMINAL_CHUNK = 4096;

/**
 * A read(2) of a host terminal out of canonical mode, as n_tty_read (ReadRule): bytes as they come, read
 * from the host fd without waiting, until VMIN are there or VTIME ran out. A read of 0 is the end of
 * the input (a hang-up), or nothing at all under VMIN 0 VTIME 0, which the host answers so.
 */
class HostTerminalRead implements ReadCall {
  moved = 0;
  private readonly chunk: Uint8Array;

  constructor(private readonly file: HostFile, private readonly sink: ReadSink, private readonly total: number, private readonly rule: ReadRule) {
    this.chunk = new Uint8Array(Math.min(total, TERMINAL_CHUNK));
  }

  attempt(): number | Errno {
    while (this.moved < this.total) {
      const want = Math.min(this.total - this.moved, this.chunk.length);
      const n = this.file.read(this.chunk.subarray(0, want));
      if (n instanceof Errno) {
        if (n !== EAGAIN) return this.moved > 0 ? this.moved : n;
        return this.rule.endsWithoutInput() ? this.moved : EAGAIN;
      }
      if (n === 0) return this.moved;
      // Bytes the guest's buffer could not take (a fault part-way) are lost, where Linux would keep them queued.
      const took = this.sink(this.chunk.subarray(0, n));
      if (took <= 0) return this.moved > 0 ? this.moved : EFAULT;
      this.moved += took;
      if (took < n || this.moved >= this.rule.minimum) return this.moved;
      this.rule.tookBytes();
    }
    return this.moved;
  }

  waitFor(callback: () => void): Cancellable {
    return this.file.waitFor(POLLIN, callback) ?? { cancel: () => {} };
  }

  deadlineNs(): bigint | null {
    return this.rule.deadline;
  }
}
