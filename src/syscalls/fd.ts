// Descriptor-table calls: close, dup, dup2, dup3, fcntl, lseek.
import { EAGAIN, EBADF, EFAULT, EINVAL, ESRCH, Errno } from '../abi/errno.js';
import { SI_KERNEL } from '../abi/signal.js';
import { kernelInfo } from '../abi/siginfo.js';
import { sendSignal, sendToProcess } from '../kernel/signal-send.js';
import { signalProcessGroup } from '../kernel/terminal-control.js';
import { MAX_FDS } from '../fs/fd-table.js';
import { O_CLOEXEC, O_DIRECT, SETFL_MASK, SEEK_HOLE } from '../abi/fcntl.js';
import { FLOCK_SIZE } from '../abi/structs.js';
import { F_RDLCK, F_UNLCK, F_WRLCK, type LockOwner, type RecordLock, fileLocks } from '../fs/lock.js';
import { PipeEnd } from '../fs/pipe.js';
import { addSeals } from '../fs/seals.js';
import type { FileDescription, FileOwner } from '../fs/vfs.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import { Blocked, type SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial, supported } from './define.js';

const F_DUPFD = 0;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const F_SETOWN = 8;
const F_GETOWN = 9;
const F_SETOWN_EX = 15;
const F_GETOWN_EX = 16;
const F_OWNER_TID = 0;
const F_OWNER_PID = 1;
const F_OWNER_PGRP = 2;
const F_GETLK = 5;
const F_SETLK = 6;
const F_SETLKW = 7;
const F_OFD_GETLK = 36;
const F_OFD_SETLK = 37;
const F_OFD_SETLKW = 38;
const F_DUPFD_CLOEXEC = 1030;
const F_SETPIPE_SZ = 1031;
const F_GETPIPE_SZ = 1032;
const F_ADD_SEALS = 1033;
const F_GET_SEALS = 1034;
const FD_CLOEXEC = 1;

function close(task: Task, a: SyscallArgs): number | Errno {
  return task.fds.remove(a.int(0)) ?? 0;
}

function dup(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  return task.fds.add(file);
}

function dup3(task: Task, oldFd: number, newFd: number, flags: number): number | Errno {
  if ((flags & ~O_CLOEXEC) !== 0) return EINVAL;
  if (oldFd === newFd) return EINVAL;
  const file = task.fds.get(oldFd);
  if (file instanceof Errno) return file;
  return task.fds.set(newFd, file, (flags & O_CLOEXEC) !== 0) ?? newFd;
}

function dup2(task: Task, a: SyscallArgs): number | Errno {
  const oldFd = a.int(0);
  const newFd = a.int(1);
  if (oldFd === newFd) {
    const file = task.fds.get(oldFd);
    return file instanceof Errno ? file : newFd;
  }
  const file = task.fds.get(oldFd);
  if (file instanceof Errno) return file;
  return task.fds.set(newFd, file, false) ?? newFd;
}

/** struct flock as a range [start, end] of the file; l_len 0 means "to the end and beyond". */
function readFlock(task: Task, file: FileDescription, va: number, owner: LockOwner, ofd: boolean): (RecordLock & { lPid: number }) | Errno {
  const raw = new Uint8Array(FLOCK_SIZE);
  if (task.mm.copyIn(va, raw) !== FLOCK_SIZE) return EFAULT;
  const v = new DataView(raw.buffer);
  const type = v.getInt16(0, true);
  const whence = v.getInt16(2, true);
  let start = Number(v.getBigInt64(8, true));
  const len = Number(v.getBigInt64(16, true));
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) return EINVAL;
  if (whence === 1) start += file.offset;
  else if (whence === 2) {
    const s = file.stat();
    if (s instanceof Errno) return s;
    start += s.size;
  } else if (whence !== 0) return EINVAL;
  let end = len === 0 ? Infinity : start + len - 1;
  if (len < 0) {
    end = start - 1;
    start += len;
  }
  if (start < 0) return EINVAL;
  return { owner, type, start, end, pid: ofd ? -1 : task.id.pid, lPid: v.getInt32(24, true) };
}

function lockKey(file: FileDescription): unknown {
  return file.location?.dentry.lockKey ?? file;
}

function recordLock(task: Task, file: FileDescription, cmd: number, va: number): number | Errno | Blocked {
  const ofd = cmd >= F_OFD_GETLK;
  const lock = readFlock(task, file, va, ofd ? file : task.id.pid, ofd);
  if (lock instanceof Errno) return lock;
  const key = lockKey(file);
  // OFD locks have no process: l_pid must be 0 (checked after the access mode when setting, as Linux).
  if (cmd === F_GETLK || cmd === F_OFD_GETLK) {
    if (cmd === F_OFD_GETLK && lock.lPid !== 0) return EINVAL;
    if (lock.type === F_UNLCK) return EINVAL;
    const c = fileLocks.conflict(key, lock);
    const out = new Uint8Array(FLOCK_SIZE);
    const v = new DataView(out.buffer);
    if (c === null) {
      if (task.mm.copyIn(va, out) !== FLOCK_SIZE) return EFAULT;
      v.setInt16(0, F_UNLCK, true);
    } else {
      v.setInt16(0, c.type, true);
      v.setInt16(2, 0, true);
      v.setBigInt64(8, BigInt(c.start), true);
      v.setBigInt64(16, c.end === Infinity ? 0n : BigInt(c.end - c.start + 1), true);
      v.setInt32(24, c.pid, true);
    }
    return task.mm.copyOut(va, out) === FLOCK_SIZE ? 0 : EFAULT;
  }
  if ((lock.type === F_RDLCK && !file.readable) || (lock.type === F_WRLCK && !file.writable)) return EBADF;
  if (ofd && lock.lPid !== 0) return EINVAL;
  const attempt = (): number | Errno => fileLocks.setRecord(key, lock) ?? 0;
  const first = attempt();
  if (first !== EAGAIN || (cmd !== F_SETLKW && cmd !== F_OFD_SETLKW)) return first;
  const call = task.block();
  const wait = (): void => call.waitOn(fileLocks.waitForUnlock(key, () => {
    const r = attempt();
    if (r === EAGAIN) wait();
    else task.complete(r);
  }));
  wait();
  return Blocked.instance;
}

/**
 * F_SETOWN and F_SETOWN_EX (f_setown_ex): the owner a file signals (id 0: none; ESRCH for an id no
 * thread, process or group has). Its signals come from the kernel (SI_KERNEL), as send_sigurg's.
 */
function setOwner(task: Task, file: FileDescription, type: number, id: number): number | Errno {
  if (type !== F_OWNER_TID && type !== F_OWNER_PID && type !== F_OWNER_PGRP) return EINVAL;
  if (id === 0) {
    file.fileOwner = null;
    return 0;
  }
  const kernel = task.kernel;
  const found = type === F_OWNER_TID ? kernel.tasks.has(id)
    : type === F_OWNER_PID ? kernel.group(id) !== undefined
    : [...kernel.groups.values()].some((g) => !g.reaped && g.pgid === id);
  if (!found) return ESRCH;
  const owner: FileOwner = {
    type,
    id,
    signal(signo: number): void {
      if (type === F_OWNER_PGRP) {
        signalProcessGroup(kernel, id, signo, 'sent to the file\'s owner');
        return;
      }
      const info = kernelInfo(signo, SI_KERNEL);
      if (type === F_OWNER_TID) {
        const t = kernel.tasks.get(id);
        if (t !== undefined) sendSignal(t, info, true);
        return;
      }
      const g = kernel.group(id);
      if (g !== undefined && g.exit === null) sendToProcess(g, info);
    },
  };
  file.fileOwner = owner;
  return 0;
}

function fcntl(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const fd = a.int(0);
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  const cmd = a.int(1);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = a.int(2);
      if (min < 0 || min >= MAX_FDS) return EINVAL;
      return task.fds.add(file, cmd === F_DUPFD_CLOEXEC, min);
    }
    case F_GETFD: {
      const cloexec = task.fds.getCloexec(fd);
      return cloexec instanceof Errno ? cloexec : cloexec ? FD_CLOEXEC : 0;
    }
    case F_SETFD:
      return task.fds.setCloexec(fd, (a.int(2) & FD_CLOEXEC) !== 0) ?? 0;
    case F_GETFL:
      return file.statusFlags();
    case F_SETFL:
      file.flags = (file.flags & ~SETFL_MASK) | (a.int(2) & SETFL_MASK);
      // A pipe's O_DIRECT is packet mode.
      if (file instanceof PipeEnd) file.setPacketMode((a.int(2) & O_DIRECT) !== 0);
      return 0;
    case F_SETOWN: {
      const who = a.int(2);
      return who < 0 ? setOwner(task, file, F_OWNER_PGRP, -who) : setOwner(task, file, F_OWNER_PID, who);
    }
    case F_GETOWN: {
      const o = file.fileOwner;
      return o === null ? 0 : o.type === F_OWNER_PGRP ? -o.id : o.id;
    }
    case F_SETOWN_EX: {
      const raw = new Uint8Array(8);
      if (task.mm.copyIn(a.ptr(2), raw) !== 8) return EFAULT;
      const v = new DataView(raw.buffer);
      return setOwner(task, file, v.getInt32(0, true), v.getInt32(4, true));
    }
    case F_GETOWN_EX: {
      const o = file.fileOwner;
      const raw = new Uint8Array(8);
      const v = new DataView(raw.buffer);
      v.setInt32(0, o?.type ?? F_OWNER_PID, true);
      v.setInt32(4, o?.id ?? 0, true);
      return task.mm.copyOut(a.ptr(2), raw) === 8 ? 0 : EFAULT;
    }
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return recordLock(task, file, cmd, a.ptr(2));
    // Only pipes and FIFOs have a size (EBADF otherwise, as Linux's pipe_fcntl).
    case F_GETPIPE_SZ:
      return file instanceof PipeEnd ? file.pipe.capacity : EBADF;
    case F_SETPIPE_SZ:
      // CAP_SYS_RESOURCE, which the sandbox's root has.
      return file instanceof PipeEnd ? file.pipe.resize(a.uint(2), task.euid === 0) : EBADF;
    case F_ADD_SEALS: {
      const s = file.stat();
      return addSeals(file.sealState, file.writable, s instanceof Errno ? 0 : s.mode, a.uint(2)) ?? 0;
    }
    case F_GET_SEALS:
      return file.sealState?.seals ?? EINVAL;
    default:
      return EINVAL;
  }
}

function lseek(task: Task, a: SyscallArgs): number | Errno {
  const file = task.fds.get(a.int(0));
  if (file instanceof Errno) return file;
  const whence = a.int(2);
  if (whence < 0 || whence > SEEK_HOLE) return EINVAL;
  return file.seek(a.long(1), whence);
}

export const fdSyscalls: SyscallEntry[] = [
  supported('close', close, 'i'),
  supported('dup', dup, 'i'),
  supported('dup2', dup2, 'ii'),
  supported('dup3', (t, a) => dup3(t, a.int(0), a.int(1), a.int(2)), 'iix'),
  partial('fcntl', fcntl, 'F_DUPFD(_CLOEXEC), F_GETFD, F_SETFD, F_GETFL, F_SETFL, record and OFD locks, F_GETPIPE_SZ, F_SETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS, F_SETOWN(_EX) and F_GETOWN(_EX) (a socket\'s urgent data signals the owner with SIGURG; no SIGIO); no F_SETSIG or leases', 'inx'),
  supported('lseek', lseek, 'ilw'),
];
