// Every struct the Sentry copies to the guest is exactly the kernel's: struct_sizes.c surrounds each
// buffer with canary bytes and prints the bytes each raw syscall wrote, natively and in the sandbox,
// with stdout piped and on a pseudo-terminal (the terminal requests need one). A copy of glibc's
// 60-byte termios where the kernel writes 36 bytes used to smash tcgetattr's stack.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestProgram } from './helpers/guest-programs.js';
import { kvmSkipReason, platforms, type RunResult, runNative, runNativeOnTty, runSandbox, runSandboxOnTty, scriptPath } from './helpers/run.js';

const skip = kvmSkipReason();

type Runner = [(p: string, a: string[]) => RunResult, (p: string, a: string[], platform: 'kvm' | 'kvm-exit') => RunResult];
const ways: Array<[string, Runner, string | null]> = [
  ['stdout piped', [(p, a) => runNative(p, a), (p, a, platform) => runSandbox(p, a, { platform })], null],
  ['stdout on a terminal', [(p, a) => runNativeOnTty(p, a), (p, a, platform) => runSandboxOnTty(p, a, { platform })],
    scriptPath === null ? 'script(1) is not installed' : null],
];

for (const [how, [native, sandboxed], missing] of ways) {
  for (const platform of platforms) {
    const title = `struct copy-outs are the kernel's size, ${how} [${platform}]`;
    const why = skip ?? missing;
    if (why !== null) {
      test.skip(`${title} (skipped: ${why})`, () => {});
      continue;
    }
    test(title, async (t) => {
      const program = await guestProgram('struct_sizes');
      const dir = mkdtempSync(join(tmpdir(), 'tsvisor-structs-'));
      try {
        const n = native(program, [join(dir, 'listed')]);
        t.is(n.status, 0, n.stderr);
        const b = sandboxed(program, ['/tmp/tsvisor-structs-listed'], platform);
        t.is(b.stdout, n.stdout, `sandbox stderr:\n${b.stderr}`);
        t.is(b.status, 0);
        if (how === 'stdout on a terminal') t.regex(n.stdout, /TCGETS: ret 0, wrote \[0, 36\)/, 'the native run had no terminal');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}
