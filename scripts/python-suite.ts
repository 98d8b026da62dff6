// npm run test:python [-- --platform kvm|kvm-exit] [MODULE...]: modules of Python's own test suite
// (Debian's libpython3.X-testsuite) natively and in the sandbox, their counts side by side. A module
// that passes natively and not in the sandbox is a bug, or a known limit the README names.
// Status 1 when any module's counts differ from native's, 2 when the suite cannot run here.
import { pythonTestSkipReason, runPythonTests, type ModuleCounts } from '../test/helpers/python-tests.js';
import { kvmSkipReason, type Platform } from '../test/helpers/run.js';

const defaultModules = [
  'test_json', 'test_re', 'test_string', 'test_math', 'test_struct', 'test_bisect', 'test_heapq', 'test_collections',
  'test_functools', 'test_itertools', 'test_sqlite3', 'test_hashlib', 'test_os', 'test_tempfile', 'test_glob',
  'test_shutil', 'test_subprocess', 'test_threading', 'test_select', 'test_signal',
];

const argv = process.argv.slice(2);
let platform: Platform = 'kvm';
const modules: string[] = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--platform') platform = argv[++i] as Platform;
  else modules.push(argv[i]!);
}
if (platform !== 'kvm' && platform !== 'kvm-exit') {
  console.error(`--platform: expected kvm or kvm-exit, got ${platform}`);
  process.exit(2);
}
const skip = kvmSkipReason() ?? pythonTestSkipReason();
if (skip !== null) {
  console.error(`test:python cannot run here: ${skip}`);
  process.exit(2);
}

const passed = (c: ModuleCounts): number => c.ran - c.failures - c.errors - c.skipped;
const cell = (c: ModuleCounts): string => `${c.verdict} ${passed(c)}/${c.failures + c.errors}/${c.skipped}`;
const rows: string[][] = [];
let differing = 0;
for (const module of modules.length > 0 ? modules : defaultModules) {
  const t0 = Date.now();
  const native = runPythonTests([module], null).counts[module]!;
  const t1 = Date.now();
  const boxed = runPythonTests([module], platform, 900_000);
  const t2 = Date.now();
  const counts = boxed.counts[module]!;
  const same = JSON.stringify(native) === JSON.stringify(counts);
  if (!same) differing++;
  rows.push([module, cell(native), cell(counts), same ? 'same' : 'DIFFERS', `${((t1 - t0) / 1000).toFixed(1)}`, `${((t2 - t1) / 1000).toFixed(1)}`]);
  console.log(rows.at(-1)!.join('  '));
  if (!same) {
    // The tests that went otherwise, from unittest's verbose lines.
    const bad = boxed.output.split('\n').filter((l) => /\.\.\. (FAIL|ERROR)$|^(FAIL|ERROR): /.test(l));
    for (const line of [...new Set(bad)].slice(0, 20)) console.log(`    ${line}`);
  }
}

const header = ['module', 'native ok/failed/skipped', `sandbox (${platform})`, '', 'native s', 'sandbox s'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log('');
console.log(line(header));
for (const r of rows) console.log(line(r));
console.log(`${rows.length - differing} of ${rows.length} modules as natively`);
process.exit(differing > 0 ? 1 : 0);
