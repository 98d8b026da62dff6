// The line discipline between a pseudo-terminal's two sides (Linux n_tty.c, in the parts programs
// notice): input from the master is translated (ICRNL, INLCR, IGNCR), edited in canonical mode (VERASE,
// VWERASE, VKILL, VEOF, VEOL, VLNEXT, VREPRINT), echoed (ECHO, ECHOE, ECHOK, ECHONL, ECHOCTL, ECHOKE),
// turned into signals (ISIG: VINTR, VQUIT, VSUSP) and flow control (IXON: VSTOP, VSTART); output from the
// slave is processed (OPOST: ONLCR, OCRNL, ONOCR, ONLRET) into the master's queue.
import { EAGAIN, EIO, type Errno } from '../abi/errno.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../abi/fcntl.js';
import { Signal } from '../abi/signal.js';
import {
  ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, ECHONL, ICANON, ICRNL, IEXTEN, IGNCR, INLCR, ISIG, ISTRIP, IUTF8, IXANY, IXON,
  NOFLSH, OCRNL, ONLCR, ONLRET, ONOCR, OPOST, type Termios, VDISABLE, VEOF, VEOL, VEOL2, VERASE, VINTR, VKILL, VLNEXT,
  VMIN, VQUIT, VREPRINT, VSTART, VSTOP, VSUSP, VTIME, VWERASE, defaultTermios,
} from '../abi/termios.js';
import { WaitQueue } from './wait.js';

/** N_TTY_BUF_SIZE: what the input side holds; a canonical line is at most one less (room for its end). */
export const INPUT_CAPACITY = 4096;
/** What the slave may write ahead of the master's reader before it waits. */
export const OUTPUT_CAPACITY = 16 * 1024;

const NL = 0x0a;
const CR = 0x0d;

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
  /** VMIN 0, VTIME > 0: when a read that found nothing gives up and returns 0. */
  private readDeadline: number | null = null;

  get canonical(): boolean {
    return (this.termios.lflag & ICANON) !== 0;
  }

  /** New termios; switching ICANON moves what is queued as Linux does (raw data becomes the line being edited). */
  setTermios(t: Termios): void {
    const wasCanonical = this.canonical;
    this.termios = { ...t, cc: t.cc.slice() };
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
      if (this.is(c, VSTOP)) {
        this.stopped = true;
        return;
      }
      if (this.is(c, VSTART)) {
        this.startOutput();
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
        if ((lflag & NOFLSH) === 0) this.flushInput(), this.flushOutput();
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

  /** A read of the slave: one line at most in canonical mode; VMIN and VTIME otherwise. */
  read(buf: Uint8Array): number | Errno {
    const n = this.canonical ? this.readLine(buf) : this.readRaw(buf);
    if (typeof n === 'number' && n > 0) this.masterQueue.notify(POLLOUT);
    return n;
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
    const min = this.cc(VMIN);
    const time = this.cc(VTIME);
    const need = time > 0 ? 1 : Math.min(min, buf.length);
    if (this.edit.length === 0 || this.edit.length < need) {
      if (this.hungUp) return this.edit.length === 0 ? 0 : this.takeRaw(buf);
      if (need === 0) return 0;
      if (min === 0 && time > 0) {
        // A timed read: the first attempt sets the deadline, the one after it returns 0.
        const now = Date.now();
        if (this.readDeadline === null) this.readDeadline = now + time * 100;
        else if (now >= this.readDeadline) {
          this.readDeadline = null;
          return 0;
        }
      }
      return EAGAIN;
    }
    this.readDeadline = null;
    return this.takeRaw(buf);
  }

  private takeRaw(buf: Uint8Array): number {
    const n = Math.min(buf.length, this.edit.length);
    for (let i = 0; i < n; i++) buf[i] = this.edit[i]!;
    this.edit.splice(0, n);
    return n;
  }

  /** How long a timed read (VMIN 0, VTIME > 0) may still wait, in ms, or null. */
  get readTimeoutMs(): number | null {
    return this.readDeadline === null ? null : Math.max(0, this.readDeadline - Date.now());
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

  // ---- queues and readiness ----

  flushInput(): void {
    this.lines = [];
    this.lineOffset = 0;
    this.edit = [];
    this.masterQueue.notify(POLLOUT);
  }

  flushOutput(): void {
    this.output.length = 0;
    this.slaveQueue.notify(POLLOUT);
  }

  stopOutput(): void {
    this.stopped = true;
  }

  startOutput(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.slaveQueue.notify(POLLOUT);
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
    if (this.inputRoom > 0) mask |= POLLOUT | POLLWRNORM;
    if (slaveGone) mask |= POLLHUP;
    return mask;
  }

  /** The master side went away: wake every reader and writer of the slave. */
  hangUp(): void {
    this.hungUp = true;
    this.slaveQueue.notify(POLLIN | POLLOUT | POLLHUP | POLLERR);
  }

  private notifyInput(): void {
    if (this.inputReady) this.slaveQueue.notify(POLLIN);
  }
}

function isControl(c: number): boolean {
  return c < 0x20 || c === 0x7f;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
