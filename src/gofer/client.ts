// The Sentry's side of the Gofer protocol: one synchronous request/reply round trip per call (the
// Sentry blocks meanwhile). One Gofer process serves every host directory of a sandbox over one
// socket (a GoferConnection); each directory is a GoferClient that names its root by index in every
// request. Paths are component arrays below that root, already resolved by the VFS; an open returns a
// host fd that the caller then reads and writes directly (the host syscall tier). Errors come back as
// Errno values. If the Gofer dies, hangs past the timeout or breaks the protocol, the connection logs
// it once, ends the Gofer, and every client answers EIO from then on: nothing here throws.
import { EINVAL, EIO, ENAMETOOLONG, ENOENT, Errno } from '../abi/errno.js';
import { log, logOnce } from '../log/log.js';
import { goferHostCalls } from '../platform/gofer-host.js';
import {
  checkPath, decodeReplyHeader, decodeStat, encodeRequest, errnoFrom, type GoferDirent,
  type GoferStat, MAX_MESSAGE, Op, type OpCode, PATH_MAX, PROTOCOL_VERSION, Reader, REPLY_MORE, type Request,
  STATFS_SIZE, Writer,
} from './protocol.js';
import { type GoferRoot, GoferProcess } from './spawn.js';

export type { GoferDirent, GoferStat };
export { GoferError, GoferProcess, type GoferRoot } from './spawn.js';
export { checkComponent } from './protocol.js';

const host = goferHostCalls();
const NO_FDS = new Int32Array(0);
// Host errno numbers the socket calls return (as negative results).
const EPIPE_CODE = 32;
const ECONNRESET_CODE = 104;
const ETIMEDOUT_CODE = 110;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
/** Replies to earlier requests (after a timeout) that one call skips before giving up on the Gofer. */
const MAX_STALE_REPLIES = 64;

export interface GoferClientOptions {
  readOnly: boolean;
  /** How long one round trip may take before the Gofer is declared hung (ms). */
  timeoutMs?: number;
  /** How long the Gofer may take to start and open its roots (ms): a Node.js process start. */
  startTimeoutMs?: number;
}

/** What GoferConnection.receive answers for a reply that does not parse; the client logs it with its root. */
const MALFORMED = Symbol('malformed');

/**
 * The socket to one Gofer process and the round trips over it. Every client of the sandbox shares it:
 * the Sentry makes one call at a time, so one request is in flight at most, and request ids are
 * unique per connection (a late reply to a timed-out request is recognised whichever client sent it).
 */
class GoferConnection {
  private state: 'starting' | 'ready' | 'failed' | 'closed' = 'starting';
  private nextId = 1;
  private readonly w = new Writer();
  readonly rbuf = new Uint8Array(MAX_MESSAGE);
  /** Received fds of the last reply, then -1s. */
  readonly rfds = new Int32Array(8);
  /** Id and flags of the last reply (readdir reads on while REPLY_MORE is set). */
  lastId = 0;
  lastFlags = 0;
  /** errno of opening each root, from the greetings (0: open). */
  private rootErrnos: number[] = [];
  /** Clients not yet closed: the Gofer ends with the last. */
  private users: number;

  constructor(
    private readonly socketFd: number,
    private readonly proc: GoferProcess | null,
    /** The host directories, in the Gofer's order: for messages. */
    readonly hostRoots: readonly string[],
    readonly timeoutMs: number,
    private readonly startTimeoutMs: number,
  ) {
    this.users = hostRoots.length;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /**
   * Waits for the greetings (one per root, in order): null when root `index` is open, EIO when the Gofer
   * did not start (logged) or could not open that root (logged by the caller, which names it).
   */
  ready(index: number): Errno | 'root' | null {
    if (this.state === 'starting') this.greet();
    if (this.state !== 'ready') return EIO;
    return this.rootErrnos[index] === 0 ? null : 'root';
  }

  rootError(index: number): Errno {
    return errnoFrom(this.rootErrnos[index] ?? 0);
  }

  /** How long the Sentry waited for the greetings (0 when they had come before they were needed). */
  waitedMs = 0;

  private greet(): void {
    const started = performance.now();
    try {
      this.readGreetings();
    } finally {
      this.waitedMs = performance.now() - started;
    }
  }

  private readGreetings(): void {
    const errnos: number[] = [];
    for (let i = 0; i < this.hostRoots.length; i++) {
      const n = host.recvMsg(this.socketFd, this.rbuf, this.rfds, this.startTimeoutMs);
      this.closeReceivedFds();
      if (n <= 0) {
        this.fail(n === 0 ? 'it exited before starting' : n === -ETIMEDOUT_CODE ? `it did not start within ${this.startTimeoutMs} ms` : `recvmsg failed (errno ${-n})`);
        return;
      }
      const r = new Reader(this.rbuf, n);
      const h = decodeReplyHeader(r);
      const version = r.u32();
      if (h === null || h.op !== Op.Hello || h.id !== 0 || !r.complete()) {
        this.fail('malformed greeting');
        return;
      }
      if (version !== PROTOCOL_VERSION) {
        this.fail(`protocol version ${version}, expected ${PROTOCOL_VERSION}`);
        return;
      }
      errnos.push(h.errno);
    }
    this.rootErrnos = errnos;
    this.state = 'ready';
  }

  /** Sends req for root `index` and returns its reply, positioned after the header; a failed request's errno as Errno. */
  call(index: number, req: Request, expectFd: boolean): Reader | Errno | typeof MALFORMED {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1;
    encodeRequest(this.w, id, req, index);
    if (this.w.overflow) return ENAMETOOLONG;
    const sent = host.sendMsg(this.socketFd, this.w.bytes, this.w.pos, NO_FDS);
    if (sent < 0) return this.fail(sent === -EPIPE_CODE ? 'it exited' : `sendmsg failed (errno ${-sent})`);
    return this.receive(id, req.op, expectFd);
  }

  /** The next reply to request id (readdir calls it again while REPLY_MORE is set). */
  receive(id: number, op: OpCode, expectFd: boolean): Reader | Errno | typeof MALFORMED {
    for (let stale = 0; stale <= MAX_STALE_REPLIES; stale++) {
      const n = host.recvMsg(this.socketFd, this.rbuf, this.rfds, this.timeoutMs);
      if (n === 0 || n === -ECONNRESET_CODE) return this.fail('it exited');
      if (n === -ETIMEDOUT_CODE) return this.fail(`no answer within ${this.timeoutMs} ms`);
      if (n < 0) return this.fail(`recvmsg failed (errno ${-n})`);
      const r = new Reader(this.rbuf, n);
      const h = decodeReplyHeader(r);
      if (h === null) {
        this.closeReceivedFds();
        return this.fail('malformed reply');
      }
      if (h.id !== id) {
        // The late answer to a request that timed out: not ours.
        this.closeReceivedFds();
        continue;
      }
      const gotFd = this.rfds[0]! >= 0;
      if (h.op !== op || (gotFd && (!expectFd || h.errno !== 0 || this.rfds[1]! >= 0))) {
        this.closeReceivedFds();
        return MALFORMED;
      }
      this.lastId = id;
      this.lastFlags = h.flags;
      if (h.errno !== 0) return errnoFrom(h.errno);
      return r;
    }
    return this.fail('too many stray replies');
  }

  closeReceivedFds(): void {
    for (let i = 0; i < this.rfds.length; i++) {
      if (this.rfds[i]! >= 0) host.close(this.rfds[i]!);
      this.rfds[i] = -1;
    }
  }

  /** One client is done; the last one ends the Gofer (or closes the socket given to overSocket). */
  release(): void {
    if (--this.users > 0 || this.state === 'closed') return;
    const wasOpen = this.state !== 'failed';
    this.state = 'closed';
    if (wasOpen) this.end();
  }

  /** The Gofer is unusable: say why once, end it, and answer EIO from now on. */
  private fail(reason: string): Errno {
    if (this.state === 'starting' || this.state === 'ready') {
      log.warn(`gofer for ${this.hostRoots.join(', ')}: ${reason}; its files now fail with EIO`);
      this.state = 'failed';
      this.end();
    }
    return EIO;
  }

  private end(): void {
    if (this.proc !== null) this.proc.close();
    else host.close(this.socketFd);
  }
}

export class GoferClient {
  readonly readOnly: boolean;
  private closed = false;
  /** The greeting said this root could not be opened (logged once). */
  private rootFailed = false;

  private constructor(private readonly conn: GoferConnection, private readonly index: number, readonly hostRoot: string, readOnly: boolean) {
    this.readOnly = readOnly;
  }

  /**
   * Spawns a Gofer for hostRoot and returns at once; the first call (or ready()) waits for it to start.
   * Throws GoferError only if the process cannot be started at all.
   */
  static start(hostRoot: string, opts: GoferClientOptions): GoferClient {
    return GoferClient.startAll([{ hostRoot, readOnly: opts.readOnly }], opts)[0]!;
  }

  /**
   * One Gofer process serving every root (the sandbox's root and each --mount), started at once (or
   * the one started earlier with GoferProcess.spawnUnattached, told its roots now); a client per root,
   * in order. Each root says whether it is read-only.
   */
  static startAll(roots: readonly GoferRoot[], opts: Omit<GoferClientOptions, 'readOnly'>, unattached: GoferProcess | null = null): GoferClient[] {
    let proc: GoferProcess;
    if (unattached !== null) {
      try {
        unattached.attach(roots);
      } catch (err) {
        unattached.close();
        throw err;
      }
      proc = unattached;
    } else {
      proc = GoferProcess.spawnServing(roots);
    }
    const conn = new GoferConnection(proc.socketFd, proc, roots.map((r) => r.hostRoot), opts.timeoutMs ?? 5_000, opts.startTimeoutMs ?? 30_000);
    return roots.map((r, i) => new GoferClient(conn, i, r.hostRoot, r.readOnly));
  }

  /** A client over a socket already connected to a Gofer of one root (or to a test playing one); close() closes it. */
  static overSocket(socketFd: number, name: string, opts: GoferClientOptions): GoferClient {
    const conn = new GoferConnection(socketFd, null, [name], opts.timeoutMs ?? 5_000, opts.startTimeoutMs ?? 30_000);
    return new GoferClient(conn, 0, name, opts.readOnly);
  }

  /** The Gofer's process id (undefined over a plain socket). */
  get pid(): number | undefined {
    return this.conn.pid;
  }

  /** How long the Sentry waited for the Gofer to start (--stats). */
  get waitedMs(): number {
    return this.conn.waitedMs;
  }

  /** Waits until the Gofer has opened its roots: null, or EIO (logged with the reason) if it could not open this one. */
  ready(): Errno | null {
    if (this.closed || this.rootFailed) return EIO;
    const r = this.conn.ready(this.index);
    if (r !== 'root') return r;
    this.rootFailed = true;
    log.warn(`gofer for ${this.hostRoot}: cannot open its root (${this.conn.rootError(this.index).name}); its files now fail with EIO`);
    return EIO;
  }

  /** lstat semantics: a symlink is reported, not followed. */
  stat(path: string[]): GoferStat | Errno {
    const r = this.call({ op: Op.Stat, path });
    if (r instanceof Errno) return r;
    const st = decodeStat(r);
    return r.complete() ? st : this.malformed(Op.Stat);
  }

  /**
   * Opens a file; the fd is the caller's to close (fs.closeSync). flags are Linux O_*; the last component
   * is never followed (a symlink gives ELOOP), and devices and FIFOs are refused (EACCES).
   */
  open(path: string[], flags: number, mode: number): { fd: number; stat: GoferStat } | Errno {
    const r = this.call({ op: Op.Open, path, flags: flags >>> 0, mode: mode >>> 0 }, true);
    if (r instanceof Errno) return r;
    const fd = this.conn.rfds[0]!;
    const st = decodeStat(r);
    if (!r.complete() || fd < 0) {
      return this.malformed(Op.Open);
    }
    this.conn.rfds[0] = -1;
    return { fd, stat: st };
  }

  /** The entries of a directory, without '.' and '..'. */
  readdir(path: string[]): GoferDirent[] | Errno {
    const entries: GoferDirent[] = [];
    let r = this.call({ op: Op.Readdir, path });
    for (;;) {
      if (r instanceof Errno) return r;
      while (r.pos < r.end && !r.bad) {
        const ino = r.u64();
        const type = r.u8();
        const name = r.str();
        if (!r.bad) entries.push({ name, ino, type });
      }
      if (r.bad) return this.malformed(Op.Readdir);
      if ((this.conn.lastFlags & REPLY_MORE) === 0) return entries;
      r = this.receiveMore(Op.Readdir);
    }
  }

  readlink(path: string[]): string | Errno {
    const r = this.call({ op: Op.Readlink, path });
    if (r instanceof Errno) return r;
    const target = r.str();
    return r.complete() ? target : this.malformed(Op.Readlink);
  }

  mkdir(path: string[], mode: number): Errno | null {
    return this.status({ op: Op.Mkdir, path, mode: mode >>> 0 });
  }

  /** unlink, or rmdir when isDir. */
  unlink(path: string[], isDir: boolean): Errno | null {
    return this.status({ op: Op.Unlink, path, isDir });
  }

  /** flags: RENAME_NOREPLACE, RENAME_EXCHANGE (renameat2). */
  rename(from: string[], to: string[], flags: number): Errno | null {
    return this.status({ op: Op.Rename, from, to, flags: flags >>> 0 });
  }

  symlink(target: string, path: string[]): Errno | null {
    if (target.length === 0) return ENOENT;
    if (target.includes('\0')) return EINVAL;
    if (Buffer.byteLength(target, 'utf8') >= PATH_MAX) return ENAMETOOLONG;
    return this.status({ op: Op.Symlink, target, path });
  }

  /** A hard link: to becomes another name of from (a symlink is linked itself, not followed). */
  link(from: string[], to: string[]): Errno | null {
    return this.status({ op: Op.Link, from, to });
  }

  /** A symlink cannot be chmodded (EOPNOTSUPP, as Linux's fchmodat with AT_SYMLINK_NOFOLLOW). */
  chmod(path: string[], mode: number): Errno | null {
    return this.status({ op: Op.Chmod, path, mode: mode >>> 0 });
  }

  /** lchown semantics; -1 keeps an id. */
  chown(path: string[], uid: number, gid: number): Errno | null {
    if (!isId(uid) || !isId(gid)) return EINVAL;
    return this.status({ op: Op.Chown, path, uid: uid >>> 0, gid: gid >>> 0 });
  }

  truncate(path: string[], length: number): Errno | null {
    if (!Number.isSafeInteger(length) || length < 0) return EINVAL;
    return this.status({ op: Op.Truncate, path, length });
  }

  /** null leaves that time unchanged (UTIME_OMIT). Does not follow a symlink. */
  utimens(path: string[], atimeNs: bigint | null, mtimeNs: bigint | null): Errno | null {
    for (const t of [atimeNs, mtimeNs]) if (t !== null && (t < I64_MIN || t > I64_MAX)) return EINVAL;
    return this.status({ op: Op.Utimens, path, atimeNs, mtimeNs });
  }

  /** struct statfs of the Gofer's root, as the host returns it (120 bytes). */
  statfs(): Uint8Array | Errno {
    const r = this.call({ op: Op.Statfs });
    if (r instanceof Errno) return r;
    const raw = r.raw(STATFS_SIZE).slice();
    return r.complete() ? raw : this.malformed(Op.Statfs);
  }

  /** This root is done; the Gofer process ends with the last of its roots. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.release();
  }

  // --- round trips ---

  private status(req: Request): Errno | null {
    const r = this.call(req);
    if (r instanceof Errno) return r;
    return r.complete() ? null : this.malformed(req.op);
  }

  /** Sends req and returns its reply, positioned after the header; a failed request's errno as Errno. */
  private call(req: Request, expectFd = false): Reader | Errno {
    if ('path' in req) {
      const bad = checkPath(req.path);
      if (bad !== null) return bad;
    }
    if (req.op === Op.Rename || req.op === Op.Link) {
      const bad = checkPath(req.from) ?? checkPath(req.to);
      if (bad !== null) return bad;
    }
    const notReady = this.ready();
    if (notReady !== null) return notReady;
    return this.checked(this.conn.call(this.index, req, expectFd), req.op);
  }

  private receiveMore(op: OpCode): Reader | Errno {
    return this.checked(this.conn.receive(this.conn.lastId, op, false), op);
  }

  private checked(r: Reader | Errno | typeof MALFORMED, op: OpCode): Reader | Errno {
    return r === MALFORMED ? this.malformed(op) : r;
  }

  /** A reply that does not parse: this request fails with EIO; the stream stays in step (one message each). */
  private malformed(op: number): Errno {
    this.conn.closeReceivedFds();
    logOnce('warn', `gofer-malformed:${this.hostRoot}:${op}`, `gofer for ${this.hostRoot}: malformed reply to request ${op}; answering EIO`);
    return EIO;
  }
}

function isId(id: number): boolean {
  return Number.isInteger(id) && id >= -1 && id <= 0xffff_ffff;
}
