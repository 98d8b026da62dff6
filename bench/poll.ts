// bench/poll: epoll_wait wake-up latency between two processes. A byte goes back and forth through
// two pipes; each side waits in epoll_wait before it reads and answers, so one round trip is two
// wake-ups of a blocked epoll_wait by the other process's write. Natively, in the sandbox on both
// platform modes and, where it can run (root, /usr/bin/runsc), under gVisor's runsc with its ptrace
// platform, in one run; each figure is the median of several runs the program times itself.
import { benchProgram, median, printTable, runNative, runRunsc, runSandboxed, runscAvailable } from './common.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const N = Number(process.env.BENCH_ROUND_TRIPS ?? 5000);

function nsPerOp(stdout: string, what: string): number {
  const m = /([\d.]+) ns\/op/.exec(stdout);
  if (m === null) throw new Error(`${what}: unexpected output: ${stdout}`);
  return Number(m[1]);
}

const program = benchProgram('epoll-pingpong');
const where = ['native', 'kvm', 'kvm-exit', ...(runscAvailable() ? ['runsc'] as const : [])] as const;
const rows: string[][] = [];
let native = 0;
for (const w of where) {
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const r = w === 'native' ? runNative(program, [String(N)]) : w === 'runsc' ? runRunsc(program, [String(N)]) : runSandboxed(program, [String(N)], w);
    if (r.status !== 0) throw new Error(`${w}: status ${r.status}: ${r.stderr}`);
    times.push(nsPerOp(r.stdout, w));
  }
  const us = median(times) / 1000;
  if (w === 'native') native = us;
  const label = w === 'native' ? 'native' : w === 'runsc' ? 'runsc (ptrace)' : `sandbox, ${w}`;
  rows.push([label, us.toFixed(2), (us / 2).toFixed(2), (us / native).toFixed(1)]);
}
if (!runscAvailable()) console.log('(runsc: not installed, or not root; its row is left out)');
printTable(['epoll_wait ping-pong between two processes', 'us/round trip', 'us/wake-up', 'x native'], rows);
