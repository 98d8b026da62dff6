// The exitless platform (issue: syscalls answered through shared memory without a VM exit) and what
// both platform modes must keep doing: idle sandboxes cost no CPU, long runs of syscalls stay correct,
// a failure inside the Sentry becomes an error for the guest, and the sandbox can always be stopped.
import test from 'ava';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EIO } from '../src/abi/errno.js';
import { syscallNumber } from '../src/abi/syscall-names.js';
import { type SyscallEntry, Support } from '../src/kernel/syscall-table.js';
import { runSandbox as runInProcess } from '../src/sandbox/sandbox.js';
import { buildSyscallTable } from '../src/syscalls/table.js';
import { guestProgram } from './helpers/guest-programs.js';
import { withLogCaptured } from './helpers/log-capture.js';
import { checkoutMounts, kvmSkipReason, type Platform, platforms, runNative, runSandbox, sandboxCommandLine, testExitlessAfter } from './helpers/run.js';

const skip = kvmSkipReason();
const maybe = skip === null ? test.serial : test.serial.skip;
if (skip !== null) test('exitless tests skipped', (t) => t.log(skip));

/** user + system CPU time of a process, in seconds, from /proc/PID/stat (fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Starts `tsvisor run` as a child process, with stdout piped for markers. */
function startSandbox(program: string, platform: Platform): ReturnType<typeof spawn> {
  const [node, ...cli] = sandboxCommandLine(program, [], { platform });
  return spawn(node!, cli, { stdio: ['ignore', 'pipe', 'pipe'] });
}

function waitForOutput(child: ReturnType<typeof spawn>, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(marker)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`sandbox exited (${code}) before printing ${marker}: ${seen}`)));
  });
}

function exitStatus(child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : 1))));
}

for (const platform of platforms) {
  maybe(`a guest sleeping 2 s in nanosleep leaves the sandbox idle [${platform}]`, async (t) => {
    const program = await guestProgram('sleep2');
    const child = startSandbox(program, platform);
    const done = exitStatus(child);
    await waitForOutput(child, 'sleeping');
    const before = cpuSeconds(child.pid!);
    const t0 = Date.now();
    await waitForOutput(child, 'awake 0');
    const elapsed = (Date.now() - t0) / 1000;
    const used = cpuSeconds(child.pid!) - before;
    t.log(`${used.toFixed(2)} s of CPU over ${elapsed.toFixed(2)} s asleep`);
    t.true(elapsed >= 1.9, `slept ${elapsed} s`);
    t.true(used < 0.2, `the sandbox used ${used} s of CPU while its guest slept`);
    t.is(await done, 0);
  });

  maybe(`SIGTERM to the sandbox ends a computing guest with that signal [${platform}]`, async (t) => {
    const program = await guestProgram('spin');
    const child = startSandbox(program, platform);
    const done = exitStatus(child);
    await waitForOutput(child, 'spinning');
    const t0 = Date.now();
    child.kill('SIGTERM');
    t.is(await done, 128 + 15);
    t.true(Date.now() - t0 < 5000);
  });

  maybe(`a handler that throws returns EIO to the guest and the Sentry goes on [${platform}]`, async (t) => {
    const program = await guestProgram('getppid_twice');
    const table = [...buildSyscallTable()];
    const nr = syscallNumber('getppid');
    const failing: SyscallEntry = { nr, name: 'getppid', support: Support.Full, handler: () => { throw new Error('injected failure'); } };
    table[nr] = failing;
    const outPath = join(tmpdir(), `tsvisor-throw-${process.pid}-${platform}`);
    const out = openSync(outPath, 'w+');
    try {
      // The Sentry reports each failure in its log, captured here: a passing run prints nothing.
      const { result, lines } = await withLogCaptured(() => runInProcess({
        program, args: [], env: {}, mode: platform, exitlessAfter: testExitlessAfter(platform), memoryBytes: 256 << 20, strace: null,
        stdio: [0, out, 2], syscallTable: table, mounts: checkoutMounts,
      }));
      t.deepEqual(result.exit, { status: 0, signal: null });
      t.is(readFileSync(outPath, 'utf8'), `getppid -1 errno ${EIO.code}\n`.repeat(2));
      t.is(lines.filter((l) => l.includes('syscall getppid failed inside the Sentry: Error: injected failure')).length, 2, lines.join('\n'));
    } finally {
      closeSync(out);
      rmSync(outPath, { force: true });
    }
  });
}

maybe('a guest making 10^6 syscalls gets every answer right [kvm]', async (t) => {
  const program = await guestProgram('many_syscalls');
  const native = runNative(program, ['1000000']);
  // A few seconds on a quiet machine; the limit leaves room for a loaded one.
  const sandboxed = runSandbox(program, ['1000000'], { platform: 'kvm', timeoutMs: 300_000 });
  t.is(sandboxed.stdout, native.stdout);
  t.is(sandboxed.status, 0);
});

maybe('a guest making 10^5 trapped syscalls gets every answer right [kvm, --no-syscall-patching]', async (t) => {
  const program = await guestProgram('many_syscalls');
  const native = runNative(program, ['100000']);
  const sandboxed = runSandbox(program, ['100000'], { platform: 'kvm', extraCliArgs: ['--no-syscall-patching'] });
  t.is(sandboxed.stdout, native.stdout);
  t.is(sandboxed.status, 0);
});

maybe('a guest making 10^5 syscalls gets every answer right [kvm-exit]', async (t) => {
  const program = await guestProgram('many_syscalls');
  const native = runNative(program, ['100000']);
  const sandboxed = runSandbox(program, ['100000'], { platform: 'kvm-exit' });
  t.is(sandboxed.stdout, native.stdout);
  t.is(sandboxed.status, 0);
});

maybe('exitless mode rewrites trapped syscall sites, and the program cannot tell', async (t) => {
  const program = await guestProgram('syscall_sites');
  const native = runNative(program);
  const patchedSites = (stderr: string): number => Number(/syscall sites patched\s+(\d+)/.exec(stderr)?.[1] ?? NaN);
  const patched = runSandbox(program, [], { platform: 'kvm', extraCliArgs: ['--stats', '--exitless-after', '0'] });
  const trapped = runSandbox(program, [], { platform: 'kvm', extraCliArgs: ['--stats', '--exitless-after', '0', '--no-syscall-patching'] });
  const exits = runSandbox(program, [], { platform: 'kvm-exit', extraCliArgs: ['--stats'] });
  for (const run of [patched, trapped, exits]) {
    t.is(run.stdout, native.stdout);
    t.is(run.status, 0);
  }
  t.true(patchedSites(patched.stderr) >= 5, patched.stderr);
  t.is(patchedSites(trapped.stderr), 0);
  t.is(patchedSites(exits.stderr), 0, 'exit mode never patches: every syscall must exit there');
});

/** The --stats line that says how the platform ran. */
const platformLine = (stderr: string): string => /^tsvisor stats: platform +(.*)$/m.exec(stderr)?.[1] ?? `no platform line in: ${stderr}`;

maybe('mode kvm starts with VM exits and turns exitless after --exitless-after events, whatever its threads do then', async (t) => {
  const program = await guestProgram('platform_turn');
  const native = runNative(program, ['calls']);
  t.is(native.status, 0);
  for (const after of ['100', '1500', '3000']) {
    const boxed = runSandbox(program, ['calls'], { platform: 'kvm', extraCliArgs: ['--stats', '--exitless-after', after] });
    t.is(boxed.stdout, native.stdout, boxed.stderr);
    t.is(boxed.status, 0);
    t.regex(platformLine(boxed.stderr), new RegExp(`^kvm, exitless from \\d+\\.\\d ms \\(after ${after} events with VM exits\\)$`));
  }
  const short = runSandbox(program, ['calls'], { platform: 'kvm', extraCliArgs: ['--stats', '--exitless-after', '100000'] });
  t.is(short.stdout, native.stdout);
  t.regex(platformLine(short.stderr), /^kvm, with VM exits to the end \(\d+ events; see --exitless-after\)$/);
  const exits = runSandbox(program, ['calls'], { platform: 'kvm-exit', extraCliArgs: ['--stats'] });
  t.regex(platformLine(exits.stderr), /^kvm-exit \(\d+ events, each a VM exit\)$/);
});

maybe('mode kvm turns exitless when a computing thread keeps another from running', async (t) => {
  const program = await guestProgram('platform_turn');
  const native = runNative(program, ['compute']);
  t.is(native.status, 0);
  const boxed = runSandbox(program, ['compute'], { platform: 'kvm', extraCliArgs: ['--stats', '--exitless-after', '100000'], timeoutMs: 120_000 });
  t.is(boxed.stdout, native.stdout, boxed.stderr);
  t.is(boxed.status, 0);
  t.regex(platformLine(boxed.stderr), /^kvm, exitless from \d+\.\d ms \(after \d+ events with VM exits\)$/);
});

maybe('a short program under the default mode never leaves VM exits, and says so in --stats', async (t) => {
  const program = await guestProgram('getppid_twice');
  const boxed = runSandbox(program, [], { extraCliArgs: ['--stats'] });
  t.is(boxed.status, 0);
  t.regex(platformLine(boxed.stderr), /^kvm, with VM exits to the end/);
});
