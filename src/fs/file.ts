// Open file descriptions. A description is shared by every fd that dup() made of it; the fd table holds
// references. This first cut has host-backed descriptions only (the program's stdin, stdout and stderr,
// which stay host fds: the host-syscall tier).
import { fstatSync, readSync, writeSync } from 'node:fs';
import { EAGAIN, EBADF, Errno } from '../abi/errno.js';

export interface FileStat {
  dev: number; ino: number; mode: number; nlink: number; uid: number; gid: number; rdev: number;
  size: number; blksize: number; blocks: number;
  atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint;
}

export interface FileDescription {
  readonly readable: boolean;
  readonly writable: boolean;
  /** Reads into buf (a view of guest memory); returns bytes read, 0 at end of file. */
  read(buf: Uint8Array): number | Errno;
  write(buf: Uint8Array): number | Errno;
  stat(): FileStat | Errno;
  /** The host fd behind it, for ioctls passed through to a host terminal; -1 if none. */
  readonly hostFd: number;
}

export class HostFile implements FileDescription {
  constructor(readonly hostFd: number, readonly readable: boolean, readonly writable: boolean) {}

  read(buf: Uint8Array): number | Errno {
    if (!this.readable) return EBADF;
    try {
      return readSync(this.hostFd, buf, 0, buf.length, null);
    } catch (err) {
      const e = Errno.fromHost(err);
      // A host fd left non-blocking by someone else: wait for it rather than surprise the program.
      if (e === EAGAIN) return waitThenRead(this.hostFd, buf);
      return e;
    }
  }

  write(buf: Uint8Array): number | Errno {
    if (!this.writable) return EBADF;
    let done = 0;
    try {
      while (done < buf.length) done += writeSync(this.hostFd, buf, done, buf.length - done);
      return done;
    } catch (err) {
      return done > 0 ? done : Errno.fromHost(err);
    }
  }

  stat(): FileStat | Errno {
    try {
      const s = fstatSync(this.hostFd, { bigint: true });
      return {
        dev: Number(s.dev), ino: Number(s.ino), mode: Number(s.mode), nlink: Number(s.nlink), uid: Number(s.uid),
        gid: Number(s.gid), rdev: Number(s.rdev), size: Number(s.size), blksize: Number(s.blksize),
        blocks: Number(s.blocks), atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs,
      };
    } catch (err) {
      return Errno.fromHost(err);
    }
  }
}

function waitThenRead(fd: number, buf: Uint8Array): number | Errno {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    Atomics.wait(pause, 0, 0, 5);
    try {
      return readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      const e = Errno.fromHost(err);
      if (e !== EAGAIN) return e;
    }
  }
}

