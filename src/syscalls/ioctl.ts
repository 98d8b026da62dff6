// ioctl(2): the generic file requests (FIOCLEX, FIONCLEX, FIONBIO, FIONREAD) answered by the Sentry,
// and the terminal requests programs make on their stdio, passed to the host terminal.
import { EFAULT, ENOTTY, Errno } from '../abi/errno.js';
import { DirectoryFile } from '../fs/dir-file.js';
import { O_NONBLOCK } from '../abi/fcntl.js';
import { TERMIOS2_SIZE, TERMIOS_SIZE, WINSIZE_SIZE } from '../abi/structs.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { hostCalls } from '../platform/host.js';
import { partial } from './define.js';

const TCGETS = 0x5401;
const TIOCGWINSZ = 0x5413;
const FIONREAD = 0x541b;
const FIONBIO = 0x5421;
const FIONCLEX = 0x5450;
const FIOCLEX = 0x5451;
/** _IOR('T', 0x2A, struct termios2). */
const TCGETS2 = 0x802c_542a;

function ioctl(task: Task, a: SyscallArgs): number | Errno {
  const fd = a.int(0);
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  const request = a.uint(1);
  switch (request) {
    case FIOCLEX:
    case FIONCLEX:
      return task.fds.setCloexec(fd, request === FIOCLEX) ?? 0;
    case FIONBIO: {
      const raw = new Uint8Array(4);
      if (task.mm.copyIn(a.ptr(2), raw) !== 4) return EFAULT;
      const on = new DataView(raw.buffer).getInt32(0, true) !== 0;
      file.flags = on ? file.flags | O_NONBLOCK : file.flags & ~O_NONBLOCK;
      return 0;
    }
    case FIONREAD: {
      if (file instanceof DirectoryFile) return ENOTTY;
      const n = file.readableBytes();
      if (n instanceof Errno) return n;
      const out = new Uint8Array(4);
      new DataView(out.buffer).setInt32(0, Math.min(n, 0x7fff_ffff), true);
      return task.mm.copyOut(a.ptr(2), out) === 4 ? 0 : EFAULT;
    }
    case TCGETS:
    case TCGETS2:
    case TIOCGWINSZ: {
      if (file.hostFd < 0) return ENOTTY;
      // Exactly the kernel's struct, never glibc's larger one: the caller's buffer may be no bigger.
      const out = new Uint8Array(request === TCGETS ? TERMIOS_SIZE : request === TCGETS2 ? TERMIOS2_SIZE : WINSIZE_SIZE);
      const r = hostCalls().ioctlRead(file.hostFd, request, out);
      if (r < 0) return Errno.of(-r) ?? ENOTTY;
      return task.mm.copyOut(a.ptr(2), out) === out.length ? 0 : EFAULT;
    }
    default:
      return ENOTTY;
  }
}

/** The requests ioctl answers; others are ENOTTY (--report-unsupported lists those a program made). */
export const IMPLEMENTED_IOCTLS: ReadonlySet<number> = new Set([FIOCLEX, FIONCLEX, FIONBIO, FIONREAD, TCGETS, TCGETS2, TIOCGWINSZ]);

export const ioctlSyscalls: SyscallEntry[] = [
  partial('ioctl', ioctl, 'FIOCLEX, FIONCLEX, FIONBIO, FIONREAD (not on host pipes or terminals: ENOTTY); TCGETS, TCGETS2, TIOCGWINSZ on host terminals; others ENOTTY', 'ixp'),
];
