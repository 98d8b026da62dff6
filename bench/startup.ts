// bench/startup: what starting a sandbox costs, natively, in tsvisor (the installed command, the
// bundle) and in gVisor's runsc (Debian's package; `runsc --network=none --platform=ptrace do`), in
// one run.
//   true (static)      wall time of a static program that only exits
//   busybox sh -c true wall time of a shell that starts and exits
//   20 at once         20 of the static program started together: the time until all have exited
//                      (cold starts under concurrency, what sandbox users complain about most)
//   --version, --help  the command alone, beside `node -e 0` (Node.js's own start, also without
//                      NODE_EXTRA_CA_CERTS where that is set: the command's Node.js starts without it)
//   run, code cache    `run` of the static program with the user's code cache of the command, and
//                      with none (a first run: an empty cache directory each time, which it fills)
//   idle RSS / USS     an idle sandbox (`busybox sleep`, 3 s after its start, when tsvisor has
//                      trimmed its idle Sentry): the resident memory of its whole process tree,
//                      summed over the processes (RSS counts pages the processes share once per
//                      process, as `ps` does), and the memory private to them (USS)
// Times are medians over the repeats; the ratios are to native and to runsc. The machine's load is
// printed with the figures: on a busy machine they are samples, not limits.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { shadowedBySandbox } from '../src/sandbox/sandbox.js';
import { benchProgram, median, printTable, projectRoot, runscAvailable } from './common.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 7);
const CONCURRENT = 20;
const BUSYBOX = '/bin/busybox';
/**
 * How long an idle sandbox is left to settle before its memory is read: past the second of quiet after
 * which the Sentry gives back what it does not use (src/sandbox/idle-trim.ts).
 */
const SETTLE_MS = 3_000;
const command = `${projectRoot}dist/bundle/cli/tsvisor.cjs`;
const checkout = projectRoot.replace(/\/$/, '');
const checkoutMount = shadowedBySandbox(checkout) ? ['--mount', `${checkout}:${checkout}:ro`] : [];

type Column = 'native' | 'tsvisor' | 'runsc';
const columns: Column[] = ['native', 'tsvisor', ...(runscAvailable() ? ['runsc' as const] : [])];

/** The command line that runs program args in column's way. */
function commandLine(column: Column, program: string, args: string[]): [string, string[]] {
  switch (column) {
    case 'native': return [program, args];
    // The file itself, as the installed `tsvisor` runs: its first line is what starts Node.js.
    case 'tsvisor': return [command, ['run', ...checkoutMount, '--', program, ...args]];
    case 'runsc': return ['runsc', ['--network=none', '--platform=ptrace', 'do', program, ...args]];
  }
}

function wallMs(column: Column, program: string, args: string[]): number {
  const [cmd, argv] = commandLine(column, program, args);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${column} ${program}: status ${r.status}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  return ms;
}

async function concurrentMs(column: Column, program: string): Promise<number> {
  const [cmd, argv] = commandLine(column, program, []);
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENT }, () => new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve() : reject(new Error(`${column}: status ${status}: ${stderr.trim()}`))));
  })));
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** pid and its descendants, now. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const task of safeList(`/proc/${out[i]}/task`)) {
      const children = safeRead(`/proc/${out[i]}/task/${task}/children`).trim();
      if (children !== '') out.push(...children.split(/\s+/).map(Number));
    }
  }
  return out;
}

/** The names in dir, or none when it is gone (a process that exited meanwhile). */
function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Summed RSS and USS (Private_Clean + Private_Dirty) of the processes, in KiB, from smaps_rollup. */
function treeMemory(pids: number[]): { rssKiB: number; ussKiB: number } {
  let rssKiB = 0;
  let ussKiB = 0;
  for (const pid of pids) {
    const rollup = safeRead(`/proc/${pid}/smaps_rollup`);
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
    rssKiB += field('Rss');
    ussKiB += field('Private_Clean') + field('Private_Dirty');
  }
  return { rssKiB, ussKiB };
}

async function idleMemory(column: Column): Promise<{ rssKiB: number; ussKiB: number; processes: number }> {
  const [cmd, argv] = commandLine(column, BUSYBOX, ['sleep', '30']);
  // A process group of its own, so that the whole tree can be ended at once.
  const child = spawn(cmd, argv, { stdio: 'ignore', detached: true });
  try {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const pids = processTree(child.pid!);
    return { ...treeMemory(pids), processes: pids.length };
  } finally {
    const closed = new Promise((resolve) => child.on('close', resolve));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await closed;
  }
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`load average before: ${load()} (${availableParallelism()} CPUs)`);
const trueProgram = benchProgram('true');
const results = new Map<string, Map<Column, number>>();
const record = (name: string, column: Column, value: number): void => {
  if (!results.has(name)) results.set(name, new Map());
  results.get(name)!.set(column, value);
};
const memory = new Map<Column, number>();
for (const column of columns) {
  const xs: number[] = [];
  for (let i = 0; i < REPEATS; i++) xs.push(wallMs(column, trueProgram, []));
  record('true (static)', column, median(xs));
  if (existsSync(BUSYBOX)) {
    const ys: number[] = [];
    for (let i = 0; i < REPEATS; i++) ys.push(wallMs(column, BUSYBOX, ['sh', '-c', 'true']));
    record('busybox sh -c true', column, median(ys));
  }
  const zs: number[] = [];
  for (let i = 0; i < Math.max(1, Math.floor(REPEATS / 2)); i++) zs.push(await concurrentMs(column, trueProgram));
  record(`${CONCURRENT} at once`, column, median(zs));
  if (existsSync(BUSYBOX)) {
    const idle = await idleMemory(column);
    record('idle RSS of the tree', column, idle.rssKiB / 1024);
    record('idle USS of the tree', column, idle.ussKiB / 1024);
    memory.set(column, idle.processes);
  }
}

const rows: string[][] = [];
for (const [name, byColumn] of results) {
  const unit = name.startsWith('idle') ? (v: number): string => `${v.toFixed(1)} MiB` : (v: number): string => `${v.toFixed(1)} ms`;
  const native = byColumn.get('native')!;
  const tsvisor = byColumn.get('tsvisor')!;
  const runsc = byColumn.get('runsc');
  const row = [name, unit(native), unit(tsvisor), `${(tsvisor / native).toFixed(1)}x`, runsc === undefined ? '–' : `${(tsvisor / runsc).toFixed(2)}x`];
  if (columns.includes('runsc')) row.push(runsc === undefined ? '–' : unit(runsc), runsc === undefined ? '–' : `${(runsc / native).toFixed(1)}x`);
  rows.push(row);
}
const header = ['workload', 'native', 'tsvisor', '/native', '/runsc'];
if (columns.includes('runsc')) header.push('runsc', '/native');
printTable(header, rows);
console.log(`idle processes: ${columns.map((c) => `${c} ${memory.get(c) ?? '–'}`).join(', ')}`);

// The command alone: interleaved with `node -e 0`, so that both see the same load. The command's first
// line starts Node.js without NODE_EXTRA_CA_CERTS (src/cli/bin.ts): where that is set, `node -e 0` is
// timed both ways, and the command is set beside the start it actually gets.
const run = ['run', ...checkoutMount, '--', trueProgram];
const withoutExtraCerts = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
};
const firstRun = (): NodeJS.ProcessEnv => ({ ...process.env, XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'tsvisor-bench-cache-')) });
type Alone = [name: string, file: string, args: string[], env: () => NodeJS.ProcessEnv];
const nodeStart: Alone[] = [['node -e 0', process.execPath, ['-e', '0'], () => process.env]];
if (process.env.NODE_EXTRA_CA_CERTS !== undefined) nodeStart.push(['node -e 0 without NODE_EXTRA_CA_CERTS', process.execPath, ['-e', '0'], withoutExtraCerts]);
const baseline = nodeStart[nodeStart.length - 1]![0];
const alone: Alone[] = [
  ...nodeStart, ['tsvisor --version', command, ['--version'], () => process.env],
  ['tsvisor --help', command, ['--help'], () => process.env], ['tsvisor run, code cache', command, run, () => process.env],
  ['tsvisor run, no code cache (a first run)', command, run, firstRun],
];
const aloneMs = new Map<string, number[]>(alone.map(([name]) => [name, []]));
for (let i = 0; i < REPEATS * 2; i++) {
  for (const [name, file, args, env] of alone) {
    const runEnv = env();
    const t0 = process.hrtime.bigint();
    const r = spawnSync(file, args, { encoding: 'utf8', env: runEnv });
    aloneMs.get(name)!.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (runEnv.XDG_CACHE_HOME !== process.env.XDG_CACHE_HOME) rmSync(runEnv.XDG_CACHE_HOME!, { recursive: true, force: true });
    if (r.status !== 0) throw new Error(`${name}: status ${r.status}: ${r.stderr}`);
  }
}
const nodeAlone = median(aloneMs.get(baseline)!);
printTable(['command', 'wall', `- ${baseline}`], alone.map(([name]) => {
  const ms = median(aloneMs.get(name)!);
  return [name, `${ms.toFixed(1)} ms`, name.startsWith('node -e 0') ? '' : `${(ms - nodeAlone) >= 0 ? '+' : ''}${(ms - nodeAlone).toFixed(1)} ms`];
}));
console.log(`load average after: ${load()}`);
if (!columns.includes('runsc')) console.log('runsc is not installed (apt-get install runsc, as root): its columns are left out');
