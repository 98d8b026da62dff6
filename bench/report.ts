// The report of `npm run bench` (bench/all.ts): bench/report/REPORT.md with one table of every workload
// (native, tsvisor in both platform modes, gVisor's runsc; tsvisor's ratios to native and to runsc;
// gVisor's published ratio where there is one), the machine, the host flavour and the date; and beside
// it ratios.png, each workload's ratio to native on a log scale; rss.png, the memory of a workload that
// grows and shrinks, over time, in each column; startup.png, where the time of `tsvisor run -- /bin/true`
// goes, beside the whole run natively and in runsc (Vega to SVG, resvg to PNG).
import { Resvg } from '@resvg/resvg-js';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as vega from 'vega';

export type Column = 'native' | 'kvm' | 'kvm-exit' | 'runsc';
export const COLUMNS: readonly Column[] = ['native', 'kvm', 'kvm-exit', 'runsc'];

export interface WorkloadResult {
  group: string;
  name: string;
  /** Median nanoseconds per operation (or per run, for wall-time workloads) in each column that ran. */
  medians: Partial<Record<Column, number>>;
  /** gVisor's published ratio to native for the same workload, e.g. "9x", if it publishes one. */
  published?: string;
}

/** A run of the grow-and-shrink workload: the proportional set size of its whole process tree over time. */
export interface MemorySeries {
  column: Column;
  /** [seconds since the start, bytes] */
  samples: Array<[number, number]>;
}

/** Medians of `tsvisor run --stats=json -- /bin/true`'s steps, and each column's whole run. */
export interface StartupBreakdown {
  /** [step, milliseconds it took], in order. */
  steps: Array<[string, number]>;
  wholeRunMs: Partial<Record<Column, number>>;
}

/** What the report shows beside the table, when the run measured it. */
export interface ReportExtras {
  memory?: MemorySeries[];
  startup?: StartupBreakdown;
}

export interface ReportContext {
  date: Date;
  machine: string;
  flavour: string;
  runsc: string | null;
  repeats: number;
  quick: boolean;
  /** Load averages (1, 5, 15 min) at the start and the end. */
  loadBefore: number[];
  loadAfter: number[];
  seconds: number;
}

export function formatTime(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} us`;
  return `${ns.toFixed(1)} ns`;
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return '–';
  const r = a / b;
  return `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;
}

/** The Markdown table: one row per workload. */
export function reportTable(results: readonly WorkloadResult[]): string {
  const header = ['benchmark', 'workload', 'native', 'tsvisor kvm', 'kvm / native', 'kvm / runsc', 'tsvisor kvm-exit', 'kvm-exit / native',
    'kvm-exit / runsc', 'runsc', 'runsc / native', 'gVisor published'];
  const rows = results.map((r) => {
    const m = r.medians;
    const time = (c: Column): string => (m[c] === undefined ? '–' : formatTime(m[c]));
    return [r.group, r.name, time('native'), time('kvm'), ratio(m.kvm, m.native), ratio(m.kvm, m.runsc), time('kvm-exit'),
      ratio(m['kvm-exit'], m.native), ratio(m['kvm-exit'], m.runsc), time('runsc'), ratio(m.runsc, m.native), r.published ?? '–'];
  });
  const align = header.map((_, i) => (i < 2 ? '---' : '---:'));
  return [header, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

const MIB = 1024 * 1024;
const COLUMN_LABEL: Record<Column, string> = { native: 'native', kvm: 'tsvisor kvm', 'kvm-exit': 'tsvisor kvm-exit', runsc: 'runsc (ptrace)' };
const COLUMN_COLOUR: Record<Column, string> = { native: '#7f7f7f', kvm: '#1f77b4', 'kvm-exit': '#ff7f0e', runsc: '#2ca02c' };

const peakBytes = (m: MemorySeries): number => Math.max(0, ...m.samples.map(([, b]) => b));
const meanBytes = (m: MemorySeries): number => m.samples.reduce((a, [, b]) => a + b, 0) / Math.max(1, m.samples.length);

/** The memory table: each column's peak and mean, and their ratio to native's. */
export function memoryTable(series: readonly MemorySeries[]): string {
  const native = series.find((m) => m.column === 'native');
  const rows = series.map((m) => [COLUMN_LABEL[m.column], (peakBytes(m) / MIB).toFixed(1), (meanBytes(m) / MIB).toFixed(1),
    native === undefined ? '–' : ratio(peakBytes(m), peakBytes(native)), native === undefined ? '–' : ratio(meanBytes(m), meanBytes(native))]);
  return [['', 'peak MiB', 'mean MiB', 'peak / native', 'mean / native'], ['---', '---:', '---:', '---:', '---:'], ...rows]
    .map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** The start-up table: tsvisor's steps, then each column's whole run. */
export function startupTable(s: StartupBreakdown): string {
  const rows = [...s.steps.map(([step, ms]) => [`tsvisor kvm: ${step}`, ms.toFixed(1)]),
    ...COLUMNS.filter((c) => s.wholeRunMs[c] !== undefined).map((c) => [`${COLUMN_LABEL[c]}: whole run`, s.wholeRunMs[c]!.toFixed(1)])];
  return [['step', 'ms'], ['---', '---:'], ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function extrasMarkdown(extras: ReportExtras): string {
  let md = '';
  if (extras.memory !== undefined) {
    md += `
## Memory over time

A program that grows to a peak in 32 MiB steps, touching every page, and shrinks back, twice
(\`bench/guest/mem_grow_shrink.c\`), run once in each column, sampled every 50 ms. The figure is the
memory of the whole process tree: each process's proportional set size (Pss) without its shared-memory
pages, plus the pages of each memory file (memfd) the tree holds open, counted once. So the program
natively; Node.js, the guest memory and the Gofer in tsvisor; runsc's sandbox, its memory file (which
no process need map), Gofer and the \`runsc do\` process itself.

${memoryTable(extras.memory)}

![memory of the grow-and-shrink workload over time, each column](rss.png)
`;
  }
  if (extras.startup !== undefined) {
    md += `
## Start-up

Where the time of \`tsvisor run -- /bin/true\` goes (\`--stats=json\`'s steps, medians of the repeats),
beside the whole run of the same in each column.

${startupTable(extras.startup)}

![where tsvisor's start-up time goes, beside the whole runs](startup.png)
`;
  }
  return md;
}

export function reportMarkdown(results: readonly WorkloadResult[], ctx: ReportContext, extras: ReportExtras = {}): string {
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(', ');
  return `# tsvisor benchmark report${ctx.quick ? ' (quick subset)' : ''}

- date: ${ctx.date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}
- machine: ${ctx.machine}
- host flavour: ${ctx.flavour}
- runsc: ${ctx.runsc ?? 'not installed (its columns are empty)'}${ctx.runsc === null ? '' : ', `--platform=ptrace --network=none do` (the only platform that starts on nested hosts)'}
- load average (1, 5, 15 min): ${load(ctx.loadBefore)} at the start, ${load(ctx.loadAfter)} at the end
- ${ctx.repeats} runs of every workload in every column, interleaved; each figure is the median; ${Math.round(ctx.seconds)} s in all

Each workload's program times its own loop after an untimed warm-up, so start-up is not counted
(but for the start-up and \`sh\` rows, which are the wall time of a whole run). Ratios are tsvisor's
time over native's and over runsc's (below 1: tsvisor is faster); "gVisor published" is the ratio to
native that gVisor's own performance guide reports for the same kind of work. Figures move by tens of
percent from run to run on a shared machine, more when the load above is high: the exitless mode
needs a whole core for each spinning vCPU.

${reportTable(results)}

![each workload's time over native's, log scale](ratios.png)
${extrasMarkdown(extras)}`;
}

/** The charts' font, the one resvg finds on Debian. */
const FONT = { text: { font: 'DejaVu Sans' }, title: { font: 'DejaVu Sans' }, axis: { labelFont: 'DejaVu Sans', titleFont: 'DejaVu Sans' }, legend: { labelFont: 'DejaVu Sans' } };

/** ratios.png: per workload, each sandbox's time over native's, on a log scale. */
export async function ratioChart(results: readonly WorkloadResult[]): Promise<Buffer> {
  const values: Array<{ workload: string; sandbox: string; ratio: number }> = [];
  for (const r of results) {
    const native = r.medians.native;
    if (native === undefined || native <= 0) continue;
    for (const [column, label] of [['kvm', 'tsvisor kvm'], ['kvm-exit', 'tsvisor kvm-exit'], ['runsc', 'runsc (ptrace)']] as const) {
      const v = r.medians[column];
      if (v !== undefined) values.push({ workload: `${r.group}: ${r.name}`, sandbox: label, ratio: v / native });
    }
  }
  // The bars grow from 1 (as fast as native) to each ratio, so 1 is always inside the axis.
  const ratios = values.map((v) => v.ratio);
  const domain = [Math.min(1, ...ratios) / 1.5, Math.max(1, ...ratios) * 1.5];
  const spec: vega.Spec = {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 640, height: Math.max(1, new Set(values.map((v) => v.workload)).size) * 48, padding: 8, background: 'white', config: FONT,
    data: [{ name: 'ratios', values }],
    scales: [
      { name: 'y', type: 'band', domain: { data: 'ratios', field: 'workload' }, range: 'height', paddingInner: 0.2 },
      { name: 'x', type: 'log', domain, range: 'width' },
      // Each workload's band holds one bar per sandbox.
      { name: 'inner', type: 'band', domain: ['tsvisor kvm', 'tsvisor kvm-exit', 'runsc (ptrace)'], range: [0, { signal: "bandwidth('y')" }] },
      { name: 'colour', type: 'ordinal', domain: ['tsvisor kvm', 'tsvisor kvm-exit', 'runsc (ptrace)'], range: ['#1f77b4', '#ff7f0e', '#2ca02c'] },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'time / native time (log scale)', grid: true, format: '~g' },
      { orient: 'left', scale: 'y', labelLimit: 280 },
    ],
    legends: [{ fill: 'colour', orient: 'bottom', direction: 'horizontal' }],
    marks: [{
      type: 'rect', from: { data: 'ratios' },
      encode: { enter: {
        y: { scale: 'y', field: 'workload', offset: { scale: 'inner', field: 'sandbox' } }, height: { scale: 'inner', band: 1 },
        x: { scale: 'x', value: 1 }, x2: { scale: 'x', field: 'ratio' }, fill: { scale: 'colour', field: 'sandbox' },
      } },
    }],
  };
  return renderPng(spec);
}

/** rss.png: each column's memory over time, one line each. */
export async function memoryChart(series: readonly MemorySeries[]): Promise<Buffer> {
  const values = series.flatMap((m) => m.samples.map(([t, bytes]) => ({ t, mib: bytes / MIB, column: COLUMN_LABEL[m.column] })));
  const columns = series.map((m) => m.column);
  return renderPng({
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 720, height: 320, padding: 8, background: 'white', config: FONT,
    data: [{ name: 'rss', values }],
    scales: [
      { name: 'x', type: 'linear', domain: { data: 'rss', field: 't' }, range: 'width' },
      { name: 'y', type: 'linear', domain: { data: 'rss', field: 'mib' }, range: 'height', nice: true, zero: true },
      { name: 'colour', type: 'ordinal', domain: columns.map((c) => COLUMN_LABEL[c]), range: columns.map((c) => COLUMN_COLOUR[c]) },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'seconds since the start' },
      { orient: 'left', scale: 'y', title: 'memory of the process tree (MiB)', grid: true },
    ],
    legends: [{ stroke: 'colour', orient: 'top-right', symbolType: 'stroke', labelLimit: 300 }],
    marks: [{
      type: 'group', from: { facet: { name: 'one', data: 'rss', groupby: 'column' } },
      marks: [{
        type: 'line', from: { data: 'one' },
        encode: { enter: { x: { scale: 'x', field: 't' }, y: { scale: 'y', field: 'mib' }, stroke: { scale: 'colour', field: 'column' }, strokeWidth: { value: 2 } } },
      }],
    }],
  });
}

/** startup.png: tsvisor's start-up steps stacked in one bar, beside each column's whole run. */
export async function startupChart(s: StartupBreakdown): Promise<Buffer> {
  const values = [
    ...s.steps.map(([step, ms], order) => ({ run: 'tsvisor kvm, by step', step, ms, order })),
    ...COLUMNS.filter((c) => s.wholeRunMs[c] !== undefined).map((c) => ({ run: `${COLUMN_LABEL[c]}, whole run`, step: 'whole run', ms: s.wholeRunMs[c]!, order: 0 })),
  ];
  const steps = [...s.steps.map(([step]) => step), 'whole run'];
  return renderPng({
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 640, height: (1 + Object.keys(s.wholeRunMs).length) * 44, padding: 8, background: 'white', config: FONT,
    data: [{ name: 'steps', values, transform: [{ type: 'stack', groupby: ['run'], field: 'ms', sort: { field: 'order' } }] }],
    scales: [
      { name: 'y', type: 'band', domain: { data: 'steps', field: 'run' }, range: 'height', paddingInner: 0.25 },
      { name: 'x', type: 'linear', domain: { data: 'steps', field: 'y1' }, range: 'width', nice: true, zero: true },
      { name: 'colour', type: 'ordinal', domain: steps, range: { scheme: 'tableau20' } },
    ],
    axes: [{ orient: 'bottom', scale: 'x', title: 'milliseconds', grid: true }, { orient: 'left', scale: 'y', labelLimit: 260 }],
    legends: [{ fill: 'colour', orient: 'bottom', direction: 'horizontal', columns: 3, labelLimit: 200 }],
    marks: [{
      type: 'rect', from: { data: 'steps' },
      encode: { enter: {
        y: { scale: 'y', field: 'run' }, height: { scale: 'y', band: 1 },
        x: { scale: 'x', field: 'y0' }, x2: { scale: 'x', field: 'y1' }, fill: { scale: 'colour', field: 'step' },
      } },
    }],
  });
}

/** A Vega chart as a PNG (resvg renders Vega's SVG). */
export async function renderPng(spec: vega.Spec, zoom = 1.5): Promise<Buffer> {
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return Buffer.from(new Resvg(svg, { fitTo: { mode: 'zoom', value: zoom }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng());
}

/** Writes REPORT.md and its charts (ratios.png, and rss.png and startup.png when measured) into `dir`; answers the report's path. */
export async function writeReport(dir: string, results: readonly WorkloadResult[], ctx: ReportContext, extras: ReportExtras = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/ratios.png`, await ratioChart(results));
  if (extras.memory !== undefined) writeFileSync(`${dir}/rss.png`, await memoryChart(extras.memory));
  if (extras.startup !== undefined) writeFileSync(`${dir}/startup.png`, await startupChart(extras.startup));
  const path = `${dir}/REPORT.md`;
  writeFileSync(path, reportMarkdown(results, ctx, extras));
  return path;
}
