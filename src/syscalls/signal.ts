// Signals: dispositions, masks, the alternate stack, sending, waiting, and the return from a handler.
// The state and the decisions are the kernel's (signals.ts, signal-send.ts, signal-delivery.ts); these
// handlers read and check the arguments in Linux's order (kernel/signal.c) and copy the structs.
import { EAGAIN, EFAULT, EINTR, EINVAL, ERESTARTNOHAND, Errno } from '../abi/errno.js';
import { decodeSigaction, decodeStack, encodeSigaction, encodeStack, SIGACTION_SIZE, STACK_T_SIZE } from '../abi/sigframe.js';
import { infoSigno, programInfo, SIGINFO_SIZE } from '../abi/siginfo.js';
import { NSIG, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGSET_SIZE, Signal, UNBLOCKABLE } from '../abi/signal.js';
import { sigreturn } from '../kernel/signal-delivery.js';
import { kill, queueInfo, threadKill } from '../kernel/signal-send.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import { Blocked, type RegistersRestored, type SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { Reg } from '../platform/mailbox.js';
import { readTimespec } from './time.js';
import { supported } from './define.js';

const sigsetBytes = new Uint8Array(SIGSET_SIZE);
const sigsetView = new DataView(sigsetBytes.buffer);

function readSigset(task: Task, va: number): bigint | Errno {
  if (task.mm.copyIn(va, sigsetBytes) !== SIGSET_SIZE) return EFAULT;
  return sigsetView.getBigUint64(0, true);
}

/** Writes the first `size` bytes of a sigset_t (rt_sigpending accepts a shorter one). */
function writeSigset(task: Task, va: number, set: bigint, size = SIGSET_SIZE): number | Errno {
  sigsetView.setBigUint64(0, set, true);
  return task.mm.copyOut(va, sigsetBytes.subarray(0, size)) === size ? 0 : EFAULT;
}

function rtSigaction(task: Task, a: SyscallArgs): number | Errno {
  if (a.size(3) !== SIGSET_SIZE) return EINVAL;
  const signo = a.int(0);
  let next = null;
  if (a.ptr(1) !== 0) {
    const raw = new Uint8Array(SIGACTION_SIZE);
    if (task.mm.copyIn(a.ptr(1), raw) !== SIGACTION_SIZE) return EFAULT;
    next = decodeSigaction(raw);
  }
  if (signo < 1 || signo > NSIG) return EINVAL;
  if (next !== null && (signo === Signal.SIGKILL || signo === Signal.SIGSTOP)) return EINVAL;
  const process = task.signals.process;
  const old = process.action(signo);
  if (next !== null) process.setAction(signo, next);
  if (a.ptr(2) !== 0 && task.mm.copyOut(a.ptr(2), encodeSigaction(old)) !== SIGACTION_SIZE) return EFAULT;
  return 0;
}

function rtSigprocmask(task: Task, a: SyscallArgs): number | Errno {
  if (a.size(3) !== SIGSET_SIZE) return EINVAL;
  const sig = task.signals;
  const old = sig.mask;
  if (a.ptr(1) !== 0) {
    const set = readSigset(task, a.ptr(1));
    if (set instanceof Errno) return set;
    const how = a.int(0);
    if (how === SIG_BLOCK) sig.setMask(old | set);
    else if (how === SIG_UNBLOCK) sig.setMask(old & ~set);
    else if (how === SIG_SETMASK) sig.setMask(set);
    else return EINVAL;
  }
  return a.ptr(2) !== 0 ? writeSigset(task, a.ptr(2), old) : 0;
}

function rtSigpending(task: Task, a: SyscallArgs): number | Errno {
  const size = a.size(1);
  if (size > SIGSET_SIZE) return EINVAL;
  return writeSigset(task, a.ptr(0), task.signals.blockedPending(), size);
}

function sigaltstack(task: Task, a: SyscallArgs): number | Errno {
  let next = null;
  if (a.ptr(0) !== 0) {
    const raw = new Uint8Array(STACK_T_SIZE);
    if (task.mm.copyIn(a.ptr(0), raw) !== STACK_T_SIZE) return EFAULT;
    next = decodeStack(raw);
  }
  const { old, error } = task.signals.setAltStack(next, task.running.mailbox.reg(Reg.rsp));
  if (error !== null) return error;
  if (a.ptr(1) !== 0 && task.mm.copyOut(a.ptr(1), encodeStack(old)) !== STACK_T_SIZE) return EFAULT;
  return 0;
}

function rtSigreturn(task: Task): number | RegistersRestored {
  // Linux restore_sigcontext: whatever was interrupted before the handler ran is not restarted.
  task.restartBlock = null;
  return sigreturn(task);
}

/** pause(2): waits for a signal that a handler takes; then EINTR. */
function pause(task: Task): Blocked {
  task.block(() => ERESTARTNOHAND);
  return Blocked.instance;
}

/** rt_sigsuspend(2): waits with a temporary mask; the handler's frame saves the one to go back to. */
function rtSigsuspend(task: Task, a: SyscallArgs): Errno | Blocked {
  if (a.size(1) !== SIGSET_SIZE) return EINVAL;
  const set = readSigset(task, a.ptr(0));
  if (set instanceof Errno) return set;
  const sig = task.signals;
  sig.savedMask = sig.mask;
  sig.setMask(set);
  task.block(() => ERESTARTNOHAND);
  return Blocked.instance;
}

/**
 * rt_sigtimedwait(2): takes a pending signal of the set, blocked or not, without running its handler.
 * None yet: the set is unblocked while the task waits, so a signal of it ends the wait (as an interrupt
 * would), and is taken then; another signal's handler makes it EINTR; the timeout EAGAIN.
 */
function rtSigtimedwait(task: Task, a: SyscallArgs): number | Errno | Blocked {
  if (a.size(3) !== SIGSET_SIZE) return EINVAL;
  const set = readSigset(task, a.ptr(0));
  if (set instanceof Errno) return set;
  let timeoutNs: bigint | null = null;
  if (a.ptr(2) !== 0) {
    const t = readTimespec(task, a.ptr(2));
    if (t instanceof Errno) return t;
    timeoutNs = t;
  }
  const these = set & ~UNBLOCKABLE;
  const infoVa = a.ptr(1);
  const sig = task.signals;
  const answer = (): number | Errno => {
    const q = sig.takeFrom(these);
    if (q === null) return EAGAIN;
    if (infoVa !== 0 && task.mm.copyOut(infoVa, q.info) !== SIGINFO_SIZE) return EFAULT;
    return infoSigno(q.info);
  };
  const now = answer();
  if (now !== EAGAIN || timeoutNs === 0n) return now;
  sig.realBlocked = sig.mask;
  sig.setMask(sig.mask & ~these);
  const restore = (): void => {
    sig.setMask(sig.realBlocked);
    sig.realBlocked = 0n;
  };
  const call = task.block(() => {
    restore();
    const r = answer();
    return r === EAGAIN ? EINTR : r;
  });
  if (timeoutNs !== null) {
    call.waitOn(task.timers.after(timeoutNs, () => {
      restore();
      task.complete(answer());
    }));
  }
  return Blocked.instance;
}

/** A siginfo the program wrote, checked as rt_sigqueueinfo checks it. */
export function readInfo(task: Task, va: number, signo: number): Uint8Array | Errno {
  const raw = new Uint8Array(SIGINFO_SIZE);
  if (task.mm.copyIn(va, raw) !== SIGINFO_SIZE) return EFAULT;
  return programInfo(raw, signo);
}

function rtSigqueueinfo(task: Task, a: SyscallArgs): number | Errno {
  const info = readInfo(task, a.ptr(2), a.int(1));
  if (info instanceof Errno) return info;
  return queueInfo(task, a.int(0), null, a.int(1), info);
}

function rtTgsigqueueinfo(task: Task, a: SyscallArgs): number | Errno {
  const info = readInfo(task, a.ptr(3), a.int(2));
  if (info instanceof Errno) return info;
  if (a.int(0) <= 0 || a.int(1) <= 0) return EINVAL;
  return queueInfo(task, a.int(0), a.int(1), a.int(2), info);
}

function tkill(task: Task, a: SyscallArgs): number | Errno {
  if (a.int(0) <= 0) return EINVAL;
  return threadKill(task, 0, a.int(0), a.int(1));
}

function tgkill(task: Task, a: SyscallArgs): number | Errno {
  if (a.int(0) <= 0 || a.int(1) <= 0) return EINVAL;
  return threadKill(task, a.int(0), a.int(1), a.int(2));
}

/**
 * restart_syscall(2): what the program makes after a sleep or a timed poll was interrupted by a signal
 * that ran no handler (a stop and continue): the call goes on with the time it had left. As on Linux,
 * the block stays until a signal handler returns (rt_sigreturn); without one it is EINTR.
 */
function restartSyscall(task: Task): number | Errno | Blocked {
  return task.restartBlock === null ? EINTR : task.restartBlock();
}

export const signalSyscalls: SyscallEntry[] = [
  supported('rt_sigaction', rtSigaction, 'gjJz'),
  supported('rt_sigprocmask', rtSigprocmask, 'hqKz'),
  supported('rt_sigpending', rtSigpending, 'Kz'),
  supported('sigaltstack', sigaltstack, 'xx'),
  supported('rt_sigreturn', rtSigreturn, ''),
  supported('pause', pause, ''),
  supported('restart_syscall', restartSyscall, ''),
  supported('rt_sigsuspend', rtSigsuspend, 'qz'),
  supported('rt_sigtimedwait', rtSigtimedwait, 'qxtz'),
  supported('kill', (t, a) => kill(t, a.int(0), a.int(1)), 'ig'),
  supported('tkill', tkill, 'ig'),
  supported('tgkill', tgkill, 'iig'),
  supported('rt_sigqueueinfo', rtSigqueueinfo, 'igx'),
  supported('rt_tgsigqueueinfo', rtTgsigqueueinfo, 'iigx'),
];
