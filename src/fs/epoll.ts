// epoll(7): an interest list of (file description, fd) pairs and a ready list (Linux fs/eventpoll.c).
// Each interest subscribes to its file's readiness (FileDescription.subscribe), so a change puts it on
// the ready list and wakes the epoll's waiters; collecting events looks at each ready entry's file
// again and reports what it says now. Level-triggered entries stay on the list while their file is
// ready; EPOLLET entries leave it until the next change; EPOLLONESHOT ones are disabled until
// EPOLL_CTL_MOD. An entry goes when its file description is finally closed (not when its fd is), as
// Linux's eventpoll_release. An epoll is itself pollable (readable while events are ready), so epolls
// nest, at most EP_MAX_NESTS deep and without loops.
import { EEXIST, EINVAL, ELOOP, ENOENT, EPERM, Errno } from '../abi/errno.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, waitEvents } from '../abi/fcntl.js';
import { AnonQueueFile } from './anon-file.js';
import type { FileDescription } from './vfs.js';
import type { ReadinessListener, ReadinessSubscription } from './wait.js';

export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLEXCLUSIVE = 1 << 28;
export const EPOLLWAKEUP = 1 << 29;
export const EPOLLONESHOT = 1 << 30;
export const EPOLLET = 1 << 31;
/** The flags that are not events. */
const EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
/** What EPOLLEXCLUSIVE may come with. */
const EXCLUSIVE_OK_BITS = POLLIN | POLLOUT | POLLERR | POLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/** Linux's limit on epolls inside epolls (a path of this many links at most). */
const EP_MAX_NESTS = 4;
/** struct epoll_event on x86-64: packed, u32 events then u64 data. */
export const EPOLL_EVENT_SIZE = 12;

class Interest {
  /** On the ready list (an index-free flag, so marking ready twice costs nothing). */
  ready = false;
  subscription: ReadinessSubscription | null = null;

  constructor(
    readonly epoll: EpollFile,
    readonly file: FileDescription,
    readonly fd: number,
    /** The events asked for, with EPOLLERR|EPOLLHUP, and the flags. */
    public events: number,
    /** The opaque epoll_data_t, as two 32-bit halves. */
    public dataLow: number,
    public dataHigh: number,
  ) {}

  /** A change on the file: put on the ready list unless disabled; answers whether a waiter woke. */
  readonly changed: ReadinessListener = (events) => {
    if ((this.events & ~EP_PRIVATE_BITS) === 0) return false; // a fired EPOLLONESHOT
    if ((waitEvents(this.events) & events) === 0) return false;
    return this.epoll.markReady(this);
  };
}

export class EpollFile extends AnonQueueFile {
  private readonly interests = new Map<FileDescription, Map<number, Interest>>();
  private ready: Interest[] = [];
  private spare: Interest[] = [];
  /** Epolls that watch this one, for the loop and depth checks. */
  private readonly watchers = new Set<EpollFile>();
  /** While collect() or readiness() look at the files: no recursion into this epoll, no wake-ups yet. */
  private looking = false;
  /** An entry became ready while looking: its waiters are woken when the look ends. */
  private wakeLater = false;

  constructor(flags: number) {
    super('eventpoll', flags);
  }

  /**
   * epoll_ctl(2) on (file, fd), in Linux's order of checks. events and data are ignored for
   * EPOLL_CTL_DEL.
   */
  control(op: number, file: FileDescription, fd: number, events: number, dataLow: number, dataHigh: number): Errno | null {
    if (!file.pollable) return EPERM;
    if (file === this) return EINVAL;
    const hasEvent = op !== EPOLL_CTL_DEL;
    if (hasEvent && (events & EPOLLEXCLUSIVE) !== 0) {
      if (op === EPOLL_CTL_MOD) return EINVAL;
      if (op === EPOLL_CTL_ADD && (file instanceof EpollFile || (events & ~EXCLUSIVE_OK_BITS) !== 0)) return EINVAL;
    }
    // No CAP_BLOCK_SUSPEND in the sandbox: Linux drops EPOLLWAKEUP silently then.
    events &= ~EPOLLWAKEUP;
    if (op === EPOLL_CTL_ADD && file instanceof EpollFile && this.wouldLoop(file)) return ELOOP;
    const existing = this.interests.get(file)?.get(fd);
    switch (op) {
      case EPOLL_CTL_ADD:
        if (existing !== undefined) return EEXIST;
        this.insert(file, fd, events | POLLERR | POLLHUP, dataLow, dataHigh);
        return null;
      case EPOLL_CTL_DEL:
        if (existing === undefined) return ENOENT;
        this.remove(existing);
        return null;
      case EPOLL_CTL_MOD:
        if (existing === undefined) return ENOENT;
        if ((existing.events & EPOLLEXCLUSIVE) !== 0) return EINVAL;
        this.modify(existing, events | POLLERR | POLLHUP, dataLow, dataHigh);
        return null;
      default:
        return EINVAL;
    }
  }

  /**
   * Moves up to max ready events into out (EPOLL_EVENT_SIZE bytes each) and returns how many.
   * Each entry reports what its file says now; one that is not ready leaves the list.
   */
  collect(out: DataView, max: number): number {
    let count = 0;
    // Only the entries there now: one that comes back while we look waits for the next call. The two
    // lists swap, so collecting allocates nothing.
    const list = this.ready;
    const n = list.length;
    this.ready = this.spare;
    let i = 0;
    this.looking = true;
    try {
      for (; i < n && count < max; i++) {
        const e = list[i]!;
        e.ready = false;
        const revents = e.file.readiness() & e.events & ~EP_PRIVATE_BITS;
        if (revents === 0) {
          e.subscription?.rearm();
          continue;
        }
        const at = count * EPOLL_EVENT_SIZE;
        out.setUint32(at, revents >>> 0, true);
        out.setUint32(at + 4, e.dataLow, true);
        out.setUint32(at + 8, e.dataHigh, true);
        count++;
        if ((e.events & EPOLLONESHOT) !== 0) e.events &= EP_PRIVATE_BITS;
        else if ((e.events & EPOLLET) === 0) this.requeue(e); // level-triggered: again, behind the others
      }
    } finally {
      this.looking = false;
    }
    // What was not looked at stays ahead of what came back meanwhile (still marked ready).
    let kept = 0;
    for (let j = i; j < n; j++) list[kept++] = list[j]!;
    for (const e of this.ready) list[kept++] = e;
    list.length = kept;
    this.ready.length = 0;
    this.spare = this.ready;
    this.ready = list;
    if (this.wakeLater) {
      this.wakeLater = false;
      this.queue.notify(POLLIN);
    }
    return count;
  }

  /** Readable while some ready entry's file really is (Linux ep_eventpoll_poll). */
  override readiness(): number {
    if (this.looking) return 0;
    this.looking = true;
    try {
      for (const e of this.ready) {
        if ((e.file.readiness() & e.events & ~EP_PRIVATE_BITS) !== 0) return POLLIN | POLLRDNORM;
      }
      return 0;
    } finally {
      this.looking = false;
      if (this.wakeLater) {
        this.wakeLater = false;
        this.queue.notify(POLLIN);
      }
    }
  }

  /** An interest's file changed: onto the ready list, and wake a waiter. Whether one was waiting. */
  markReady(e: Interest): boolean {
    const waiting = this.queue.size > 0;
    if (!e.ready) this.requeue(e);
    if (this.looking) this.wakeLater = true;
    else this.queue.notify(POLLIN);
    return waiting;
  }

  /** The epoll goes: every subscription and close hook it set is taken back. */
  protected override release(): void {
    for (const byFd of this.interests.values()) {
      for (const e of byFd.values()) this.detach(e);
    }
    this.interests.clear();
    this.ready.length = 0;
  }

  private requeue(e: Interest): void {
    e.ready = true;
    this.ready.push(e);
  }

  private insert(file: FileDescription, fd: number, events: number, dataLow: number, dataHigh: number): void {
    const e = new Interest(this, file, fd, events, dataLow, dataHigh);
    let byFd = this.interests.get(file);
    if (byFd === undefined) this.interests.set(file, (byFd = new Map()));
    byFd.set(fd, e);
    if (file instanceof EpollFile) file.watchers.add(this);
    file.onRelease(e, () => this.remove(e));
    e.subscription = file.subscribe(events & ~EP_PRIVATE_BITS, e.changed, (events & EPOLLEXCLUSIVE) !== 0);
    // Ready already: on the list at once, as Linux's ep_insert polls the file.
    if ((file.readiness() & events & ~EP_PRIVATE_BITS) !== 0) this.markReady(e);
  }

  private modify(e: Interest, events: number, dataLow: number, dataHigh: number): void {
    const wanted = waitEvents(events & ~EP_PRIVATE_BITS);
    const had = waitEvents(e.events & ~EP_PRIVATE_BITS);
    e.events = events;
    e.dataLow = dataLow;
    e.dataHigh = dataHigh;
    if (wanted !== had || e.subscription === null) {
      e.subscription?.cancel();
      e.subscription = e.file.subscribe(events & ~EP_PRIVATE_BITS, e.changed, false);
    }
    if ((e.file.readiness() & events & ~EP_PRIVATE_BITS) !== 0) this.markReady(e);
    else e.subscription.rearm();
  }

  private remove(e: Interest): void {
    const byFd = this.interests.get(e.file);
    if (byFd?.get(e.fd) !== e) return;
    byFd.delete(e.fd);
    if (byFd.size === 0) this.interests.delete(e.file);
    this.detach(e);
    if (e.ready) {
      e.ready = false;
      const at = this.ready.indexOf(e);
      if (at >= 0) this.ready.splice(at, 1);
    }
  }

  private detach(e: Interest): void {
    e.subscription?.cancel();
    e.subscription = null;
    e.file.offRelease(e);
    if (e.file instanceof EpollFile && !e.file.hasInterestFrom(this)) e.file.watchers.delete(this);
  }

  private hasInterestFrom(epoll: EpollFile): boolean {
    const byFd = epoll.interests.get(this);
    return byFd !== undefined && byFd.size > 0;
  }

  /**
   * Adding target to this epoll would close a loop (this one is inside target) or make a chain of
   * epolls longer than EP_MAX_NESTS (Linux ep_loop_check).
   */
  private wouldLoop(target: EpollFile): boolean {
    if (target.contains(this, 0)) return true;
    return this.heightAbove(0) + 1 + target.depthBelow(0) > EP_MAX_NESTS;
  }

  /** Whether other is this epoll or inside it. */
  private contains(other: EpollFile, level: number): boolean {
    if (other === this) return true;
    if (level > EP_MAX_NESTS) return true;
    for (const file of this.interests.keys()) {
      if (file instanceof EpollFile && file.contains(other, level + 1)) return true;
    }
    return false;
  }

  /** The longest chain of epolls inside this one. */
  private depthBelow(level: number): number {
    if (level > EP_MAX_NESTS) return level;
    let deepest = 0;
    for (const file of this.interests.keys()) {
      if (file instanceof EpollFile) deepest = Math.max(deepest, 1 + file.depthBelow(level + 1));
    }
    return deepest;
  }

  /** The longest chain of epolls that this one is inside. */
  private heightAbove(level: number): number {
    if (level > EP_MAX_NESTS) return level;
    let highest = 0;
    for (const w of this.watchers) highest = Math.max(highest, 1 + w.heightAbove(level + 1));
    return highest;
  }
}
