// A thread group: what the threads of one process share (gVisor's kernel.ThreadGroup, Linux's
// signal_struct plus the parts of task_struct that CLONE_THREAD shares): the pid, the parent and the
// children, process group and session, how the process ended, and the resources the threads share
// unless clone said otherwise (address space, fd table, fs context, signal dispositions, rlimits).
import type { FdTable } from '../fs/fd-table.js';
import type { Terminal } from '../fs/terminal.js';
import type { FsContext } from '../fs/vfs.js';
import type { AddressSpace } from '../mm/address-space.js';
import type { ProcessSignals } from './signals.js';
import type { Task } from './task.js';

export const RLIM_INFINITY = Infinity;
export const RLIMIT_COUNT = 16;

/** How a process ended, as wait(2) reports it. */
export interface GroupExit {
  /** Exit status 0..255, or null when a signal ended it. */
  status: number | null;
  signal: number | null;
  core: boolean;
  detail: string;
}

/** The wait(2) status word: (status << 8), or the signal with 0x80 when it dumped core. */
export function waitStatus(e: GroupExit): number {
  return e.signal === null ? (e.status! & 0xff) << 8 : e.signal | (e.core ? 0x80 : 0);
}

export class ThreadGroup {
  readonly tasks = new Set<Task>();
  readonly children = new Set<ThreadGroup>();
  /** Set when the last thread exited: a zombie until the parent reaps it. */
  exit: GroupExit | null = null;
  /** exit_group or a fatal signal ends every thread with this. */
  groupExit: GroupExit | null = null;
  reaped = false;
  /** The uid of the thread that exited last: SIGCHLD's si_uid. */
  lastUid = 0;
  /** Called when a child changes state (exits): the wait4/waitid callers of this group retry. */
  readonly childWaiters = new Set<() => void>();
  /** Told once when the process ends (its pidfds become readable). */
  readonly exitListeners = new Set<() => void>();
  /** The task that made this process with CLONE_VFORK: it runs again when the child execs or exits. */
  vforkParent: Task | null = null;
  /** setpriority(2): the nice value, -20..19. */
  nice = 0;
  /** PR_SET_CHILD_SUBREAPER. */
  subreaper = false;
  /** PR_SET_PDEATHSIG: the signal this process gets when its parent exits (0: none). */
  parentDeathSignal = 0;
  /** The signal the parent gets when this process ends (clone's low byte; SIGCHLD for fork). */
  exitSignal: number;
  /** Dispositions (shared with CLONE_SIGHAND), the process-wide pending set, ITIMER_REAL. */
  signals: ProcessSignals;
  /** Resource limits (soft, hard) by RLIMIT_* number; Infinity is RLIM_INFINITY. */
  rlimits: Array<[number, number]>;
  /**
   * Job control (job-control.ts). stopSignal: the signal of a group stop in progress or done (0: none);
   * stopped: every thread has parked (or waits in a syscall), so the stop is complete.
   */
  stopSignal = 0;
  stopped = false;
  /** A stop (its signal) or a continue that wait(WUNTRACED/WCONTINUED) has not collected yet. */
  stopReport = 0;
  continuedReport = false;
  /** The controlling terminal (Linux signal_struct.tty): inherited by fork, dropped by setsid. */
  tty: Terminal | null = null;
  /** CPU time of the threads that have exited (user, system). */
  exitedUserNs = 0n;
  exitedSystemNs = 0n;
  /** CPU time of the children it has waited for, theirs included (Linux signal_struct cutime, cstime). */
  childrenUserNs = 0n;
  childrenSystemNs = 0n;
  /** Guest ranges of the initial argv and envp strings, for /proc/PID/cmdline and environ. */
  argRange: [number, number] = [0, 0];
  envRange: [number, number] = [0, 0];

  constructor(
    readonly pid: number,
    public parent: ThreadGroup | null,
    public pgid: number,
    public sid: number,
    public mm: AddressSpace,
    public fds: FdTable,
    public fs: FsContext,
    /** Path of the executable inside the sandbox, for /proc/PID/exe. */
    public exePath: string,
    exitSignal: number,
    signals: ProcessSignals,
    rlimits: Array<[number, number]>,
  ) {
    this.exitSignal = exitSignal;
    this.signals = signals;
    this.rlimits = rlimits;
  }

  /** The thread whose tid is the pid (or, once it has gone, any remaining thread). */
  get leader(): Task | undefined {
    for (const t of this.tasks) if (t.tid === this.pid) return t;
    return this.tasks.values().next().value;
  }

  get zombie(): boolean {
    return this.exit !== null && !this.reaped;
  }

  /** The process's CPU time so far (user, or user and system), the running threads' current run included. */
  cpuTimeNs(withSystem: boolean, now = process.hrtime.bigint()): bigint {
    let total = this.exitedUserNs + (withSystem ? this.exitedSystemNs : 0n);
    for (const t of this.tasks) {
      total += t.userNs + (withSystem ? t.systemNs : 0n);
      if (t.runningSince !== 0n && now > t.runningSince) total += now - t.runningSince;
    }
    return total;
  }

  /**
   * Its CPU time in ns as getrusage, times and /proc/PID/stat report it: [user, system, waited-for
   * children's user, children's system].
   */
  cpuTimes(): [bigint, bigint, bigint, bigint] {
    const now = process.hrtime.bigint();
    const user = this.cpuTimeNs(false, now);
    return [user, this.cpuTimeNs(true, now) - user, this.childrenUserNs, this.childrenSystemNs];
  }

  /** Its own CPU time and its waited-for children's, as wait4's rusage reports it: [user, system]. */
  totalCpuNs(): [bigint, bigint] {
    const [user, system, childrenUser, childrenSystem] = this.cpuTimes();
    return [user + childrenUser, system + childrenSystem];
  }

  notifyChildWaiters(): void {
    if (this.childWaiters.size === 0) return;
    const waiters = [...this.childWaiters];
    this.childWaiters.clear();
    for (const w of waiters) w();
  }
}

/** Linux's defaults for a process started by a login shell (include/asm-generic/resource.h). */
export function defaultRlimits(): Array<[number, number]> {
  const limits: Array<[number, number]> = [];
  for (let i = 0; i < RLIMIT_COUNT; i++) limits.push([RLIM_INFINITY, RLIM_INFINITY]);
  limits[3] = [8 * 1024 * 1024, RLIM_INFINITY]; // RLIMIT_STACK
  limits[4] = [0, RLIM_INFINITY]; // RLIMIT_CORE
  limits[6] = [63_432, 63_432]; // RLIMIT_NPROC
  limits[7] = [1024, 4096]; // RLIMIT_NOFILE
  limits[8] = [8 * 1024 * 1024, 8 * 1024 * 1024]; // RLIMIT_MEMLOCK
  limits[11] = [63_432, 63_432]; // RLIMIT_SIGPENDING
  limits[12] = [819_200, 819_200]; // RLIMIT_MSGQUEUE
  limits[13] = [0, 0]; // RLIMIT_NICE
  limits[14] = [0, 0]; // RLIMIT_RTPRIO
  return limits;
}
