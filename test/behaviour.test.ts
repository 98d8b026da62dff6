// The behaviour suite: each tiny static program runs natively and in the sandbox, on both
// platform modes, and must print the same stdout and end with the same status.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { guestProgram } from './helpers/guest-programs.js';
import { kvmSkipReason, platforms, runNative, runSandbox, type RunOptions } from './helpers/run.js';

interface Case {
  name: string;
  args?: string[];
  opts?: RunOptions;
  /** The status both runs must end with; signals as 128 + number. */
  status: number;
}

const cases: Case[] = [
  { name: 'hello', status: 0 },
  // TSVISOR_TEST_B is removed so that it is unset on both sides, whatever the caller's environment.
  { name: 'args', args: ['one', 'two words', ''], opts: { env: { TSVISOR_TEST_A: 'alpha', TSVISOR_TEST_B: undefined } }, status: 7 },
  { name: 'malloc100', status: 0 },
  { name: 'segv', status: 139 },
  { name: 'ud2', status: 132 },
  { name: 'div0', status: 136 },
  { name: 'enosys', status: 0 },
  { name: 'exit42', status: 42 },
  { name: 'stdin_echo', opts: { input: 'hello\nworld\n' }, status: 0 },
  // Sites of `mov $nr, %eax; syscall` called again and again: rewritten after the first trap (kvm).
  { name: 'syscall_sites', status: 0 },
];
// Programs built for newer CPUs use AVX registers directly: the guest must have them enabled (XCR0).
if (/\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) cases.push({ name: 'avx', status: 0 });

const skip = kvmSkipReason();

for (const c of cases) {
  for (const platform of platforms) {
    const title = `${c.name} [${platform}]`;
    if (skip) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    // runSandbox blocks the worker, so the cases of this file already run one after another.
    test(title, async (t) => {
      const program = await guestProgram(c.name);
      const native = runNative(program, c.args, c.opts);
      t.is(native.status, c.status, `native run: ${native.stderr}`);
      const boxed = runSandbox(program, c.args, { ...c.opts, platform });
      t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
      t.is(boxed.status, native.status, `sandbox stderr:\n${boxed.stderr}`);
      // Killed by a signal: the CLI reports it on one stderr line, like a shell does.
      if (c.status > 128) t.regex(boxed.stderr, /\S/, 'no report of the signal on stderr');
    });
  }
}
