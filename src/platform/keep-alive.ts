// What keeps the Sentry's process alive while every guest context waits in exit mode. There the run
// loop awaits a wake-up (a timer, a host fd becoming ready, another task finishing an operation), and
// Node.js ends a process whose event loop holds nothing: a guest blocked on itself for ever (a read of
// its own empty pipe, a lock its other description holds) would end tsvisor with status 13, Node's
// code for a top-level await that can never settle. On Linux such a program blocks, so it does here:
// this handle is referenced while the contexts wait, and the process stays until a signal stops it.
// (In exitless mode the vCPU threads' notification handles do the same.)
export class KeepAlive {
  // An interval that does nothing: only its reference on the event loop matters. It is armed once;
  // hold and release only flip the reference, which allocates nothing.
  private readonly handle = setInterval(() => {}, 2 ** 31 - 1).unref();

  hold(): void {
    this.handle.ref();
  }

  release(): void {
    this.handle.unref();
  }

  close(): void {
    clearInterval(this.handle);
  }
}
