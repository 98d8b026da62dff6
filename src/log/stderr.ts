// The Sentry's own words on the user's stderr (log lines, strace, the CLI's last word) must never
// block: the program may have filled that pipe with its output and nobody may be reading it, and a
// blocking write there would stop the Sentry for good (Node.js writes its stdio pipes synchronously).
// So a pipe or terminal is written through a non-blocking description of its own, opened again
// through /proc/self/fd (the shared one keeps its flags, as in fs/file.ts); what does not fit waits in
// a bounded queue that a timer retries, and is dropped when the process ends with the pipe still full.
// A socket (what Node.js gives a child's stdio 'pipe') cannot be opened again: its shared description
// is made non-blocking for the length of each write only, through the fcntl the process that owns the
// sink hands it (useFlags; Node.js has none). The CLI ends with process.exit, which drops the queue.
import { fstatSync, openSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';

const O_WRONLY = 0o1;
const O_NOCTTY = 0o400;
const O_NONBLOCK = 0o4000;
/** What may wait for a slow reader; beyond it, messages are dropped (and counted). */
const QUEUE_LIMIT_BYTES = 1 << 20;
const RETRY_MS = 10;

export interface FlagCalls {
  getFlags(fd: number): number;
  setFlags(fd: number, flags: number): number;
}

class StderrSink {
  private fd = -1;
  private socket = false;
  private flags: FlagCalls | null = null;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Bytes given up on because the queue was full. */
  dropped = 0;

  /** The terminal is raw (run -t): lines need their carriage return, which the host no longer adds. */
  rawTerminal = false;

  /** fcntl's F_GETFL and F_SETFL, for a socket stderr. */
  useFlags(calls: FlagCalls): void {
    this.flags = calls;
  }

  write(text: string): void {
    let data = Buffer.from(this.rawTerminal ? text.replace(/\r?\n/g, '\r\n') : text);
    if (this.queue.length === 0) data = data.subarray(this.writeNow(data));
    if (data.length === 0) return;
    if (this.queuedBytes + data.length > QUEUE_LIMIT_BYTES) {
      this.dropped += data.length;
      return;
    }
    this.queue.push(data);
    this.queuedBytes += data.length;
    this.timer ??= setTimeout(() => this.flush(), RETRY_MS).unref();
  }

  private flush(): void {
    this.timer = null;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const n = this.writeNow(head);
      this.queuedBytes -= n;
      if (n < head.length) {
        this.queue[0] = head.subarray(n);
        this.timer = setTimeout(() => this.flush(), RETRY_MS).unref();
        return;
      }
      this.queue.shift();
    }
  }

  /** Writes what fits now and answers how much that was; a closed stderr takes everything. */
  private writeNow(data: Buffer): number {
    const fd = this.open();
    const saved = this.socket && this.flags !== null ? this.flags.getFlags(fd) : -1;
    if (saved >= 0 && (saved & O_NONBLOCK) === 0) this.flags!.setFlags(fd, saved | O_NONBLOCK);
    let done = 0;
    try {
      while (done < data.length) done += writeSync(fd, data, done, data.length - done);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') done = data.length;
    } finally {
      if (saved >= 0 && (saved & O_NONBLOCK) === 0) this.flags!.setFlags(fd, saved);
    }
    return done;
  }

  private open(): number {
    if (this.fd >= 0) return this.fd;
    this.fd = 2;
    try {
      const st = fstatSync(2);
      if (st.isSocket()) this.socket = true;
      else if (st.isFIFO() || (st.isCharacterDevice() && isatty(2))) {
        this.fd = openSync('/proc/self/fd/2', O_WRONLY | O_NONBLOCK | O_NOCTTY);
      }
    } catch {
      // A closed stderr or no /proc: fd 2 as it is.
    }
    return this.fd;
  }
}

export const stderrSink = new StderrSink();
