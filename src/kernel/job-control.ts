// Job control: a whole process stops (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU with their default action)
// and continues (SIGCONT), as Linux's group stop does (kernel/signal.c: prepare_signal,
// do_signal_stop, do_notify_parent_cldstop; gVisor's task_stop.go). No ptrace.
//
// A stop asks every thread to come back to the Sentry. A thread on its way back to the program parks
// there (its context is not resumed); a thread computing in the guest is interrupted first; a thread
// blocked in a syscall stays blocked and parks when its call completes, so a stop neither interrupts a
// sleep nor makes a read fail. The stop is complete once every thread is parked or blocked: then the
// parent hears SIGCHLD (CLD_STOPPED, unless it set SA_NOCLDSTOP) and wait(WUNTRACED) can report it.
// SIGCONT, blocked or ignored or not, ends the stop at the moment it is sent: the parked threads go
// on to the program (a handler of SIGCONT runs first), and the parent hears CLD_CONTINUED.
import { CLD_CONTINUED, CLD_STOPPED, SA_NOCLDSTOP, Signal, sigBit } from '../abi/signal.js';
import { childInfo } from '../abi/siginfo.js';
import type { Kernel } from './kernel.js';
import { requestInterrupt } from './signal-machine.js';
import type { ThreadGroup } from './thread-group.js';

const STOP_SIGNALS = sigBit(Signal.SIGSTOP) | sigBit(Signal.SIGTSTP) | sigBit(Signal.SIGTTIN) | sigBit(Signal.SIGTTOU);

export function isStopSignal(signo: number): boolean {
  return signo >= 1 && signo <= 64 && (STOP_SIGNALS & sigBit(signo)) !== 0n;
}

/**
 * What sending a signal does before it is queued, whatever the target's mask and dispositions (Linux
 * prepare_signal): a stop signal discards a pending SIGCONT; SIGCONT discards pending stop signals and
 * continues the process.
 */
export function prepareSignal(kernel: Kernel, group: ThreadGroup, signo: number): void {
  if (isStopSignal(signo)) discardPending(group, sigBit(Signal.SIGCONT));
  else if (signo === Signal.SIGCONT) {
    discardPending(group, STOP_SIGNALS);
    continueGroup(kernel, group);
  }
}

function discardPending(group: ThreadGroup, mask: bigint): void {
  group.signals.pending.flush(mask);
  for (const t of group.tasks) t.signals.pending.flush(mask);
  group.signals.changed();
}

/**
 * POSIX: SIGTSTP, SIGTTIN and SIGTTOU do not stop a process of an orphaned process group (one where no
 * member has a parent in another group of the same session). The sandbox's first process counts as
 * having such a parent (the shell that started tsvisor), so its group is never orphaned.
 */
export function stopDiscarded(kernel: Kernel, group: ThreadGroup, signo: number): boolean {
  return signo !== Signal.SIGSTOP && isOrphanedProcessGroup(kernel, group.pgid);
}

/** POSIX's orphaned process group (Linux will_become_orphaned_pgrp), the sandbox's first process never in one. */
export function isOrphanedProcessGroup(kernel: Kernel, pgid: number): boolean {
  for (const g of kernel.groups.values()) {
    if (g.pgid !== pgid || g.exit !== null) continue;
    const parent = g.parent;
    if (parent === null) return false;
    if (parent.pgid !== g.pgid && parent.sid === g.sid) return false;
  }
  return true;
}

/** Starts a group stop with signo (nothing if the process already stops or is ending). */
export function beginGroupStop(kernel: Kernel, group: ThreadGroup, signo: number): void {
  if (group.exit !== null || group.groupExit !== null || group.stopSignal !== 0) return;
  group.stopSignal = signo;
  group.stopped = false;
  group.continuedReport = false;
  for (const t of group.tasks) if (t.parked === null && t.blocked === null) requestInterrupt(t);
  checkGroupStopped(kernel, group);
}

/** A thread parked, blocked or ended: the stop is complete when none of them can reach the program. */
export function checkGroupStopped(kernel: Kernel, group: ThreadGroup): void {
  if (group.stopSignal === 0 || group.stopped || group.groupExit !== null || group.tasks.size === 0) return;
  for (const t of group.tasks) if (t.parked === null && t.blocked === null) return;
  group.stopped = true;
  group.stopReport = group.stopSignal;
  notifyParent(kernel, group, CLD_STOPPED, group.stopSignal);
}

/** SIGCONT: the stop ends (complete or not) and every parked thread goes on. */
export function continueGroup(kernel: Kernel, group: ThreadGroup): void {
  if (group.stopSignal === 0) return;
  const wasStopped = group.stopped;
  group.stopSignal = 0;
  group.stopped = false;
  group.stopReport = 0;
  if (wasStopped) {
    group.continuedReport = true;
    notifyParent(kernel, group, CLD_CONTINUED, Signal.SIGCONT);
  }
  for (const t of [...group.tasks]) if (t.parked !== null) kernel.resumeParked(t);
  kernel.wakeAfterStop(group);
}

/** The process ends: its stop with it. */
export function endGroupStop(group: ThreadGroup): void {
  group.stopSignal = 0;
  group.stopped = false;
  group.stopReport = 0;
  group.continuedReport = false;
}

/** Linux do_notify_parent_cldstop: SIGCHLD unless SA_NOCLDSTOP, and the parent's waiters look again. */
function notifyParent(kernel: Kernel, group: ThreadGroup, code: number, status: number): void {
  const parent = group.parent;
  if (parent === null || parent.exit !== null) return;
  if ((parent.signals.action(Signal.SIGCHLD).flags & SA_NOCLDSTOP) === 0) {
    kernel.signalProcess(parent, childInfo(Signal.SIGCHLD, code, group.pid, group.leader?.uid ?? group.lastUid, status));
  }
  parent.notifyChildWaiters();
}
