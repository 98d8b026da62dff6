// wait4(2) and waitid(2): which children a call may collect, and collecting one (gVisor's
// kernel/task_exit.go Wait). A caller with nothing to collect yet blocks until a child changes state.
import { ECHILD, EINVAL, Errno } from '../abi/errno.js';
import { __WALL, __WCLONE, __WNOTHREAD, WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WUNTRACED } from '../abi/sched.js';
import { Signal } from '../abi/signal.js';
import type { Kernel } from './kernel.js';
import { Blocked } from './syscall-table.js';
import type { Task } from './task.js';
import type { ThreadGroup } from './thread-group.js';

export type WaitTarget = { kind: 'any' } | { kind: 'pid'; pid: number } | { kind: 'pgid'; pgid: number };

export interface WaitRequest {
  target: WaitTarget;
  options: number;
  /** Called with the collected child; its return value is the syscall's. */
  collect: (child: ThreadGroup) => number | Errno;
  /** WNOHANG with nothing to collect: the syscall's result. */
  nothing: () => number | Errno;
}

const KNOWN_OPTIONS = WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE;

export function waitForChild(kernel: Kernel, task: Task, req: WaitRequest): number | Errno | Blocked {
  if ((req.options & ~KNOWN_OPTIONS) !== 0) return EINVAL;
  const attempt = (): number | Errno | null => {
    const matching = [...task.group.children].filter((c) => matches(c, req));
    if (matching.length === 0) return ECHILD;
    const ready = matching.find((c) => c.zombie);
    if (ready !== undefined) {
      const result = req.collect(ready);
      if ((req.options & WNOWAIT) === 0 && !(result instanceof Errno)) kernel.reap(ready);
      return result;
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
