// Controlling terminals and terminal job control (Linux drivers/tty/tty_jobctrl.c): a session leader
// takes a terminal (TIOCSCTTY, or the sandbox's console at start); its foreground process group is the
// one that may read it and that ISIG's signals and SIGWINCH go to; a background group that reads gets
// SIGTTIN, and one that writes with TOSTOP, or changes the terminal's settings, gets SIGTTOU.
import { EINVAL, EIO, ENOTTY, EPERM, ERESTARTSYS, ESRCH, Errno } from '../abi/errno.js';
import { kernelInfo } from '../abi/siginfo.js';
import { SI_KERNEL, SIG_IGN, Signal, sigBit } from '../abi/signal.js';
import { TOSTOP } from '../abi/termios.js';
import type { Terminal } from '../fs/terminal.js';
import { isOrphanedProcessGroup } from './job-control.js';
import type { Kernel } from './kernel.js';
import { sendToProcess } from './signal-send.js';
import type { Task } from './task.js';
import type { ThreadGroup } from './thread-group.js';

/** kill_pgrp from the kernel (the terminal, a file's owner): a kernel signal to every live process of the group. */
export function signalProcessGroup(kernel: Kernel, pgid: number, signo: number, detail = 'sent by the terminal'): void {
  for (const g of [...kernel.groups.values()]) {
    if (g.pgid === pgid && g.exit === null) sendToProcess(g, kernelInfo(signo, SI_KERNEL), detail);
  }
}

/** The session of group takes tty as its controlling terminal, group's process group in the foreground. */
export function attachTerminal(kernel: Kernel, group: ThreadGroup, tty: Terminal): void {
  tty.session = group.sid;
  tty.foregroundPgid = group.pgid;
  tty.signalGroup = (pgid, signo) => signalProcessGroup(kernel, pgid, signo);
  for (const g of kernel.groups.values()) if (g.sid === group.sid && g.exit === null && g.tty === null) g.tty = tty;
  group.tty = tty;
}

/**
 * The session lets go of its terminal (Linux disassociate_ctty): the foreground group hears SIGHUP and
 * SIGCONT, and no process of the session has a controlling terminal any more.
 */
export function detachSession(kernel: Kernel, leader: ThreadGroup): void {
  const tty = leader.tty;
  if (tty === null) return;
  if (tty.session === leader.sid) {
    const fg = tty.foregroundPgid;
    if (fg !== 0) {
      signalProcessGroup(kernel, fg, Signal.SIGHUP);
      signalProcessGroup(kernel, fg, Signal.SIGCONT);
    }
    tty.detach();
  }
  for (const g of kernel.groups.values()) if (g.sid === leader.sid && g.tty === tty) g.tty = null;
}

/** TIOCSCTTY: only a session leader without one; a terminal another session has only for root with steal = 1. */
export function setControllingTerminal(task: Task, tty: Terminal, readable: boolean, steal: boolean): number | Errno {
  const group = task.group;
  if (group.pid === group.sid && group.tty === tty) return 0;
  if (group.pid !== group.sid || group.tty !== null) return EPERM;
  const root = task.euid === 0;
  if (!readable && !root) return EPERM;
  if (tty.session !== 0) {
    if (!(steal && root)) return EPERM;
    for (const g of task.kernel.groups.values()) if (g.sid === tty.session && g.tty === tty) g.tty = null;
  }
  attachTerminal(task.kernel, group, tty);
  return 0;
}

/**
 * open(2) of a terminal without O_NOCTTY (Linux tty_open_proc_set_tty): a session leader that has no
 * controlling terminal takes this one if no session has it. (A pty master is no terminal here, and
 * /dev/tty is the caller's own already.)
 */
export function takeTerminalOnOpen(task: Task, tty: Terminal): void {
  const group = task.group;
  if (group.pid !== group.sid || group.tty !== null || tty.session !== 0) return;
  attachTerminal(task.kernel, group, tty);
}

/** TIOCNOTTY: a session leader gives the terminal up for its whole session; another process only for itself. */
export function dropControllingTerminal(task: Task, tty: Terminal): number | Errno {
  const group = task.group;
  if (group.tty !== tty) return ENOTTY;
  if (group.pid === group.sid) detachSession(task.kernel, group);
  else group.tty = null;
  return 0;
}

/** TIOCGPGRP and TIOCGSID ask about the caller's own controlling terminal only. */
function ownTerminal(task: Task, tty: Terminal): Errno | null {
  return task.group.tty !== tty || tty.session === 0 ? ENOTTY : null;
}

export function foregroundGroup(task: Task, tty: Terminal): number | Errno {
  return ownTerminal(task, tty) ?? tty.foregroundPgid;
}

export function terminalSession(task: Task, tty: Terminal): number | Errno {
  return ownTerminal(task, tty) ?? tty.session;
}

/** TIOCSPGRP: a process group of the caller's session, from the foreground (or with SIGTTOU ignored). */
export function setForegroundGroup(task: Task, tty: Terminal, pgid: number): number | Errno {
  const change = checkTerminalChange(task, tty);
  if (change !== null) return change;
  const group = task.group;
  if (group.tty !== tty || tty.session !== group.sid) return ENOTTY;
  if (pgid < 0) return EINVAL;
  const members = [...task.kernel.groups.values()].filter((g) => g.pgid === pgid && g.exit === null);
  if (members.length === 0) return ESRCH;
  if (members.some((g) => g.sid !== group.sid)) return EPERM;
  tty.foregroundPgid = pgid;
  return 0;
}

/** The signal is ignored or blocked by the calling thread: it would never stop it. */
function refuses(task: Task, signo: number): boolean {
  return task.group.signals.action(signo).handler === SIG_IGN || (task.signals.mask & sigBit(signo)) !== 0n;
}

/**
 * Linux __tty_check_change: a process of a background group that uses its controlling terminal gets
 * signo (its whole group does) and the call restarts after the stop. null: go on.
 */
function checkJobControl(task: Task, tty: Terminal, signo: number): Errno | null {
  const group = task.group;
  if (group.tty !== tty || tty.foregroundPgid === 0 || group.pgid === tty.foregroundPgid) return null;
  if (refuses(task, signo)) return signo === Signal.SIGTTIN ? EIO : null;
  if (isOrphanedProcessGroup(task.kernel, group.pgid)) return EIO;
  signalProcessGroup(task.kernel, group.pgid, signo);
  return ERESTARTSYS;
}

/** Settings changes (TCSETS*, TIOCSPGRP, TCFLSH, TCXONC, TIOCSWINSZ): SIGTTOU from the background. */
export function checkTerminalChange(task: Task, tty: Terminal): Errno | null {
  return checkJobControl(task, tty, Signal.SIGTTOU);
}

/** A read: SIGTTIN from the background (EIO if it is ignored or blocked, or the group is orphaned). */
export function checkTerminalRead(task: Task, tty: Terminal): Errno | null {
  return checkJobControl(task, tty, Signal.SIGTTIN);
}

/** A write: SIGTTOU from the background only when TOSTOP is set. */
export function checkTerminalWrite(task: Task, tty: Terminal): Errno | null {
  if (task.group.tty !== tty || tty.foregroundPgid === 0 || task.group.pgid === tty.foregroundPgid) return null;
  const t = tty.getTermios();
  if (t instanceof Errno || (t.lflag & TOSTOP) === 0) return null;
  return checkJobControl(task, tty, Signal.SIGTTOU);
}
