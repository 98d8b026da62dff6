// Shared by the benchmarks: compiling guest programs and running them natively and in the sandbox.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { shadowedBySandbox } from '../src/sandbox/sandbox.js';

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${projectRoot}dist/src/cli/main.js`;
const checkout = projectRoot.replace(/\/$/, '');
/** A checkout under the sandbox's own /dev, /proc or /sys is mounted at its path, so it sees the programs. */
const checkoutMount = shadowedBySandbox(checkout) ? ['--mount', `${checkout}:${checkout}:ro`] : [];

/** Compiles bench/guest/NAME.{c,S} to build/bench/NAME (once, unless the source is newer). */
export function benchProgram(name: string, flags: string[] = []): string {
  const dir = `${projectRoot}build/bench`;
  mkdirSync(dir, { recursive: true });
  const src = [`${projectRoot}bench/guest/${name}.c`, `${projectRoot}bench/guest/${name}.S`].find(existsSync);
  if (src === undefined) throw new Error(`no source for bench program ${name}`);
  const out = `${dir}/${name}`;
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    execFileSync('gcc', ['-static', '-O2', ...flags, '-o', out, src], { stdio: 'inherit' });
  }
  return out;
}

export interface Run {
  stdout: string;
  stderr: string;
  status: number;
  wallMs: number;
}

function spawn(cmd: string, args: string[]): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? 128, wallMs };
}

export function runNative(program: string, args: string[]): Run {
  return spawn(program, args);
}

export function runSandboxed(program: string, args: string[], platform: 'kvm' | 'kvm-exit', extra: string[] = []): Run {
  return spawn(process.execPath, [cli, 'run', '--platform', platform, ...checkoutMount, ...extra, '--', program, ...args]);
}

/** gVisor's runsc (Debian's package), ptrace platform: the only one that starts on nested-virtualisation hosts. */
export function runRunsc(program: string, args: string[], doFlags: string[] = []): Run {
  return spawn('runsc', ['--network=none', '--platform=ptrace', 'do', ...doFlags, program, ...args]);
}

/** Whether runsc is installed and may run here (it needs root). */
export function runscAvailable(): boolean {
  return process.getuid?.() === 0 && spawnSync('runsc', ['--version'], { encoding: 'utf8' }).status === 0;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Prints rows as an aligned table. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}
