// Signal dispositions and masks. They are recorded and read back exactly; delivery to handlers comes
// later, so for now a fault ends the program as the default action would.
import { EFAULT, EINVAL, Errno } from '../abi/errno.js';
import { Signal } from '../abi/signal.js';
import { SIGACTION_SIZE, SIGSET_SIZE, STACK_T_SIZE } from '../abi/structs.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial } from './define.js';

const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIG_SETMASK = 2;
const UNBLOCKABLE = (1n << BigInt(Signal.SIGKILL - 1)) | (1n << 18n); // SIGKILL, SIGSTOP

function rtSigaction(task: Task, a: SyscallArgs): number | Errno {
  const signo = a.int(0);
  if (a.size(3) !== SIGSET_SIZE) return EINVAL;
  if (signo < 1 || signo > 64) return EINVAL;
  const next = a.ptr(1);
  if (next !== 0 && (signo === Signal.SIGKILL || signo === 19)) return EINVAL;
  let replacement: Uint8Array | null = null;
  if (next !== 0) {
    replacement = new Uint8Array(SIGACTION_SIZE);
    if (task.mm.copyIn(next, replacement) !== SIGACTION_SIZE) return EFAULT;
  }
  if (a.ptr(2) !== 0) {
    const old = task.sigactions.get(signo) ?? new Uint8Array(SIGACTION_SIZE);
    if (task.mm.copyOut(a.ptr(2), old) !== SIGACTION_SIZE) return EFAULT;
  }
  if (replacement !== null) task.sigactions.set(signo, replacement);
  return 0;
}

function rtSigprocmask(task: Task, a: SyscallArgs): number | Errno {
  if (a.size(3) !== SIGSET_SIZE) return EINVAL;
  const how = a.int(0);
  let set: bigint | null = null;
  if (a.ptr(1) !== 0) {
    const raw = new Uint8Array(SIGSET_SIZE);
    if (task.mm.copyIn(a.ptr(1), raw) !== SIGSET_SIZE) return EFAULT;
    set = new DataView(raw.buffer).getBigUint64(0, true);
    if (how !== SIG_BLOCK && how !== SIG_UNBLOCK && how !== SIG_SETMASK) return EINVAL;
  }
  if (a.ptr(2) !== 0) {
    const out = new Uint8Array(SIGSET_SIZE);
    new DataView(out.buffer).setBigUint64(0, task.sigmask, true);
    if (task.mm.copyOut(a.ptr(2), out) !== SIGSET_SIZE) return EFAULT;
  }
  if (set !== null) {
    if (how === SIG_BLOCK) task.sigmask |= set;
    else if (how === SIG_UNBLOCK) task.sigmask &= ~set;
    else task.sigmask = set;
    task.sigmask &= ~UNBLOCKABLE;
  }
  return 0;
}

function sigaltstack(task: Task, a: SyscallArgs): number | Errno {
  if (a.ptr(1) !== 0) {
    const out = task.altStack ?? Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0); // SS_DISABLE
    if (task.mm.copyOut(a.ptr(1), out) !== STACK_T_SIZE) return EFAULT;
  }
  if (a.ptr(0) !== 0) {
    const next = new Uint8Array(STACK_T_SIZE);
    if (task.mm.copyIn(a.ptr(0), next) !== STACK_T_SIZE) return EFAULT;
    task.altStack = next;
  }
  return 0;
}

export const signalSyscalls: SyscallEntry[] = [
  partial('rt_sigaction', rtSigaction, 'dispositions are recorded; delivery to handlers is not implemented yet', 'ixxz'),
  partial('rt_sigprocmask', rtSigprocmask, 'the mask is recorded; no signal is delivered yet', 'ixxz'),
  partial('sigaltstack', sigaltstack, 'recorded only', 'xx'),
];
