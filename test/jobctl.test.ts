// Job control, compared with the host kernel: children stopped and continued (test/guest/jc_*.c), and
// busybox sh scripts that stop and continue their jobs.
import test from 'ava';
import { compareWithNative } from './helpers/signal-cases.js';
import { busyboxPath, kvmSkipReason, platforms, runNative, runSandbox } from './helpers/run.js';

compareWithNative([
  // SIGSTOP and SIGCONT seen by waitpid (WUNTRACED, WCONTINUED), waitid (WNOWAIT, CLD_*), SIGCHLD, /proc state.
  { name: 'jc_stop', args: ['basic'], status: 0 },
  // The same with SA_NOCLDSTOP: no SIGCHLD for the stop and the continue.
  { name: 'jc_stop', args: ['nocldstop'], status: 0 },
  // SIGTSTP with a handler, then with SIG_DFL; SIGCONT's handler.
  { name: 'jc_stop', args: ['tstp'], status: 0 },
  // raise(SIGSTOP) in the child; SIGTERM to a stopped child acts once it is continued.
  { name: 'jc_stop', args: ['self'], status: 0 },
  // A stop does not break a nanosleep or a pipe read.
  { name: 'jc_stop', args: ['blocked'], status: 0 },
  // A blocked SIGTSTP discarded by SIGCONT, a pending SIGCONT by a stop signal.
  { name: 'jc_stop', args: ['discard'], status: 0 },
  // Every thread of a multi-threaded child stops and continues.
  { name: 'jc_stop', args: ['threads'], status: 0, flags: ['-pthread'] },
]);

// Permission to signal needs a second uid: the host run must start as root to setuid to one.
if (process.getuid?.() === 0) {
  compareWithNative([{ name: 'sig_perm', status: 0 }]);
} else {
  test.skip('sig_perm (skipped: the native run must start as root to change uid)', () => {});
}

const busybox = busyboxPath();
const skip = kvmSkipReason();
const B = busybox ?? '/bin/busybox';
const scripts: Array<{ name: string; script: string }> = [
  {
    name: 'stop, continue, kill a job',
    script: `${B} sleep 5 & p=$!; kill -STOP $p; ${B} sleep 0.1; ${B} cut -d' ' -f3 /proc/$p/stat; kill -CONT $p; kill $p; wait $p; echo $?`,
  },
  { name: 'a stopped job finishes once continued', script: `${B} sleep 0.3 & p=$!; kill -STOP $p; ${B} sleep 0.5; kill -CONT $p; wait $p; echo done $?` },
  { name: 'SIGKILL to a stopped job', script: `${B} sleep 5 & p=$!; kill -STOP $p; kill -KILL $p; wait $p; echo $?` },
];

for (const s of scripts) {
  for (const platform of platforms) {
    const title = `busybox sh: ${s.name} [${platform}]`;
    if (skip || busybox === null) {
      test.skip(`${title} (skipped: ${skip ?? 'no /bin/busybox'})`, () => {});
      continue;
    }
    test.serial(title, (t) => {
      const native = runNative(busybox, ['sh', '-c', s.script]);
      const boxed = runSandbox(busybox, ['sh', '-c', s.script], { platform });
      t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
      t.is(boxed.status, native.status, `sandbox stderr:\n${boxed.stderr}`);
    });
  }
}
