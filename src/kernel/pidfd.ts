// pidfd_open(2)'s file: one process, or with PIDFD_THREAD one thread, named by a file instead of a pid
// that may be reused (Linux kernel/pid.c, pidfd_fops). A process pidfd is readable (POLLIN) once the
// process has ended; so is the thread pidfd of its leader (Linux delays the leader's until then), and
// another thread's once that thread has. POLLHUP is added once what they name is gone for good: the
// process reaped, or the thread (nobody waits for threads other than leaders). pidfd_send_signal and
// waitid(P_PIDFD) take the process or the thread from it.
import { O_EXCL, POLLHUP, POLLIN } from '../abi/fcntl.js';
import { AnonQueueFile } from '../fs/anon-file.js';
import type { Task } from './task.js';
import type { ThreadGroup } from './thread-group.js';

/** pidfd_open's and the file's flag for a thread pidfd (Linux 6.9: it is O_EXCL). */
export const PIDFD_THREAD = O_EXCL;

export class PidFile extends AnonQueueFile {
  private readonly onExit = (): void => this.queue.notify(this.readiness());

  /**
   * thread: the thread a PIDFD_THREAD pidfd names (its group is group), or null for the process, or
   * (leaderGone) for the thread pidfd of a leader that has ended while its process lives on.
   */
  constructor(readonly group: ThreadGroup, flags: number, readonly thread: Task | null = null, leaderGone = false) {
    super('pidfd', thread !== null || leaderGone ? flags | PIDFD_THREAD : flags & ~PIDFD_THREAD);
    if (thread !== null && thread.tid !== group.pid) {
      if (this.threadLive()) thread.exitListeners.add(this.onExit);
    } else if (group.exit === null) {
      group.exitListeners.add(this.onExit);
    }
  }

  /** The thread named is still one of its process's. */
  threadLive(): boolean {
    return this.thread !== null && this.group.tasks.has(this.thread);
  }

  override readiness(): number {
    if (this.thread === null || this.thread.tid === this.group.pid) {
      return this.group.exit === null ? 0 : this.group.reaped ? POLLIN | POLLHUP : POLLIN;
    }
    return this.threadLive() ? 0 : POLLIN | POLLHUP;
  }

  protected override release(): void {
    this.group.exitListeners.delete(this.onExit);
    this.thread?.exitListeners.delete(this.onExit);
    super.release();
  }
}
