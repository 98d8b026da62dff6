// /dev: a tmpfs holding device nodes and the links to /proc/self/fd, and the devices those nodes open
// (null, zero, full, random, urandom, tty, ptmx). A device node opens the same device wherever it is, as
// in Linux: the node's rdev picks the driver. /dev/ptmx makes a pty whose slave appears as /dev/pts/N
// while its master is open (Linux's devpts).
import { randomFillSync } from 'node:crypto';
import { fstatSync, readlinkSync } from 'node:fs';
import { isatty } from 'node:tty';
import { EIO, ENOSPC, ENXIO, Errno } from '../abi/errno.js';
import type { Mappable } from '../mm/mappable.js';
import { FileData, FileDataMappable, type PageStore } from './file-data.js';
import { HostFile } from './file.js';
import { MAX_FILE_SIZE, O_ACCMODE, O_RDONLY, O_WRONLY, S_IFCHR } from '../abi/fcntl.js';
import { Pty, PTY_SLAVE_MAJOR, PtyMaster, PtySlave } from './pty.js';
import { type DeviceOpener, Tmpfs } from './tmpfs.js';
import { type Dentry, FileDescription, type FileStat, type FsContext } from './vfs.js';

/** new_encode_dev: the dev_t of st_rdev. */
export function makedev(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12);
}

/** new_decode_dev's halves. */
function majorOf(rdev: number): number {
  return (rdev >>> 8) & 0xfff;
}
function minorOf(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
}

const enum Kind { Null, Zero, Full, Random }

/** The memory devices of drivers/char/mem.c and random.c: no state, reads and writes answered here. */
class MemoryDevice extends FileDescription {
  constructor(flags: number, private readonly kind: Kind, private readonly store: PageStore) {
    super(flags);
  }

  override read(buf: Uint8Array): number {
    if (this.kind === Kind.Null) return 0;
    if (this.kind === Kind.Random) randomFillSync(buf);
    else buf.fill(0);
    return buf.length;
  }
  override write(buf: Uint8Array): number | Errno {
    return this.kind === Kind.Full ? ENOSPC : buf.length;
  }
  override pread(buf: Uint8Array): number {
    return this.read(buf);
  }
  override pwrite(buf: Uint8Array): number | Errno {
    return this.write(buf);
  }
  /** "Seeks on /dev/null and /dev/zero always succeed" and leave the position at 0 (null(4)). */
  override seek(): number {
    return 0;
  }
  stat(): FileStat | Errno {
    return this.location?.dentry.stat() ?? ENXIO;
  }
  /** mmap of /dev/zero: fresh zero pages, shared between the processes of a MAP_SHARED mapping. */
  override mappable(): Mappable | null {
    if (this.kind !== Kind.Zero) return null;
    const data = new FileData(this.store);
    data.size = MAX_FILE_SIZE;
    return new FileDataMappable(data, '/dev/zero', null);
  }
}

/** The sandbox's own terminal (`run -t`): the pty whose slave is /dev/pts/N, and who owns that node. */
export interface ConsoleTerminal {
  pty: Pty;
  uid: number;
  gid: number;
}

/** /dev/ptmx is (5, 2). */
const PTMX = makedev(5, 2);
/** Linux's default devpts limit (/proc/sys/kernel/pty/max is 4096). */
const MAX_PTYS = 4096;

export class Devices implements DeviceOpener {
  /** The ptys programs made through /dev/ptmx, by index; their slave nodes live in ptsDir. */
  private readonly ptys = new Map<number, Pty>();
  private ptsDir: Dentry | null = null;

  constructor(
    private readonly store: PageStore,
    /** A host fd that is the sandbox's terminal (for /dev/tty), or -1. */
    private readonly hostTty: number,
    /** With -t: /dev/tty and /dev/pts/N open its slave. */
    readonly console: ConsoleTerminal | null = null,
  ) {}

  /** The host terminal's /dev/pts/N as the sandbox shows it (so that ttyname finds it), or null. */
  get hostTtyNode(): { index: number; rdev: number; uid: number; gid: number } | null {
    if (this.hostTty < 0 || this.console !== null) return null;
    try {
      const name = readlinkSync(`/proc/self/fd/${this.hostTty}`);
      const m = /^\/dev\/pts\/(\d+)$/.exec(name);
      if (m === null) return null;
      const st = fstatSync(this.hostTty);
      return { index: Number(m[1]), rdev: st.rdev, uid: st.uid, gid: st.gid };
    } catch {
      return null;
    }
  }

  /** The /dev/pts directory the slave nodes of /dev/ptmx ptys are made in. */
  attachPts(dir: Dentry): void {
    this.ptsDir = dir;
  }

  /** /dev/ptmx: a new pty, its slave node owned by the opener (mode 0620, as devpts makes it). */
  private openPtmx(flags: number, caller: FsContext): FileDescription | Errno {
    const dir = this.ptsDir;
    if (dir === null) return ENXIO;
    const taken = new Set([this.console?.pty.index, this.hostTtyNode?.index]);
    let index = 0;
    while (this.ptys.has(index) || taken.has(index)) index++;
    if (index >= MAX_PTYS) return ENOSPC;
    const pty = new Pty(index);
    const name = String(index);
    const made = dir.mknod(name, S_IFCHR | 0o620, makedev(PTY_SLAVE_MAJOR, index), { uid: caller.creds.uid, gid: caller.creds.gid });
    if (made !== null) return made;
    const node = dir.child(name, caller);
    pty.node = node instanceof Errno ? null : node;
    this.ptys.set(index, pty);
    return new PtyMaster(pty, flags, () => {
      this.ptys.delete(index);
      if (pty.node !== null) dir.unlink(name, pty.node);
      pty.node = null;
    });
  }

  open(rdev: number, flags: number, caller: FsContext): FileDescription | Errno {
    if (rdev === PTMX) return this.openPtmx(flags, caller);
    const pty = majorOf(rdev) === PTY_SLAVE_MAJOR ? this.ptys.get(minorOf(rdev)) : undefined;
    // Until unlockpt the slave cannot be opened (Linux pty_open: EIO).
    if (pty !== undefined) return pty.locked ? EIO : new PtySlave(pty, flags);
    switch (rdev) {
      case makedev(1, 3): return new MemoryDevice(flags, Kind.Null, this.store);
      case makedev(1, 5): return new MemoryDevice(flags, Kind.Zero, this.store);
      case makedev(1, 7): return new MemoryDevice(flags, Kind.Full, this.store);
      case makedev(1, 8):
      case makedev(1, 9): return new MemoryDevice(flags, Kind.Random, this.store);
      case makedev(5, 0): {
        // A pty of the program's own that the caller's session has taken (TIOCSCTTY).
        const ctty = caller.process?.tty;
        if (ctty instanceof Pty && this.ptys.get(ctty.index) === ctty) return new PtySlave(ctty, flags);
        // The caller's controlling terminal: the sandbox has one, the console (its pty, or the host's).
        if (this.console !== null) return new PtySlave(this.console.pty, flags);
        if (this.hostTty < 0) return ENXIO;
        const mode = flags & O_ACCMODE;
        return new HostFile(this.hostTty, mode !== O_WRONLY, mode !== O_RDONLY);
      }
      default: {
        const pty = this.console?.pty;
        if (pty !== undefined && rdev === makedev(PTY_SLAVE_MAJOR, pty.index)) return new PtySlave(pty, flags);
        if (this.hostTty >= 0 && this.console === null && rdev === this.hostTtyNode?.rdev) {
          const mode = flags & O_ACCMODE;
          return new HostFile(this.hostTty, mode !== O_WRONLY, mode !== O_RDONLY);
        }
        return ENXIO;
      }
    }
  }
}

/** The host fd to use for /dev/tty: stdin if it is a terminal, else stdout, else none. */
export function findHostTty(): number {
  for (const fd of [0, 1, 2]) if (isatty(fd)) return fd;
  return -1;
}

/** A populated /dev: the device nodes, fd links, and an empty shm directory to mount a tmpfs on. */
export function buildDevfs(store: PageStore, devices: Devices): Tmpfs {
  const root = { uid: 0, gid: 0 };
  const fs = new Tmpfs(store, devices, 0o755);
  const dir = fs.root;
  const nodes: Array<[string, number, number]> = [
    ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
  ];
  for (const [name, major, minor] of nodes) dir.mknod(name, S_IFCHR | 0o666, makedev(major, minor), root);
  dir.mknod('ptmx', S_IFCHR | 0o666, PTMX, root);
  dir.symlink('fd', '/proc/self/fd', root);
  dir.symlink('stdin', '/proc/self/fd/0', root);
  dir.symlink('stdout', '/proc/self/fd/1', root);
  dir.symlink('stderr', '/proc/self/fd/2', root);
  dir.mkdir('shm', 0o1777, root);
  dir.mkdir('pts', 0o755, root);
  const tty = devices.console;
  const hostTty = devices.hostTtyNode;
  const pts = dir.child('pts');
  if (!(pts instanceof Errno)) devices.attachPts(pts);
  if (tty !== null && !(pts instanceof Errno)) {
    // devpts gives the slave's owner mode 0620 (group tty); the sandbox has no tty group: the user's.
    pts.mknod(String(tty.pty.index), S_IFCHR | 0o620, makedev(PTY_SLAVE_MAJOR, tty.pty.index), { uid: tty.uid, gid: tty.gid });
  } else if (hostTty !== null && !(pts instanceof Errno)) {
    pts.mknod(String(hostTty.index), S_IFCHR | 0o620, hostTty.rdev, { uid: hostTty.uid, gid: hostTty.gid });
  }
  return fs;
}
