// pidfd_open(2)'s file: one process, named by a file instead of a pid that may be reused (Linux
// kernel/pid.c, pidfd_fops). It is readable (POLLIN) once the process has ended; pidfd_send_signal
// and waitid(P_PIDFD) take the process from it.
import { POLLIN } from '../abi/fcntl.js';
import { AnonQueueFile } from '../fs/anon-file.js';
import type { ThreadGroup } from './thread-group.js';

export class PidFile extends AnonQueueFile {
  private readonly onExit = (): void => this.queue.notify(POLLIN);

  constructor(readonly group: ThreadGroup, flags: number) {
    super('pidfd', flags);
    if (group.exit === null) group.exitListeners.add(this.onExit);
  }

  override readiness(): number {
    return this.group.exit !== null ? POLLIN : 0;
  }

  protected override release(): void {
    this.group.exitListeners.delete(this.onExit);
    super.release();
  }
}
