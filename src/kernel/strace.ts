// --strace: every syscall as strace(1) -f -T shows it, one line each,
//   [pid 7] openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory) <0.000041>
// or, with --strace-format json, one JSON object a line per syscall:
//   {"task":{"pid":7,"tid":7},"name":"openat","args":["AT_FDCWD","\"/etc/passwd\"","O_RDONLY|O_CLOEXEC"],
//    "result":-2,"errno":"ENOENT","duration_us":41}
// The kernel calls the tracer around each handler. Arguments the program gives are shown before the
// handler runs, those the call fills (buffers, structs) after it, from guest memory (strace-args.ts). A
// call that blocks is shown as strace shows it: `read(0, <unfinished ...>`, later `<... read resumed>`.
import { Errno } from '../abi/errno.js';
import { signalName } from '../abi/signal.js';
import { errnoDescription } from '../abi/errno-text.js';
import { formatArg, OUTPUT_KINDS } from './strace-args.js';
import type { SyscallEntry } from './syscall-table.js';
import type { Task } from './task.js';

export type StraceFormat = 'text' | 'json';

/** What the kernel tells a tracer about each syscall. */
export interface SyscallTracer {
  /** Before the handler runs. */
  enter(task: Task, entry: SyscallEntry | undefined, nr: number): void;
  /** The call returned at once. */
  exit(task: Task, result: number | Errno): void;
  /** The call waits; `resumed` follows when it completes. */
  blocked(task: Task): void;
  resumed(task: Task, result: number | Errno): void;
  /** The call does not return to the program (exit, exit_group, a fatal signal, exec). */
  ended(task: Task): void;
  /** A signal taken on the way back to the program: a handler runs, or it ends the process. */
  signal?(task: Task, signo: number, code: number, killed: boolean): void;
}

/** Calls that return addresses, shown in hex as strace does. */
const ADDRESS_RESULTS = new Set(['mmap', 'mremap', 'brk', 'shmat']);

interface Pending {
  name: string;
  format: string;
  startNs: bigint;
  /** The arguments the program gave, shown at entry; null in the places the call fills. */
  given: Array<string | null>;
}

export class Strace implements SyscallTracer {
  /**
   * Whether calls are shown: tracing can be switched on and off while the sandbox runs (tsvisor trace);
   * a call already entered is shown to its end either way.
   */
  enabled = true;
  // Weak: a task killed while it waits never finishes its call.
  private readonly pending = new WeakMap<Task, Pending>();
  /** Calls entered and not yet shown (a killed task's stays counted): while tracing is off and this is 0, nothing is looked up. */
  private open = 0;

  constructor(private readonly format: StraceFormat, private readonly write: (text: string) => void) {}

  enter(task: Task, entry: SyscallEntry | undefined, nr: number): void {
    if (!this.enabled) return;
    const format = entry?.args ?? 'xxxxxx';
    const given: Array<string | null> = [];
    for (let i = 0; i < format.length; i++) {
      const kind = format[i]!;
      given.push(OUTPUT_KINDS.has(kind) ? null : formatArg(task, kind, i, null) ?? '\0');
    }
    this.open++;
    this.pending.set(task, { name: entry?.name ?? `syscall_${nr}`, format, startNs: process.hrtime.bigint(), given });
  }

  exit(task: Task, result: number | Errno): void {
    const call = this.take(task);
    if (call !== undefined) this.write(this.line(task, call, result, false));
  }

  blocked(task: Task): void {
    const call = this.pending.get(task);
    if (call === undefined || this.format === 'json') return;
    const shown: string[] = [];
    for (const arg of call.given) {
      if (arg === null) break;
      if (arg !== '\0') shown.push(arg);
    }
    this.write(`[pid ${task.id.tid}] ${call.name}(${shown.map((a) => `${a}, `).join('')}<unfinished ...>\n`);
  }

  resumed(task: Task, result: number | Errno): void {
    const call = this.take(task);
    if (call !== undefined) this.write(this.line(task, call, result, true));
  }

  ended(task: Task): void {
    const call = this.take(task);
    if (call !== undefined) this.write(this.line(task, call, null, false));
  }

  signal(task: Task, signo: number, code: number, killed: boolean): void {
    if (!this.enabled) return;
    if (this.format === 'json') {
      this.write(`${JSON.stringify({ task: { pid: task.id.pid, tid: task.id.tid }, signal: signalName(signo), si_code: code, killed })}\n`);
      return;
    }
    // strace's forms: the signal as it is delivered, and the process it ends.
    this.write(killed ? `[pid ${task.id.tid}] +++ killed by ${signalName(signo)} +++\n` : `[pid ${task.id.tid}] --- ${signalName(signo)} {si_code=${code}} ---\n`);
  }

  private take(task: Task): Pending | undefined {
    if (this.open === 0) return undefined;
    const call = this.pending.get(task);
    if (call === undefined) return undefined;
    this.pending.delete(task);
    this.open--;
    return call;
  }

  /** The finished call; `result` null: it never returned. */
  private line(task: Task, call: Pending, result: number | Errno | null, resumed: boolean): string {
    const durationNs = Number(process.hrtime.bigint() - call.startNs);
    const args = call.given.map((arg, i) => arg ?? formatArg(task, call.format[i]!, i, result) ?? '\0');
    const shown = args.filter((a) => a !== '\0');
    if (this.format === 'json') {
      return `${JSON.stringify({
        task: { pid: task.id.pid, tid: task.id.tid }, name: call.name, args: shown,
        result: result === null ? null : result instanceof Errno ? -result.code : result,
        errno: result instanceof Errno ? result.name : null, duration_us: Math.round(durationNs / 100) / 10,
      })}\n`;
    }
    const ret = result === null ? '?'
      : result instanceof Errno ? `-1 ${errnoDescription(result.code)}`
        : ADDRESS_RESULTS.has(call.name) ? `0x${result.toString(16)}` : String(result);
    const timing = result === null ? '' : ` <${(durationNs / 1e9).toFixed(6)}>`;
    if (resumed) {
      // strace goes on from the first argument the call fills.
      const from = call.given.findIndex((a) => a === null);
      const rest = from < 0 ? [] : args.slice(from).filter((a) => a !== '\0');
      return `[pid ${task.id.tid}] <... ${call.name} resumed>${rest.map((a, i) => (i === 0 ? a : `, ${a}`)).join('')}) = ${ret}${timing}\n`;
    }
    return `[pid ${task.id.tid}] ${call.name}(${shown.join(', ')}) = ${ret}${timing}\n`;
  }
}

/** Several tracers told of the same calls, in order (--strace and --stats=json together). */
export class TracerGroup implements SyscallTracer {
  constructor(private readonly tracers: readonly SyscallTracer[]) {}
  enter(task: Task, entry: SyscallEntry | undefined, nr: number): void {
    for (const t of this.tracers) t.enter(task, entry, nr);
  }
  exit(task: Task, result: number | Errno): void {
    for (const t of this.tracers) t.exit(task, result);
  }
  blocked(task: Task): void {
    for (const t of this.tracers) t.blocked(task);
  }
  resumed(task: Task, result: number | Errno): void {
    for (const t of this.tracers) t.resumed(task, result);
  }
  ended(task: Task): void {
    for (const t of this.tracers) t.ended(task);
  }
  signal(task: Task, signo: number, code: number, killed: boolean): void {
    for (const t of this.tracers) t.signal?.(task, signo, code, killed);
  }
}
