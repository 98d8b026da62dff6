// Files on anonymous inodes that wake their waiters from a queue of their own (eventfd, timerfd,
// eventpoll): the same waiting, stat and name for each, as Linux's anon_inodefs gives them.
import { O_RDWR, POLLERR, waitEvents } from '../abi/fcntl.js';
import { allocAnonDev, allocIno, FileDescription, type FileStat, syntheticStat } from './vfs.js';
import { type ReadinessListener, type ReadinessSubscription, type Waiter, WaitQueue } from './wait.js';

/** Anonymous inodes share one device, as Linux's anon_inodefs. */
export const anonInodeDev = allocAnonDev();

export abstract class AnonQueueFile extends FileDescription {
  /** Notified by the file whenever its readiness() may have changed. */
  protected readonly queue = new WaitQueue();
  private readonly ino = allocIno();

  /** kind: what /proc/PID/fd shows inside `anon_inode:[...]`. */
  constructor(private readonly kind: string, flags: number) {
    super(O_RDWR | flags);
  }

  override waitFor(events: number, callback: () => void): Waiter | null {
    // POLLERR is reported whatever was asked for (an eventfd at its limit), as poll does.
    if ((this.readiness() & (events | POLLERR)) === 0) return this.queue.add(waitEvents(events), callback);
    callback();
    return null;
  }

  override subscribe(events: number, onChange: ReadinessListener, exclusive = false): ReadinessSubscription {
    return this.queue.subscribe(waitEvents(events), onChange, exclusive);
  }

  stat(): FileStat {
    return syntheticStat(this.ino, 0o600, anonInodeDev, { blksize: 4096 });
  }

  override describe(): string {
    return `anon_inode:[${this.kind}]`;
  }
}
