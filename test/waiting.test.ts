// Waiting like Linux: a deadline of any length is honoured (a 35-day sleep does not return at once, and
// no guest input reaches a Node.js warning); a program that blocks for ever on itself blocks in both
// platform modes (it used to end tsvisor with status 13 in exit mode); and SIGTERM ends a waiting
// sandbox at once, its timers and handles released, instead of when the program's sleep would end.
import test from 'ava';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestProgram } from './helpers/guest-programs.js';
import { runSandbox as runInProcess } from '../src/sandbox/sandbox.js';
import { checkoutMounts, kvmSkipReason, platforms, testExitlessAfter } from './helpers/run.js';
import { delay, type Running, start, startSandbox, waitForOutput } from './helpers/spawned.js';

const skip = kvmSkipReason();
/** How long a program that must still be waiting is watched. */
const WATCH_MS = 1500;
/** How soon a sandbox told to stop must be gone. */
const STOP_MS = 3000;

/** Once the marker is out, the program must go on waiting; then SIGTERM must end it at once. */
async function stillWaitingThenStop(t: { true(v: boolean, m?: string): void; is(a: unknown, b: unknown, m?: string): void }, r: Running, marker: string, what: string): Promise<void> {
  await waitForOutput(r, marker);
  await delay(WATCH_MS);
  t.true(!r.exited, `${what} ended by itself: ${r.stdout}\n${r.stderr}`);
  t.is(r.stdout, `${marker}\n`, `${what} printed more than the marker`);
  const t0 = Date.now();
  r.child.kill('SIGTERM');
  const status = await Promise.race([r.exit, delay(2 * STOP_MS).then(() => null)]);
  const took = Date.now() - t0;
  if (status === null) {
    r.child.kill('SIGKILL');
    t.true(false, `${what} was still alive ${took} ms after SIGTERM: ${r.stderr}`);
    return;
  }
  t.is(status, 128 + 15, `${what}: ${r.stderr}`);
  t.true(took < STOP_MS, `${what} took ${took} ms to stop after SIGTERM`);
  t.true(!/Warning/.test(r.stderr), `${what} printed a warning: ${r.stderr}`);
}

const sleeps: Array<[string, string[]]> = [
  ['nanosleep of 35 days', ['nanosleep']],
  ['clock_nanosleep of 35 days (CLOCK_MONOTONIC)', ['monotonic']],
  ['clock_nanosleep to 35 days from now (CLOCK_REALTIME, TIMER_ABSTIME)', ['realtime']],
  ['nanosleep of 1000 s', ['nanosleep', '1000']],
];

for (const [what, args] of sleeps) {
  for (const platform of platforms) {
    const title = `${what}: sleeps like Linux, and SIGTERM ends it at once [${platform}]`;
    if (skip !== null) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, async (t) => {
      const program = await guestProgram('long_sleep');
      const native = start(program, args);
      const boxed = startSandbox(program, args, platform);
      await Promise.all([
        stillWaitingThenStop(t, native, 'sleeping', 'the native run'),
        stillWaitingThenStop(t, boxed, 'sleeping', 'the sandbox'),
      ]);
    });
  }
}

const blockers: Array<[string, (dir: string) => string[]]> = [
  ['a read of its own empty pipe', () => ['pipe']],
  ['F_OFD_SETLKW on a lock its other description holds', (dir) => ['lock', join(dir, 'lock')]],
];

for (const [what, args] of blockers) {
  for (const platform of platforms) {
    const title = `${what} blocks for ever, as on Linux [${platform}]`;
    if (skip !== null) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, async (t) => {
      const program = await guestProgram('block_forever');
      const dir = mkdtempSync(join(tmpdir(), 'tsvisor-block-'));
      try {
        const native = start(program, args(dir));
        // In the sandbox the file is created in the overlay over /tmp: the host's stays as it was.
        const boxed = startSandbox(program, args('/tmp'), platform);
        await Promise.all([
          stillWaitingThenStop(t, native, 'blocking', 'the native run'),
          stillWaitingThenStop(t, boxed, 'blocking', 'the sandbox'),
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

for (const platform of platforms) {
  const title = `SIGQUIT to tsvisor: a report of each task and vCPU, then the program ends with SIGQUIT, as natively [${platform}]`;
  if (skip !== null) {
    test.skip(`${title} (skipped: ${skip})`, () => {});
    continue;
  }
  test(title, async (t) => {
    const program = await guestProgram('block_forever');
    const runs = [start(program, ['pipe']), startSandbox(program, ['pipe'], platform)];
    const [native, boxed] = await Promise.all(runs.map(async (r) => {
      await waitForOutput(r, 'blocking');
      // The marker's write returns before the read blocks: the report must find the task blocked.
      await delay(WATCH_MS);
      r.child.kill('SIGQUIT');
      const status = await Promise.race([r.exit, delay(2 * STOP_MS).then(() => null)]);
      if (status === null) r.child.kill('SIGKILL');
      return status;
    }));
    t.is(native, 128 + 3);
    t.is(boxed, native, runs[1]!.stderr);
    const report = runs[1]!.stderr.split('\n').filter((l) => l.startsWith('tsvisor state: '));
    t.regex(report[0] ?? '', /^tsvisor state: task 1 \(pid 1, block_forever\): blocked, \d+ syscalls; vCPU 0: .*doorbell \d, event \d+, parked [01], interrupt [01], syscall 0, rip 0x[0-9a-f]+$/, runs[1]!.stderr);
    t.true(!/Warning/.test(runs[1]!.stderr), runs[1]!.stderr);
  });
}

/** Node's active handles and requests by kind ("Timeout", "TTYWrap", ...), counted. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

for (const platform of platforms) {
  const title = `a sandbox stopped while its program sleeps leaves no timer or handle behind [${platform}]`;
  if (skip !== null) {
    test.skip(`${title} (skipped: ${skip})`, () => {});
    continue;
  }
  // Serial: it counts this process's handles, which other tests of the file would change meanwhile.
  test.serial(title, async (t) => {
    const program = await guestProgram('long_sleep');
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-stop-'));
    const outPath = join(dir, 'out');
    const out = openSync(outPath, 'w+');
    try {
      const before = activeResources();
      const run = runInProcess({
        program, args: ['nanosleep', '1000'], env: {}, mode: platform, exitlessAfter: testExitlessAfter(platform), memoryBytes: 256 << 20, strace: null,
        stdio: [0, out, 2], mounts: checkoutMounts,
      });
      while (!readFileSync(outPath, 'utf8').includes('sleeping')) await delay(10);
      // What the sandbox's own SIGTERM handler gets when tsvisor is told to stop (no signal is sent).
      process.emit('SIGTERM', 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([run, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), STOP_MS)))]);
      clearTimeout(timer);
      t.not(result, null, 'the sandbox did not stop');
      t.is(result?.exit.signal, 15);
      await delay(0);
      const after = activeResources();
      for (const [kind, n] of after) t.true(n <= (before.get(kind) ?? 0), `${n - (before.get(kind) ?? 0)} more ${kind} after the sandbox stopped`);
    } finally {
      closeSync(out);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
