// Shared by signals.test.ts and signals-exit.test.ts: each program of test/guest/sig_*.c runs natively
// and in the sandbox on both platform modes and must print the same lines and end with the same status.
import test from 'ava';
import { guestProgram } from './guest-programs.js';
import { kvmSkipReason, platforms, runNative, runSandbox } from './run.js';

export interface SignalCase {
  name: string;
  args?: string[];
  /** The status both runs must end with; signals as 128 + number. */
  status: number;
  /** Extra gcc flags (-pthread). */
  flags?: string[];
}

export function compareWithNative(cases: readonly SignalCase[]): void {
  const skip = kvmSkipReason();
  for (const c of cases) {
    for (const platform of platforms) {
      const title = `${[c.name, ...(c.args ?? [])].join(' ')} [${platform}]`;
      if (skip) {
        test.skip(`${title} (skipped: ${skip})`, () => {});
        continue;
      }
      // One at a time: runSandbox blocks the worker, and each result is reported as it comes.
      test.serial(title, async (t) => {
        const program = await guestProgram(c.name, c.flags);
        const native = runNative(program, c.args);
        t.is(native.status, c.status, `native run: ${native.stderr}`);
        const boxed = runSandbox(program, c.args, { platform });
        t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
        t.is(boxed.status, native.status, `sandbox stderr:\n${boxed.stderr}`);
        if (c.status > 128) t.regex(boxed.stderr, /killed by SIG/, 'no report of the signal on stderr');
      });
    }
  }
}
