// Finding and reading a program inside the sandbox, as execve and execvp would: the path is walked in
// the sandbox's namespace (so --rootfs and --mount apply), and the file must be a regular file with an
// execute bit the caller may use.
import { EACCES, EISDIR, ELOOP, ENOENT, Errno } from '../abi/errno.js';
import { O_RDONLY, S_IFMT, S_IFREG, X_OK, isDir, isSymlink } from '../abi/fcntl.js';
import { BufferMappable, type Mappable } from '../mm/mappable.js';
import { openVd } from './ops.js';
import { pathFrom, pathOf, resolve } from './walk.js';
import { type FileDescription, type FsContext, type VirtualDentry, mayAccess } from './vfs.js';

/** What /proc/PID/maps and /proc/PID/exe show for a file: its path, device and inode. */
export interface FileIdentity {
  path: string;
  dev: number;
  ino: number;
}

export interface FoundProgram {
  vd: VirtualDentry;
  /** The path as found (AT_EXECFN): the name with a slash, or PATH entry + name. */
  name: string;
  /** Its absolute path in the sandbox. */
  path: string;
}

function executable(ctx: FsContext, vd: VirtualDentry): Errno | null {
  const d = vd.dentry;
  if (isDir(d.mode)) return EISDIR;
  if ((d.mode & S_IFMT) !== S_IFREG || !mayAccess(d.mode, d.uid, d.gid, ctx.creds, X_OK)) return EACCES;
  return null;
}

/** A name with a slash is a path (from the working directory); others are searched in PATH. */
export function findProgram(ctx: FsContext, program: string, searchPath: string): FoundProgram | Errno {
  const candidates = program.includes('/') ? [program] : searchPath.split(':').map((dir) => `${dir === '' ? '.' : dir}/${program}`);
  let error: Errno = ENOENT;
  for (const candidate of candidates) {
    const vd = resolve(ctx, ctx.cwd, candidate, true);
    if (vd instanceof Errno) {
      if (vd !== ENOENT) error = vd;
      continue;
    }
    const bad = executable(ctx, vd);
    if (bad === null) return { vd, name: candidate, path: pathOf(ctx, vd) ?? candidate };
    error = bad;
  }
  return error;
}

/** execve's lookup: the path from `start` (the working directory or a dirfd), no PATH search. */
export function findExecutable(ctx: FsContext, start: VirtualDentry, path: string, follow = true): FoundProgram | Errno {
  const vd = resolve(ctx, start, path, follow);
  if (vd instanceof Errno) return vd;
  // execveat AT_SYMLINK_NOFOLLOW: a symlink at the end is refused.
  if (!follow && isSymlink(vd.dentry.mode)) return ELOOP;
  return executableAt(ctx, vd, path);
}

/** A file already found (an open fd's, for execveat's AT_EMPTY_PATH), if the caller may run it. */
export function executableAt(ctx: FsContext, vd: VirtualDentry, path: string): FoundProgram | Errno {
  const bad = executable(ctx, vd);
  if (bad !== null) return bad;
  return { vd, name: path, path: pathOf(ctx, vd) ?? path };
}

/** What exec reads of a program to decide how to run it: a `#!` line, or the ELF and program headers. */
const HEAD_BYTES = 4096;

/**
 * A program opened for exec, as Linux's open_exec: its first bytes, reads of the rest of its headers,
 * and the object its segments map (the file's own: its page cache or its pages, so that nothing is
 * read twice and every process running it shares them).
 */
export interface ProgramFile {
  size: number;
  /** The first HEAD_BYTES of the file (all of it if it is shorter). */
  head: Uint8Array;
  /** Bytes at offset (fewer at the end of the file). */
  read(offset: number, length: number): Uint8Array | Errno;
  mappable: Mappable;
  identity: FileIdentity;
  /** Drops exec's reference on the open file: its mappings hold their own. */
  close(): void;
}

export function openProgramFile(ctx: FsContext, vd: VirtualDentry): ProgramFile | Errno {
  const file = openVd(ctx, vd, O_RDONLY, false);
  if (file instanceof Errno) return file;
  file.incRef();
  const st = file.stat();
  if (st instanceof Errno) {
    file.decRef();
    return st;
  }
  const readFile = (offset: number, length: number): Uint8Array | Errno => {
    const buf = new Uint8Array(Math.max(0, Math.min(length, st.size - offset)));
    for (let got = 0; got < buf.length;) {
      const n = file.pread(buf.subarray(got), offset + got);
      if (n instanceof Errno) return n;
      if (n === 0) return buf.subarray(0, got);
      got += n;
    }
    return buf;
  };
  const head = readFile(0, HEAD_BYTES);
  if (head instanceof Errno) {
    file.decRef();
    return head;
  }
  const identity = identityOf(vd, st);
  let mappable = file.mappable();
  if (mappable === null) {
    // A file mmap cannot map (a generated one): exec maps a copy of it.
    const whole = readFile(0, st.size);
    if (whole instanceof Errno) {
      file.decRef();
      return whole;
    }
    mappable = new BufferMappable(whole, identity.path);
  }
  return {
    size: st.size, head, mappable, identity,
    read: (offset, length) => (offset + length <= head.length ? head.subarray(offset, offset + length) : readFile(offset, length)),
    close: () => file.decRef(),
  };
}

/**
 * A file's identity as the sandbox sees it: the path from the namespace root (symlinks resolved, as
 * Linux's d_path; " (deleted)" once unlinked) and the device and inode that stat reports.
 */
export function identityOf(vd: VirtualDentry, stat: { dev: number; ino: number } | Errno): FileIdentity {
  const path = pathFrom(null, vd) ?? vd.dentry.name;
  const dev = stat instanceof Errno ? 0 : stat.dev;
  const ino = stat instanceof Errno ? 0 : stat.ino;
  return { path: vd.dentry.deleted ? `${path} (deleted)` : path, dev, ino };
}

/** The identity of an open file for an mmap of it; null for files opened nowhere (pipes, host stdio). */
export function mappedFileIdentity(file: FileDescription): FileIdentity | null {
  return file.location === null ? null : identityOf(file.location, file.stat());
}

/**
 * The dynamic linker a program names (PT_INTERP), opened as execve opens it (open_exec: a relative path
 * starts at the working directory; it must be a regular file the caller may execute).
 */
export function openInterpreter(ctx: FsContext, path: string): ProgramFile | Errno {
  const vd = resolve(ctx, ctx.cwd, path, true);
  if (vd instanceof Errno) return vd;
  const bad = executable(ctx, vd);
  if (bad !== null) return bad;
  return openProgramFile(ctx, vd);
}
