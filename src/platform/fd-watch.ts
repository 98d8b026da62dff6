// Waiting for a host fd to become readable or writable without blocking the Sentry's thread: the
// addon's FdWatch (a libuv poll handle, epoll underneath) in Node.js's event loop. Each waiter is
// called once, when an event it asked for (or a hang-up or error, which every waiter must see) comes;
// the watch is armed with the union of what its waiters want and disarmed when none is left.
import { POLLERR, POLLHUP } from '../abi/fcntl.js';
import { loadAddon, type NativeFdWatch } from './addon.js';

interface Waiter {
  events: number;
  callback: () => void;
}

export class HostFdWatch {
  private waiters: Waiter[] = [];
  private armed = 0;

  private constructor(private readonly native: NativeFdWatch) {}

  /** A watch of fd, or null when the host cannot watch it (a regular file, which never blocks). */
  static open(fd: number): HostFdWatch | null {
    let self: HostFdWatch | null = null;
    const native = new (loadAddon().FdWatch)(fd, (events) => self?.fired(events));
    if (native.error < 0) {
      native.close();
      return null;
    }
    self = new HostFdWatch(native);
    return self;
  }

  /** Calls callback once, when any of events (POLLIN, POLLOUT) may be ready, unless cancelled first. */
  wait(events: number, callback: () => void): { cancel(): void } {
    const w: Waiter = { events, callback };
    this.waiters.push(w);
    this.arm();
    return {
      cancel: () => {
        const i = this.waiters.indexOf(w);
        if (i < 0) return;
        this.waiters.splice(i, 1);
        this.arm();
      },
    };
  }

  get waiting(): number {
    return this.waiters.length;
  }

  close(): void {
    this.waiters = [];
    this.armed = 0;
    this.native.close();
  }

  private arm(): void {
    let want = 0;
    for (const w of this.waiters) want |= w.events;
    if (want === this.armed) return;
    this.armed = want;
    if (want === 0) {
      this.native.stop();
      return;
    }
    // Starting fails only for an fd that went bad; then the waiters retry and meet the error.
    if (this.native.start(want) < 0) this.fired(POLLERR);
  }

  private fired(events: number): void {
    // The native handle stops itself when it fires.
    this.armed = 0;
    const all = (events & (POLLHUP | POLLERR)) !== 0;
    const ready = this.waiters.filter((w) => all || (w.events & events) !== 0);
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.callback();
    this.arm();
  }
}
