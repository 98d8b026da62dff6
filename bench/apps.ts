// bench/apps: Debian programs at work, natively, in tsvisor (both platform modes) and in gVisor's runsc
// (Debian's package, ptrace platform), in one run; wall time of each whole run, median of the repeats.
//   python3 imports     python3 -c 'import json, decimal, email, http.client, asyncio'
//   python3 timeit      python3 -m timeit of a pure-Python loop (its own figure, per loop)
//   sqlite3 /tmp        10 000 inserts, one transaction each 1000, a database in /tmp (the overlay)
//   sqlite3 host mount  the same on a host directory: tsvisor's --mount; runsc do without its overlay,
//                       which writes through to the host as well
//   bash 1000 lines     bash running a 1000-line script of builtins, arithmetic and functions
//   gcc hello.c         gcc -O2 of hello world into /tmp (cc1, as, collect2 and ld)
// The ratios are to native and to runsc.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, printTable, runNative, runRunsc, runSandboxed, runscAvailable, type Run } from './common.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const PYTHON = '/usr/bin/python3';
const SQLITE = '/usr/bin/sqlite3';
const BASH = '/bin/bash';
const GCC = '/usr/bin/gcc';

const work = mkdtempSync(join(tmpdir(), 'tsvisor-bench-apps-'));
const hostDb = mkdtempSync(join(tmpdir(), 'tsvisor-bench-apps-db-'));

const sqlFile = join(work, 'inserts.sql');
writeFileSync(sqlFile, [
  'CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v INTEGER);',
  ...Array.from({ length: 10 }, (_, b) => [
    'BEGIN;',
    ...Array.from({ length: 1000 }, (_, i) => `INSERT INTO t(name, v) VALUES ('name${b * 1000 + i}', ${(i * 7919) % 1000});`),
    'COMMIT;',
  ].join('\n')),
  'SELECT count(*), sum(v) FROM t;',
].join('\n') + '\n');

const bashFile = join(work, 'script.sh');
writeFileSync(bashFile, [
  'f() { local a=$1; echo $((a * a + 1)); }',
  'total=0',
  ...Array.from({ length: 998 }, (_, i) => (i % 3 === 0 ? `total=$((total + $(f ${i}) % 7))` : i % 3 === 1 ? `s="line ${i}"; s=\${s/line/row}; [ -n "$s" ] && total=$((total + 1))` : `case ${i} in *7) total=$((total + 7));; *) : ;; esac`)),
  'echo $total',
].join('\n') + '\n');

const helloFile = join(work, 'hello.c');
writeFileSync(helloFile, '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');

interface Workload {
  name: string;
  program: string;
  args: string[];
  /** Per-column arguments where paths differ (the host mount). */
  argsFor?: (column: Column) => string[];
  /** Extra tsvisor options, and runsc do's. */
  extra?: string[];
  runscFlags?: string[];
  /** Parses the figure (us) from stdout; by default the wall time of the run counts. */
  parse?: (stdout: string) => number;
  /** Done before each run: the database must start empty. */
  before?: () => void;
}

type Column = 'native' | 'kvm' | 'kvm-exit' | 'runsc';

const timeitUnits: Record<string, number> = { nsec: 1e-3, usec: 1, msec: 1e3, sec: 1e6 };
const workloads: Workload[] = [];
if (existsSync(PYTHON)) {
  workloads.push({ name: 'python3 imports', program: PYTHON, args: ['-c', 'import json, decimal, email, http.client, asyncio'] });
  workloads.push({
    name: 'python3 timeit, per loop', program: PYTHON,
    args: ['-m', 'timeit', '-n', '200', '-r', '5', 's = 0\nfor i in range(1000): s += i * i'],
    parse: (out) => {
      const m = /best of \d+: ([\d.]+) (nsec|usec|msec|sec) per loop/.exec(out);
      if (m === null) throw new Error(`timeit: unexpected output ${out}`);
      return Number(m[1]) * timeitUnits[m[2]!]!;
    },
  });
}
if (existsSync(SQLITE)) {
  const tmpDb = '/tmp/tsvisor-bench-apps.db';
  workloads.push({
    name: 'sqlite3 10k inserts, /tmp', program: SQLITE, args: [tmpDb, `.read ${sqlFile}`],
    before: () => rmSync(tmpDb, { force: true }),
  });
  workloads.push({
    name: 'sqlite3 10k inserts, host mount', program: SQLITE, args: [],
    argsFor: (c) => [c === 'native' || c === 'runsc' ? join(hostDb, 't.db') : '/mnt/db/t.db', `.read ${sqlFile}`],
    extra: ['--mount', `${hostDb}:/mnt/db`],
    runscFlags: ['-force-overlay=false'],
    before: () => rmSync(join(hostDb, 't.db'), { force: true }),
  });
}
if (existsSync(BASH)) workloads.push({ name: 'bash, 1000-line script', program: BASH, args: [bashFile] });
if (existsSync(GCC)) workloads.push({ name: 'gcc -O2 hello.c', program: GCC, args: ['-O2', helloFile, '-o', '/tmp/tsvisor-bench-apps-hello'] });

const columns: Column[] = ['native', 'kvm', 'kvm-exit', ...(runscAvailable() ? ['runsc' as const] : [])];

function runOn(column: Column, w: Workload): Run {
  const args = w.argsFor?.(column) ?? w.args;
  switch (column) {
    case 'native': return runNative(w.program, args);
    case 'runsc': return runRunsc(w.program, args, w.runscFlags);
    default: return runSandboxed(w.program, args, column, w.extra);
  }
}

function figure(w: Workload, column: Column, r: Run): number {
  if (r.status !== 0) throw new Error(`${w.name} (${column}): status ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return w.parse?.(r.stdout) ?? r.wallMs * 1000;
}

const unit = (us: number): string => (us >= 1e6 ? `${(us / 1e6).toFixed(2)} s` : us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us.toFixed(1)} us`);
const rows: string[][] = [];
try {
  for (const w of workloads) {
    const samples = new Map<Column, number[]>(columns.map((c) => [c, []]));
    // Repeats interleaved across the columns, so that a change in the machine's load hits them all.
    for (let i = 0; i < REPEATS; i++) {
      for (const column of columns) {
        w.before?.();
        samples.get(column)!.push(figure(w, column, runOn(column, w)));
      }
    }
    const results = new Map([...samples].map(([c, xs]) => [c, median(xs)]));
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
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(hostDb, { recursive: true, force: true });
  rmSync('/tmp/tsvisor-bench-apps.db', { force: true });
  rmSync('/tmp/tsvisor-bench-apps-hello', { force: true });
}
const header = ['workload', 'native', 'kvm', '/native', '/runsc', 'kvm-exit', '/native', '/runsc'];
if (columns.includes('runsc')) header.push('runsc', '/native');
printTable(header, rows);
if (!columns.includes('runsc')) console.log('runsc is not installed or not root (apt-get install runsc, as root): its columns are left out');
