// The line discipline between a pseudo-terminal's two sides (Linux n_tty.c, in the parts programs
// notice): input from the master is translated (ICRNL, INLCR, IGNCR), edited in canonical mode (VERASE,
// VWERASE, VKILL, VEOF, VEOL, VLNEXT, VREPRINT), echoed (ECHO, ECHOE, ECHOK, ECHONL, ECHOCTL, ECHOKE),
// turned into signals (ISIG: VINTR, VQUIT, VSUSP) and flow control (IXON: VSTOP, VSTART); output from the
// slave is processed (OPOST: ONLCR, OCRNL, ONOCR, ONLRET) into the master's queue. A read of the slave
// is a ReadCall (SlaveRead: VMIN and VTIME as n_tty_read), and so is a read of a master in packet mode
// (PacketRead in pty.ts, with pty.c's status byte: flushes, stops and starts, IXON changes).
import { EAGAIN, EFAULT, EIO, type Errno } from '../abi/errno.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM } from '../abi/fcntl.js';
import { Signal } from '../abi/signal.js';
import {
  ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, ECHONL, EXTPROC, ICANON, ICRNL, IEXTEN, IGNCR, INLCR, ISIG, ISTRIP, IUTF8, IXANY,
  IXON, NOFLSH, OCRNL, ONLCR, ONLRET, ONOCR, OPOST, type Termios, TIOCPKT_DATA, TIOCPKT_DOSTOP, TIOCPKT_FLUSHREAD,
  TIOCPKT_FLUSHWRITE, TIOCPKT_IOCTL, TIOCPKT_NOSTOP, TIOCPKT_START, TIOCPKT_STOP, VDISABLE, VEOF, VEOL, VEOL2, VERASE,
  VINTR, VKILL, VLNEXT, VMIN, VQUIT, VREPRINT, VSTART, VSTOP, VSUSP, VTIME, VWERASE, defaultTermios,
} from '../abi/termios.js';
import { ReadRule } from './terminal.js';
import type { ReadCall, ReadSink } from './vfs.js';
import { type Cancellable, WaitQueue } from './wait.js';

/** N_TTY_BUF_SIZE: what the input side holds; a canonical line is at most one less (room for its end). */
export const INPUT_CAPACITY = 4096;
/** What the slave may write ahead of the master's reader before it waits. */
export const OUTPUT_CAPACITY = 16 * 1024;

const NL = 0x0a;
const CR = 0x0d;
const DC1 = 0x11;
const DC3 = 0x13;

export class LineDiscipline {
  termios: Termios = defaultTermios();
  /** The slave's readers and writers wait here (POLLIN: input; POLLOUT: room for output). */
  readonly slaveQueue = new WaitQueue();
  /** The master's (POLLIN: output to take; POLLOUT: room for input). */
  readonly masterQueue = new WaitQueue();
  /** Sends ISIG's signals to the foreground process group. */
  onSignal: (signo: number) => void = () => {};
  /** The master is gone: slave reads see EOF-like EIO, writes EIO, poll POLLHUP. */
  hungUp = false;

  /** Canonical mode: complete lines, each with its terminator (an EOF line has none and may be empty). */
  private lines: number[][] = [];
  /** Bytes of the first line already read (a read shorter than the line). */
  private lineOffset = 0;
  /** The line being edited (canonical) or the readable bytes (non-canonical). */
  private edit: number[] = [];
  private readonly output: number[] = [];
  /** VLNEXT was typed: the next character is taken literally. */
  private literalNext = false;
  /** Output stopped by VSTOP or TCOOFF. */
  private stopped = false;
  /** Stopped by TCOOFF: only TCOON starts it again (Linux tco_stopped), not VSTART. */
  private tcoStopped = false;
  /** The master's packet mode (TIOCPKT), and the status its next read reports (pty.c's pktstatus). */
  packet = false;
  packetStatus = 0;
  /** Bytes on their way to a reader's sink. */
  private scratch = new Uint8Array(256);

  get canonical(): boolean {
    return (this.termios.lflag & ICANON) !== 0;
  }

  /**
   * New termios; switching ICANON moves what is queued as Linux does (raw data becomes the line being
   * edited). In packet mode the master hears when flow control by ^S/^Q comes or goes (DOSTOP, NOSTOP),
   * and of any change under EXTPROC (IOCTL), as pty_set_termios tells it.
   */
  setTermios(t: Termios): void {
    const wasCanonical = this.canonical;
    const old = this.termios;
    this.termios = { ...t, cc: t.cc.slice() };
    if (this.packet) {
      const oldFlow = standardFlow(old);
      const newFlow = standardFlow(this.termios);
      let set = ((old.lflag | t.lflag) & EXTPROC) !== 0 ? TIOCPKT_IOCTL : 0;
      if (oldFlow !== newFlow) set |= newFlow ? TIOCPKT_DOSTOP : TIOCPKT_NOSTOP;
      if (set !== 0) this.packetEvent(set, oldFlow !== newFlow ? TIOCPKT_DOSTOP | TIOCPKT_NOSTOP : 0);
    }
    if (wasCanonical && !this.canonical) {
      const all: number[] = [];
      for (let i = 0; i < this.lines.length; i++) all.push(...(i === 0 ? this.lines[i]!.slice(this.lineOffset) : this.lines[i]!));
      this.edit = [...all, ...this.edit];
      this.lines = [];
      this.lineOffset = 0;
    }
    if ((t.iflag & IXON) === 0 && this.stopped) this.startOutput();
    this.notifyInput();
  }

  // ---- input: from the master to the slave's readers ----

  /** Bytes queued for input, the line being edited included: what limits how much more is taken. */
  private get inputQueued(): number {
    let n = this.edit.length;
    for (const l of this.lines) n += l.length;
    return n - this.lineOffset;
  }

  /** Room for more input from the master. */
  get inputRoom(): number {
    return Math.max(0, INPUT_CAPACITY - this.inputQueued);
  }

  /** The master writes: each byte as typed. Returns how many were taken (EAGAIN when the input is full). */
  receive(buf: Uint8Array): number | Errno {
    let taken = 0;
    while (taken < buf.length) {
      // Canonical input beyond a full line is dropped, as Linux does, except what ends the line.
      if (!this.canonical && this.inputRoom === 0) break;
      this.receiveByte(buf[taken]!);
      taken++;
    }
    if (taken === 0 && buf.length > 0) return EAGAIN;
    this.notifyInput();
    return taken;
  }

  private cc(i: number): number {
    return this.termios.cc[i]!;
  }

  /** A control character is set and equals c. */
  private is(c: number, i: number): boolean {
    const v = this.cc(i);
    return v !== VDISABLE && v === c;
  }

  private receiveByte(byte: number): void {
    const { iflag, lflag } = this.termios;
    let c = (iflag & ISTRIP) !== 0 ? byte & 0x7f : byte;
    if (this.literalNext) {
      this.literalNext = false;
      this.echoChar(c);
      this.store(c);
      return;
    }
    if ((iflag & IXON) !== 0) {
      if (this.is(c, VSTART)) {
        this.startOutput();
        return;
      }
      if (this.is(c, VSTOP)) {
        this.stopOutput();
        return;
      }
      if (this.stopped && (iflag & IXANY) !== 0) this.startOutput();
    }
    if (c === CR) {
      if ((iflag & IGNCR) !== 0) return;
      if ((iflag & ICRNL) !== 0) c = NL;
    } else if (c === NL && (iflag & INLCR) !== 0) {
      c = CR;
    }
    if ((lflag & ISIG) !== 0) {
      const signo = this.is(c, VINTR) ? Signal.SIGINT : this.is(c, VQUIT) ? Signal.SIGQUIT : this.is(c, VSUSP) ? Signal.SIGTSTP : 0;
      if (signo !== 0) {
        if ((lflag & NOFLSH) === 0) this.flushOutput(), this.flushInput();
        if ((iflag & IXON) !== 0) this.startOutput();
        this.echoChar(c);
        this.onSignal(signo);
        return;
      }
    }
    if ((lflag & ICANON) !== 0 && this.editing(c)) return;
    if ((lflag & ICANON) !== 0 && (c === NL || this.is(c, VEOL) || this.is(c, VEOL2) || this.is(c, VEOF))) {
      const eof = this.is(c, VEOF);
      if (!eof) {
        if ((lflag & ECHO) !== 0 || (c === NL && (lflag & ECHONL) !== 0)) this.echoRaw(c);
        this.edit.push(c);
      }
      this.lines.push(this.edit);
      this.edit = [];
      return;
    }
    this.echoChar(c);
    this.store(c);
  }

  /** A character for the line or the raw queue; a full canonical line keeps room for its terminator. */
  private store(c: number): void {
    if (this.canonical && this.inputQueued >= INPUT_CAPACITY - 1) return;
    this.edit.push(c);
  }

  /** The editing characters of canonical mode; true when c was one. */
  private editing(c: number): boolean {
    const lflag = this.termios.lflag;
    const extended = (lflag & IEXTEN) !== 0;
    if (this.is(c, VERASE)) {
      this.eraseChar();
      return true;
    }
    if (extended && this.is(c, VWERASE)) {
      while (this.edit.length > 0 && isBlank(this.edit[this.edit.length - 1]!)) this.eraseChar();
      while (this.edit.length > 0 && !isBlank(this.edit[this.edit.length - 1]!)) this.eraseChar();
      return true;
    }
    if (this.is(c, VKILL)) {
      if ((lflag & ECHO) !== 0 && (lflag & ECHOKE) !== 0 && (lflag & ECHOE) !== 0) {
        while (this.edit.length > 0) this.eraseChar();
      } else {
        this.edit = [];
        this.echoChar(c);
        if ((lflag & ECHO) !== 0 && (lflag & ECHOK) !== 0) this.echoRaw(NL);
      }
      return true;
    }
    if (extended && this.is(c, VLNEXT)) {
      this.literalNext = true;
      if ((lflag & ECHO) !== 0 && (lflag & ECHOCTL) !== 0) this.emit([0x5e, 0x08]);
      return true;
    }
    if (extended && this.is(c, VREPRINT)) {
      this.echoChar(c);
      this.echoRaw(NL);
      for (const b of this.edit) this.echoChar(b);
      return true;
    }
    return false;
  }

  /** VERASE: the last character goes (a whole UTF-8 sequence under IUTF8), and from the screen with ECHOE. */
  private eraseChar(): void {
    if (this.edit.length === 0) return;
    const utf8 = (this.termios.iflag & IUTF8) !== 0;
    let c = this.edit.pop()!;
    while (utf8 && (c & 0xc0) === 0x80 && this.edit.length > 0) c = this.edit.pop()!;
    const lflag = this.termios.lflag;
    if ((lflag & ECHO) === 0) return;
    if ((lflag & ECHOE) !== 0) {
      const width = (lflag & ECHOCTL) !== 0 && isControl(c) && c !== 0x09 ? 2 : 1;
      for (let i = 0; i < width; i++) this.emit([0x08, 0x20, 0x08]);
    } else {
      this.echoChar(this.cc(VERASE));
    }
  }

  /** Echo of a typed character: control characters as ^X under ECHOCTL. */
  private echoChar(c: number): void {
    const lflag = this.termios.lflag;
    if ((lflag & ECHO) === 0) return;
    if ((lflag & ECHOCTL) !== 0 && isControl(c) && c !== 0x09 && c !== NL) this.emit([0x5e, c ^ 0x40]);
    else this.echoRaw(c);
  }

  private echoRaw(c: number): void {
    this.emit([c]);
  }

  /** Echoes go out even past the output's capacity, as Linux's echo buffer does. */
  private emit(bytes: number[]): void {
    this.process(bytes, bytes.length);
    this.masterQueue.notify(POLLIN);
  }

  // ---- the slave's reads ----

  /** What a read can take now, without waiting (POLLIN). */
  private get inputReady(): boolean {
    if (this.canonical) return this.lines.length > 0;
    const min = this.cc(VMIN);
    return this.edit.length >= (this.cc(VTIME) === 0 && min > 0 ? min : 1);
  }

  /** FIONREAD: complete lines, or every raw byte. */
  get readableBytes(): number {
    if (!this.canonical) return this.edit.length;
    let n = -this.lineOffset;
    for (const l of this.lines) n += l.length;
    return n;
  }

  /**
   * One attempt of a read of the slave outside a ReadCall (sendfile, splice): a line in canonical mode,
   * else what is there; EAGAIN when nothing is, except under VMIN 0 VTIME 0 (0).
   */
  read(buf: Uint8Array): number | Errno {
    const n = this.canonical ? this.readLine(buf) : this.readRaw(buf);
    if (typeof n === 'number' && n > 0) this.masterQueue.notify(POLLOUT);
    return n;
  }

  /** A read(2) of the slave: SlaveRead. */
  beginRead(sink: ReadSink, total: number): ReadCall {
    return new SlaveRead(this, sink, total);
  }

  private readLine(buf: Uint8Array): number | Errno {
    const line = this.lines[0];
    if (line === undefined) return this.hungUp ? 0 : EAGAIN;
    const n = Math.min(buf.length, line.length - this.lineOffset);
    for (let i = 0; i < n; i++) buf[i] = line[this.lineOffset + i]!;
    this.lineOffset += n;
    if (this.lineOffset === line.length) {
      this.lines.shift();
      this.lineOffset = 0;
    }
    return n;
  }

  private readRaw(buf: Uint8Array): number | Errno {
    if (this.edit.length > 0) return this.takeRaw(buf);
    return this.hungUp || (this.cc(VMIN) === 0 && this.cc(VTIME) === 0) ? 0 : EAGAIN;
  }

  private takeRaw(buf: Uint8Array): number {
    const n = Math.min(buf.length, this.edit.length);
    for (let i = 0; i < n; i++) buf[i] = this.edit[i]!;
    this.edit.splice(0, n);
    return n;
  }

  /** A complete line (canonical) or raw bytes (not) for a reader. */
  get hasInput(): boolean {
    return this.canonical ? this.lines.length > 0 : this.edit.length > 0;
  }

  /** Up to max bytes of input into sink (the rest of the first line, in canonical mode); -1: the sink took none. */
  takeInput(sink: ReadSink, max: number): number {
    const canonical = this.canonical;
    const src = canonical ? this.lines[0]! : this.edit;
    const from = canonical ? this.lineOffset : 0;
    const n = Math.min(max, src.length - from);
    if (n === 0) {
      // An end-of-file line (VEOF on an empty line): a read of 0.
      if (canonical) this.lines.shift(), this.lineOffset = 0;
      return 0;
    }
    const buf = this.scratchFor(n);
    for (let i = 0; i < n; i++) buf[i] = src[from + i]!;
    const took = sink(buf);
    if (took <= 0) return -1;
    if (!canonical) this.edit.splice(0, took);
    else if ((this.lineOffset += took) === src.length) this.lines.shift(), this.lineOffset = 0;
    this.masterQueue.notify(POLLOUT);
    return took;
  }

  private scratchFor(n: number): Uint8Array {
    if (this.scratch.length < n) this.scratch = new Uint8Array(Math.max(n, this.scratch.length * 2));
    return this.scratch.subarray(0, n);
  }

  // ---- output: from the slave's writers to the master ----

  /** A write of the slave: processed into the master's queue; EAGAIN when it is full or output is stopped. */
  write(buf: Uint8Array): number | Errno {
    if (this.hungUp) return EIO;
    if (this.stopped) return EAGAIN;
    const room = OUTPUT_CAPACITY - this.output.length;
    if (room <= 0) return EAGAIN;
    const n = this.process(buf, Math.min(buf.length, room));
    this.masterQueue.notify(POLLIN);
    return n;
  }

  /** OPOST: the first n bytes of src into the output queue; returns n. */
  private process(src: ArrayLike<number>, n: number): number {
    const { oflag } = this.termios;
    const post = (oflag & OPOST) !== 0;
    for (let i = 0; i < n; i++) {
      const c = src[i]!;
      if (post && c === NL && (oflag & ONLCR) !== 0) this.output.push(CR, NL);
      else if (post && c === CR && (oflag & OCRNL) !== 0) this.output.push(NL);
      else if (post && c === CR && (oflag & ONOCR) !== 0 && (this.output.length === 0 || this.output[this.output.length - 1] === NL)) continue;
      else if (post && c === NL && (oflag & ONLRET) !== 0) this.output.push(NL);
      else this.output.push(c);
    }
    return n;
  }

  /** TIOCOUTQ of the slave: processed bytes the master has not read. */
  get outputQueued(): number {
    return this.output.length;
  }

  /** The master reads what the slave wrote (EAGAIN when there is nothing). */
  readOutput(buf: Uint8Array): number | Errno {
    if (this.output.length === 0) return EAGAIN;
    const n = Math.min(buf.length, this.output.length);
    for (let i = 0; i < n; i++) buf[i] = this.output[i]!;
    this.output.splice(0, n);
    this.slaveQueue.notify(POLLOUT);
    return n;
  }

  /** Up to max bytes of output into sink: how many it took (-1: none, a fault). */
  takeOutput(sink: ReadSink, max: number): number {
    const n = Math.min(max, this.output.length);
    if (n === 0) return 0;
    const buf = this.scratchFor(n);
    for (let i = 0; i < n; i++) buf[i] = this.output[i]!;
    const took = sink(buf);
    if (took <= 0) return -1;
    this.output.splice(0, took);
    this.slaveQueue.notify(POLLOUT);
    return took;
  }

  /**
   * One read of the master in packet mode (pty.c, n_tty_read): a pending status byte alone, else
   * TIOCPKT_DATA and the output; EAGAIN when there is neither; EIO (slaveGone) once the slaves closed.
   */
  readPacket(sink: ReadSink, max: number, slaveGone: boolean): number | Errno {
    if (max === 0) return 0;
    const status = this.packetStatus;
    if (status !== 0) {
      this.scratch[0] = status;
      if (sink(this.scratch.subarray(0, 1)) !== 1) return EFAULT;
      this.packetStatus = 0;
      return 1;
    }
    if (this.output.length === 0) return slaveGone ? EIO : EAGAIN;
    this.scratch[0] = TIOCPKT_DATA;
    if (sink(this.scratch.subarray(0, 1)) !== 1) return EFAULT;
    const n = this.takeOutput(sink, max - 1);
    return 1 + Math.max(n, 0);
  }

  /** TIOCPKT: packet mode on (from an empty status, if it was off) or off. */
  setPacket(on: boolean): void {
    if (on && !this.packet) this.packetStatus = 0;
    this.packet = on;
  }

  /** A change the master hears in packet mode: bits to set (after clearing others), and a wake-up. */
  private packetEvent(set: number, clear = 0): void {
    if (!this.packet) return;
    this.packetStatus = (this.packetStatus & ~clear) | set;
    this.masterQueue.notify(POLLIN | POLLPRI);
  }

  // ---- queues and readiness ----

  /** The slave's input goes (TCIFLUSH, TCSETSF, an ISIG character): FLUSHREAD for a master in packet mode. */
  flushInput(): void {
    this.lines = [];
    this.lineOffset = 0;
    this.edit = [];
    this.masterQueue.notify(POLLOUT);
    this.packetEvent(TIOCPKT_FLUSHREAD);
  }

  /** The slave's output goes (TCOFLUSH, an ISIG character): FLUSHWRITE for a master in packet mode. */
  flushOutput(): void {
    this.discardOutput();
    this.packetEvent(TIOCPKT_FLUSHWRITE);
  }

  /** The master's TCIFLUSH: what it has not read yet goes, and it hears nothing of it. */
  discardOutput(): void {
    this.output.length = 0;
    this.slaveQueue.notify(POLLOUT);
  }

  /** VSTOP (and TCOOFF): output stops; STOP for a master in packet mode. */
  stopOutput(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.packetEvent(TIOCPKT_STOP, TIOCPKT_START);
  }

  /** VSTART (and TCOON, IXANY, an ISIG character): output goes on, unless TCOOFF stopped it. */
  startOutput(): void {
    if (!this.stopped || this.tcoStopped) return;
    this.stopped = false;
    this.packetEvent(TIOCPKT_START, TIOCPKT_STOP);
    this.slaveQueue.notify(POLLOUT);
  }

  /**
   * TCIOFF/TCION (tty_send_xchar): c goes to the master as it is, even while VSTOP holds the output (which
   * starts for it and stops again: packet mode hears STOP), but not while TCOOFF does, nor into a full queue.
   */
  sendControl(c: number): void {
    if (this.tcoStopped || this.hungUp || this.output.length >= OUTPUT_CAPACITY) return;
    if (this.stopped) this.packetEvent(TIOCPKT_STOP, TIOCPKT_START);
    this.output.push(c);
    this.masterQueue.notify(POLLIN);
  }

  /** TCOOFF and TCOON (tcflow). */
  flowControl(stop: boolean): void {
    if (stop === this.tcoStopped) return;
    this.tcoStopped = stop;
    if (stop) this.stopOutput();
    else this.startOutput();
  }

  /** The slave's poll bits (Linux n_tty_poll). */
  slaveReadiness(): number {
    let mask = this.inputReady ? POLLIN | POLLRDNORM : 0;
    if (!this.stopped && this.output.length < OUTPUT_CAPACITY) mask |= POLLOUT | POLLWRNORM;
    if (this.hungUp) mask |= POLLHUP | POLLIN | POLLRDNORM;
    return mask;
  }

  /** The master's poll bits; slaveGone: every slave description has been closed. */
  masterReadiness(slaveGone: boolean): number {
    let mask = this.output.length > 0 ? POLLIN | POLLRDNORM : 0;
    if (this.packet && this.packetStatus !== 0) mask |= POLLPRI | POLLIN | POLLRDNORM;
    if (this.inputRoom > 0) mask |= POLLOUT | POLLWRNORM;
    if (slaveGone) mask |= POLLHUP;
    return mask;
  }

  /** The master side went away: wake every reader and writer of the slave. */
  hangUp(): void {
    this.hungUp = true;
    this.slaveQueue.notify(POLLIN | POLLOUT | POLLHUP | POLLERR);
  }

  /** Readers wake for each complete line, or any raw byte (poll then looks at VMIN itself). */
  private notifyInput(): void {
    if (this.hasInput) this.slaveQueue.notify(POLLIN);
  }
}

/**
 * A read(2) of the slave, as n_tty_read: in canonical mode one line (or what fits of it); otherwise
 * bytes are taken as they come until VMIN are there (at most the buffer), with VTIME as the gap allowed
 * between bytes once one came (VMIN > 0), or from the call to the first byte (VMIN 0), and VMIN 0 VTIME
 * 0 a poll. MIN and TIME are those of the call's start.
 */
class SlaveRead implements ReadCall {
  moved = 0;
  private readonly rule: ReadRule;

  constructor(private readonly ld: LineDiscipline, private readonly sink: ReadSink, private readonly total: number) {
    this.rule = new ReadRule(ld.canonical, ld.termios);
  }

  attempt(): number | Errno {
    for (;;) {
      if (this.moved >= this.total) return this.moved;
      const ld = this.ld;
      if (ld.hasInput) {
        const canonical = ld.canonical;
        const n = ld.takeInput(this.sink, this.total - this.moved);
        if (n < 0) return this.moved > 0 ? this.moved : EFAULT;
        this.moved += n;
        if (canonical || this.moved >= this.rule.minimum) return this.moved;
        this.rule.tookBytes();
        continue;
      }
      if (ld.hungUp || this.rule.endsWithoutInput()) return this.moved;
      return EAGAIN;
    }
  }

  waitFor(callback: () => void): Cancellable {
    return this.ld.slaveQueue.add(POLLIN | POLLHUP | POLLERR, callback);
  }

  deadlineNs(): bigint | null {
    return this.rule.deadline;
  }
}

/** IXON with the usual ^S and ^Q: what a packet-mode master is told of (DOSTOP) or told is gone (NOSTOP). */
function standardFlow(t: Termios): boolean {
  return (t.iflag & IXON) !== 0 && t.cc[VSTOP] === DC3 && t.cc[VSTART] === DC1;
}

function isControl(c: number): boolean {
  return c < 0x20 || c === 0x7f;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
