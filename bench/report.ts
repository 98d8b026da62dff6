// The report of `npm run bench` (bench/all.ts): bench/report/REPORT.md with one table of every workload
// (native, tsvisor in both platform modes, gVisor's runsc; tsvisor's ratios to native and to runsc;
// gVisor's published ratio where there is one), the machine, the host flavour and the date; and beside
// it ratios.png, each workload's ratio to native on a log scale (Vega to SVG, resvg to PNG).
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

export function reportMarkdown(results: readonly WorkloadResult[], ctx: ReportContext): string {
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
`;
}

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
    width: 640, height: Math.max(1, new Set(values.map((v) => v.workload)).size) * 48, padding: 8, background: 'white', config: { text: { font: 'DejaVu Sans' }, axis: { labelFont: 'DejaVu Sans', titleFont: 'DejaVu Sans' }, legend: { labelFont: 'DejaVu Sans' } },
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
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return Buffer.from(new Resvg(svg, { fitTo: { mode: 'zoom', value: 1.5 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng());
}

/** Writes REPORT.md and ratios.png into `dir`; answers the report's path. */
export async function writeReport(dir: string, results: readonly WorkloadResult[], ctx: ReportContext): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/ratios.png`, await ratioChart(results));
  const path = `${dir}/REPORT.md`;
  writeFileSync(path, reportMarkdown(results, ctx));
  return path;
}
