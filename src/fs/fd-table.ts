// A task's file descriptor table: fd numbers to open file descriptions, with the close-on-exec flag.
// The table holds one reference on each description per fd; the last close releases it.
import { EBADF, EMFILE, Errno } from '../abi/errno.js';
import { fileLocks } from './lock.js';
import type { FdLookup, FileDescription } from './vfs.js';

/** RLIMIT_NOFILE's default soft limit. */
export const MAX_FDS = 1024;

export class FdTable implements FdLookup {
  /** The process whose fcntl record locks go when it closes an fd of the locked file. */
  lockOwner = 0;
  private readonly files: Array<FileDescription | undefined> = [];
  /** Close-on-exec, one byte per fd. */
  private cloexec = new Uint8Array(64);

  get(fd: number): FileDescription | Errno {
    const file = fd >= 0 ? this.files[fd] : undefined;
    return file === undefined ? EBADF : file;
  }

  /** Installs file at the lowest free fd >= minFd, taking a reference. */
  add(file: FileDescription, cloexec = false, minFd = 0): number | Errno {
    const fd = this.lowestFree(minFd);
    if (fd < 0) return EMFILE;
    this.install(fd, file, cloexec);
    return fd;
  }

  /** Whether add() would find a free fd. */
  hasRoom(): boolean {
    return this.lowestFree(0) >= 0;
  }

  private lowestFree(minFd: number): number {
    for (let fd = minFd; fd < MAX_FDS; fd++) if (this.files[fd] === undefined) return fd;
    return -1;
  }

  /** Installs file at exactly fd, closing what was there (dup2). */
  set(fd: number, file: FileDescription, cloexec = false): Errno | null {
    if (fd < 0 || fd >= MAX_FDS) return EBADF;
    const old = this.files[fd];
    this.install(fd, file, cloexec);
    if (old !== undefined) this.closed(old);
    return null;
  }

  remove(fd: number): Errno | null {
    const file = fd >= 0 ? this.files[fd] : undefined;
    if (file === undefined) return EBADF;
    this.files[fd] = undefined;
    this.closed(file);
    return null;
  }

  private closed(file: FileDescription): void {
    if (file.location !== null) fileLocks.releaseOwner(file.location.dentry.lockKey, this.lockOwner);
    file.decRef();
  }

  /** close_range(2): closes (or marks close-on-exec) every open fd in [first, last]. */
  closeRange(first: number, last: number, onlyCloexec: boolean): void {
    const end = Math.min(last, this.files.length - 1);
    for (let fd = first; fd <= end; fd++) {
      if (this.files[fd] === undefined) continue;
      if (onlyCloexec) this.cloexec[fd] = 1;
      else this.remove(fd);
    }
  }

  /** fork(2) without CLONE_FILES: a new table with the same descriptions at the same fds. */
  fork(): FdTable {
    const copy = new FdTable();
    this.files.forEach((file, fd) => {
      if (file !== undefined) copy.install(fd, file, this.cloexec[fd] === 1);
    });
    return copy;
  }

  /** execve(2): closes every close-on-exec fd. */
  closeOnExec(): void {
    this.files.forEach((file, fd) => {
      if (file !== undefined && this.cloexec[fd] === 1) this.remove(fd);
    });
  }

  /** Drops every fd (the task exited). */
  closeAll(): void {
    this.closeRange(0, this.files.length - 1, false);
  }

  /** One more than the highest fd ever used: how far the table has grown (select's limit follows it). */
  get highWater(): number {
    return this.files.length;
  }

  openFds(): number[] {
    const out: number[] = [];
    this.files.forEach((f, fd) => {
      if (f !== undefined) out.push(fd);
    });
    return out;
  }

  getCloexec(fd: number): boolean | Errno {
    if (fd < 0 || this.files[fd] === undefined) return EBADF;
    return this.cloexec[fd] === 1;
  }

  setCloexec(fd: number, cloexec: boolean): Errno | null {
    if (fd < 0 || this.files[fd] === undefined) return EBADF;
    this.cloexec[fd] = cloexec ? 1 : 0;
    return null;
  }

  private install(fd: number, file: FileDescription, cloexec: boolean): void {
    file.incRef();
    this.files[fd] = file;
    if (fd >= this.cloexec.length) {
      const grown = new Uint8Array(Math.min(MAX_FDS, this.cloexec.length * 4));
      grown.set(this.cloexec);
      this.cloexec = grown;
    }
    this.cloexec[fd] = cloexec ? 1 : 0;
  }
}
