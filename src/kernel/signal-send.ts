// Generating signals (Linux kernel/signal.c: send_signal, force_sig_info, kill_something_info): a
// signal is dropped at once if its disposition ignores it and the thread does not block it; otherwise
// it is queued on the thread (tkill, faults) or on the process (kill, timers, SIGPIPE), and a thread
// blocked in an interruptible syscall is woken to take it.
//
// Today a sandbox holds one process of one thread, so kill's pid can only name the caller; the
// process work extends the look-ups here to its process table.
import { EAGAIN, EINVAL, EPERM, ESRCH, type Errno } from '../abi/errno.js';
import { faultInfo, infoCode, infoSigno, kernelInfo, senderInfo, type SigInfo } from '../abi/siginfo.js';
import {
  FPE_INTDIV, ILL_ILLOPN, NSIG, SI_KERNEL, SI_QUEUE, SI_TIMER, SI_TKILL, SI_USER, SIG_DFL, SIG_IGN, SIGRTMIN, sigBit, signalName, TRAP_TRACE,
} from '../abi/signal.js';
import { requestInterrupt } from './signal-machine.js';
import type { Task } from './task.js';

const RLIMIT_SIGPENDING = 11;

/** Where a signal came from, for the one-line report when it ends the program. */
function describe(info: SigInfo): string {
  const code = infoCode(info);
  switch (code) {
    case SI_USER: return 'sent by kill()';
    case SI_TKILL: return 'sent by tkill() or tgkill()';
    case SI_QUEUE: return 'sent by sigqueue()';
    case SI_TIMER: return 'a POSIX timer expired';
    case SI_KERNEL: return 'sent by the kernel';
    default: return `si_code ${code}`;
  }
}

/**
 * Queues a signal for the task (toThread: tkill, tgkill, rt_tgsigqueueinfo) or for its process (kill,
 * rt_sigqueueinfo, alarms, SIGPIPE). False when a real-time signal with its own siginfo finds the queue
 * full (RLIMIT_SIGPENDING), as sigqueue's EAGAIN.
 */
export function sendSignal(task: Task, info: SigInfo, toThread: boolean, detail = describe(info)): boolean {
  const signo = infoSigno(info);
  const sig = task.signals;
  const bit = sigBit(signo);
  const blocked = ((sig.mask | sig.realBlocked) & bit) !== 0n;
  if (!blocked && sig.process.ignores(signo)) return true;
  const pending = toThread ? sig.pending : sig.process.pending;
  if (signo >= SIGRTMIN && infoCode(info) !== SI_USER &&
      sig.pending.size + sig.process.pending.size >= task.rlimits[RLIMIT_SIGPENDING]![0]) return false;
  pending.enqueue({ info, detail });
  sig.process.changed();
  interruptIfDeliverable(task);
  return true;
}

/**
 * A signal arrived for the task: a blocked interruptible call ends (its wait taken back), a task that
 * computes is interrupted; a task in a syscall takes it on that syscall's way back.
 */
function interruptIfDeliverable(task: Task): void {
  if (!task.signals.deliverable) return;
  if (task.blocked !== null) task.complete(cancelBlocked(task));
  else requestInterrupt(task);
}

/**
 * A signal the thread cannot refuse (Linux force_sig_info): a fault, or a frame that could not be
 * built. Blocked or ignored, it is unblocked and set back to SIG_DFL, so it ends the program unless
 * a handler takes it.
 */
export function forceSignal(task: Task, info: SigInfo, detail: string): void {
  const signo = infoSigno(info);
  const sig = task.signals;
  const action = sig.process.action(signo);
  const blocked = (sig.mask & sigBit(signo)) !== 0n;
  if (blocked || action.handler === SIG_IGN) {
    sig.process.resetHandler(signo);
    if (blocked) sig.setMask(sig.mask & ~sigBit(signo));
  }
  sig.pending.enqueue({ info, detail });
  sig.process.changed();
}

/** As forceSignal, and makes it fatal even if a handler is installed (Linux force_fatal_sig). */
export function forceFatalSignal(task: Task, info: SigInfo, detail: string): void {
  const signo = infoSigno(info);
  if (task.signals.process.action(signo).handler !== SIG_DFL) task.signals.process.resetHandler(signo);
  forceSignal(task, info, detail);
}

/**
 * A fault that became a signal: the trap details go into the frame's sigcontext (trapno, err, and for
 * a page fault cr2; other traps leave the last cr2, as on Linux).
 */
export function raiseFault(task: Task, info: SigInfo, detail: string, trapNo: number, errorCode: number, cr2: number | null): void {
  const sig = task.signals;
  sig.trapNo = trapNo;
  sig.errorCode = errorCode;
  if (cr2 !== null) sig.cr2 = cr2;
  forceSignal(task, info, detail);
}

/** The siginfo of an exception other than a page fault (Linux arch/x86/kernel/traps.c). */
export function trapInfo(vector: number, signo: number, rip: number): SigInfo {
  switch (vector) {
    case 0: return faultInfo(signo, FPE_INTDIV, rip);
    case 1: return faultInfo(signo, TRAP_TRACE, rip);
    case 6: return faultInfo(signo, ILL_ILLOPN, rip);
    default: return kernelInfo(signo, SI_KERNEL);
  }
}

/** Takes back what the blocked call waits on and returns what it answers when interrupted. */
export function cancelBlocked(task: Task): number | Errno {
  const call = task.blocked!;
  task.blocked = null;
  return call.cancel();
}

function validSignal(signo: number): boolean {
  return signo >= 0 && signo <= NSIG;
}

/** The thread tid of the process tgid (0: any process), or null. One thread per sandbox for now. */
function findThread(task: Task, tgid: number, tid: number): Task | null {
  if (tid !== task.id.tid || (tgid !== 0 && tgid !== task.id.pid)) return null;
  return task;
}

/** kill(2): pid > 0 a process, 0 the caller's process group, -1 every process but init and the caller, < -1 a group. */
export function kill(task: Task, pid: number, signo: number): number | Errno {
  // The caller is the only process, pid 1 and the leader of its own group: -1 finds nobody, as on
  // Linux for init, and -pgid names group 1, which is -1 again.
  const target = pid === task.id.pid || pid === 0 ? task : null;
  if (target === null) return ESRCH;
  if (!validSignal(signo)) return EINVAL;
  if (signo === 0) return 0;
  sendSignal(target, senderInfo(signo, SI_USER, task.id.pid, task.id.uid), false);
  return 0;
}

/** tgkill(2) and tkill(2) (tgid 0): a signal to one thread. */
export function threadKill(task: Task, tgid: number, tid: number, signo: number): number | Errno {
  const target = findThread(task, tgid, tid);
  if (target === null) return ESRCH;
  if (!validSignal(signo)) return EINVAL;
  if (signo === 0) return 0;
  sendSignal(target, senderInfo(signo, SI_TKILL, task.id.pid, task.id.uid), true);
  return 0;
}

/**
 * rt_sigqueueinfo(2) (tid null) and rt_tgsigqueueinfo(2): a siginfo chosen by the program. Only to
 * itself may it claim to be the kernel or kill() (si_code >= 0) or tkill (SI_TKILL).
 */
export function queueInfo(task: Task, tgid: number, tid: number | null, signo: number, info: SigInfo): number | Errno {
  const code = infoCode(info);
  if ((code >= 0 || code === SI_TKILL) && tgid !== task.id.pid) return EPERM;
  const target = tid === null ? (tgid === task.id.pid ? task : null) : findThread(task, tgid, tid);
  if (target === null) return ESRCH;
  if (!validSignal(signo)) return EINVAL;
  if (signo === 0) return 0;
  return sendSignal(target, info, tid !== null, `${signalName(signo)} queued by the program`) ? 0 : EAGAIN;
}
