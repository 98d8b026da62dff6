// bench/files: the three syscall tiers of the file system, natively and in the sandbox, in one run,
// beside the ratios gVisor publishes for the same tiers:
//   getpid                        Sentry only                     gVisor  2.2x
//   read 1 byte of a host fd      one host syscall                gVisor    9x
//   open+close, tmpfs             the Sentry's own filesystem     (gVisor publishes none)
//   open+close, Gofer-backed      a round trip to the Gofer       gVisor  216x
//   1000 small files (4 KiB)      open, read, close each          gVisor   72x (a Gofer round trip per file)
//   100 MB sequential read        host reads into guest memory    gVisor   11x
// Each guest program times its own loop with clock_gettime after an untimed warm-up (caches, JITs), so
// start-up is not counted; each figure is the median of several runs. The Gofer-backed files are a
// host directory given with --mount.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { benchProgram, median, printTable, projectRoot } from './common.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const cli = `${projectRoot}dist/src/cli/main.js`;
const dataDir = `${projectRoot}build/bench-files`;
const guestData = '/mnt/bench-files';

type Where = 'native' | 'kvm' | 'kvm-exit';

interface Tier {
  name: string;
  gvisor: string;
  program: string;
  /** Arguments natively and in the sandbox (paths differ: host directory vs its mount point). */
  args(where: Where): string[];
  /** A host file to give as stdin. */
  stdin?: string;
}

function nsPerOp(stdout: string, what: string): number {
  const m = /([\d.]+) ns\/(op|call)/.exec(stdout);
  if (m === null) throw new Error(`${what}: unexpected output: ${stdout}`);
  return Number(m[1]);
}

function run(where: Where, program: string, args: string[], stdin: string | undefined): string {
  const fd = stdin === undefined ? 'ignore' : openSync(stdin, 'r');
  try {
    const cmd = where === 'native' ? program : process.execPath;
    const argv = where === 'native' ? args : [cli, 'run', '--platform', where, '--mount', `${dataDir}:${guestData}`, '--', program, ...args];
    const r = spawnSync(cmd, argv, { encoding: 'utf8', stdio: [fd, 'pipe', 'pipe'], maxBuffer: 16 << 20 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${program} (${where}) failed with ${r.status}: ${r.stderr}`);
    return r.stdout;
  } finally {
    if (typeof fd === 'number') closeSync(fd);
  }
}

function prepare(): void {
  mkdirSync(`${dataDir}/small`, { recursive: true });
  if (!existsSync(`${dataDir}/small/f0999`)) {
    for (let i = 0; i < 1000; i++) writeFileSync(`${dataDir}/small/f${String(i).padStart(4, '0')}`, randomBytes(4096));
  }
  if (!existsSync(`${dataDir}/big`)) writeFileSync(`${dataDir}/big`, randomBytes(100 * 1024 * 1024));
  writeFileSync(`${dataDir}/one-byte`, 'x');
  writeFileSync(`${dataDir}/openclose`, '');
  rmSync('/dev/shm/tsvisor-bench-open', { force: true });
}

const here = (where: Where, hostPath: string): string => (where === 'native' ? `${dataDir}/${hostPath}` : `${guestData}/${hostPath}`);

const tiers: Tier[] = [
  { name: 'getpid', gvisor: '2.2x', program: benchProgram('getpid'), args: () => ['200000'] },
  { name: 'read 1 byte, host fd', gvisor: '9x', program: benchProgram('files_pread1'), args: () => ['100000'], stdin: `${dataDir}/one-byte` },
  // /dev/shm is tmpfs natively and in the sandbox.
  { name: 'open+close, tmpfs', gvisor: '-', program: benchProgram('files_openclose'), args: () => ['/dev/shm/tsvisor-bench-open', '20000'] },
  { name: 'open+close, Gofer', gvisor: '216x', program: benchProgram('files_openclose'), args: (w) => [here(w, 'openclose'), '4000'] },
  { name: '1000 files of 4 KiB', gvisor: '72x', program: benchProgram('files_small'), args: (w) => [here(w, 'small'), '1000', '2'] },
  { name: '100 MB sequential read', gvisor: '11x', program: benchProgram('files_seq'), args: (w) => [here(w, 'big')] },
];

prepare();
const modes: Where[] = ['native', 'kvm', 'kvm-exit'];
const rows: string[][] = [];
for (const tier of tiers) {
  const figures: Record<Where, number[]> = { native: [], kvm: [], 'kvm-exit': [] };
  for (let i = 0; i < REPEATS; i++) {
    for (const where of modes) figures[where].push(nsPerOp(run(where, tier.program, tier.args(where), tier.stdin), tier.name));
  }
  const native = median(figures.native);
  const fmt = (ns: number): string => (ns >= 1e6 ? `${(ns / 1e6).toFixed(1)} ms` : `${(ns / 1000).toFixed(2)} us`);
  const kvm = median(figures.kvm);
  const exit = median(figures['kvm-exit']);
  rows.push([tier.name, fmt(native), fmt(kvm), `${(kvm / native).toFixed(1)}x`, fmt(exit), `${(exit / native).toFixed(1)}x`, tier.gvisor]);
}
rmSync('/dev/shm/tsvisor-bench-open', { force: true });
console.log(`bench/files: per operation, median of ${REPEATS} runs (sandbox: exitless kvm, and kvm-exit)`);
printTable(['tier', 'native', 'kvm', 'ratio', 'kvm-exit', 'ratio', 'gVisor'], rows);
