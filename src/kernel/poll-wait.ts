// Waiting on many files at once: the blocking half of poll, select and epoll_wait (Linux's
// poll_wqueues, do_poll's loop). The syscall scans its files; when none is ready it scans again with a
// FileWaits, which subscribes to each file it found not ready; the first file that may have
// become ready wakes the call, which takes every wait back and scans again, completing the task once
// something is ready, the deadline passed (one last scan, as Linux does) or a signal came. Nothing
// spins: the task sleeps on the files' queues, host fd watches and one timer of its own.
import type { Errno } from '../abi/errno.js';
import { waitEvents } from '../abi/fcntl.js';
import type { FileDescription } from '../fs/vfs.js';
import type { Cancellable } from '../fs/wait.js';
import { Blocked } from './syscall-table.js';
import type { Task } from './task.js';
import type { Deadline } from './timers.js';

const MISSED_RETRY_MS = 10;

/** The waits one scan registered; the first to fire wakes the blocked call. */
export class FileWaits implements Cancellable {
  private readonly registered: Cancellable[] = [];
  private readonly changed: () => boolean;

  constructor(wake: () => void) {
    this.changed = () => {
      wake();
      return true;
    };
  }

  /**
   * Waits for any of events (poll bits; hang-ups and errors always) on file. A subscription, not a
   * one-shot waitFor: a pipe with data polled for POLLPRI alone must not wake the call at once, and
   * then again, but at the pipe's next change. A file without a poll method never changes.
   */
  on(file: FileDescription, events: number): void {
    if (!file.pollable) return;
    this.registered.push(file.subscribe(waitEvents(events), this.changed));
  }

  cancel(): void {
    for (const c of this.registered) c.cancel();
    this.registered.length = 0;
  }
}

/**
 * One look at the files: the answer when some are ready (a count, or an error such as EFAULT), else
 * null. With waits, it registers a wait on each file it found not ready (none once one was ready).
 */
export type ReadyScan = (waits: FileWaits | null) => number | Errno | null;

/**
 * Blocks the task after a first scan found nothing: until scan answers, timeoutNs passes (null: no
 * limit; then the answer is one last scan's, or 0) or a signal comes (`interrupted`). Every way out
 * goes through finish, which writes back what the call must (revents, fd sets, the time left) and
 * restores a temporary signal mask.
 */
export function blockUntilReady(task: Task, scan: ReadyScan, timeoutNs: bigint | null,
  finish: (r: number | Errno) => number | Errno, interrupted: Errno): number | Errno | Blocked {
  let done = false;
  let scanning = false;
  let missed = false;
  let timer: Deadline | null = null;
  const waits = new FileWaits(() => {
    if (done) return;
    // A file that called back while being registered: look again once this scan is over.
    if (scanning) missed = true;
    else retry();
  });
  const end = (): void => {
    done = true;
    waits.cancel();
    timer?.cancel();
    timer = null;
  };
  const attempt = (): number | Errno | null => {
    waits.cancel();
    scanning = true;
    missed = false;
    try {
      return scan(waits);
    } finally {
      scanning = false;
    }
  };
  // A file that says it is ready while it registers, but not for what was asked, is looked at again
  // soon, and after a few such looks every 10 ms (no file here does that; it keeps a stray one cheap).
  let misses = 0;
  const later = (): void => {
    if (++misses <= 3) setImmediate(retry);
    else setTimeout(retry, MISSED_RETRY_MS);
  };
  const retry = (): void => {
    if (done) return;
    const r = attempt();
    if (r !== null) {
      end();
      task.complete(finish(r));
    } else if (missed) {
      later();
    } else {
      misses = 0;
    }
  };
  const r = attempt();
  if (r !== null) {
    end();
    return finish(r);
  }
  const call = task.block(() => finish(interrupted));
  call.waitOn({ cancel: end });
  if (timeoutNs !== null) {
    timer = task.timers.after(timeoutNs, () => {
      timer = null;
      if (done) return;
      const last = scan(null);
      end();
      task.complete(finish(last ?? 0));
    });
  }
  if (missed) later();
  return Blocked.instance;
}
