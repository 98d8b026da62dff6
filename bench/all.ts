// npm run bench: every benchmark's workloads natively, in tsvisor (exitless kvm and kvm-exit) and in
// gVisor's runsc, in one run: the columns of each repeat are interleaved, so that a change of the
// machine's speed (tens of percent within a minute on a shared host) hits all of them alike; each
// figure is the median of the repeats. Then the memory of a grow-and-shrink workload over time in each
// column, and where tsvisor's start-up time goes. A progress bar per benchmark on stderr; the report
// goes to bench/report/REPORT.md with ratios.png, rss.png and startup.png (bench/report.ts).
//   npm run bench              every workload, 5 repeats (8 to 15 minutes on 2 cores)
//   npm run bench -- --quick   a subset with 3 repeats and shorter loops, about 2 minutes
// BENCH_REPEATS overrides the repeats.
// runsc (Debian's package) is installed with apt-get when missing and tsvisor runs as root; without
// it the runsc columns stay empty.
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { benchProgram, median, projectRoot, runscAvailable, sampleTreeMemory } from './common.js';
import { type Column, type MemorySeries, type StartupBreakdown, type WorkloadResult, writeReport } from './report.js';

const quick = process.argv.includes('--quick');
const REPEATS = Number(process.env.BENCH_REPEATS ?? (quick ? 3 : 5));
/** The installed command (the bundle package.json's bin names), so that start-up is what users get. */
const cli = `${projectRoot}dist/bundle/cli/tsvisor.cjs`;
const dataDir = `${projectRoot}build/bench-files`;
/** BENCH_REPORT_DIR: somewhere else than bench/report (the test of the quick run writes to a scratch directory). */
const reportDir = process.env.BENCH_REPORT_DIR ?? `${projectRoot}bench/report`;
const BUSYBOX = '/bin/busybox';
const PYTHON = '/usr/bin/python3';
const GCC = '/usr/bin/gcc';

interface Workload {
  group: string;
  name: string;
  program: string;
  /** The loop count: the full run's and --quick's. */
  args: (quick: boolean) => string[];
  /** Where stdin comes from (a host file), if the program reads it. */
  stdin?: string;
  /** The program prints "X ns/op" (or us/op, ns/call, ns/iteration); otherwise the run's wall time counts. */
  perOp: boolean;
  /** In the --quick subset. */
  quick?: boolean;
  /** gVisor's published ratio to native for the same work (its performance guide, as bench/files.ts). */
  published?: string;
}

function prepareFiles(): void {
  mkdirSync(`${dataDir}/small`, { recursive: true });
  if (!existsSync(`${dataDir}/small/f0999`)) {
    for (let i = 0; i < 1000; i++) writeFileSync(`${dataDir}/small/f${String(i).padStart(4, '0')}`, Buffer.alloc(4096, i & 0xff));
  }
  const bigBytes = 100 * 1024 * 1024;
  if (!existsSync(`${dataDir}/big`) || readFileSync(`${dataDir}/big`).length !== bigBytes) writeFileSync(`${dataDir}/big`, Buffer.alloc(bigBytes, 7));
  writeFileSync(`${dataDir}/one-byte`, 'x');
  writeFileSync(`${dataDir}/openclose`, '');
  writeFileSync(`${dataDir}/hello.c`, '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
}

/** One loop-count argument: the full run's, or --quick's. */
const n = (full: number, short: number) => (q: boolean): string[] => [String(q ? short : full)];
/** bench/guest/process.c's mode and count. */
const processArgs = (mode: string, full: number, short: number) => (q: boolean): string[] => [mode, String(q ? short : full)];

function workloads(): Workload[] {
  const list: Workload[] = [
    { group: 'syscall', name: 'getpid', program: benchProgram('getpid'), args: n(200_000, 50_000), perOp: true, quick: true, published: '2.2x' },
    { group: 'syscall', name: 'clock_gettime (vDSO)', program: benchProgram('clock_gettime'), args: n(1_000_000, 200_000), perOp: true },
    { group: 'files', name: 'read 1 byte, host fd', program: benchProgram('files_pread1'), args: n(100_000, 20_000), stdin: `${dataDir}/one-byte`, perOp: true, quick: true, published: '9x' },
    { group: 'files', name: 'open+close, tmpfs', program: benchProgram('files_openclose'), args: (q) => ['/dev/shm/tsvisor-bench-open', String(q ? 2000 : 20_000)], perOp: true },
    { group: 'files', name: 'open+close, Gofer', program: benchProgram('files_openclose'), args: (q) => [`${dataDir}/openclose`, String(q ? 1000 : 4000)], perOp: true, quick: true, published: '216x' },
    { group: 'files', name: '1000 files of 4 KiB', program: benchProgram('files_small'), args: () => [`${dataDir}/small`, '1000', '2'], perOp: true, published: '72x' },
    { group: 'files', name: '100 MB sequential read', program: benchProgram('files_seq'), args: () => [`${dataDir}/big`], perOp: true, published: '11x' },
    { group: 'memory', name: 'mmap+touch+munmap 64 KiB', program: benchProgram('mem_mmap_loop'), args: (q) => ['65536', String(q ? 500 : 2000)], perOp: true },
    { group: 'memory', name: 'malloc/free churn', program: benchProgram('mem_malloc_churn'), args: n(2_000_000, 500_000), perOp: true, quick: true },
    { group: 'process', name: 'fork+exit+wait', program: benchProgram('process'), args: processArgs('fork', 200, 50), perOp: true, quick: true },
    { group: 'process', name: 'fork+exec+wait', program: benchProgram('process'), args: processArgs('forkexec', 100, 20), perOp: true },
    { group: 'process', name: 'thread create+join', program: benchProgram('process'), args: processArgs('thread', 200, 50), perOp: true },
    { group: 'process', name: 'futex ping-pong', program: benchProgram('process'), args: processArgs('futex', 2000, 500), perOp: true },
    { group: 'process', name: 'pipe round trip', program: benchProgram('process'), args: processArgs('pipe', 2000, 500), perOp: true },
    { group: 'signal', name: 'signal round trip', program: benchProgram('signal-roundtrip'), args: n(20_000, 5000), perOp: true },
    { group: 'poll', name: 'epoll_wait ping-pong', program: benchProgram('epoll-pingpong'), args: n(5000, 1000), perOp: true },
    { group: 'start-up', name: '/bin/true, whole run', program: '/bin/true', args: () => [], perOp: false, quick: true },
  ];
  if (existsSync(PYTHON)) {
    list.push({ group: 'apps', name: 'python3 imports', program: PYTHON, args: () => ['-c', 'import json, decimal, email, http.client, asyncio'], perOp: false });
  }
  if (existsSync(GCC)) {
    list.push({ group: 'apps', name: 'gcc -O2 hello.c', program: GCC, args: () => ['-O2', '-o', '/dev/null', `${dataDir}/hello.c`], perOp: false });
  }
  if (existsSync(BUSYBOX)) {
    const script = Array.from({ length: 100 }, (_, i) => `${BUSYBOX} true ${i}`).join('; ');
    list.push({ group: 'process', name: 'busybox sh, 100 commands', program: BUSYBOX, args: () => ['sh', '-c', script], perOp: false });
  }
  return quick ? list.filter((w) => w.quick === true) : list;
}

/** The nanoseconds per operation the program printed, or the wall time of the run. */
function figure(w: Workload, stdout: string, wallNs: number): number {
  if (!w.perOp) return wallNs;
  const m = /([\d.]+) (ns|us)\/(op|call|iteration)/.exec(stdout);
  if (m === null) throw new Error(`${w.name}: unexpected output: ${stdout.trim()}`);
  return Number(m[1]) * (m[2] === 'us' ? 1000 : 1);
}

/** The command line that runs program in a column. */
function command(column: Column, program: string, args: string[], tsvisorOptions: string[] = []): [string, string[]] {
  if (column === 'native') return [program, args];
  if (column === 'runsc') return ['runsc', ['--network=none', '--platform=ptrace', 'do', program, ...args]];
  // The file itself, as the installed `tsvisor` runs: its first line is what starts Node.js.
  return [cli, ['run', '--platform', column, ...tsvisorOptions, '--', program, ...args]];
}

function runOnce(column: Column, w: Workload): number {
  const [cmd, argv] = command(column, w.program, w.args(quick));
  const stdin = w.stdin === undefined ? 'ignore' : openSync(w.stdin, 'r');
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, argv, { encoding: 'utf8', stdio: [stdin, 'pipe', 'pipe'], maxBuffer: 16 << 20 });
    const wallNs = Number(process.hrtime.bigint() - t0);
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${w.name} (${column}) ended with status ${r.status}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    return figure(w, r.stdout, wallNs);
  } finally {
    if (typeof stdin === 'number') closeSync(stdin);
  }
}

/** tsvisor's start-up steps (--stats=json's startup_ms), each the median of the repeats, with the whole runs measured above. */
function startupSteps(bar: SingleBar, wholeRunNs: Partial<Record<Column, number>>): StartupBreakdown {
  const steps: Array<[string, string]> = [
    ['node_ready', 'Node.js ready'], ['modules_loaded', 'modules loaded'], ['vm_created', 'Gofer spawned, VM created'],
    ['gofer_ready', 'Gofer ready'], ['program_loaded', 'program loaded'], ['first_syscall', 'first syscall'], ['exited', 'program ran'],
  ];
  const samples = steps.map((): number[] => []);
  const teardown: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    bar.update({ workload: '/bin/true --stats=json (kvm)' });
    const [cmd, argv] = command('kvm', '/bin/true', [], ['--stats=json']);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, argv, { encoding: 'utf8' });
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`tsvisor run --stats=json -- /bin/true ended with status ${r.status}: ${r.stderr.trim()}`);
    const at = (JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { startup_ms: Record<string, number> }).startup_ms;
    steps.forEach(([key], j) => samples[j]!.push(at[key]! - (j === 0 ? 0 : at[steps[j - 1]![0]]!)));
    teardown.push(wallMs - at.exited!);
    bar.increment();
  }
  const wholeRunMs: Partial<Record<Column, number>> = {};
  for (const c of columns) if (wholeRunNs[c] !== undefined) wholeRunMs[c] = wholeRunNs[c]! / 1e6;
  return { steps: [...steps.map(([, label], j): [string, number] => [label, median(samples[j]!)]), ['exit and teardown', median(teardown)]], wholeRunMs };
}

/** runsc when it is there, or Debian's package installed now (as root); null when it cannot run. */
function ensureRunsc(): string | null {
  if (!runscAvailable() && process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get']).status === 0) {
    process.stderr.write('bench: installing runsc (apt-get install runsc)\n');
    spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc'], { stdio: 'ignore' });
  }
  if (!runscAvailable()) return null;
  return spawnSync('runsc', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]!.trim();
}

function hostFlavour(): string {
  const r = spawnSync(process.execPath, [cli, 'check'], { encoding: 'utf8' });
  return /^host flavour +(.*)$/m.exec(r.stdout)?.[1] ?? `unknown (tsvisor check: ${r.stderr.trim()})`;
}

function machine(): string {
  const list = cpus();
  const memGiB = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 / 1024;
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  return `${list.length} x ${list[0]?.model.trim() ?? 'unknown CPU'}, ${memGiB.toFixed(1)} GiB, Linux ${kernel}`;
}

const loadAverage = (): number[] => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);

const started = Date.now();
const loadBefore = loadAverage();
prepareFiles();
const runsc = ensureRunsc();
const columns: Column[] = ['native', 'kvm', 'kvm-exit', ...(runsc === null ? [] : ['runsc' as const])];
const flavour = hostFlavour();
const list = workloads();
const groups = [...new Set(list.map((w) => w.group))];
const tty = process.stderr.isTTY === true;
const bars = new MultiBar({
  format: '{group} [{bar}] {value}/{total} runs  {workload}', hideCursor: true, clearOnComplete: false, barsize: 30,
  noTTYOutput: !tty, notTTYSchedule: 10_000,
}, Presets.shades_classic);
const barOf = new Map<string, SingleBar>(groups.map((g) => {
  const total = list.filter((w) => w.group === g).length * columns.length * REPEATS;
  return [g, bars.create(total, 0, { group: g.padEnd(8), workload: '' })];
}));
const memoryBar = bars.create(columns.length, 0, { group: 'rss'.padEnd(8), workload: '' });
const startupBar = bars.create(REPEATS, 0, { group: 'steps'.padEnd(8), workload: '' });
const results: WorkloadResult[] = [];
const memory: MemorySeries[] = [];
let startup: StartupBreakdown | undefined;
try {
  for (const w of list) {
    const bar = barOf.get(w.group)!;
    const samples = new Map<Column, number[]>(columns.map((c) => [c, []]));
    for (let i = 0; i < REPEATS; i++) {
      for (const column of columns) {
        bar.update({ workload: `${w.name} (${column})` });
        samples.get(column)!.push(runOnce(column, w));
        bar.increment();
      }
    }
    const medians: WorkloadResult['medians'] = {};
    for (const [column, xs] of samples) medians[column] = median(xs);
    results.push({ group: w.group, name: w.name, medians, published: w.published });
  }
  const growShrink = benchProgram('mem_grow_shrink');
  const growArgs = quick ? ['128', '32', '40'] : ['512', '32', '60'];
  for (const column of columns) {
    memoryBar.update({ workload: `grow and shrink (${column})` });
    const [cmd, argv] = command(column, growShrink, growArgs);
    memory.push({ column, samples: await sampleTreeMemory(cmd, argv) });
    memoryBar.increment();
  }
  startup = startupSteps(startupBar, results.find((r) => r.group === 'start-up')?.medians ?? {});
} finally {
  bars.stop();
  rmSync('/dev/shm/tsvisor-bench-open', { force: true });
}
const path = await writeReport(reportDir, results, {
  date: new Date(), machine: machine(), flavour, runsc, repeats: REPEATS, quick, loadBefore, loadAfter: loadAverage(),
  seconds: (Date.now() - started) / 1000,
}, { memory, startup });
process.stdout.write(`${readFileSync(path, 'utf8')}\nbench: wrote ${path} and ratios.png, rss.png and startup.png beside it\n`);
