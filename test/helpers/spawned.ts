// A program started asynchronously (natively or in the sandbox), for tests that act on it while it
// runs: wait for a marker on its stdout, check that it is still alive, signal it, await its end.
import { type ChildProcess, spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { projectRoot } from './guest-programs.js';
import { checkoutMount, cliPath, type Platform } from './run.js';

export interface Running {
  child: ChildProcess;
  /** Everything printed so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with a shell's view of the end: the status, or 128 + signal. */
  readonly exit: Promise<number>;
  /** Whether it has ended. */
  readonly exited: boolean;
}

export function start(file: string, args: string[], cwd = projectRoot): Running {
  const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number>((resolve) => child.on('close', (code, signal) => {
    exited = true;
    resolve(code ?? 128 + (signal === null ? 0 : osConstants.signals[signal]));
  }));
  return {
    child, exit,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    get exited() { return exited; },
  };
}

/** `tsvisor run --platform P [extra] -- program args`. */
export function startSandbox(program: string, args: string[], platform: Platform, extra: string[] = []): Running {
  return start(process.execPath, [cliPath, 'run', '--platform', platform, ...checkoutMount, ...extra, '--', program, ...args]);
}

/** Resolves once stdout contains marker; rejects if the process ends first or after timeoutMs. */
export function waitForOutput(r: Running, marker: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (r.stdout.includes(marker)) done(null);
      else if (r.exited) done(new Error(`ended before printing ${JSON.stringify(marker)}: ${r.stdout}\n${r.stderr}`));
    }, 10);
    const timer = setTimeout(() => done(new Error(`no ${JSON.stringify(marker)} after ${timeoutMs} ms: ${r.stdout}\n${r.stderr}`)), timeoutMs);
    function done(err: Error | null): void {
      clearInterval(poll);
      clearTimeout(timer);
      if (err === null) resolve();
      else reject(err);
    }
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
