// A host terminal that is the program's stdio (run without -t, or the user's terminal under -t): termios
// and window-size requests go through to the host fd. The host's own job-control state (its session,
// foreground group) is not the sandbox's, so the session and foreground group seen inside are kept here,
// in sandbox pids. Whatever a program changes is put back when the sandbox ends, or when tsvisor exits
// for any reason (restoreHostTerminals runs on process exit): the user's terminal never stays raw.
import { closeSync, fstatSync, openSync, readlinkSync } from 'node:fs';
import { EINVAL, ENOTTY, Errno } from '../abi/errno.js';
import { O_NOCTTY, O_NONBLOCK, O_RDWR } from '../abi/fcntl.js';
import { TERMIOS_SIZE, WINSIZE_SIZE } from '../abi/structs.js';
import {
  decodeTermios, decodeWinsize, encodeTermios, encodeWinsize, FIONREAD, TCFLSH, TCGETS, TCIFLUSH, TCOOFF, TCOON, TCSETS,
  TCXONC, type Termios, TIOCGWINSZ, TIOCOUTQ, TIOCSWINSZ, type Winsize,
} from '../abi/termios.js';
import { hostCalls } from '../platform/host.js';
import { Terminal, type TermiosWhen } from './terminal.js';

function hostErrno(r: number): Errno {
  return Errno.of(-r) ?? EINVAL;
}

export class HostTerminal extends Terminal {
  /** The termios before the sandbox changed it first; null: unchanged. */
  private savedTermios: Uint8Array | null = null;
  /** The window size before a program set one, and the one it set (put back only if still in place). */
  private savedWinsize: Uint8Array | null = null;
  private setWinsizeTo: Uint8Array | null = null;
  /** A program stopped the terminal's output (TCOOFF). */
  private outputStopped = false;

  constructor(private readonly fd: number, private readonly owned: boolean, private readonly hostName: string) {
    super();
  }

  get name(): string {
    return this.hostName;
  }

  private read(request: number, size: number): Uint8Array | Errno {
    const out = new Uint8Array(size);
    const r = hostCalls().ioctlRead(this.fd, request, out);
    return r < 0 ? hostErrno(r) : out;
  }

  getTermios(): Termios | Errno {
    const raw = this.read(TCGETS, TERMIOS_SIZE);
    return raw instanceof Errno ? raw : decodeTermios(raw);
  }

  /**
   * TCSETS on the host fd. TCSETSW and TCSETSF would make the host wait for output to drain, blocking
   * the Sentry; the output the Sentry wrote is already with the host terminal, so both set at once
   * (TCSETSF flushing the input first).
   */
  setTermios(t: Termios, when: TermiosWhen): Errno | null {
    if (this.savedTermios === null) {
      const before = this.read(TCGETS, TERMIOS_SIZE);
      if (before instanceof Errno) return before;
      this.savedTermios = before;
      watchExit();
    }
    const host = hostCalls();
    if (when === 'flush') host.ioctlValue(this.fd, TCFLSH, TCIFLUSH);
    const r = host.ioctlWrite(this.fd, TCSETS, encodeTermios(t));
    return r < 0 ? hostErrno(r) : null;
  }

  getWinsize(): Winsize | Errno {
    const raw = this.read(TIOCGWINSZ, WINSIZE_SIZE);
    return raw instanceof Errno ? raw : decodeWinsize(raw);
  }

  setWinsize(w: Winsize): Errno | null {
    if (this.savedWinsize === null) {
      const before = this.read(TIOCGWINSZ, WINSIZE_SIZE);
      if (before instanceof Errno) return before;
      this.savedWinsize = before;
      watchExit();
    }
    const raw = encodeWinsize(w);
    const r = hostCalls().ioctlWrite(this.fd, TIOCSWINSZ, raw);
    if (r < 0) return hostErrno(r);
    this.setWinsizeTo = raw;
    return null;
  }

  flush(queue: number): Errno | null {
    const r = hostCalls().ioctlValue(this.fd, TCFLSH, queue);
    return r < 0 ? hostErrno(r) : null;
  }

  flow(action: number): Errno | null {
    const r = hostCalls().ioctlValue(this.fd, TCXONC, action);
    if (r < 0) return hostErrno(r);
    if (action === TCOOFF || action === TCOON) this.outputStopped = action === TCOOFF;
    if (this.outputStopped) watchExit();
    return null;
  }

  private count(request: number): number | Errno {
    const raw = this.read(request, 4);
    return raw instanceof Errno ? raw : new DataView(raw.buffer).getInt32(0, true);
  }

  inputBytes(): number | Errno {
    return this.count(FIONREAD);
  }

  outputBytes(): number | Errno {
    return this.count(TIOCOUTQ);
  }

  /** Puts back what programs changed: termios, a window size still as they left it, stopped output. */
  restore(): void {
    const host = hostCalls();
    if (this.savedTermios !== null) host.ioctlWrite(this.fd, TCSETS, this.savedTermios);
    if (this.savedWinsize !== null && this.setWinsizeTo !== null) {
      const now = this.read(TIOCGWINSZ, WINSIZE_SIZE);
      if (!(now instanceof Errno) && now.every((b, i) => b === this.setWinsizeTo![i])) host.ioctlWrite(this.fd, TIOCSWINSZ, this.savedWinsize);
    }
    if (this.outputStopped) host.ioctlValue(this.fd, TCXONC, TCOON);
    this.savedTermios = null;
    this.savedWinsize = null;
    this.setWinsizeTo = null;
    this.outputStopped = false;
  }

  close(): void {
    this.restore();
    if (this.owned) closeSync(this.fd);
  }
}

/** One HostTerminal per host terminal device, so that fds 0, 1, 2 and /dev/tty share its state. */
const terminals = new Map<string, HostTerminal>();

/** The host terminal behind fd, or ENOTTY if fd is none. */
export function hostTerminal(fd: number): HostTerminal | Errno {
  let key: string;
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice()) return ENOTTY;
    key = `${st.dev}:${st.ino}:${st.rdev}`;
  } catch (err) {
    return Errno.fromHost(err);
  }
  const known = terminals.get(key);
  if (known !== undefined) return known;
  const probe = new Uint8Array(TERMIOS_SIZE);
  const r = hostCalls().ioctlRead(fd, TCGETS, probe);
  if (r < 0) return hostErrno(r);
  let name: string;
  try {
    name = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    name = '/dev/tty';
  }
  // A description of the Sentry's own, so that the terminal can be put back even after the fds are gone.
  let own = fd;
  let owned = false;
  try {
    own = openSync(`/proc/self/fd/${fd}`, O_RDWR | O_NOCTTY | O_NONBLOCK);
    owned = true;
  } catch {
    // no /proc: the fd the user gave it is.
  }
  const t = new HostTerminal(own, owned, name);
  terminals.set(key, t);
  return t;
}

/** Every host terminal back as it was; the sandbox ends (called again at exit, it does nothing). */
export function restoreHostTerminals(): void {
  for (const t of terminals.values()) t.close();
  terminals.clear();
}

let exitWatched = false;
function watchExit(): void {
  if (exitWatched) return;
  exitWatched = true;
  process.once('exit', restoreHostTerminals);
}
