// sendfile(2) and copy_file_range(2): data between two files inside the Sentry, through one bounce
// buffer, without passing through the program's memory.
import { EBADF, EFAULT, EINVAL, EISDIR, EPIPE, EXDEV, Errno } from '../abi/errno.js';
import { DirectoryFile } from '../fs/dir-file.js';
import { O_APPEND, POLLIN, POLLOUT, S_IFMT, S_IFREG, SEEK_CUR } from '../abi/fcntl.js';
import type { FileDescription } from '../fs/vfs.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { Blocked, SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { supported } from './define.js';
import { blockingIo, MAX_RW_COUNT, sendSigpipe, untilReady } from './read-write.js';

const CHUNK = 128 * 1024;
let bounce: Uint8Array | null = null;
/** Which side the last copy() that answered EAGAIN found not ready. */
let blockedOn: 'input' | 'output' = 'output';

/** blockedOn, for splice's copies between a host pipe and a file, which wait as sendfile's do. */
export function copyBlockedOn(): 'input' | 'output' {
  return blockedOn;
}

/** A loff_t* argument: null when the pointer is NULL. */
export function readOffset(task: Task, va: number): number | null | Errno {
  if (va === 0) return null;
  const raw = new Uint8Array(8);
  if (task.mm.copyIn(va, raw) !== 8) return EFAULT;
  const off = Number(new DataView(raw.buffer).getBigInt64(0, true));
  return off < 0 ? EINVAL : off;
}

export function writeOffset(task: Task, va: number, off: number): Errno | null {
  const raw = new Uint8Array(8);
  new DataView(raw.buffer).setBigInt64(0, BigInt(off), true);
  return task.mm.copyOut(va, raw) === 8 ? null : EFAULT;
}

/**
 * Copies up to count bytes from `from` (at inPos, or its offset) to `to` (at outPos, or its offset).
 * Returns bytes copied and where the explicit positions ended up; stops at end of input or a short write.
 */
export function copy(from: FileDescription, inPos: number | null, to: FileDescription, outPos: number | null, count: number): number | Errno {
  bounce ??= new Uint8Array(CHUNK);
  let done = 0;
  while (done < count) {
    const want = bounce.subarray(0, Math.min(CHUNK, count - done));
    const n = inPos === null ? from.read(want) : from.pread(want, inPos + done);
    if (n instanceof Errno) {
      blockedOn = 'input';
      return done > 0 ? done : n;
    }
    if (n === 0) break;
    let written = 0;
    while (written < n) {
      const chunk = want.subarray(written, n);
      const w = outPos === null ? to.write(chunk) : to.pwrite(chunk, outPos + done + written);
      if (w instanceof Errno) {
        blockedOn = 'output';
        // What was read but not written goes back, so the input offset stays true.
        if (inPos === null) from.offset -= n - written;
        done += written;
        return done > 0 ? done : w;
      }
      if (w === 0) break;
      written += w;
    }
    done += written;
    if (written < n) {
      if (inPos === null) from.offset -= n - written;
      break;
    }
  }
  return done;
}

/**
 * sendfile(2). Unless a description is O_NONBLOCK, a copy that finds its output full (a slow pipe
 * reader) or its input empty waits for it, as Linux does; it returns what it copied once it copied
 * anything.
 */
function sendfile(task: Task, a: SyscallArgs): number | Errno | Blocked {
  const out = task.fds.get(a.int(0));
  if (out instanceof Errno) return out;
  const input = task.fds.get(a.int(1));
  if (input instanceof Errno) return input;
  if (!input.readable || !out.writable) return EBADF;
  if ((out.statusFlags() & O_APPEND) !== 0) return EINVAL;
  const offVa = a.ptr(2);
  const off = readOffset(task, offVa);
  if (off instanceof Errno) return off;
  const count = Math.min(a.size(3), MAX_RW_COUNT);
  const attempt = (): number | Errno => {
    const r = copy(input, off, out, null, count);
    if (r === EPIPE) sendSigpipe(task);
    if (r instanceof Errno) return r;
    if (off !== null) {
      const e = writeOffset(task, offVa, off + r);
      if (e !== null) return e;
    }
    return r;
  };
  return blockingIo(task, out, POLLOUT, attempt, undefined, () => (blockedOn === 'input' ? untilReady(input, POLLIN) : untilReady(out, POLLOUT)));
}

function isRegular(file: FileDescription): boolean | Errno {
  if (file instanceof DirectoryFile) return EISDIR;
  const s = file.stat();
  return s instanceof Errno ? s : (s.mode & S_IFMT) === S_IFREG;
}

function copyFileRange(task: Task, a: SyscallArgs): number | Errno {
  if (a.uint(5) !== 0) return EINVAL;
  const input = task.fds.get(a.int(0));
  if (input instanceof Errno) return input;
  const out = task.fds.get(a.int(2));
  if (out instanceof Errno) return out;
  if (!input.readable || !out.writable || (out.statusFlags() & O_APPEND) !== 0) return EBADF;
  for (const f of [input, out]) {
    const r = isRegular(f);
    if (r instanceof Errno) return r;
    if (!r) return EINVAL;
  }
  const inOff = readOffset(task, a.ptr(1));
  if (inOff instanceof Errno) return inOff;
  const outOff = readOffset(task, a.ptr(3));
  if (outOff instanceof Errno) return outOff;
  // Linux copies only within one filesystem ("file_inode(file_in)->i_sb != file_inode(file_out)->i_sb"):
  // from /proc, or between tmpfs and a host file, it is EXDEV, and programs fall back to read and write.
  const inStat = input.stat();
  const outStat = out.stat();
  if (inStat instanceof Errno) return inStat;
  if (outStat instanceof Errno) return outStat;
  if (inStat.dev !== outStat.dev) return EXDEV;
  const count = Math.min(a.size(4), MAX_RW_COUNT);
  // The same file with overlapping ranges: EINVAL (copy_file_range(2)). A file's own offset is asked
  // of the file: a host fd (stdout redirected to a file) keeps it in the host.
  const same = input.location !== null && out.location !== null && input.location.dentry.lockKey === out.location.dentry.lockKey;
  if (same) {
    const inStart = inOff ?? input.seek(0, SEEK_CUR);
    const outStart = outOff ?? out.seek(0, SEEK_CUR);
    if (inStart instanceof Errno) return inStart;
    if (outStart instanceof Errno) return outStart;
    if (inStart < outStart + count && outStart < inStart + count) return EINVAL;
  }
  // Without an explicit position, read and write move the files' own offsets.
  const r = copy(input, inOff, out, outOff, count);
  if (r instanceof Errno) return r;
  if (inOff !== null && writeOffset(task, a.ptr(1), inOff + r) !== null) return EFAULT;
  if (outOff !== null && writeOffset(task, a.ptr(3), outOff + r) !== null) return EFAULT;
  return r;
}

export const sendfileSyscalls: SyscallEntry[] = [
  supported('sendfile', sendfile, 'iipz'),
  supported('copy_file_range', copyFileRange, 'ipipzx'),
];
