// Runs a program natively or in the sandbox and returns what a shell would see, so the
// two can be compared directly: the host kernel is the oracle.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { type HostMount, shadowedBySandbox } from '../../src/sandbox/sandbox.js';
import { projectRoot } from './guest-programs.js';

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit status, or 128 + signal number if killed by a signal (as a shell reports it). */
  status: number;
}

export interface RunOptions {
  input?: string;
  /** Added to (or, with undefined, removed from) this process's environment. */
  env?: Record<string, string | undefined>;
  /** Working directory (default: this process's for native runs, the project root for the sandbox). */
  cwd?: string;
  /** How long the run may take before it counts as hung (default 60 s); for long workloads on a loaded machine. */
  timeoutMs?: number;
}

export type Platform = 'kvm' | 'kvm-exit';

export interface SandboxOptions extends RunOptions {
  platform?: Platform;
  /** CLI options placed after `run`, before `--`. */
  extraCliArgs?: string[];
  /** Leave out checkoutMount (for tests about what the sandbox must not see). */
  withoutCheckout?: boolean;
}

export const cliPath = join(projectRoot, 'dist', 'src', 'cli', 'main.js');

const checkout = projectRoot.replace(/\/$/, '');
/**
 * The sandbox has its own /dev, /proc and /sys: a checkout below one of them is mounted read-only
 * at the same path, so the sandbox finds the test programs wherever the tests run.
 */
export const checkoutMount: readonly string[] = checkoutMountUnder([]);
/** checkoutMount for a sandbox that also has these --tmpfs directories (a checkout under /tmp). */
export function checkoutMountUnder(tmpfs: readonly string[]): string[] {
  return shadowedBySandbox(checkout, tmpfs) ? ['--mount', `${checkout}:${checkout}:ro`] : [];
}
/** The same mount for a sandbox started in this process. */
export const checkoutMounts: HostMount[] = shadowedBySandbox(checkout) ? [{ host: checkout, guest: checkout, readOnly: true }] : [];
/** A host directory for trees the sandbox must see through its root overlay (and may write over). */
export const overlayScratchBase = shadowedBySandbox(checkout) ? '/var/tmp' : join(projectRoot, 'build');

const TIMEOUT_MS = 60_000;

function environment(extra: RunOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function spawn(file: string, args: string[], opts: RunOptions, cwd?: string): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(file, args, {
    cwd,
    input: opts.input ?? '',
    env: environment(opts.env),
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? TIMEOUT_MS,
    maxBuffer: 64 << 20,
  });
  const what = [file, ...args].join(' ');
  // A timeout also reports a signal; say what happened instead of returning a fake status.
  if (r.error) throw new Error(`${what}: ${r.error.message}\nstderr: ${r.stderr ?? ''}`);
  let status: number;
  if (r.status !== null) status = r.status;
  else if (r.signal) status = 128 + osConstants.signals[r.signal];
  else throw new Error(`${what}: neither an exit status nor a signal`);
  return { stdout: r.stdout, stderr: r.stderr, status };
}

export function runNative(program: string, args: string[] = [], opts: RunOptions = {}): RunResult {
  return spawn(program, args, opts, opts.cwd);
}

/**
 * The tests' kvm column turns exitless after this many guest events, not the default's 1000: so early
 * that nearly every test program crosses the turn (in whatever state its threads are then) and runs
 * most of its way exitless. Programs shorter than this run as under kvm-exit, which is tested anyway.
 */
export const TEST_EXITLESS_AFTER = 16;

/** The same for a sandbox started in this process: its exitlessAfter on `platform`. */
export function testExitlessAfter(platform: Platform): number | undefined {
  return platform === 'kvm' ? TEST_EXITLESS_AFTER : undefined;
}

/**
 * The command line `node dist/src/cli/main.js run [--platform P] [checkout mount] [extra...] -- program args`;
 * on kvm with --exitless-after TEST_EXITLESS_AFTER unless extra names its own.
 */
export function sandboxCommandLine(program: string, args: string[] = [], opts: SandboxOptions = {}): string[] {
  const cli = [process.execPath, cliPath, 'run'];
  if (opts.platform) cli.push('--platform', opts.platform);
  if (opts.platform === 'kvm' && !(opts.extraCliArgs ?? []).some((a) => a.startsWith('--exitless-after'))) {
    cli.push('--exitless-after', String(TEST_EXITLESS_AFTER));
  }
  cli.push(...(opts.withoutCheckout === true ? [] : checkoutMount), ...(opts.extraCliArgs ?? []), '--', program, ...args);
  return cli;
}

/** sandboxCommandLine run from the project root. */
export function runSandbox(program: string, args: string[] = [], opts: SandboxOptions = {}): RunResult {
  const [node, ...cli] = sandboxCommandLine(program, args, opts);
  return spawn(node!, cli, opts, opts.cwd ?? projectRoot);
}

/** One word for sh -c. */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** util-linux's script(1), which runs a command with its stdio on a new pseudo-terminal, or null. */
export const scriptPath: string | null = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p)) ?? null;

/**
 * The program with stdin, stdout and stderr on a pseudo-terminal (`script -qec`): stdout then holds
 * everything it wrote to the terminal (newlines as \r\n), and the status is the program's.
 */
export function runNativeOnTty(program: string, args: string[] = [], opts: RunOptions = {}): RunResult {
  if (scriptPath === null) throw new Error('script(1) is not installed');
  return spawn(scriptPath, ['-qec', [program, ...args].map(shellQuote).join(' '), '/dev/null'], opts);
}

/** runSandbox with the sandbox's stdio on a pseudo-terminal, as runNativeOnTty. */
export function runSandboxOnTty(program: string, args: string[] = [], opts: SandboxOptions = {}): RunResult {
  if (scriptPath === null) throw new Error('script(1) is not installed');
  return spawn(scriptPath, ['-qec', sandboxCommandLine(program, args, opts).map(shellQuote).join(' '), '/dev/null'], opts, projectRoot);
}

/** Debian's busybox-static, a real-world static program, or null if it is not installed. */
export function busyboxPath(): string | null {
  return existsSync('/bin/busybox') ? '/bin/busybox' : null;
}

/** Why sandbox tests cannot run here, or null if /dev/kvm is usable. */
export function kvmSkipReason(): string | null {
  if (!existsSync('/dev/kvm')) return '/dev/kvm is missing';
  try {
    accessSync('/dev/kvm', fsConstants.R_OK | fsConstants.W_OK);
  } catch {
    return '/dev/kvm is not readable and writable by this user (join the kvm group)';
  }
  return null;
}

export const platforms: readonly Platform[] = ['kvm-exit', 'kvm'];
