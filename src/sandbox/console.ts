// `run -t`: the sandbox's console, a pseudo-terminal of its own whose slave is the program's stdio and
// whose master the Sentry joins to the user's terminal, as runsc and docker do. The user's terminal is
// put in raw mode (keys go to the sandbox's line discipline untouched: ^C is the sandbox's SIGINT),
// output is copied back as the program's line discipline made it, and window changes (SIGWINCH to
// tsvisor) become the sandbox terminal's size and a SIGWINCH for its foreground group. The raw mode
// is undone when the sandbox ends, and at tsvisor's exit whatever ends it (host-terminal.ts).
import { writeSync } from 'node:fs';
import { EAGAIN, Errno } from '../abi/errno.js';
import { POLLIN, POLLOUT } from '../abi/fcntl.js';
import { makeRaw } from '../abi/termios.js';
import { HostFile } from '../fs/file.js';
import { type HostTerminal, hostTerminal } from '../fs/host-terminal.js';
import { Pty } from '../fs/pty.js';
import { stderrSink } from '../log/stderr.js';
import type { Cancellable, ReadinessSubscription } from '../fs/wait.js';

const CHUNK = 4096;

export class SandboxConsole {
  readonly pty = new Pty(0);
  private readonly hostIn: HostFile;
  private readonly hostOut: HostFile;
  private readonly inBuf = new Uint8Array(CHUNK);
  private readonly outBuf = new Uint8Array(CHUNK);
  /** Typed bytes the line discipline had no room for yet. */
  private pendingIn: Uint8Array | null = null;
  /** Output the user's terminal had no room for yet. */
  private pendingOut: Uint8Array | null = null;
  private inputWait: Cancellable | null = null;
  private outputWait: Cancellable | null = null;
  private outputSubscription: ReadinessSubscription | null = null;
  private draining = false;
  private running = false;
  private readonly onResize = (): void => this.copyWindowSize();

  private constructor(private readonly user: HostTerminal, inFd: number, private readonly outFd: number) {
    this.hostIn = new HostFile(inFd, true, false);
    this.hostOut = new HostFile(outFd, false, true);
    this.hostIn.incRef();
    this.hostOut.incRef();
  }

  /** A console on the user's terminal at inFd (output to outFd); an error when inFd is no terminal. */
  static open(inFd: number, outFd: number): SandboxConsole | Errno {
    const user = hostTerminal(inFd);
    return user instanceof Errno ? user : new SandboxConsole(user, inFd, outFd);
  }

  /** Raw mode on the user's terminal, its size on the sandbox's, and the copying both ways. */
  start(): Errno | null {
    const termios = this.user.getTermios();
    if (termios instanceof Errno) return termios;
    const raw = this.user.setTermios(makeRaw(termios), 'now');
    if (raw !== null) return raw;
    this.running = true;
    stderrSink.rawTerminal = true;
    this.copyWindowSize();
    process.on('SIGWINCH', this.onResize);
    this.outputSubscription = this.pty.ldisc.masterQueue.subscribe(POLLIN, () => {
      this.copyOutput();
      return true;
    });
    this.copyInput();
    return null;
  }

  /** The window's size now, for the sandbox's terminal (a change signals its foreground group). */
  private copyWindowSize(): void {
    const size = this.user.getWinsize();
    if (!(size instanceof Errno) && size.rows > 0 && size.cols > 0) this.pty.setWinsize(size);
  }

  /** Keys from the user into the line discipline, as many as it takes; then wait for more, or for room. */
  private copyInput = (): void => {
    this.inputWait = null;
    while (this.running) {
      if (this.pendingIn === null) {
        const n = this.hostIn.read(this.inBuf);
        if (n === EAGAIN) {
          this.inputWait = this.hostIn.waitFor(POLLIN, this.copyInput);
          return;
        }
        // The user's terminal is gone (EOF, EIO): nothing more will be typed.
        if (n instanceof Errno || n === 0) return;
        this.pendingIn = this.inBuf.subarray(0, n);
      }
      const taken = this.pty.typeIn(this.pendingIn);
      if (taken === EAGAIN) {
        this.inputWait = this.pty.ldisc.masterQueue.add(POLLOUT, this.copyInput);
        return;
      }
      if (taken instanceof Errno) return;
      this.pendingIn = taken < this.pendingIn.length ? this.pendingIn.subarray(taken) : null;
    }
  };

  /**
   * The program's output to the user's terminal. Taking output wakes the program's writers, whose
   * writes call here again: the loop that runs already takes theirs.
   */
  private copyOutput(): void {
    if (this.draining || this.outputWait !== null) return;
    this.draining = true;
    try {
      for (;;) {
        if (this.pendingOut === null) {
          const n = this.pty.takeOutput(this.outBuf);
          if (n instanceof Errno) return;
          this.pendingOut = this.outBuf.subarray(0, n);
        }
        const w = this.hostOut.write(this.pendingOut);
        if (w === EAGAIN) {
          this.outputWait = this.hostOut.waitFor(POLLOUT, () => {
            this.outputWait = null;
            this.copyOutput();
          });
          return;
        }
        // A terminal that went away takes nothing: the output is dropped so that the program never waits.
        this.pendingOut = w instanceof Errno || w >= this.pendingOut.length ? null : this.pendingOut.subarray(w);
      }
    } finally {
      this.draining = false;
    }
  }

  /** The sandbox ended: the last output goes out (waiting for the terminal if it must), the user's terminal is put back. */
  finish(): void {
    if (!this.running) return;
    this.running = false;
    process.off('SIGWINCH', this.onResize);
    this.inputWait?.cancel();
    this.outputWait?.cancel();
    this.outputSubscription?.cancel();
    this.outputWait = null;
    const rest: Uint8Array[] = this.pendingOut === null ? [] : [this.pendingOut.slice()];
    for (;;) {
      const n = this.pty.takeOutput(this.outBuf);
      if (n instanceof Errno) break;
      rest.push(this.outBuf.slice(0, n));
    }
    for (const chunk of rest) writeAll(this.outFd, chunk);
    this.pendingOut = null;
    this.user.restore();
    stderrSink.rawTerminal = false;
    this.hostIn.decRef();
    this.hostOut.decRef();
  }
}

/** A blocking write of everything (the user's description may be non-blocking: EAGAIN is tried again). */
function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  let stalls = 0;
  while (done < data.length && stalls < 1000) {
    try {
      done += writeSync(fd, data, done, data.length - done);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      stalls++;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}
