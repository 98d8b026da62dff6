// bench/signal: a signal delivery round trip (tgkill to itself, the handler, rt_sigreturn), natively and
// in the sandbox on both platform modes, in one run. In the sandbox it is two syscalls (tgkill, which
// returns through the stub's XSAVE hop into the handler, and rt_sigreturn, which returns through the
// XRSTOR hop); both trap, as glibc's syscall(2) and the restorer are not sites the Sentry rewrites.
// Each figure is the median of several runs of a loop the program times itself after a warm-up.
import { benchProgram, median, printTable, runNative, runSandboxed } from './common.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const N = Number(process.env.BENCH_SIGNALS ?? 20000);

function nsPerOp(stdout: string, what: string): number {
  const m = /([\d.]+) ns\/op/.exec(stdout);
  if (m === null) throw new Error(`${what}: unexpected output: ${stdout}`);
  return Number(m[1]);
}

const program = benchProgram('signal-roundtrip');
const rows: string[][] = [];
let native = 0;
for (const where of ['native', 'kvm', 'kvm-exit'] as const) {
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const r = where === 'native' ? runNative(program, [String(N)]) : runSandboxed(program, [String(N)], where);
    if (r.status !== 0) throw new Error(`${where}: status ${r.status}: ${r.stderr}`);
    times.push(nsPerOp(r.stdout, where));
  }
  const us = median(times) / 1000;
  if (where === 'native') native = us;
  rows.push([where === 'native' ? 'native' : `sandbox, ${where}`, us.toFixed(2), (us / native).toFixed(1)]);
}
printTable(['signal round trip (tgkill + handler + rt_sigreturn)', 'us/op', 'x native'], rows);
