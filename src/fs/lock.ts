// Advisory locks: flock(2) locks, owned by open file descriptions, and fcntl(2) record locks, owned by
// a process (F_SETLK: released when the process closes any fd of the file) or by a description
// (F_OFD_SETLK). Locks are kept per inode (Dentry.lockKey). A request that conflicts answers EAGAIN;
// the syscall layer waits on the inode's queue for the blocking forms.
import { EAGAIN, EINVAL, Errno } from '../abi/errno.js';
import type { FileDescription } from './vfs.js';
import { type Waiter, WaitQueue } from './wait.js';

export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
/** The old mandatory flock: Linux has ignored it (answering success) since 5.18. */
export const LOCK_MAND = 32;
/** Any unlock wakes the waiters on an inode; they retry. */
const UNLOCKED = 1;

/** A record lock's owner: a process id (F_SETLK) or a description (F_OFD_SETLK). */
export type LockOwner = number | FileDescription;

export interface RecordLock {
  owner: LockOwner;
  type: number;
  start: number;
  /** Last byte, inclusive; Infinity for "to the end of the file and beyond". */
  end: number;
  /** Shown by F_GETLK: the owning process, or -1 for a description's lock. */
  pid: number;
}

interface InodeLocks {
  flockShared: Set<FileDescription>;
  flockExclusive: FileDescription | null;
  records: RecordLock[];
  readonly queue: WaitQueue;
}

export class LockTable {
  private readonly inodes = new Map<unknown, InodeLocks>();

  private locks(key: unknown): InodeLocks {
    let l = this.inodes.get(key);
    if (l === undefined) {
      l = { flockShared: new Set(), flockExclusive: null, records: [], queue: new WaitQueue() };
      this.inodes.set(key, l);
    }
    return l;
  }

  private tidy(key: unknown, l: InodeLocks): void {
    if (l.flockShared.size === 0 && l.flockExclusive === null && l.records.length === 0 && l.queue.size === 0) this.inodes.delete(key);
  }

  /** Calls callback after the next unlock on the inode (for the blocking forms); cancel() takes it back. */
  waitForUnlock(key: unknown, callback: () => void): Pick<Waiter, 'cancel'> {
    const l = this.locks(key);
    const w = l.queue.add(UNLOCKED, callback);
    return {
      cancel: () => {
        w.cancel();
        this.tidy(key, l);
      },
    };
  }

  /** flock(2): null when done, EAGAIN when another description holds a conflicting lock. */
  flock(key: unknown, file: FileDescription, operation: number): Errno | null {
    if ((operation & LOCK_MAND) !== 0) return null;
    const op = operation & ~LOCK_NB;
    if (op !== LOCK_SH && op !== LOCK_EX && op !== LOCK_UN) return EINVAL;
    const l = this.locks(key);
    if (op === LOCK_UN) {
      this.dropFlock(key, l, file);
      return null;
    }
    const othersShared = [...l.flockShared].some((f) => f !== file);
    const othersExclusive = l.flockExclusive !== null && l.flockExclusive !== file;
    if (othersExclusive || (op === LOCK_EX && othersShared)) {
      // Linux drops the lock held before waiting for a conversion (flock(2): "not atomic").
      if (l.flockShared.has(file) || l.flockExclusive === file) this.dropFlock(key, l, file);
      return EAGAIN;
    }
    if (op === LOCK_SH) {
      if (l.flockExclusive === file) l.flockExclusive = null;
      l.flockShared.add(file);
    } else {
      l.flockShared.delete(file);
      l.flockExclusive = file;
    }
    file.onRelease(`flock:${String(key)}`, () => this.flock(key, file, LOCK_UN));
    return null;
  }

  private dropFlock(key: unknown, l: InodeLocks, file: FileDescription): void {
    const had = l.flockShared.delete(file) || l.flockExclusive === file;
    if (l.flockExclusive === file) l.flockExclusive = null;
    if (had) l.queue.notify(UNLOCKED);
    this.tidy(key, l);
  }

  /** F_GETLK: the first lock of another owner that would conflict with want, or null. */
  conflict(key: unknown, want: RecordLock): RecordLock | null {
    const l = this.inodes.get(key);
    if (l === undefined) return null;
    for (const r of l.records) {
      if (r.owner === want.owner || r.end < want.start || r.start > want.end) continue;
      if (r.type === F_WRLCK || want.type === F_WRLCK) return r;
    }
    return null;
  }

  /** F_SETLK: sets (or with F_UNLCK clears) want's range for its owner; EAGAIN on a conflict. */
  setRecord(key: unknown, want: RecordLock): Errno | null {
    if (want.type !== F_UNLCK && this.conflict(key, want) !== null) return EAGAIN;
    const l = this.locks(key);
    const kept: RecordLock[] = [];
    let released = false;
    for (const r of l.records) {
      if (r.owner !== want.owner || r.end < want.start || r.start > want.end) {
        kept.push(r);
        continue;
      }
      released = true;
      if (r.start < want.start) kept.push({ ...r, end: want.start - 1 });
      if (r.end > want.end) kept.push({ ...r, start: want.end + 1 });
    }
    if (want.type !== F_UNLCK) kept.push({ ...want });
    kept.sort((a, b) => a.start - b.start);
    l.records = mergeAdjacent(kept);
    if (released) l.queue.notify(UNLOCKED);
    this.tidy(key, l);
    if (typeof want.owner !== 'number' && want.type !== F_UNLCK) {
      const file = want.owner;
      file.onRelease(`ofd:${String(key)}`, () => this.releaseOwner(key, file));
    }
    return null;
  }

  /** A process closed an fd of the file: its F_SETLK locks on it go (fcntl(2)'s famous rule). */
  releaseOwner(key: unknown, owner: LockOwner): void {
    const l = this.inodes.get(key);
    if (l === undefined) return;
    const before = l.records.length;
    l.records = l.records.filter((r) => r.owner !== owner);
    if (l.records.length !== before) l.queue.notify(UNLOCKED);
    this.tidy(key, l);
  }
}

/** Joins touching or overlapping ranges of the same owner and type, as Linux does. */
function mergeAdjacent(sorted: RecordLock[]): RecordLock[] {
  const out: RecordLock[] = [];
  for (const r of sorted) {
    let prev: RecordLock | undefined;
    for (let i = out.length - 1; i >= 0 && prev === undefined; i--) {
      const p = out[i]!;
      if (p.owner === r.owner && p.type === r.type && p.end + 1 >= r.start) prev = p;
    }
    if (prev !== undefined) prev.end = Math.max(prev.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** The sandbox's locks: one table, since inode keys are unique within it. */
export const fileLocks = new LockTable();
