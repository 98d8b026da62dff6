// Shared by the benchmarks: compiling guest programs and running them natively and in the sandbox.
import { execFileSync, spawn as spawnChild, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
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

/** The process ids of pid and all its descendants now (from each process's parent in /proc/N/stat). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // It ended meanwhile.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** Proportional set size of one process in bytes, but for its shared-memory pages; 0 once it is gone. */
function pssWithoutShmem(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
    return (kib('Pss') - kib('Pss_Shmem')) * 1024;
  } catch {
    return 0;
  }
}

/** Adds the bytes allocated to each memfd a process holds open, once per file, to `seen`. */
function addMemfds(pid: number, seen: Map<string, number>): void {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return;
  }
  for (const fd of fds) {
    try {
      if (!readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('/memfd:')) continue;
      const st = statSync(`/proc/${pid}/fd/${fd}`);
      // A memfd is a tmpfs file: its blocks are the pages it holds, mapped or not.
      seen.set(`${st.dev}:${st.ino}`, st.blocks * 512);
    } catch {
      // Closed meanwhile.
    }
  }
}

/**
 * Runs a command and calls sample(pid, seconds since the start) every intervalMs until it exits; rejects
 * with the end of its stderr if it fails.
 */
export function sampleWhileRunning(command: string, args: string[], intervalMs: number, sample: (pid: number, seconds: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawnChild(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setInterval(() => sample(child.pid!, Number(process.hrtime.bigint() - start) / 1e9), intervalMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`));
    });
  });
}

/**
 * Runs a command and samples the memory of its whole process tree every intervalMs until it exits:
 * each process's proportional set size without its shared-memory pages, plus the pages of every memfd
 * the tree holds, once each. That counts runsc's sandbox and Gofer, and a guest memory file whether or
 * not some process maps its pages (runsc's memory file is mostly mapped by no process; tsvisor's by
 * the Sentry). Answers [seconds since the start, bytes] pairs. The tree is looked up every tenth sample.
 */
export async function sampleTreeMemory(command: string, args: string[], intervalMs = 50): Promise<Array<[number, number]>> {
  const samples: Array<[number, number]> = [];
  let tree: number[] = [];
  let n = 0;
  await sampleWhileRunning(command, args, intervalMs, (root, seconds) => {
    if (n++ % 10 === 0) tree = processTree(root);
    const memfds = new Map<string, number>();
    let bytes = 0;
    for (const pid of tree) {
      bytes += pssWithoutShmem(pid);
      addMemfds(pid, memfds);
    }
    for (const b of memfds.values()) bytes += b;
    if (bytes > 0) samples.push([seconds, bytes]);
  });
  return samples;
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
