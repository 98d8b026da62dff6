// ioctl(2): the terminal requests programs make on their stdio, passed to the host terminal.
import { EFAULT, ENOTTY, Errno } from '../abi/errno.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { hostCalls } from '../platform/host.js';
import { partial } from './define.js';

const TCGETS = 0x5401;
const TIOCGWINSZ = 0x5413;
const FIONCLEX = 0x5450;
const FIOCLEX = 0x5451;
const TERMIOS_SIZE = 60;
const WINSIZE_SIZE = 8;

function ioctl(task: Task, a: SyscallArgs): number | Errno {
  const fd = a.int(0);
  const file = task.fds.get(fd);
  if (file instanceof Errno) return file;
  const request = a.uint(1);
  switch (request) {
    case FIOCLEX:
    case FIONCLEX:
      return task.fds.setCloexec(fd, request === FIOCLEX) ?? 0;
    case TCGETS:
    case TIOCGWINSZ: {
      if (file.hostFd < 0) return ENOTTY;
      const out = new Uint8Array(request === TCGETS ? TERMIOS_SIZE : WINSIZE_SIZE);
      const host = hostCalls();
      const r = host.ioctlRead(file.hostFd, request === TCGETS ? host.TCGETS : host.TIOCGWINSZ, out);
      if (r < 0) return Errno.of(-r) ?? ENOTTY;
      return task.mm.copyOut(a.ptr(2), out) === out.length ? 0 : EFAULT;
    }
    default:
      return ENOTTY;
  }
}

export const ioctlSyscalls: SyscallEntry[] = [
  partial('ioctl', ioctl, 'TCGETS, TIOCGWINSZ (host terminals), FIOCLEX, FIONCLEX; others ENOTTY', 'ixx'),
];
