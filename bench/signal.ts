// bench/signal: a signal delivery round trip (tgkill to itself, the handler, rt_sigreturn), natively and
// in the sandbox on both platform modes, in one run. In the sandbox it is two syscalls (tgkill, which
// returns through the stub's XSAVE hop into the handler, and rt_sigreturn, which returns through the
// XRSTOR hop); both trap, as glibc's syscall(2) and the restorer are not sites the Sentry rewrites.
// gVisor's runsc (ptrace platform) runs the same program as a peer when it is installed (it needs root).
// Each figure is the median of several runs of a loop the program times itself after a warm-up; the
// ratios are to native and to runsc.
import { benchProgram, median, printTable, runNative, runRunsc, runSandboxed, runscAvailable } from './common.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const N = Number(process.env.BENCH_SIGNALS ?? 20000);

function nsPerOp(stdout: string, what: string): number {
  const m = /([\d.]+) ns\/op/.exec(stdout);
  if (m === null) throw new Error(`${what}: unexpected output: ${stdout}`);
  return Number(m[1]);
}

const program = benchProgram('signal-roundtrip');
type Column = 'native' | 'kvm' | 'kvm-exit' | 'runsc';
const columns: Column[] = ['native', 'kvm', 'kvm-exit', ...(runscAvailable() ? ['runsc' as const] : [])];
const times = new Map<Column, number[]>(columns.map((c) => [c, []]));
// The repeats interleave the columns, so that a change of the machine's load falls on all of them.
for (let i = 0; i < REPEATS; i++) {
  for (const where of columns) {
    const args = [String(N)];
    const r = where === 'native' ? runNative(program, args) : where === 'runsc' ? runRunsc(program, args) : runSandboxed(program, args, where);
    if (r.status !== 0) throw new Error(`${where}: status ${r.status}: ${r.stderr}`);
    times.get(where)!.push(nsPerOp(r.stdout, where));
  }
}
const us = new Map(columns.map((c) => [c, median(times.get(c)!) / 1000]));
const native = us.get('native')!;
const runsc = us.get('runsc');
const rows = columns.map((c) => {
  const v = us.get(c)!;
  const name = c === 'native' ? 'native' : c === 'runsc' ? 'runsc (ptrace)' : `sandbox, ${c}`;
  return [name, v.toFixed(2), (v / native).toFixed(1), runsc === undefined ? '–' : (v / runsc).toFixed(2)];
});
printTable(['signal round trip (tgkill + handler + rt_sigreturn)', 'us/op', 'x native', 'x runsc'], rows);
