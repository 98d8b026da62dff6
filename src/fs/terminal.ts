// What every terminal answers, whether the Sentry's own pseudo-terminal (pty.ts) or a host terminal
// passed in as stdio (host-terminal.ts): termios, the window size, the queues, and the job-control
// state Linux keeps in struct tty_struct (the session it controls, its foreground process group).
// Which process may do what with it is the kernel's to decide (kernel/terminal-control.ts): fs knows no
// tasks, so the kernel installs signalGroup when a session takes the terminal.
import type { Errno } from '../abi/errno.js';
import type { Termios, Winsize } from '../abi/termios.js';

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
