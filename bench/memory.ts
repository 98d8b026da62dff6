// bench/memory: memory-heavy work natively and in the sandbox, in one run, and the ratios.
//   1. mmap + touch every page + munmap round trips of 4 KiB, 64 KiB and 2 MiB regions
//   2. glibc malloc/free churn (a working set of small blocks, now and then one above the mmap threshold)
//   3. host RSS over time of a workload that grows to 512 MiB and shrinks back, twice: the program's own
//      RSS natively, next to the sandbox process's (Node.js and guest memory) and the guest memory's share
//      of it; drawn as a line chart into build/bench/memory-rss.png (Vega to SVG, resvg to PNG).
// BENCH_PLATFORM=kvm-exit measures the VM-exit mode instead of the exitless default.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type * as vega from 'vega';
import { benchProgram, printTable, projectRoot, runNative, runSandboxed, sampleWhileRunning } from './common.js';
import { renderPng } from './report.js';

const PLATFORM = (process.env.BENCH_PLATFORM ?? 'kvm') as 'kvm' | 'kvm-exit';
const MIB = 1024 * 1024;
const cli = `${projectRoot}dist/src/cli/main.js`;
const chartPath = `${projectRoot}build/bench/memory-rss.png`;

function perIteration(stdout: string, unit: string): number {
  const m = new RegExp(`([\\d.]+) ns/${unit}`).exec(stdout);
  if (m === null) throw new Error(`unexpected benchmark output: ${stdout}`);
  return Number(m[1]);
}

function run(program: string, args: string[], sandboxed: boolean): string {
  const r = sandboxed ? runSandboxed(program, args, PLATFORM) : runNative(program, args);
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

// ---- throughput ----------------------------------------------------------------------------------

const mmapLoop = benchProgram('mem_mmap_loop');
const churn = benchProgram('mem_malloc_churn');
const rows: string[][] = [];
const ratios: Array<[string, number]> = [];
const us = (ns: number): string => (ns / 1000).toFixed(2);
const loops = [
  { label: 'mmap+touch+munmap 4 KiB', size: 4096, native: 40000, sandbox: 4000 },
  { label: 'mmap+touch+munmap 64 KiB', size: 65536, native: 20000, sandbox: 2000 },
  { label: 'mmap+touch+munmap 2 MiB', size: 2 * MIB, native: 400, sandbox: 100 },
];
for (const l of loops) {
  const native = perIteration(run(mmapLoop, [String(l.size), String(l.native)], false), 'iteration');
  const boxed = perIteration(run(mmapLoop, [String(l.size), String(l.sandbox)], true), 'iteration');
  rows.push([l.label, us(native), us(boxed), (boxed / native).toFixed(1)]);
  ratios.push([l.label, boxed / native]);
}
{
  const native = perIteration(run(churn, ['2000000'], false), 'op');
  const boxed = perIteration(run(churn, ['2000000'], true), 'op');
  rows.push(['malloc/free churn (per op)', us(native), us(boxed), (boxed / native).toFixed(1)]);
  ratios.push(['malloc/free churn', boxed / native]);
}
console.log(`bench/memory (sandbox platform mode: ${PLATFORM})`);
printTable(['workload', 'native us', 'sandbox us', 'x native'], rows);

// ---- RSS over time -------------------------------------------------------------------------------

interface Sample { t: number; mib: number; series: string }

function status(pid: number): { rss: number; shmem: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { rss: field('VmRSS'), shmem: field('RssShmem') };
  } catch {
    return null;
  }
}

/** Runs a command and samples its RSS every 20 ms until it exits. */
function sampleRss(command: string, args: string[], onSample: (t: number, s: { rss: number; shmem: number }) => void): Promise<void> {
  return sampleWhileRunning(command, args, 20, (pid, t) => {
    const s = status(pid);
    if (s !== null && s.rss > 0) onSample(t, s);
  });
}

const growShrink = benchProgram('mem_grow_shrink');
const workload = ['512', '32', '60'];
const samples: Sample[] = [];
const NATIVE = 'program, native';
const SANDBOX = 'sandbox process (Node.js + guest memory)';
const GUEST = 'guest memory in the sandbox process';
await sampleRss(growShrink, workload, (t, s) => samples.push({ t, mib: s.rss / MIB, series: NATIVE }));
await sampleRss(process.execPath, [cli, 'run', '--platform', PLATFORM, '--', growShrink, ...workload], (t, s) => {
  samples.push({ t, mib: s.rss / MIB, series: SANDBOX });
  samples.push({ t, mib: s.shmem / MIB, series: GUEST });
});

function series(name: string): Sample[] {
  return samples.filter((s) => s.series === name);
}
const peak = (name: string): number => Math.max(...series(name).map((s) => s.mib));
const last = (name: string): number => series(name).at(-1)!.mib;
const mean = (name: string): number => series(name).reduce((a, s) => a + s.mib, 0) / series(name).length;
console.log('\nhost RSS over a grow-to-512-MiB-and-shrink workload, twice (sampled every 20 ms):');
printTable(['series', 'peak MiB', 'mean MiB', 'last MiB'], [NATIVE, SANDBOX, GUEST].map((n) => [
  n, peak(n).toFixed(1), mean(n).toFixed(1), last(n).toFixed(1),
]));
ratios.push(['guest memory peak RSS / native peak RSS', peak(GUEST) / peak(NATIVE)]);
ratios.push(['guest memory mean RSS / native mean RSS', mean(GUEST) / mean(NATIVE)]);

const spec: vega.Spec = {
  width: 820,
  height: 380,
  padding: 12,
  background: 'white',
  title: { text: `Host RSS over time: grow to 512 MiB and shrink back, twice (sandbox: ${PLATFORM})`, font: 'DejaVu Sans' },
  data: [{ name: 'rss', values: samples }],
  scales: [
    { name: 'x', type: 'linear', domain: { data: 'rss', field: 't' }, range: 'width' },
    { name: 'y', type: 'linear', domain: { data: 'rss', field: 'mib' }, range: 'height', nice: true, zero: true },
    { name: 'color', type: 'ordinal', domain: [NATIVE, SANDBOX, GUEST], range: ['#1f77b4', '#d62728', '#ff7f0e'] },
  ],
  axes: [
    { orient: 'bottom', scale: 'x', title: 'seconds since the process started', labelFont: 'DejaVu Sans', titleFont: 'DejaVu Sans' },
    { orient: 'left', scale: 'y', title: 'RSS (MiB)', grid: true, labelFont: 'DejaVu Sans', titleFont: 'DejaVu Sans' },
  ],
  legends: [{ stroke: 'color', orient: 'top-right', labelFont: 'DejaVu Sans', labelLimit: 400, symbolType: 'stroke' }],
  marks: [{
    type: 'group',
    from: { facet: { name: 'one', data: 'rss', groupby: 'series' } },
    marks: [{
      type: 'line',
      from: { data: 'one' },
      encode: {
        enter: {
          x: { scale: 'x', field: 't' }, y: { scale: 'y', field: 'mib' },
          stroke: { scale: 'color', field: 'series' }, strokeWidth: { value: 2 },
        },
      },
    }],
  }],
};
mkdirSync(`${projectRoot}build/bench`, { recursive: true });
writeFileSync(chartPath, await renderPng(spec, 1));
console.log(`chart: ${chartPath}`);

console.log('\nratios (sandbox / native):');
for (const [name, r] of ratios) console.log(`  ${name.padEnd(42)} ${r.toFixed(2)}`);
