// Runs inside the emulated AMD SVM host (scripts/test-svm.sh boots it): the foundation's guest
// programs, natively and in the sandbox on both platform modes, compared by stdout and status.
// Plain JS on purpose: it must not depend on a TypeScript build of the tests. The programs in
// build/test-guest/ are compiled on the real host before boot (the emulated CPU is slow).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { shadowedBySandbox } from '../../dist/src/fs/namespace.js';

const cli = 'dist/src/cli/main.js';
// The sandbox has its own /tmp, /dev, /proc, /sys: a checkout below them is mounted at its own path.
const checkout = process.cwd();
const checkoutMount = shadowedBySandbox(checkout) ? ['--mount', `${checkout}:${checkout}:ro`] : [];
const guest = (name) => `build/test-guest/${name}`;
const cases = [
  { title: 'hello', program: guest('hello'), args: [] },
  { title: 'args', program: guest('args'), args: ['one', 'two words', ''], env: { TSVISOR_TEST_A: 'alpha' } },
  { title: 'segv', program: guest('segv'), args: [] },
  { title: 'ud2', program: guest('ud2'), args: [] },
  { title: 'div0', program: guest('div0'), args: [] },
  { title: 'malloc100', program: guest('malloc100'), args: [] },
  { title: 'many_syscalls', program: guest('many_syscalls'), args: ['20000'] },
  { title: 'enosys', program: guest('enosys'), args: [] },
  { title: 'exit42', program: guest('exit42'), args: [] },
  { title: 'syscall_sites', program: guest('syscall_sites'), args: [] },
  // Signals at real CPL 0 (each takes about a minute per mode here): the stub's FPU/AVX hops from the
  // syscall return, a failed rt_sigreturn caught by a SIGSEGV handler, and the NMI that interrupts a
  // program computing without syscalls (its hops run from the exception return).
  { title: 'sig_fpu', program: guest('sig_fpu'), args: [] },
  { title: 'sig_badframe caught', program: guest('sig_badframe'), args: ['caught'] },
  { title: 'sig_async', program: guest('sig_async'), args: [] },
  { title: 'busybox echo', program: '/bin/busybox', args: ['echo', 'hello', 'world'] },
  { title: 'busybox true', program: '/bin/busybox', args: ['true'] },
  { title: 'busybox false', program: '/bin/busybox', args: ['false'] },
];

// Like test/helpers/run.ts: death by signal is reported as 128 + signal, as by a shell.
function run(file, args, extraEnv = {}) {
  const env = { ...process.env, ...extraEnv };
  delete env.TSVISOR_TEST_B;
  const r = spawnSync(file, args, { env, input: '', encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 });
  if (r.error) return { stdout: r.stdout ?? '', stderr: `${r.error.message}\n${r.stderr ?? ''}`, status: -1 };
  const status = r.status ?? 128 + constants.signals[r.signal];
  return { stdout: r.stdout, stderr: r.stderr, status };
}
const sandbox = (platform, extra, c) =>
  run(process.execPath, [cli, 'run', '--platform', platform, ...checkoutMount, ...extra, '--', c.program, ...c.args], c.env);
const clip = (s) => JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}...` : s);
const tail = (s) => s.trim().split('\n').slice(-5).map((l) => `    | ${l}`).join('\n');

let passed = 0;
let failed = 0;

// Which host variant the sandbox chose (SVM is expected here); printed for the log only.
const info = sandbox('kvm-exit', ['--log-level', 'info'], cases[0]);
console.log(info.stderr.split('\n').find((l) => /flavour/i.test(l)) ?? 'flavour: (not reported by the sandbox)');

for (const c of cases) {
  if (!existsSync(c.program)) {
    console.log(`FAIL ${c.title}: ${c.program} is missing (run node dist/test/helpers/build-all.js)`);
    failed++;
    continue;
  }
  const native = run(c.program, c.args, c.env);
  for (const platform of ['kvm-exit', 'kvm']) {
    const boxed = sandbox(platform, [], c);
    const problems = [];
    if (boxed.status !== native.status) problems.push(`status ${boxed.status}, native ${native.status}`);
    if (boxed.stdout !== native.stdout) problems.push(`stdout ${clip(boxed.stdout)}, native ${clip(native.stdout)}`);
    if (problems.length === 0) {
      console.log(`ok   ${c.title} [${platform}]`);
      passed++;
    } else {
      console.log(`FAIL ${c.title} [${platform}]: ${problems.join('; ')}\n${tail(boxed.stderr)}`);
      failed++;
    }
  }
}
console.log(`svm: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
