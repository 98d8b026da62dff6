// clone(2), fork(2), vfork(2): a new task, in the caller's thread group or a new one, sharing or
// copying each part as the flags say, the way gVisor's kernel/task_clone.go assembles one: the address
// space (copy-on-write fork, or shared with CLONE_VM), the fd table, the fs context, the signal
// dispositions, the rlimits.
import { EAGAIN, EFAULT, EINVAL, EMFILE, type Errno } from '../abi/errno.js';
import {
  CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_FILES, CLONE_FS, CLONE_NAMESPACES, CLONE_NEWNS, CLONE_PARENT,
  CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_SETTLS, CLONE_SIGHAND, CLONE_THREAD, CLONE_VFORK, CLONE_VM, CSIGNAL,
} from '../abi/sched.js';
import { MailboxOffset, Reg, REG_COUNT } from '../platform/mailbox.js';
import { MAX_VCPUS } from '../platform/layout.js';
import { type Kernel, memoryLimits } from './kernel.js';
import { PidFile } from './pidfd.js';
import { Blocked } from './syscall-table.js';
import { newRegisterFile, setRegister, type Task } from './task.js';
import { ThreadGroup } from './thread-group.js';

export interface CloneRequest {
  flags: number;
  /** New stack pointer (0: the caller's). */
  stack: number;
  parentTid: number;
  childTid: number;
  tls: number;
  /** CLONE_PIDFD: where the parent gets the child's pidfd (clone: parent_tid; clone3: args.pidfd). */
  pidfd: number;
}

/** Returns the child's tid to the caller (or Blocked for vfork, completed with it later). */
export function cloneTask(kernel: Kernel, task: Task, req: CloneRequest): number | Errno | Blocked {
  const f = req.flags;
  // The combinations Linux refuses (kernel/fork.c copy_process).
  if ((f & (CLONE_NEWNS | CLONE_FS)) === (CLONE_NEWNS | CLONE_FS)) return EINVAL;
  if ((f & CLONE_THREAD) !== 0 && (f & CLONE_SIGHAND) === 0) return EINVAL;
  if ((f & CLONE_SIGHAND) !== 0 && (f & CLONE_VM) === 0) return EINVAL;
  if ((f & (CLONE_NAMESPACES | CLONE_NEWNS)) !== 0) return EINVAL;
  // With CLONE_THREAD the pidfd names the new thread (Linux 6.9's PIDFD_THREAD), else its process.
  if ((f & CLONE_PIDFD) !== 0) {
    // Checked first, so that a bad pointer or a full fd table fails the clone before a child exists.
    // (The same bytes written back: the child's copy of the memory must not see a change.)
    const probe = new Uint8Array(4);
    if (task.mm.copyIn(req.pidfd, probe) !== 4 || task.mm.copyOut(req.pidfd, probe) !== 4) return EFAULT;
    if (!task.fds.hasRoom()) return EMFILE;
  }
  if ((f & CLONE_PARENT) !== 0 && task.group === kernel.initProcess) return EINVAL;
  if (kernel.tasks.size >= MAX_VCPUS - 1) return EAGAIN;
  const tid = kernel.allocPid();
  if (tid < 0) return EAGAIN;
  const parent = task.group;

  let group: ThreadGroup;
  if ((f & CLONE_THREAD) !== 0) {
    group = parent;
  } else {
    const mm = (f & CLONE_VM) !== 0 ? parent.mm : parent.mm.fork();
    const fds = (f & CLONE_FILES) !== 0 ? parent.fds : parent.fds.fork();
    const fs = (f & CLONE_FS) !== 0 ? parent.fs : parent.fs.fork();
    const signals = parent.signals.fork((f & CLONE_SIGHAND) !== 0);
    const parentGroup = (f & CLONE_PARENT) !== 0 ? parent.parent! : parent;
    group = new ThreadGroup(tid, parentGroup, parent.pgid, parent.sid, mm, fds, fs, parent.exePath, f & CSIGNAL,
      signals, parent.rlimits.map(([soft, hard]) => [soft, hard] as [number, number]));
    group.argRange = parent.argRange;
    group.envRange = parent.envRange;
    group.parentDeathSignal = 0;
    group.tty = parent.tty;
    parentGroup.children.add(group);
    if (mm !== parent.mm) mm.limits = memoryLimits(group);
    for (const shared of [mm, fds, fs]) kernel.share(shared);
    if (fds !== parent.fds) fds.lockOwner = tid;
    if ((f & CLONE_VM) === 0) kernel.forkSites(parent.mm, mm);
  }

  const child = kernel.newTask(tid, group, {
    uid: task.uid, gid: task.gid, euid: task.euid, egid: task.egid, suid: task.suid, sgid: task.sgid, groups: task.groups,
  }, task.comm);
  child.signals.setMask(task.signals.mask);
  if ((f & CLONE_VM) === 0 || (f & CLONE_VFORK) !== 0) child.signals.altStack = { ...task.signals.altStack };
  // The child runs where its parent may (sched_setaffinity is inherited).
  child.cpuAffinity = task.cpuAffinity;
  child.fsBase = (f & CLONE_SETTLS) !== 0 ? req.tls : task.fsBase;
  if ((f & CLONE_CHILD_CLEARTID) !== 0) child.clearChildTid = req.childTid;

  // The child returns from the same syscall with 0, on its own stack if one was given.
  const regs = newRegisterFile();
  regs.set(task.ctx!.mailbox.u32.subarray(MailboxOffset.regs >> 2, (MailboxOffset.regs >> 2) + REG_COUNT * 2));
  setRegister(regs, Reg.rax, 0);
  if (req.stack !== 0) setRegister(regs, Reg.rsp, req.stack);
  child.startRegs = regs;

  const tidBytes = new Uint8Array(new Uint32Array([tid]).buffer);
  if ((f & CLONE_PARENT_SETTID) !== 0 && task.mm.copyOut(req.parentTid, tidBytes) !== 4) {
    // Linux writes the tid after the child exists and ignores a fault there; so do we.
  }
  if ((f & CLONE_CHILD_SETTID) !== 0 && child.mm.copyOut(req.childTid, tidBytes) !== 4) {
    // As above: the child starts anyway.
  }
  if ((f & CLONE_PIDFD) !== 0) {
    // Installed after the child's fd table was copied: only a CLONE_FILES child shares it (as Linux).
    const pidfd = task.fds.add(new PidFile(group, 0, (f & CLONE_THREAD) !== 0 ? child : null), true) as number;
    task.mm.copyOut(req.pidfd, new Uint8Array(new Int32Array([pidfd]).buffer));
  }
  kernel.startTask(child);
  if ((f & CLONE_VFORK) !== 0 && (f & CLONE_THREAD) === 0) {
    group.vforkParent = task;
    return Blocked.instance;
  }
  return tid;
}

