// Debian's busybox-static is a real program nobody wrote for us: a first check beyond test/guest.
// (`busybox sh -c` with external commands needs fork and is left out until processes exist; builtins
// and traps need none.)
import test from 'ava';
import { busyboxPath, kvmSkipReason, platforms, runNative, runSandbox } from './helpers/run.js';

const busybox = busyboxPath();
const skip = busybox ? kvmSkipReason() : '/bin/busybox is missing (apt-get install busybox-static)';

const cases: { args: string[]; status: number }[] = [
  { args: ['echo', 'hello', 'world'], status: 0 },
  { args: ['true'], status: 0 },
  { args: ['false'], status: 1 },
  // The shell's traps: its handler runs on a signal it sends itself, then the trap's commands.
  { args: ['sh', '-c', 'trap "echo got TERM; exit 5" TERM; kill -TERM $$; sleep 5'], status: 5 },
  { args: ['sh', '-c', 'trap "echo INT" INT; kill -INT $$; echo after; trap - INT; kill -USR1 $$; echo not reached'], status: 138 },
];

for (const c of cases) {
  for (const platform of platforms) {
    const title = `busybox ${c.args.join(' ')} [${platform}]`;
    if (skip || !busybox) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, (t) => {
      const native = runNative(busybox, c.args);
      t.is(native.status, c.status);
      const boxed = runSandbox(busybox, c.args, { platform });
      t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
      t.is(boxed.status, native.status, `sandbox stderr:\n${boxed.stderr}`);
    });
  }
}
