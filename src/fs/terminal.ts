// What every terminal answers, whether the Sentry's own pseudo-terminal (pty.ts) or a host terminal
// passed in as stdio (host-terminal.ts): termios, the window size, the queues, and the job-control
// state Linux keeps in struct tty_struct (the session it controls, its foreground process group).
// Which process may do what with it is the kernel's to decide (kernel/terminal-control.ts): fs knows no
// tasks, so the kernel installs signalGroup when a session takes the terminal.
import type { Errno } from '../abi/errno.js';
import { type Termios, VMIN, VTIME, type Winsize } from '../abi/termios.js';

/** When new termios apply: at once (TCSETS), after output drained (TCSETSW), after flushing input (TCSETSF). */
export type TermiosWhen = 'now' | 'drain' | 'flush';

export abstract class Terminal {
  /** The session (its sid) whose controlling terminal this is; 0: none. */
  session = 0;
  /** The foreground process group (tcsetpgrp); 0: none. */
  foregroundPgid = 0;
  /** Sends a signal to every process of a process group: set by the kernel with the session. */
  signalGroup: ((pgid: number, signo: number) => void) | null = null;

  /** What ttyname(3) finds: /dev/pts/N, or the host's name. */
  abstract get name(): string;
  abstract getTermios(): Termios | Errno;
  abstract setTermios(t: Termios, when: TermiosWhen): Errno | null;
  abstract getWinsize(): Winsize | Errno;
  /** TIOCSWINSZ: a change sends SIGWINCH to the foreground group. */
  abstract setWinsize(w: Winsize): Errno | null;
  /** TCFLSH: TCIFLUSH, TCOFLUSH or TCIOFLUSH. */
  abstract flush(queue: number): Errno | null;
  /** TCXONC: TCOOFF, TCOON, TCIOFF, TCION. */
  abstract flow(action: number): Errno | null;
  /** FIONREAD: bytes a read could take now. */
  abstract inputBytes(): number | Errno;
  /** TIOCOUTQ: bytes written and not yet taken by the other side. */
  abstract outputBytes(): number | Errno;

  /** ISIG characters and window changes: a signal for the foreground process group. */
  signalForeground(signo: number): void {
    if (this.session !== 0 && this.foregroundPgid !== 0) this.signalGroup?.(this.foregroundPgid, signo);
  }

  /** The session lets go of it (its leader exited, or TIOCNOTTY). */
  detach(): void {
    this.session = 0;
    this.foregroundPgid = 0;
    this.signalGroup = null;
  }
}

/** VTIME counts tenths of a second. */
const NS_PER_VTIME = 100_000_000n;

/**
 * When one read(2) of a terminal ends (Linux n_tty_read): in canonical mode at the first line; out of
 * it, once VMIN bytes came (or the buffer is full), or VTIME after the call began (VMIN 0) or after the
 * last byte came (VMIN > 0), and never waiting under VMIN 0 VTIME 0.
 */
export class ReadRule {
  /** Bytes that end the call. */
  readonly minimum: number;
  /** VMIN 0, VTIME 0: the call never waits. */
  private readonly poll: boolean;
  /** VMIN > 0, VTIME > 0: the gap allowed between bytes, in ns (0: none). */
  private readonly gapNs: bigint;
  /** When a waiting call ends whatever comes, by process.hrtime.bigint(); null: no timer. */
  deadline: bigint | null = null;

  constructor(canonical: boolean, t: Termios) {
    const min = t.cc[VMIN]!;
    const time = t.cc[VTIME]!;
    this.minimum = canonical ? 1 : Math.max(min, 1);
    this.gapNs = !canonical && min > 0 ? BigInt(time) * NS_PER_VTIME : 0n;
    this.poll = !canonical && min === 0 && time === 0;
    if (!canonical && min === 0 && time > 0) this.deadline = process.hrtime.bigint() + BigInt(time) * NS_PER_VTIME;
  }

  /** Bytes came: the gap timer starts again. */
  tookBytes(): void {
    if (this.gapNs > 0n) this.deadline = process.hrtime.bigint() + this.gapNs;
  }

  /** Nothing is there: whether the call ends now with what it has rather than wait. */
  endsWithoutInput(): boolean {
    return this.poll || (this.deadline !== null && process.hrtime.bigint() >= this.deadline);
  }
}
