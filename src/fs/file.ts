// Host-backed descriptions: the program's stdin, stdout and stderr (or a terminal) stay host fds, read
// and written with host syscalls (the host-syscall tier). Other kinds live beside their filesystems.
import { fdatasyncSync, fstatSync, fsyncSync, readlinkSync, readSync, writeSync } from 'node:fs';
import { EAGAIN, EBADF, EINVAL, ENOTTY, Errno } from '../abi/errno.js';
import { hostCalls } from '../platform/host.js';
import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, S_IFMT, S_IFREG, SEEK_CUR } from '../abi/fcntl.js';
import { FileDescription, type FileStat } from './vfs.js';

export { FileDescription, type FileStat } from './vfs.js';

export class HostFile extends FileDescription {
  constructor(private readonly fd: number, readable: boolean, writable: boolean) {
    super(readable && writable ? O_RDWR : writable ? O_WRONLY : O_RDONLY);
  }

  override get hostFd(): number {
    return this.fd;
  }

  /** The host's flags (O_APPEND, O_NONBLOCK as the host fd has them) with the guest's access mode. */
  override statusFlags(): number {
    const r = hostCalls().getFlags(this.fd);
    if (r < 0) return this.flags;
    return (r & ~(O_ACCMODE | O_NONBLOCK)) | (this.flags & (O_ACCMODE | O_NONBLOCK));
  }

  override read(buf: Uint8Array): number | Errno {
    if (!this.readable) return EBADF;
    try {
      return readSync(this.fd, buf, 0, buf.length, null);
    } catch (err) {
      const e = Errno.fromHost(err);
      // A host fd left non-blocking by someone else: wait for it rather than surprise the program,
      // unless the program itself asked for O_NONBLOCK.
      if (e === EAGAIN && (this.flags & O_NONBLOCK) === 0) return waitThenRead(this.fd, buf);
      return e;
    }
  }

  override write(buf: Uint8Array): number | Errno {
    if (!this.writable) return EBADF;
    let done = 0;
    try {
      while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done);
      return done;
    } catch (err) {
      return done > 0 ? done : Errno.fromHost(err);
    }
  }

  override pread(buf: Uint8Array, offset: number): number | Errno {
    if (!this.readable) return EBADF;
    try {
      return readSync(this.fd, buf, 0, buf.length, offset);
    } catch (err) {
      return Errno.fromHost(err);
    }
  }

  override pwrite(buf: Uint8Array, offset: number): number | Errno {
    if (!this.writable) return EBADF;
    try {
      return writeSync(this.fd, buf, 0, buf.length, offset);
    } catch (err) {
      return Errno.fromHost(err);
    }
  }

  override seek(offset: number, whence: number): number | Errno {
    const r = hostCalls().lseek(this.fd, offset, whence);
    return r < 0 ? (Errno.of(-r) ?? EINVAL) : r;
  }

  /** FIONREAD of a host regular file; a host pipe or terminal would need the host ioctl (ENOTTY). */
  override readableBytes(): number | Errno {
    const s = this.stat();
    if (s instanceof Errno) return s;
    if ((s.mode & S_IFMT) !== S_IFREG) return ENOTTY;
    const pos = hostCalls().lseek(this.fd, 0, SEEK_CUR);
    return pos < 0 ? (Errno.of(-pos) ?? EINVAL) : Math.max(0, s.size - pos);
  }

  override sync(dataOnly: boolean): Errno | null {
    return syncHostFd(this.fd, dataOnly);
  }

  stat(): FileStat | Errno {
    try {
      return hostStat(fstatSync(this.fd, { bigint: true }));
    } catch (err) {
      return Errno.fromHost(err);
    }
  }

  override reopen(flags: number): HostFile {
    const mode = flags & O_ACCMODE;
    return new HostFile(this.fd, mode !== O_WRONLY, mode !== O_RDONLY);
  }

  /** What the host calls it ("pipe:[123]", "/dev/pts/0"): the user chose these fds. */
  override describe(): string {
    try {
      return readlinkSync(`/proc/self/fd/${this.fd}`);
    } catch {
      return `host:[${this.fd}]`;
    }
  }
}

/** A Node bigint stat as a FileStat. */
export function hostStat(s: import('node:fs').BigIntStats): FileStat {
  return {
    dev: Number(s.dev), ino: Number(s.ino), mode: Number(s.mode), nlink: Number(s.nlink), uid: Number(s.uid),
    gid: Number(s.gid), rdev: Number(s.rdev), size: Number(s.size), blksize: Number(s.blksize),
    blocks: Number(s.blocks), atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs,
  };
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

/** fsync(2) or fdatasync(2) of a host fd the Sentry holds for the program. */
export function syncHostFd(fd: number, dataOnly: boolean): Errno | null {
  try {
    if (dataOnly) fdatasyncSync(fd);
    else fsyncSync(fd);
    return null;
  } catch (err) {
    return Errno.fromHost(err);
  }
}
