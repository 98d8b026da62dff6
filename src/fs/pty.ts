// Pseudo-terminals of the sandbox's own (Linux drivers/tty/pty.c, gVisor's fsimpl/devpts): a master and a
// slave joined by a line discipline. The slave is what programs have as their terminal (/dev/pts/N);
// the master is the other end: the Sentry's console copier for `run -t` (sandbox/console.ts), or a
// program's own /dev/ptmx description (PtyMaster: openpty, script, expect, tmux).
import { EAGAIN, EINVAL, EIO, type Errno } from '../abi/errno.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLWRNORM, S_IFCHR, waitEvents } from '../abi/fcntl.js';
import { Signal } from '../abi/signal.js';
import {
  CREAD, CS8, CSIZE, PARENB, TCIFLUSH, TCIOFF, TCIOFLUSH, TCION, TCOFLUSH, TCOOFF, TCOON, type Termios, type Winsize,
  VDISABLE, VSTART, VSTOP,
} from '../abi/termios.js';
import { LineDiscipline } from './line-discipline.js';
import { Terminal, type TermiosWhen } from './terminal.js';
import {
  allocAnonDev, allocIno, type Dentry, FileDescription, type FileStat, type ReadCall, type ReadSink, syntheticStat,
} from './vfs.js';
import type { Cancellable, ReadinessListener, ReadinessSubscription } from './wait.js';

/** The STOP and START characters (^S, ^Q). */
const DC3 = 0x13;
const DC1 = 0x11;

/** UNIX98_PTY_SLAVE_MAJOR: /dev/pts/N is (136, N). */
export const PTY_SLAVE_MAJOR = 136;
const ptyDev = allocAnonDev();

export class Pty extends Terminal {
  readonly ldisc = new LineDiscipline();
  readonly ino = allocIno();
  private winsize: Winsize = { rows: 24, cols: 80, xpixel: 0, ypixel: 0 };
  /** Open slave descriptions: when the last goes, the master sees POLLHUP. */
  slaveOpens = 0;
  /** A slave was opened once: a master read then says EIO once they are all closed again. */
  slaveWasOpened = false;
  /** A /dev/ptmx pty's slave cannot be opened until unlockpt (TIOCSPTLCK 0), as on Linux. */
  locked = false;
  /** TCOOFF at the master: what it types waits for TCOON there. */
  masterStopped = false;
  /** Its /dev/pts/N node: a slave opened without a path (TIOCGPTPEER) stats as that node, for ttyname. */
  node: Dentry | null = null;

  constructor(readonly index: number) {
    super();
    this.ldisc.onSignal = (signo) => this.signalForeground(signo);
  }

  get name(): string {
    return `/dev/pts/${this.index}`;
  }

  getTermios(): Termios {
    return this.ldisc.termios;
  }

  /**
   * A pty's output never waits in a driver (pty_chars_in_buffer is 0), so 'drain' is 'now'. As
   * pty_set_termios, the characters are always 8 bits without parity, and the receiver on.
   */
  setTermios(t: Termios, when: TermiosWhen): null {
    if (when === 'flush') this.ldisc.flushInput();
    this.ldisc.setTermios({ ...t, cflag: (t.cflag & ~(CSIZE | PARENB)) | CS8 | CREAD });
    return null;
  }

  getWinsize(): Winsize {
    return { ...this.winsize };
  }

  setWinsize(w: Winsize): null {
    const old = this.winsize;
    this.winsize = { ...w };
    if (old.rows !== w.rows || old.cols !== w.cols || old.xpixel !== w.xpixel || old.ypixel !== w.ypixel) this.signalForeground(Signal.SIGWINCH);
    return null;
  }

  flush(queue: number): Errno | null {
    if (queue !== TCIFLUSH && queue !== TCOFLUSH && queue !== TCIOFLUSH) return EINVAL;
    if (queue !== TCOFLUSH) this.ldisc.flushInput();
    if (queue !== TCIFLUSH) this.ldisc.flushOutput();
    return null;
  }

  /**
   * TCFLSH at the master, whose input is the slave's output: TCIFLUSH drops what it has not read, quietly
   * (packet mode is told of the slave's flushes only); its output is typed in at once, nothing to drop.
   */
  flushFromMaster(queue: number): Errno | null {
    if (queue !== TCIFLUSH && queue !== TCOFLUSH && queue !== TCIOFLUSH) return EINVAL;
    if (queue !== TCOFLUSH) this.ldisc.discardOutput();
    return null;
  }

  /** TCOOFF/TCOON stop and start output; TCIOFF/TCION send the STOP and START characters to the master. */
  flow(action: number): Errno | null {
    switch (action) {
      case TCOOFF: this.ldisc.flowControl(true); return null;
      case TCOON: this.ldisc.flowControl(false); return null;
      case TCIOFF:
      case TCION: {
        const c = this.ldisc.termios.cc[action === TCIOFF ? VSTOP : VSTART]!;
        if (c !== VDISABLE) this.ldisc.sendControl(c);
        return null;
      }
      default: return EINVAL;
    }
  }

  /**
   * TCXONC at the master, on its own output (what it types): TCOOFF holds its writes until TCOON;
   * TCIOFF/TCION type ^S and ^Q (the master's own termios, which no request changes), unless held.
   */
  flowFromMaster(action: number): Errno | null {
    switch (action) {
      case TCOOFF: this.masterStopped = true; return null;
      case TCOON:
        if (this.masterStopped) {
          this.masterStopped = false;
          this.ldisc.masterQueue.notify(POLLOUT);
        }
        return null;
      case TCIOFF:
      case TCION:
        if (!this.masterStopped) this.ldisc.receive(Uint8Array.of(action === TCIOFF ? DC3 : DC1));
        return null;
      default: return EINVAL;
    }
  }

  inputBytes(): number {
    return this.ldisc.readableBytes;
  }

  outputBytes(): number {
    return this.ldisc.outputQueued;
  }

  /** The master types: input for the slave's readers (EAGAIN when the input is full, or held by TCOOFF at the master). */
  typeIn(buf: Uint8Array): number | Errno {
    return this.masterStopped ? EAGAIN : this.ldisc.receive(buf);
  }

  /** The master takes output (EAGAIN: none). */
  takeOutput(buf: Uint8Array): number | Errno {
    return this.ldisc.readOutput(buf);
  }

  stat(mode = 0o620, uid = 0, gid = 0): FileStat {
    return syntheticStat(this.ino, S_IFCHR | mode, ptyDev, { rdev: makeSlaveRdev(this.index), uid, gid, blksize: 1024 });
  }
}

function makeSlaveRdev(index: number): number {
  return (index & 0xff) | ((PTY_SLAVE_MAJOR & 0xfff) << 8) | ((index & ~0xff) << 12);
}

/** An open /dev/pts/N: reads and writes through the line discipline. */
export class PtySlave extends FileDescription {
  constructor(readonly pty: Pty, flags: number) {
    super(flags);
    pty.slaveOpens++;
    pty.slaveWasOpened = true;
  }

  override get terminal(): Terminal {
    return this.pty;
  }

  override read(buf: Uint8Array): number | Errno {
    return this.pty.ldisc.read(buf);
  }

  /** read(2) and readv(2): VMIN and VTIME over the whole call (line-discipline.ts, SlaveRead). */
  override beginRead(sink: ReadSink, total: number): ReadCall {
    return this.pty.ldisc.beginRead(sink, total);
  }
  override get runsReads(): boolean {
    return true;
  }

  override write(buf: Uint8Array): number | Errno {
    return this.pty.ldisc.write(buf);
  }

  /** The node it was opened by (so that ttyname's stat matches fstat), else the pty's node or its own. */
  stat(): FileStat | Errno {
    return (this.location?.dentry ?? this.pty.node)?.stat() ?? this.pty.stat();
  }

  override readableBytes(): number {
    return this.pty.ldisc.readableBytes;
  }

  override readiness(): number {
    return this.pty.ldisc.slaveReadiness();
  }

  override waitFor(events: number, callback: () => void): Cancellable | null {
    if ((this.readiness() & (events | POLLHUP | POLLERR)) !== 0) {
      callback();
      return null;
    }
    return this.pty.ldisc.slaveQueue.add(events | POLLHUP | POLLERR, callback);
  }

  override subscribe(events: number, onChange: ReadinessListener, exclusive = false): ReadinessSubscription {
    return this.pty.ldisc.slaveQueue.subscribe(waitEvents(events), onChange, exclusive);
  }

  override reopen(flags: number): PtySlave {
    return new PtySlave(this.pty, flags);
  }

  override describe(): string {
    return this.pty.name;
  }

  protected override release(): void {
    if (--this.pty.slaveOpens === 0) this.pty.ldisc.masterQueue.notify(POLLHUP);
  }
}

/**
 * An open /dev/ptmx: the master of a pty of its own. Reads take the slave's output, writes type its
 * input; when the master goes, the slave hangs up and its /dev/pts node goes (onClose). In packet mode
 * (TIOCPKT) each read starts with a status byte (LineDiscipline.readPacket).
 */
export class PtyMaster extends FileDescription {
  constructor(readonly pty: Pty, flags: number, private readonly onClose: () => void) {
    super(flags);
    pty.locked = true;
  }

  get slaveGone(): boolean {
    return this.pty.slaveWasOpened && this.pty.slaveOpens === 0;
  }

  override read(buf: Uint8Array): number | Errno {
    if (this.pty.ldisc.packet) return this.pty.ldisc.readPacket(sinkInto(buf), buf.length, this.slaveGone);
    const n = this.pty.takeOutput(buf);
    // Linux: once every slave has closed, a master read with nothing left is EIO.
    return n === EAGAIN && this.slaveGone ? EIO : n;
  }

  /** In packet mode a read(2) is one call, so that its status byte comes first whatever the buffer's pieces. */
  override beginRead(sink: ReadSink, total: number): ReadCall | null {
    return this.pty.ldisc.packet ? new PacketRead(this, sink, total) : null;
  }
  override get runsReads(): boolean {
    return this.pty.ldisc.packet;
  }

  override write(buf: Uint8Array): number | Errno {
    return this.pty.typeIn(buf);
  }

  stat(): FileStat | Errno {
    return this.location?.dentry.stat() ?? this.pty.stat(0o666);
  }

  override readableBytes(): number {
    return this.pty.outputBytes();
  }

  override readiness(): number {
    const mask = this.pty.ldisc.masterReadiness(this.slaveGone);
    return this.pty.masterStopped ? mask & ~(POLLOUT | POLLWRNORM) : mask;
  }

  override waitFor(events: number, callback: () => void): Cancellable | null {
    if ((this.readiness() & (events | POLLHUP | POLLERR)) !== 0) {
      callback();
      return null;
    }
    return this.pty.ldisc.masterQueue.add(events | POLLHUP | POLLERR, callback);
  }

  override subscribe(events: number, onChange: ReadinessListener, exclusive = false): ReadinessSubscription {
    return this.pty.ldisc.masterQueue.subscribe(waitEvents(events), onChange, exclusive);
  }

  override describe(): string {
    return '/dev/ptmx';
  }

  protected override release(): void {
    this.pty.ldisc.hangUp();
    this.onClose();
  }
}

/** A read of a master in packet mode: one attempt takes the status byte, or the data after TIOCPKT_DATA. */
class PacketRead implements ReadCall {
  moved = 0;
  constructor(private readonly master: PtyMaster, private readonly sink: ReadSink, private readonly total: number) {}

  attempt(): number | Errno {
    const r = this.master.pty.ldisc.readPacket(this.sink, this.total, this.master.slaveGone);
    if (typeof r === 'number') this.moved = r;
    return r;
  }

  waitFor(callback: () => void): Cancellable {
    return this.master.pty.ldisc.masterQueue.add(POLLIN | POLLPRI | POLLHUP | POLLERR, callback);
  }

  deadlineNs(): null {
    return null;
  }
}

/** A sink into one buffer. */
function sinkInto(buf: Uint8Array): ReadSink {
  let at = 0;
  return (chunk) => {
    const n = Math.min(chunk.length, buf.length - at);
    buf.set(chunk.subarray(0, n), at);
    at += n;
    return n;
  };
}
