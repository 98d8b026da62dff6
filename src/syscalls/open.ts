// Opening and closing: open, openat, openat2, creat, close_range. The walk and the checks are the VFS's
// (fs/ops.ts); the handlers read the arguments and install the new description in the fd table.
import { E2BIG, EAGAIN, EFAULT, EINVAL, ENOENT, Errno } from '../abi/errno.js';
import { MAX_FDS } from '../fs/fd-table.js';
import {
  O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_NOCTTY, O_NOFOLLOW, O_PATH, O_RDONLY, O_TMPFILE, O_TRUNC, O_VALID, O_WRONLY,
  PERM_MASK, RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV,
  TMPFILE_BIT,
} from '../abi/fcntl.js';
import { openAt, openTmpfile } from '../fs/ops.js';
import type { WalkState } from '../fs/walk.js';
import { PipeEnd } from '../fs/pipe.js';
import type { FileDescription } from '../fs/vfs.js';
import type { Cancellable } from '../fs/wait.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import { Blocked, type SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { takeTerminalOnOpen } from '../kernel/terminal-control.js';
import { partial, supported } from './define.js';
import { readPath, startAt } from './path.js';

const CLOSE_RANGE_UNSHARE = 2;
const CLOSE_RANGE_CLOEXEC = 4;
/** struct open_how: u64 flags, u64 mode, u64 resolve. */
const OPEN_HOW_SIZE = 24;

/** Releases a description that no fd holds (an open that could not be installed). */
export function discard(file: FileDescription): void {
  file.incRef();
  file.decRef();
}

/** Installs a fresh description; on EMFILE it is released at once. */
export function install(task: Task, file: FileDescription, cloexec: boolean): number | Errno {
  const fd = task.fds.add(file, cloexec);
  if (fd instanceof Errno) discard(file);
  return fd;
}

/**
 * open(2), openat(2), creat(2) and openat2(2); resolve: openat2's RESOLVE_* flags (walk.ts heeds them).
 * Under RESOLVE_BENEATH and RESOLVE_IN_ROOT the walk starts at dirfd's directory even for an absolute
 * path, which then fails (EXDEV) or starts there.
 */
function open(task: Task, dirfd: number, pathVa: number, flags: number, mode: number, resolve = 0): number | Errno | Blocked {
  const path = readPath(task, pathVa);
  if (path instanceof Errno) return path;
  if (path === '') return ENOENT;
  const f = (flags & O_PATH) !== 0 ? flags & (O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW) : flags & O_VALID;
  const tmpfile = (f & TMPFILE_BIT) !== 0;
  if (badTmpfile(f)) return EINVAL;
  const scoped = (resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) !== 0;
  const start = startAt(task, dirfd, scoped ? '.' : path);
  if (start instanceof Errno) return start;
  const state: WalkState | undefined = resolve === 0 ? undefined : { links: 0, resolve, scope: scoped ? start : undefined };
  const file = tmpfile ? openTmpfile(task.fs, start, path, f, mode & PERM_MASK, state) : openAt(task.fs, start, path, f, mode & PERM_MASK, state);
  if (file instanceof Errno) return file;
  if (file instanceof PipeEnd && file.awaitingPartner) return openWhenPartnered(task, file, (flags & O_CLOEXEC) !== 0);
  const fd = install(task, file, (flags & O_CLOEXEC) !== 0);
  const tty = file.terminal;
  if (!(fd instanceof Errno) && tty !== null && (f & (O_NOCTTY | O_PATH)) === 0) takeTerminalOnOpen(task, tty);
  return fd;
}

/** O_TMPFILE (Linux's build_open_flags) needs its bit with O_DIRECTORY and without O_CREAT, and write access. */
function badTmpfile(f: number): boolean {
  return (f & TMPFILE_BIT) !== 0 && ((f & (O_TMPFILE | O_CREAT)) !== O_TMPFILE || (f & O_ACCMODE) === O_RDONLY);
}

/**
 * A blocking open of a FIFO's one end waits for the other end (Linux's wait_for_partner); a signal
 * ends the wait with ERESTARTSYS and the end closed, as does the task's end.
 */
function openWhenPartnered(task: Task, file: PipeEnd, cloexec: boolean): Blocked {
  const call = task.block();
  let waiter: Cancellable | null = null;
  const registration: Cancellable = {
    cancel: () => {
      waiter?.cancel();
      discard(file);
    },
  };
  const check = (): void => {
    if (file.awaitingPartner) {
      waiter = file.waitForPartner(check);
      return;
    }
    task.complete(install(task, file, cloexec));
  };
  waiter = file.waitForPartner(check);
  call.waitOn(registration);
  return Blocked.instance;
}

/**
 * openat2(2): open_how is checked strictly (Linux's build_open_how and build_open_flags); the RESOLVE_*
 * flags restrict the walk. RESOLVE_CACHED walks as if every dentry were cached (the sandbox's walks
 * never sleep on a disk), but refuses what would create or truncate (EAGAIN), as Linux does.
 */
function openat2(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const size = a.size(3);
  if (size < OPEN_HOW_SIZE) return EINVAL;
  if (size > 4096) return E2BIG;
  const raw = new Uint8Array(size);
  if (task.mm.copyIn(a.ptr(2), raw) !== size) return EFAULT;
  if (raw.subarray(OPEN_HOW_SIZE).some((b) => b !== 0)) return E2BIG;
  const v = new DataView(raw.buffer);
  const flags = v.getBigUint64(0, true);
  const mode = v.getBigUint64(8, true);
  const resolve = v.getBigUint64(16, true);
  if ((flags & ~BigInt(O_VALID)) !== 0n || (Number(flags) & O_ACCMODE) === O_ACCMODE) return EINVAL;
  const f = Number(flags);
  if ((f & (O_CREAT | O_TMPFILE)) === 0 && mode !== 0n) return EINVAL;
  if (mode > BigInt(PERM_MASK)) return EINVAL;
  const known = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED;
  if ((resolve & ~BigInt(known)) !== 0n) return EINVAL;
  const r = Number(resolve);
  if ((r & RESOLVE_BENEATH) !== 0 && (r & RESOLVE_IN_ROOT) !== 0) return EINVAL;
  if ((r & RESOLVE_CACHED) !== 0 && !badTmpfile(f) && (f & (O_TRUNC | O_CREAT | TMPFILE_BIT)) !== 0) return EAGAIN;
  return open(task, a.int(0), a.ptr(1), f, Number(mode), r & ~RESOLVE_CACHED);
}

function closeRange(task: Task, a: SyscallArgs): number | Errno {
  const first = a.uint(0);
  const last = a.uint(1);
  const flags = a.uint(2);
  if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) !== 0 || first > last) return EINVAL;
  if (first >= MAX_FDS) return 0;
  task.fds.closeRange(first, Math.min(last, MAX_FDS - 1), (flags & CLOSE_RANGE_CLOEXEC) !== 0);
  return 0;
}

const TMPFILE = 'O_TMPFILE on tmpfs and the overlay; EOPNOTSUPP on --mount directories and a --rootfs-rw root';

export const openSyscalls: SyscallEntry[] = [
  partial('open', (t, a) => open(t, -100, a.ptr(0), a.int(1), a.int(2)), TMPFILE, 'sfc'),
  partial('openat', (t, a) => open(t, a.int(0), a.ptr(1), a.int(2), a.int(3)), TMPFILE, 'dsfc'),
  supported('creat', (t, a) => open(t, -100, a.ptr(0), O_CREAT | O_WRONLY | O_TRUNC, a.int(1)), 'so'),
  supported('openat2', openat2, 'dspz'),
  supported('close_range', closeRange, 'uux'),
];
