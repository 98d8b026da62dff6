// A task's file descriptor table: fd numbers to open file descriptions, with the close-on-exec flag.
import { EBADF, EMFILE, Errno } from '../abi/errno.js';
import type { FileDescription } from './file.js';

/** RLIMIT_NOFILE's default soft limit. */
export const MAX_FDS = 1024;

interface Slot {
  file: FileDescription;
  cloexec: boolean;
}

export class FdTable {
  private readonly slots: Array<Slot | undefined> = [];

  get(fd: number): FileDescription | Errno {
    const slot = fd >= 0 ? this.slots[fd] : undefined;
    return slot === undefined ? EBADF : slot.file;
  }

  /** Installs file at the lowest free fd >= minFd. */
  add(file: FileDescription, cloexec = false, minFd = 0): number | Errno {
    for (let fd = minFd; fd < MAX_FDS; fd++) {
      if (this.slots[fd] === undefined) {
        this.slots[fd] = { file, cloexec };
        return fd;
      }
    }
    return EMFILE;
  }

  /** Installs file at exactly fd, replacing what was there (dup2). */
  set(fd: number, file: FileDescription, cloexec = false): Errno | null {
    if (fd < 0 || fd >= MAX_FDS) return EBADF;
    this.slots[fd] = { file, cloexec };
    return null;
  }

  remove(fd: number): Errno | null {
    if (fd < 0 || this.slots[fd] === undefined) return EBADF;
    this.slots[fd] = undefined;
    return null;
  }

  getCloexec(fd: number): boolean | Errno {
    const slot = fd >= 0 ? this.slots[fd] : undefined;
    return slot === undefined ? EBADF : slot.cloexec;
  }

  setCloexec(fd: number, cloexec: boolean): Errno | null {
    const slot = fd >= 0 ? this.slots[fd] : undefined;
    if (slot === undefined) return EBADF;
    slot.cloexec = cloexec;
    return null;
  }
}
