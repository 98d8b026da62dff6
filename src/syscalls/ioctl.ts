// ioctl(2): the generic file requests (FIOCLEX, FIONCLEX, FIONBIO, FIONREAD, and a TCP or Unix stream socket's SIOCATMARK) answered by the Sentry, and
// the terminal requests on any terminal the program has: the sandbox's own pseudo-terminals and host
// terminals (whose termios and window size are the host's, restored when the sandbox ends). Who may
// change a terminal and its foreground group is job control's (kernel/terminal-control.ts).
import { EFAULT, EINVAL, ENOTTY, EOPNOTSUPP, Errno } from '../abi/errno.js';
import { DirectoryFile } from '../fs/dir-file.js';
import { O_ACCMODE, O_CLOEXEC, O_NOCTTY, O_NONBLOCK } from '../abi/fcntl.js';
import { TERMIOS2_SIZE, TERMIOS_SIZE, WINSIZE_SIZE } from '../abi/structs.js';
import {
  decodeTermios, decodeWinsize, encodeTermios, encodeWinsize, FIONREAD, TCFLSH, TCGETS, TCGETS2, TCSBRK, TCSBRKP, TCSETS,
  TCSETS2, TCSETSF, TCSETSF2, TCSETSW, TCSETSW2, TCXONC, TIOCGPGRP, TIOCGSID, TIOCGWINSZ, TIOCNOTTY, TIOCOUTQ, TIOCSCTTY,
  TIOCSPGRP, TIOCSWINSZ, TIOCGPKT, TIOCGPTLCK, TIOCGPTN, TIOCGPTPEER, TIOCPKT, TIOCSIG, TIOCSPTLCK,
} from '../abi/termios.js';
import { Signal } from '../abi/signal.js';
import { PtyMaster, PtySlave } from '../fs/pty.js';
import type { Terminal, TermiosWhen } from '../fs/terminal.js';
import type { FileDescription } from '../fs/vfs.js';
import { InetDatagramSocket } from '../net/inet-dgram.js';
import { InetStreamSocket } from '../net/inet-socket.js';
import { SOCK_STREAM, UnixSocket } from '../net/unix-socket.js';
import {
  checkTerminalChange, dropControllingTerminal, foregroundGroup, setControllingTerminal, setForegroundGroup, terminalSession,
} from '../kernel/terminal-control.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial } from './define.js';

const FIONBIO = 0x5421;
/** Whether a TCP socket's next byte is its urgent one. */
const SIOCATMARK = 0x8905;
const FIONCLEX = 0x5450;
const FIOCLEX = 0x5451;

function putInt(task: Task, va: number, value: number): number | Errno {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, Math.min(value, 0x7fff_ffff), true);
  return task.mm.copyOut(va, out) === 4 ? 0 : EFAULT;
}

function getInt(task: Task, va: number): number | Errno {
  const raw = new Uint8Array(4);
  if (task.mm.copyIn(va, raw) !== 4) return EFAULT;
  return new DataView(raw.buffer).getInt32(0, true);
}

/** Exactly the kernel's struct, never glibc's larger one: the caller's buffer may be no bigger. */
function copyStruct(task: Task, va: number, out: Uint8Array): number | Errno {
  return task.mm.copyOut(va, out) === out.length ? 0 : EFAULT;
}

function readStruct(task: Task, va: number, size: number): Uint8Array | Errno {
  const raw = new Uint8Array(size);
  return task.mm.copyIn(va, raw) === size ? raw : EFAULT;
}

const SET_WHEN: ReadonlyMap<number, TermiosWhen> = new Map([
  [TCSETS, 'now'], [TCSETSW, 'drain'], [TCSETSF, 'flush'], [TCSETS2, 'now'], [TCSETSW2, 'drain'], [TCSETSF2, 'flush'],
]);

/** The tty requests (Linux tty_ioctl and tty_mode_ioctl); ENOTTY for a file that is no terminal. */
function terminalIoctl(task: Task, file: FileDescription, tty: Terminal, request: number, arg: number): number | Errno {
  switch (request) {
    case TCGETS:
    case TCGETS2: {
      const t = tty.getTermios();
      return t instanceof Errno ? t : copyStruct(task, arg, encodeTermios(t, request === TCGETS ? TERMIOS_SIZE : TERMIOS2_SIZE));
    }
    case TCSETS: case TCSETSW: case TCSETSF: case TCSETS2: case TCSETSW2: case TCSETSF2: {
      const change = checkTerminalChange(task, tty);
      if (change !== null) return change;
      const raw = readStruct(task, arg, request === TCSETS || request === TCSETSW || request === TCSETSF ? TERMIOS_SIZE : TERMIOS2_SIZE);
      if (raw instanceof Errno) return raw;
      return tty.setTermios(decodeTermios(raw), SET_WHEN.get(request)!) ?? 0;
    }
    case TIOCGWINSZ: {
      const w = tty.getWinsize();
      return w instanceof Errno ? w : copyStruct(task, arg, encodeWinsize(w));
    }
    case TIOCSWINSZ: {
      const raw = readStruct(task, arg, WINSIZE_SIZE);
      if (raw instanceof Errno) return raw;
      return tty.setWinsize(decodeWinsize(raw)) ?? 0;
    }
    case TIOCGPGRP: {
      const pgid = foregroundGroup(task, tty);
      return pgid instanceof Errno ? pgid : putInt(task, arg, pgid);
    }
    case TIOCSPGRP: {
      const pgid = getInt(task, arg);
      return pgid instanceof Errno ? pgid : setForegroundGroup(task, tty, pgid);
    }
    case TIOCGSID: {
      const sid = terminalSession(task, tty);
      return sid instanceof Errno ? sid : putInt(task, arg, sid);
    }
    case TIOCSCTTY:
      return setControllingTerminal(task, tty, file.readable, arg === 1);
    case TIOCNOTTY:
      return dropControllingTerminal(task, tty);
    case TCFLSH:
    case TCXONC: {
      const change = checkTerminalChange(task, tty);
      if (change !== null) return change;
      return (request === TCFLSH ? tty.flush(arg) : tty.flow(arg)) ?? 0;
    }
    case TCSBRK:
    case TCSBRKP: {
      // tcdrain (TCSBRK with 1) and breaks: output is never held back in the Sentry, so nothing waits.
      const change = checkTerminalChange(task, tty);
      return change ?? 0;
    }
    case TIOCOUTQ: {
      const n = tty.outputBytes();
      return n instanceof Errno ? n : putInt(task, arg, n);
    }
    default:
      return ENOTTY;
  }
}

/** Requests of the termios and window-size family that a pty master answers for its pty (pty_ioctl). */
const MASTER_TERMINAL_REQUESTS: ReadonlySet<number> = new Set([
  TCGETS, TCSETS, TCSETSW, TCSETSF, TCGETS2, TCSETS2, TCSETSW2, TCSETSF2, TIOCGWINSZ, TIOCSWINSZ, TCFLSH, TCXONC,
]);

/**
 * A /dev/ptmx master: ptsname, unlockpt, TIOCGPTPEER, packet mode, TIOCSIG, and its pty's settings; job control
 * is the slave's. TCFLSH and TCXONC are the master's own queues (pty.ts, flushFromMaster, flowFromMaster).
 */
function masterIoctl(task: Task, file: PtyMaster, request: number, arg: number): number | Errno {
  const pty = file.pty;
  switch (request) {
    case TIOCGPTN: return putInt(task, arg, pty.index);
    case TIOCGPTLCK: return putInt(task, arg, pty.locked ? 1 : 0);
    case TIOCSPTLCK: {
      const lock = getInt(task, arg);
      if (lock instanceof Errno) return lock;
      pty.locked = lock !== 0;
      return 0;
    }
    case TIOCGPTPEER: {
      // The slave, opened with these flags (O_RDWR, O_NOCTTY, O_CLOEXEC, ...) without its path.
      if ((arg & ~(O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) !== 0) return EINVAL;
      return task.fds.add(new PtySlave(pty, arg & ~(O_CLOEXEC | O_NOCTTY)), (arg & O_CLOEXEC) !== 0);
    }
    case TIOCGPGRP: return putInt(task, arg, pty.foregroundPgid);
    case TIOCPKT: {
      const on = getInt(task, arg);
      if (on instanceof Errno) return on;
      pty.ldisc.setPacket(on !== 0);
      return 0;
    }
    case TIOCGPKT: return putInt(task, arg, pty.ldisc.packet ? 1 : 0);
    case TCFLSH: return pty.flushFromMaster(arg) ?? 0;
    case TCXONC: return pty.flowFromMaster(arg) ?? 0;
    case TIOCSIG: {
      // pty_signal: the characters' signals only, to the slave's foreground group if it has one.
      if (arg !== Signal.SIGINT && arg !== Signal.SIGQUIT && arg !== Signal.SIGTSTP) return EINVAL;
      pty.signalForeground(arg);
      return 0;
    }
    default:
      if (!MASTER_TERMINAL_REQUESTS.has(request)) return ENOTTY;
      // The master is no process's controlling terminal: no job-control check applies to it.
      return terminalIoctl(task, file, pty, request, arg);
  }
}

function ioctl(task: Task, a: SyscallArgs): number | Errno {
  const fd = a.int(0);
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  const request = a.uint(1);
  switch (request) {
    case FIOCLEX:
    case FIONCLEX:
      return task.fds.setCloexec(fd, request === FIOCLEX) ?? 0;
    case FIONBIO: {
      const on = getInt(task, a.ptr(2));
      if (on instanceof Errno) return on;
      file.flags = on !== 0 ? file.flags | O_NONBLOCK : file.flags & ~O_NONBLOCK;
      return 0;
    }
    case SIOCATMARK:
      // TCP and Unix streams; other Unix sockets EOPNOTSUPP, UDP ENOTTY.
      if (file instanceof InetStreamSocket || (file instanceof UnixSocket && !(file instanceof InetDatagramSocket) && file.type === SOCK_STREAM)) {
        return putInt(task, a.ptr(2), file.atUrgentMark() ? 1 : 0);
      }
      return file instanceof UnixSocket && !(file instanceof InetDatagramSocket) ? EOPNOTSUPP : ENOTTY;
    case FIONREAD: {
      if (file instanceof DirectoryFile) return ENOTTY;
      const n = file.readableBytes();
      return n instanceof Errno ? n : putInt(task, a.ptr(2), n);
    }
    default: {
      if (file instanceof PtyMaster) {
        const valueArg = request === TCFLSH || request === TCXONC || request === TIOCGPTPEER || request === TIOCSIG;
        return masterIoctl(task, file, request, valueArg ? a.int(2) : a.ptr(2));
      }
      const tty = file.terminal;
      if (tty === null) return ENOTTY;
      // Value arguments (TCFLSH, TCXONC, TIOCSCTTY, TCSBRK) are ints; the rest are pointers.
      const valueArg = request === TCFLSH || request === TCXONC || request === TIOCSCTTY || request === TCSBRK || request === TCSBRKP;
      return terminalIoctl(task, file, tty, request, valueArg ? a.int(2) : a.ptr(2));
    }
  }
}

/** The requests ioctl answers; others are ENOTTY (--report-unsupported lists those a program made). */
export const IMPLEMENTED_IOCTLS: ReadonlySet<number> = new Set([
  FIOCLEX, FIONCLEX, FIONBIO, FIONREAD, SIOCATMARK, TCGETS, TCSETS, TCSETSW, TCSETSF, TCGETS2, TCSETS2, TCSETSW2, TCSETSF2, TIOCGWINSZ,
  TIOCSWINSZ, TIOCGPGRP, TIOCSPGRP, TIOCGSID, TIOCSCTTY, TIOCNOTTY, TCFLSH, TCXONC, TCSBRK, TCSBRKP, TIOCOUTQ,
  TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK, TIOCGPTPEER, TIOCPKT, TIOCGPKT, TIOCSIG,
]);

export const ioctlSyscalls: SyscallEntry[] = [
  partial('ioctl', ioctl, 'FIOCLEX, FIONCLEX, FIONBIO, FIONREAD; SIOCATMARK on TCP and Unix stream sockets (other Unix sockets EOPNOTSUPP); on terminals (the sandbox\'s ptys, host terminals): TCGETS, TCSETS, TCSETSW, TCSETSF and the termios2 forms, TIOCGWINSZ, TIOCSWINSZ, TIOCGPGRP, TIOCSPGRP, TIOCGSID, TIOCSCTTY, TIOCNOTTY, TCFLSH, TCXONC, TCSBRK, TIOCOUTQ; on /dev/ptmx masters TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK, TIOCGPTPEER, TIOCPKT, TIOCGPKT (packet mode), TIOCSIG, TIOCGPGRP and the termios and window-size requests; others ENOTTY', 'ixp'),
];
