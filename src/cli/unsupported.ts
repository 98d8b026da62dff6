// --report-unsupported: at exit, every syscall, ioctl request and /proc or /sys file the program asked
// for that tsvisor does not have, with how often, so that a user knows what a program missed here
// (what gVisor users ask for in gvisor#201). A tracer beside --strace's: it sees each call's entry and
// its result. Sockets are not implemented at all yet, so socket options show as the socket syscalls.
import { ENOENT, Errno } from '../abi/errno.js';
import type { SyscallTracer } from '../kernel/strace.js';
import { Support, type SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { IMPLEMENTED_IOCTLS } from '../syscalls/ioctl.js';

/** Which argument of a path syscall is the path, for the ENOENT of a /proc or /sys file. */
const PATH_ARGUMENT: Record<string, number> = {
  open: 0, openat: 1, openat2: 1, stat: 0, lstat: 0, newfstatat: 1, statx: 1, access: 0, faccessat: 1, faccessat2: 1,
  readlink: 0, readlinkat: 1, statfs: 0, getxattr: 0, lgetxattr: 0, listxattr: 0, llistxattr: 0,
};
const IOCTL_NAMES: Record<number, string> = {
  0x5402: 'TCSETS', 0x5403: 'TCSETSW', 0x5404: 'TCSETSF', 0x540b: 'TCFLSH', 0x540e: 'TIOCSCTTY', 0x540f: 'TIOCGPGRP',
  0x5410: 'TIOCSPGRP', 0x5412: 'TIOCSTI', 0x5414: 'TIOCSWINSZ', 0x5429: 'TIOCGSID', 0x5432: 'TCGETX', 0x8912: 'SIOCGIFCONF', 0x8933: 'SIOCGIFINDEX',
};
const PATH_MAX = 4096;

export class UnsupportedReport implements SyscallTracer {
  private readonly counts = new Map<string, number>();
  private readonly pending = new WeakMap<Task, string | null>();

  enter(task: Task, entry: SyscallEntry | undefined, nr: number): void {
    if (entry === undefined || entry.support === Support.None || entry.handler === undefined) {
      this.count(`syscall ${entry?.name ?? nr}`);
      return;
    }
    if (entry.name === 'ioctl') {
      const request = task.args.uint(1);
      if (!IMPLEMENTED_IOCTLS.has(request)) this.count(`ioctl 0x${request.toString(16)}${IOCTL_NAMES[request] !== undefined ? ` (${IOCTL_NAMES[request]})` : ''}`);
      return;
    }
    const arg = PATH_ARGUMENT[entry.name];
    if (arg === undefined) return;
    const path = task.mm.readString(task.args.ptr(arg), PATH_MAX, ENOENT);
    this.pending.set(task, typeof path === 'string' && /^\/(proc|sys)\//.test(path) ? path : null);
  }
  exit(task: Task, result: number | Errno): void {
    this.finish(task, result);
  }
  blocked(): void {}
  resumed(task: Task, result: number | Errno): void {
    this.finish(task, result);
  }
  ended(): void {}

  private finish(task: Task, result: number | Errno): void {
    const path = this.pending.get(task);
    if (path === undefined) return;
    this.pending.delete(task);
    // A /proc or /sys file that Linux has and the sandbox does not: the program got ENOENT. (One that
    // Linux lacks too is counted alike; the report says what was missing here, not whose fault.)
    if (path !== null && result === ENOENT) this.count(`file ${path}`);
  }

  private count(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }

  /** The report's lines, the most frequent first. */
  lines(): string[] {
    if (this.counts.size === 0) return ['tsvisor unsupported: nothing: every syscall, ioctl and /proc or /sys file the program used is there'];
    const rows = [...this.counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const width = Math.max(...rows.map(([what]) => what.length));
    return rows.map(([what, n]) => `tsvisor unsupported: ${what.padEnd(width)}  ${n}`);
  }
}
