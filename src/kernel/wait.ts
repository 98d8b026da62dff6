// wait4(2) and waitid(2): which children a call may collect, and collecting one (gVisor's
// kernel/task_exit.go Wait): exits, and with WUNTRACED/WCONTINUED stops and continues (job-control.ts).
// A caller with nothing to collect yet blocks until a child changes state.
import { ECHILD, EINVAL, Errno } from '../abi/errno.js';
import { __WALL, __WCLONE, __WNOTHREAD, WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WSTOPPED, WUNTRACED } from '../abi/sched.js';
import { Signal } from '../abi/signal.js';
import type { Kernel } from './kernel.js';
import { Blocked } from './syscall-table.js';
import type { Task } from './task.js';
import type { ThreadGroup } from './thread-group.js';

export type WaitTarget = { kind: 'any' } | { kind: 'pid'; pid: number } | { kind: 'pgid'; pgid: number };

/** What a collected child reports: it ended (child.exit), stopped (with this signal), or continued. */
export type ChildChange = { kind: 'exited' } | { kind: 'stopped'; signal: number } | { kind: 'continued' };

export interface WaitRequest {
  target: WaitTarget;
  options: number;
  /** Called with the collected child and its change; its return value is the syscall's. */
  collect: (child: ThreadGroup, change: ChildChange) => number | Errno;
  /** WNOHANG with nothing to collect: the syscall's result. */
  nothing: () => number | Errno;
}

const KNOWN_OPTIONS = WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE;

export function waitForChild(kernel: Kernel, task: Task, req: WaitRequest): number | Errno | Blocked {
  if ((req.options & ~KNOWN_OPTIONS) !== 0) return EINVAL;
  const attempt = (): number | Errno | null => {
    const matching = [...task.group.children].filter((c) => matches(c, req));
    if (matching.length === 0) return ECHILD;
    // Linux wait_consider_task: each child in turn, its exit first, then a stop, then a continue.
    const consume = (req.options & WNOWAIT) === 0;
    for (const c of matching) {
      if (c.zombie && (req.options & WEXITED) !== 0) {
        const result = req.collect(c, { kind: 'exited' });
        if (consume && !(result instanceof Errno)) {
          // Linux wait_task_zombie: a child waited for adds its times, and its children's, to ours.
          const [user, system] = c.totalCpuNs();
          task.group.childrenUserNs += user;
          task.group.childrenSystemNs += system;
          kernel.reap(c);
        }
        return result;
      }
      if (c.stopped && c.stopReport !== 0 && (req.options & WSTOPPED) !== 0) {
        const result = req.collect(c, { kind: 'stopped', signal: c.stopReport });
        if (consume && !(result instanceof Errno)) c.stopReport = 0;
        return result;
      }
      if (c.continuedReport && (req.options & WCONTINUED) !== 0) {
        const result = req.collect(c, { kind: 'continued' });
        if (consume && !(result instanceof Errno)) c.continuedReport = false;
        return result;
      }
    }
    if ((req.options & WNOHANG) !== 0) return req.nothing();
    return null;
  };
  const first = attempt();
  if (first !== null) return first;
  const retry = (): void => {
    if (task.ctx === null) return;
    const r = attempt();
    if (r === null) {
      task.group.childWaiters.add(retry);
      return;
    }
    task.group.childWaiters.delete(retry);
    task.complete(r);
  };
  task.group.childWaiters.add(retry);
  task.block().waitOn({ cancel: () => task.group.childWaiters.delete(retry) });
  return Blocked.instance;
}

function matches(child: ThreadGroup, req: WaitRequest): boolean {
  const t = req.target;
  if (t.kind === 'pid' && child.pid !== t.pid) return false;
  if (t.kind === 'pgid' && child.pgid !== t.pgid) return false;
  // Without __WALL, __WCLONE picks only children that signal something other than SIGCHLD on exit.
  if ((req.options & __WALL) !== 0) return true;
  const clone = child.exitSignal !== Signal.SIGCHLD;
  return (req.options & __WCLONE) !== 0 ? clone : !clone;
}
