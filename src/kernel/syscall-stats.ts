// --stats=json: per syscall, how many calls, how many failed, and how long they took as a histogram
// (powers of two of microseconds, from the kernel's dispatch to the answer: a blocked call counts its
// wait); and when the program made its first syscall, for the start-up phases.
import { Errno } from '../abi/errno.js';
import type { SyscallTracer } from './strace.js';
import type { SyscallEntry } from './syscall-table.js';
import type { Task } from './task.js';

/** Bucket i holds calls of [2^(i-1), 2^i) us; bucket 0 those under 1 us; the last, everything longer. */
const BUCKETS = 24;

export interface SyscallFigures {
  count: number;
  errors: number;
  /** As `{"<1": n, "<2": n, "<4": n, ...}`, empty buckets left out. */
  latency_us: Record<string, number>;
}

export class SyscallStats implements SyscallTracer {
  /** process.hrtime.bigint() at the program's first syscall, or null before it. */
  firstSyscallNs: bigint | null = null;
  /** process.hrtime.bigint() when the last call ended (exit_group's, normally): the program's end. */
  lastEndNs: bigint | null = null;
  private readonly byName = new Map<string, { count: number; errors: number; buckets: number[] }>();
  // Weak: a task killed while it waits never finishes its call.
  private readonly pending = new WeakMap<Task, { name: string; startNs: bigint }>();

  enter(task: Task, entry: SyscallEntry | undefined, nr: number): void {
    const now = process.hrtime.bigint();
    this.firstSyscallNs ??= now;
    this.pending.set(task, { name: entry?.name ?? `syscall_${nr}`, startNs: now });
  }
  exit(task: Task, result: number | Errno): void {
    this.finish(task, result);
  }
  blocked(): void {}
  resumed(task: Task, result: number | Errno): void {
    this.finish(task, result);
  }
  ended(task: Task): void {
    this.finish(task, null);
  }

  private finish(task: Task, result: number | Errno | null): void {
    const call = this.pending.get(task);
    if (call === undefined) return;
    this.pending.delete(task);
    let figures = this.byName.get(call.name);
    if (figures === undefined) {
      figures = { count: 0, errors: 0, buckets: new Array<number>(BUCKETS).fill(0) };
      this.byName.set(call.name, figures);
    }
    figures.count++;
    if (result instanceof Errno) figures.errors++;
    const now = process.hrtime.bigint();
    if (result === null) this.lastEndNs = now;
    const us = Number(now - call.startNs) / 1000;
    const bucket = us < 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log2(us)) + 1);
    figures.buckets[bucket]!++;
  }

  /** Every syscall the program made, the most frequent first. */
  figures(): Record<string, SyscallFigures> {
    const out: Record<string, SyscallFigures> = {};
    for (const [name, f] of [...this.byName].sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))) {
      const latency: Record<string, number> = {};
      f.buckets.forEach((n, i) => {
        if (n > 0) latency[i === BUCKETS - 1 ? `>=${2 ** (i - 1)}` : `<${2 ** i}`] = n;
      });
      out[name] = { count: f.count, errors: f.errors, latency_us: latency };
    }
    return out;
  }
}
