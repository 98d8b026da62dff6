// npm run bench's report (bench/report.ts), from figures given here: the table's times and ratios,
// the context lines, and a PNG chart that is a real PNG; and the quick run itself, once, with one repeat.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTime, memoryTable, type MemorySeries, reportTable, type StartupBreakdown, startupTable, type WorkloadResult, writeReport } from '../bench/report.js';
import { projectRoot } from './helpers/guest-programs.js';
import { kvmSkipReason } from './helpers/run.js';

const results: WorkloadResult[] = [
  { group: 'syscall', name: 'getpid', medians: { native: 150, kvm: 1200, 'kvm-exit': 37_500, runsc: 20_000 }, published: '2.2x' },
  { group: 'files', name: 'open+close, Gofer', medians: { native: 1720, kvm: 510_360, 'kvm-exit': 204_550 } },
];

const MIB = 1024 * 1024;
const memory: MemorySeries[] = [
  { column: 'native', samples: [[0.05, 10 * MIB], [0.1, 30 * MIB], [0.15, 20 * MIB]] },
  { column: 'kvm', samples: [[0.05, 60 * MIB], [0.1, 90 * MIB], [0.15, 60 * MIB]] },
];
const startup: StartupBreakdown = { steps: [['Node.js ready', 50], ['modules loaded', 40.25]], wholeRunMs: { native: 2, kvm: 190.5 } };

/** A real PNG of a useful size: its signature, header and end chunk. */
function checkPng(t: { is(a: unknown, b: unknown, m?: string): void; true(v: boolean, m?: string): void }, png: Buffer, minWidth: number): void {
  t.is(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a');
  t.is(png.subarray(12, 16).toString('latin1'), 'IHDR');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  t.true(width > minWidth && height > 100, `${width}x${height}`);
  t.is(png.subarray(png.length - 8, png.length - 4).toString('latin1'), 'IEND');
}

test('times in the unit that fits', (t) => {
  t.is(formatTime(126.94), '126.9 ns');
  t.is(formatTime(46_670), '46.67 us');
  t.is(formatTime(5_880_000), '5.88 ms');
  t.is(formatTime(2_500_000_000), '2.50 s');
});

test('the table: each workload with both ratios, to native and to runsc, and gVisor\'s published one', (t) => {
  const lines = reportTable(results).split('\n');
  t.is(lines.length, 4);
  t.is(lines[0], '| benchmark | workload | native | tsvisor kvm | kvm / native | kvm / runsc | tsvisor kvm-exit | kvm-exit / native | kvm-exit / runsc | runsc | runsc / native | gVisor published |');
  t.is(lines[2], '| syscall | getpid | 150.0 ns | 1.20 us | 8.00x | 0.06x | 37.50 us | 250x | 1.88x | 20.00 us | 133x | 2.2x |');
  // Without runsc, its columns are empty rather than made up.
  t.is(lines[3], '| files | open+close, Gofer | 1.72 us | 510.36 us | 297x | – | 204.55 us | 119x | – | – | – | – |');
});

test('the memory and start-up tables', (t) => {
  t.deepEqual(memoryTable(memory).split('\n'), [
    '|  | peak MiB | mean MiB | peak / native | mean / native |',
    '| --- | ---: | ---: | ---: | ---: |',
    '| native | 30.0 | 20.0 | 1.00x | 1.00x |',
    '| tsvisor kvm | 90.0 | 70.0 | 3.00x | 3.50x |',
  ]);
  t.deepEqual(startupTable(startup).split('\n'), [
    '| step | ms |', '| --- | ---: |', '| tsvisor kvm: Node.js ready | 50.0 |', '| tsvisor kvm: modules loaded | 40.3 |',
    '| native: whole run | 2.0 |', '| tsvisor kvm: whole run | 190.5 |',
  ]);
});

test('REPORT.md, ratios.png, rss.png and startup.png are written together', async (t) => {
  const dir = mkdtempSync(join(projectRoot, 'build', 'bench-report-'));
  const path = await writeReport(dir, results, {
    date: new Date('2026-12-02T01:42:25Z'), machine: '2 x Test CPU, 8.0 GiB, Linux 6.1', flavour: 'PVM', runsc: 'runsc version test',
    repeats: 3, quick: true, loadBefore: [1, 2, 3], loadAfter: [4, 5, 6], seconds: 99.6,
  }, { memory, startup });
  const md = readFileSync(path, 'utf8');
  t.regex(md, /^# tsvisor benchmark report \(quick subset\)$/m);
  t.regex(md, /^- date: 2026-12-02 01:42:25 UTC$/m);
  t.regex(md, /^- machine: 2 x Test CPU, 8\.0 GiB, Linux 6\.1$/m);
  t.regex(md, /^- host flavour: PVM$/m);
  t.regex(md, /^- load average \(1, 5, 15 min\): 1\.00, 2\.00, 3\.00 at the start, 4\.00, 5\.00, 6\.00 at the end$/m);
  t.true(md.includes(reportTable(results)));
  t.true(md.includes(memoryTable(memory)));
  t.true(md.includes(startupTable(startup)));
  for (const chart of ['ratios', 'rss', 'startup']) {
    t.regex(md, new RegExp(`!\\[.*\\]\\(${chart}\\.png\\)`));
    checkPng(t, readFileSync(join(dir, `${chart}.png`)), 600);
  }
});

(kvmSkipReason() === null ? test : test.skip)('npm run bench -- --quick writes the report of every column and the chart', (t) => {
  t.timeout(300_000);
  const dir = mkdtempSync(join(projectRoot, 'build', 'bench-quick-'));
  const r = spawnSync(process.execPath, [join(projectRoot, 'dist', 'bench', 'all.js'), '--quick'], {
    cwd: projectRoot, encoding: 'utf8', env: { ...process.env, BENCH_REPEATS: '1', BENCH_REPORT_DIR: dir }, timeout: 290_000,
  });
  t.is(r.status, 0, r.stderr.slice(-2000));
  const md = readFileSync(join(dir, 'REPORT.md'), 'utf8');
  t.is(r.stdout, `${md}\nbench: wrote ${join(dir, 'REPORT.md')} and ratios.png, rss.png and startup.png beside it\n`);
  const rows = md.split('\n').filter((l) => /^\| (syscall|files|memory|process|start-up) \|/.test(l));
  t.deepEqual(rows.map((l) => l.split(' | ')[1]), ['getpid', 'read 1 byte, host fd', 'open+close, Gofer', 'malloc/free churn', 'fork+exit+wait', '/bin/true, whole run']);
  const runsc = spawnSync('runsc', ['--version']).status === 0 && process.getuid?.() === 0;
  for (const row of rows) {
    const cells = row.split(' | ');
    // native, kvm and kvm-exit always have a figure; runsc's columns have one when it is installed.
    for (const i of [2, 3, 4, 6, 7]) t.regex(cells[i]!, /^\d+(\.\d+)? (ns|us|ms|s)$|^\d+(\.\d+)?x$/, row);
    t.is(cells[9] === '–', !runsc, row);
  }
  t.regex(md, /^- host flavour: (VMX|SVM|PVM) /m);
  for (const chart of ['ratios', 'rss', 'startup']) checkPng(t, readFileSync(join(dir, `${chart}.png`)), 400);
  // The memory table has a row per column, the start-up table tsvisor's steps and the whole runs.
  t.regex(md, /^\| tsvisor kvm \| [\d.]+ \| [\d.]+ \| [\d.]+x \| [\d.]+x \|$/m);
  t.regex(md, /^\| tsvisor kvm: modules loaded \| [\d.]+ \|$/m);
  t.regex(md, /^\| native: whole run \| [\d.]+ \|$/m);
});
