// bench/process: the cost of processes and threads, natively, in tsvisor (both platform modes) and in
// gVisor's runsc (Debian's package; its ptrace platform, the one that starts on nested hosts), in one run.
//   fork        fork + _exit + waitpid
//   fork+exec   fork + execve of a static program + waitpid
//   thread      pthread_create + pthread_join
//   futex       a round trip between two threads through two futex words
//   pipe        a 1-byte round trip between two processes through two pipes
//   sh x100     `busybox sh` running 100 external commands (wall time of the whole run)
// Each figure is the median over the repeats; the ratios are to native and to runsc.
import { existsSync } from 'node:fs';
import { benchProgram, median, printTable, runNative, runRunsc, runSandboxed, runscAvailable, type Run } from './common.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const BUSYBOX = '/bin/busybox';

interface Workload {
  name: string;
  /** Program and arguments; `perOp` parses "N us/op" from stdout, otherwise wall time counts. */
  program: string;
  args: string[];
  perOp: boolean;
}

const bench = benchProgram('process');
const workloads: Workload[] = [
  { name: 'fork+exit+wait', program: bench, args: ['fork', '200'], perOp: true },
  { name: 'fork+exec+wait', program: bench, args: ['forkexec', '100'], perOp: true },
  { name: 'thread create+join', program: bench, args: ['thread', '200'], perOp: true },
  { name: 'futex ping-pong', program: bench, args: ['futex', '2000'], perOp: true },
  { name: 'pipe round trip', program: bench, args: ['pipe', '2000'], perOp: true },
];
if (existsSync(BUSYBOX)) {
  const script = Array.from({ length: 100 }, (_, i) => `${BUSYBOX} true ${i}`).join('; ');
  workloads.push({ name: 'busybox sh, 100 commands', program: BUSYBOX, args: ['sh', '-c', script], perOp: false });
}

function figure(w: Workload, r: Run): number {
  if (r.status !== 0) throw new Error(`${w.name}: status ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  if (!w.perOp) return r.wallMs * 1000;
  const m = /([\d.]+) us\/op/.exec(r.stdout);
  if (m === null) throw new Error(`${w.name}: unexpected output ${r.stdout}`);
  return Number(m[1]);
}

type Column = 'native' | 'kvm' | 'kvm-exit' | 'runsc';
const columns: Column[] = ['native', 'kvm', 'kvm-exit', ...(runscAvailable() ? ['runsc' as const] : [])];

function runOn(column: Column, w: Workload): Run {
  switch (column) {
    case 'native': return runNative(w.program, w.args);
    case 'runsc': return runRunsc(w.program, w.args);
    default: return runSandboxed(w.program, w.args, column);
  }
}

const unit = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} us`);
const rows: string[][] = [];
for (const w of workloads) {
  const results = new Map<Column, number>();
  for (const column of columns) {
    const xs: number[] = [];
    for (let i = 0; i < REPEATS; i++) xs.push(figure(w, runOn(column, w)));
    results.set(column, median(xs));
  }
  const native = results.get('native')!;
  const runsc = results.get('runsc');
  const row = [w.name, unit(native)];
  for (const column of ['kvm', 'kvm-exit'] as const) {
    const v = results.get(column)!;
    row.push(unit(v), `${(v / native).toFixed(1)}x`, runsc === undefined ? '–' : `${(v / runsc).toFixed(2)}x`);
  }
  if (runsc !== undefined) row.push(unit(runsc), `${(runsc / native).toFixed(1)}x`);
  rows.push(row);
}
const header = ['workload', 'native', 'kvm', '/native', '/runsc', 'kvm-exit', '/native', '/runsc'];
if (columns.includes('runsc')) header.push('runsc', '/native');
printTable(header, rows);
if (!columns.includes('runsc')) console.log('runsc is not installed (apt-get install runsc, as root): its columns are left out');
