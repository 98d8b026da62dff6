// Generating signals (Linux kernel/signal.c: send_signal, complete_signal, force_sig_info,
// kill_something_info): a signal is dropped at once if its disposition ignores it and no thread blocks
// it; otherwise it is queued on the thread (tkill, faults) or on the process (kill, timers, SIGPIPE,
// SIGCHLD), and one thread that does not block it is woken to take it: a thread blocked in an
// interruptible syscall leaves it, one that computes is interrupted. A signal whose default action
// ends the process without a core ends every thread at once, as Linux's complete_signal does.
import { EAGAIN, EINVAL, EPERM, ESRCH, type Errno } from '../abi/errno.js';
import { faultInfo, infoCode, infoSigno, kernelInfo, senderInfo, type SigInfo } from '../abi/siginfo.js';
import {
  FPE_INTDIV, Signal, ILL_ILLOPN, NSIG, SI_KERNEL, SI_QUEUE, SI_TIMER, SI_TKILL, SI_USER, SIG_DFL, SIG_IGN, SIGRTMIN, sigBit, signalName, TRAP_TRACE,
} from '../abi/signal.js';
import { POLLIN } from '../abi/fcntl.js';
import { beginGroupStop, prepareSignal, stopDiscarded } from './job-control.js';
import { requestInterrupt } from './signal-machine.js';
import { DefaultAction, defaultAction, type QueuedSignal } from './signals.js';
import type { Task } from './task.js';
import type { ThreadGroup } from './thread-group.js';

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
export function sendSignal(task: Task, info: SigInfo, toThread: boolean, detail = describe(info), queued?: QueuedSignal): boolean {
  return toThread ? queueOn(task.group, task, info, detail, queued) : queueOn(task.group, null, info, detail, queued);
}

/** A signal to a process: kill, SIGCHLD, a timer (queued: the entry to queue, made by the caller). */
export function sendToProcess(group: ThreadGroup, info: SigInfo, detail = describe(info), queued?: QueuedSignal): boolean {
  return queueOn(group, null, info, detail, queued);
}

function queueOn(group: ThreadGroup, thread: Task | null, info: SigInfo, detail: string, queued?: QueuedSignal): boolean {
  if (group.exit !== null || group.groupExit !== null || group.tasks.size === 0) return true;
  const signo = infoSigno(info);
  const bit = sigBit(signo);
  const process = group.signals;
  const candidates = thread !== null ? [thread] : [...group.tasks];
  const anyTask = candidates[0]!;
  const kernel = anyTask.kernel;
  prepareSignal(kernel, group, signo);
  const blockedBy = (t: Task): boolean => ((t.signals.mask | t.signals.realBlocked) & bit) !== 0n;
  if (process.ignores(signo) && !candidates.some(blockedBy)) return true;
  // The thread to take it: the one named, else the first that does not block it (the leader first).
  // A stopped process takes nothing but SIGKILL until it continues (Linux wants_signal).
  // rt_sigtimedwait's thread unblocked the signals it waits for: it takes them (Linux wants_signal).
  const masks = (t: Task): boolean => (t.signals.mask & bit) !== 0n;
  const taker = group.stopSignal !== 0 && signo !== Signal.SIGKILL ? undefined : candidates.find((t) => !masks(t));
  const action = process.action(signo);
  if (taker !== undefined && action.handler === SIG_DFL && defaultAction(signo) === DefaultAction.Stop) {
    // Taken at once, as a fatal signal is: a thread blocked in a syscall stays blocked, stopped.
    if (!stopDiscarded(kernel, group, signo)) beginGroupStop(kernel, group, signo);
    return true;
  }
  if (signo >= SIGRTMIN && infoCode(info) !== SI_USER &&
      anyTask.signals.pending.size + process.pending.size >= anyTask.rlimits[RLIMIT_SIGPENDING]![0]) return false;
  (thread !== null ? thread.signals.pending : process.pending).enqueue(queued ?? { info, detail });
  process.changed();
  // signalfd readers look again (Linux signalfd_notify).
  process.queued.notify(POLLIN);
  if (taker === undefined) return true;
  // Fatal at once unless a sigtimedwait waits for it (Linux complete_signal checks real_blocked).
  if (signo === Signal.SIGKILL || (action.handler === SIG_DFL && defaultAction(signo) === DefaultAction.Terminate && !blockedBy(taker))) {
    taker.kernel.killGroup(group, { status: null, signal: signo, core: false, detail }, null);
    return true;
  }
  interruptIfDeliverable(taker);
  return true;
}

/**
 * A signal arrived for the task: a blocked interruptible call ends (its wait taken back) unless it is
 * trying its operation again (it calls this once it waits again), a task that computes is
 * interrupted; a task in a syscall takes it on that syscall's way back.
 */
export function interruptIfDeliverable(task: Task): void {
  if (!task.signals.deliverable || task.exit !== null) return;
  if (task.blocked === null) requestInterrupt(task);
  else if (!task.blocked.retrying) task.complete(cancelBlocked(task));
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

/**
 * A stop ended: signals that came meanwhile reach threads blocked in syscalls (the parked ones took
 * theirs on their way back): each blocked thread with one of its own, and one for the process's.
 */
export function wakeAfterStop(group: ThreadGroup): void {
  let processTaken = false;
  for (const t of [...group.tasks]) {
    if (t.blocked === null || !t.signals.deliverable) continue;
    const own = (t.signals.pending.set & ~t.signals.mask) !== 0n;
    if (!own && processTaken) continue;
    if (!own) processTaken = true;
    t.complete(cancelBlocked(t));
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

/** The thread tid, of the process tgid if that is not 0; null when there is none (or it has exited). */
function findThread(task: Task, tgid: number, tid: number): Task | null {
  const t = task.kernel.tasks.get(tid);
  if (t === undefined || t.exit !== null || (tgid !== 0 && t.group.pid !== tgid)) return null;
  return t;
}

/** The processes kill's pid names: > 0 that one, 0 the caller's group, -1 all but init and the caller, < -1 group -pid. */
function killTargets(task: Task, pid: number): ThreadGroup[] {
  const kernel = task.kernel;
  if (pid > 0) {
    const g = kernel.group(pid);
    return g === undefined ? [] : [g];
  }
  const all = [...kernel.groups.values()].filter((g) => !g.reaped);
  if (pid === -1) return all.filter((g) => g !== kernel.initProcess && g !== task.group);
  const pgid = pid === 0 ? task.group.pgid : -pid;
  return all.filter((g) => g.pgid === pgid);
}

/**
 * Linux check_kill_permission: root (euid 0) may signal anyone; others a process whose real or saved
 * uid is their real or effective uid, or (SIGCONT) one of their own session.
 */
function mayKill(sender: Task, target: Task, signo: number): boolean {
  if (sender.euid === 0 || sender.group === target.group) return true;
  const ids = [target.uid, target.suid];
  if (ids.includes(sender.uid) || ids.includes(sender.euid)) return true;
  return signo === Signal.SIGCONT && sender.group.sid === target.group.sid;
}

/** The permission check for one process: its leader stands for its credentials. */
function mayKillProcess(sender: Task, group: ThreadGroup, signo: number): boolean {
  const leader = group.leader;
  return leader === undefined || mayKill(sender, leader, signo);
}

/**
 * kill(2): EPERM for a process the caller may not signal; to a group, success if any member took it;
 * to every process (-1), only the other errors count (Linux kill_something_info).
 */
export function kill(task: Task, pid: number, signo: number): number | Errno {
  if (pid === -2147483648) return ESRCH;
  const targets = killTargets(task, pid);
  if (targets.length === 0) return ESRCH;
  if (!validSignal(signo)) return EINVAL;
  let sent = 0;
  for (const g of targets) {
    if (!mayKillProcess(task, g, signo)) continue;
    sent++;
    if (signo !== 0) sendToProcess(g, senderInfo(signo, SI_USER, task.group.pid, task.uid));
  }
  return sent > 0 || pid === -1 ? 0 : EPERM;
}

/** A siginfo the program chose may claim to come from the kernel, kill() or tkill only to its own process. */
function mayClaim(task: Task, tgid: number, info: SigInfo): boolean {
  const code = infoCode(info);
  return !((code >= 0 || code === SI_TKILL) && tgid !== task.group.pid);
}

/**
 * pidfd_send_signal(2): a signal to the very process a pidfd names (no pid to reuse); with the
 * program's own siginfo, or as kill() sends it (info null).
 */
export function signalProcess(task: Task, group: ThreadGroup, signo: number, info: SigInfo | null): number | Errno {
  if (!validSignal(signo)) return EINVAL;
  if (group.exit !== null) return ESRCH;
  if (info !== null && !mayClaim(task, group.pid, info)) return EPERM;
  if (!mayKillProcess(task, group, signo)) return EPERM;
  if (signo === 0) return 0;
  const sent = sendToProcess(group, info ?? senderInfo(signo, SI_USER, task.group.pid, task.uid));
  return sent || info === null ? 0 : EAGAIN;
}

/** tgkill(2) and tkill(2) (tgid 0): a signal to one thread. */
export function threadKill(task: Task, tgid: number, tid: number, signo: number): number | Errno {
  const target = findThread(task, tgid, tid);
  if (target === null) return ESRCH;
  if (!validSignal(signo)) return EINVAL;
  if (!mayKill(task, target, signo)) return EPERM;
  if (signo === 0) return 0;
  sendSignal(target, senderInfo(signo, SI_TKILL, task.group.pid, task.uid), true);
  return 0;
}

/**
 * rt_sigqueueinfo(2) (tid null) and rt_tgsigqueueinfo(2): a siginfo chosen by the program. Only to
 * its own process may it claim to be the kernel or kill() (si_code >= 0) or tkill (SI_TKILL).
 */
export function queueInfo(task: Task, tgid: number, tid: number | null, signo: number, info: SigInfo): number | Errno {
  if (!mayClaim(task, tgid, info)) return EPERM;
  if (!validSignal(signo)) return EINVAL;
  const thread = tid === null ? null : findThread(task, tgid, tid);
  const group = tid === null ? task.kernel.group(tgid) : thread?.group;
  if (group === undefined || group.exit !== null) return ESRCH;
  if (thread !== null ? !mayKill(task, thread, signo) : !mayKillProcess(task, group, signo)) return EPERM;
  if (signo === 0) return 0;
  const detail = `${signalName(signo)} queued by the program`;
  const ok = thread === null ? sendToProcess(group, info, detail) : sendSignal(thread, info, true, detail);
  return ok ? 0 : EAGAIN;
}
