// --report-unsupported: at exit, every syscall, ioctl request, /proc or /sys file and socket option the
// program asked for that tsvisor does not have, with how often, so that a user knows what a program
// missed here (what gVisor users ask for in gvisor#201). A tracer beside --strace's: it sees each call's
// entry and its result. Kinds of socket that socket(2) cannot make yet show as that syscall's failures.
import { ENOENT, ENOPROTOOPT, Errno } from '../abi/errno.js';
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
const SOCKET_LEVELS: Record<number, string> = { 0: 'IPPROTO_IP', 1: 'SOL_SOCKET', 6: 'IPPROTO_TCP', 17: 'IPPROTO_UDP', 41: 'IPPROTO_IPV6' };
/** SOL_SOCKET's options (asm-generic/socket.h). */
const SOCKET_OPTIONS = [
  '', 'SO_DEBUG', 'SO_REUSEADDR', 'SO_TYPE', 'SO_ERROR', 'SO_DONTROUTE', 'SO_BROADCAST', 'SO_SNDBUF', 'SO_RCVBUF',
  'SO_KEEPALIVE', 'SO_OOBINLINE', 'SO_NO_CHECK', 'SO_PRIORITY', 'SO_LINGER', 'SO_BSDCOMPAT', 'SO_REUSEPORT',
  'SO_PASSCRED', 'SO_PEERCRED', 'SO_RCVLOWAT', 'SO_SNDLOWAT', 'SO_RCVTIMEO', 'SO_SNDTIMEO',
];

/** "SOL_SOCKET SO_KEEPALIVE", or the numbers where there is no name. */
function socketOptionName(level: number, option: number): string {
  const levelName = SOCKET_LEVELS[level] ?? `level ${level}`;
  const optionName = level === 1 && option > 0 ? SOCKET_OPTIONS[option] : undefined;
  return `${levelName} ${optionName ?? `option ${option}`}`;
}

export class UnsupportedReport implements SyscallTracer {
  private readonly counts = new Map<string, number>();
  /** What the running call would have missed, and the error that says it did. */
  private readonly pending = new WeakMap<Task, { what: string; missing: Errno } | null>();

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
    if (entry.name === 'getsockopt' || entry.name === 'setsockopt') {
      this.pending.set(task, { what: `socket option ${socketOptionName(task.args.int(1), task.args.int(2))}`, missing: ENOPROTOOPT });
      return;
    }
    const arg = PATH_ARGUMENT[entry.name];
    if (arg === undefined) return;
    const path = task.mm.readString(task.args.ptr(arg), PATH_MAX, ENOENT);
    this.pending.set(task, typeof path === 'string' && /^\/(proc|sys)\//.test(path) ? { what: `file ${path}`, missing: ENOENT } : null);
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
    const pending = this.pending.get(task);
    if (pending === undefined) return;
    this.pending.delete(task);
    // A /proc or /sys file that Linux has and the sandbox does not: the program got ENOENT; an option
    // the socket does not know: ENOPROTOOPT. (One that Linux lacks too is counted alike; the report
    // says what was missing here, not whose fault.)
    if (pending !== null && result === pending.missing) this.count(pending.what);
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
