// Processes and threads: C programs that fork, exec, wait, share futexes and run many threads, and
// busybox sh scripts that build pipelines and process trees, each run natively and in the sandbox on
// both platform modes, with the same output and status expected.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { guestProgram } from './helpers/guest-programs.js';
import { compareWithNative } from './helpers/signal-cases.js';
import { busyboxPath, kvmSkipReason, overlayScratchBase, platforms, runNative, runSandbox } from './helpers/run.js';

const skip = kvmSkipReason();
const busybox = busyboxPath();

const programs: Array<{ name: string; flags?: string[] }> = [
  { name: 'proc_fork' },
  { name: 'proc_threads', flags: ['-pthread'] },
  { name: 'proc_sched' },
  { name: 'proc_times' },
  { name: 'proc_execveat' },
  { name: 'proc_pidfd', flags: ['-pthread'] },
  { name: 'proc_pidfd_thread', flags: ['-pthread'] },
  { name: 'proc_tasks', flags: ['-pthread'] },
  { name: 'sock_pair' },
];

for (const p of programs) {
  for (const platform of platforms) {
    const title = `${p.name} [${platform}]`;
    if (skip) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, async (t) => {
      const program = await guestProgram(p.name, p.flags);
      const native = runNative(program);
      t.is(native.status, 0, native.stderr);
      const boxed = runSandbox(program, [], { platform });
      t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
      t.is(boxed.status, native.status, `sandbox stderr:\n${boxed.stderr}`);
    });
  }
}

// Supplementary groups (setgroups, getgroups, inheritance, group permission): setting them needs
// privilege, so the host run must start as root.
if (process.getuid?.() === 0) {
  compareWithNative([{ name: 'creds_groups', status: 0 }]);
} else {
  test.skip('creds_groups (skipped: the native run must start as root to set groups)', () => {});
}

// Many threads end, then a program forks at once: the children land on contexts those threads left,
// some of them stopped at an exception (a signal's interrupt that came as the thread ended) rather than
// at a syscall. Each child must start with its own FS base (thread-local storage) on that way out too.
for (const platform of platforms) {
  const title = `threads end, then fork: each child on a reused context has its own TLS [${platform}]`;
  if (skip || busybox === null) {
    test.skip(`${title} (skipped: ${skip ?? 'no /bin/busybox'})`, () => {});
    continue;
  }
  test(title, async (t) => {
    const threads = await guestProgram('proc_threads', ['-pthread']);
    const fork = await guestProgram('proc_fork');
    const script = `${threads}; ${fork}`;
    const native = runNative(busybox, ['sh', '-c', script]);
    t.is(native.status, 0, native.stderr);
    const boxed = runSandbox(busybox, ['sh', '-c', script], { platform });
    t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
    t.is(boxed.status, native.status, `sandbox stderr:\n${boxed.stderr}`);
  });
}

// busybox applets are named through busybox itself, so that the scripts run the same programs natively
// and in the sandbox whatever /bin holds.
const B = busybox ?? '/bin/busybox';
const scripts: Array<{ name: string; script: string }> = [
  { name: 'pipeline', script: `${B} seq 1 100000 | ${B} sort -rn 2>/dev/null | ${B} head -3` },
  { name: 'substitution', script: `echo $(echo one) \`echo two\` "$(${B} echo three | ${B} tr a-z A-Z)"` },
  { name: 'status', script: '(exit 3); echo $?; sh -c "exit 4"; echo $?; ! true; echo $?' },
  { name: 'loop over pipelines', script: `for i in 1 2 3; do echo $i | ${B} sed s/^/n/; done` },
  { name: 'xargs', script: `echo a b c | ${B} xargs -n1 echo item` },
  { name: 'find -exec', script: `${B} find /etc/hostname -exec ${B} echo found {} \\;` },
  { name: 'nested shells', script: `${B} sh -c '${B} sh -c "echo deep; exit 5"'; echo $?` },
  // Signals between processes: a trap on a signal the shell sends itself, a job killed and waited for,
  // timeout(1) ending its child, SIGKILL, SIGCHLD waking `wait`.
  { name: 'trap on its own SIGTERM', script: 'trap "echo got TERM; exit 5" TERM; kill -TERM $$; sleep 5' },
  { name: 'kill %1 and wait', script: `${B} sleep 10 & kill %1; wait; echo status $?` },
  { name: 'timeout', script: `${B} timeout 1 ${B} sleep 5; echo status $?` },
  { name: 'a child killed by SIGKILL', script: 'sh -c "kill -9 \\$\\$"; echo status $?' },
  { name: 'wait for a background job', script: `${B} sleep 0.2 & wait; echo waited $?` },
];

for (const s of scripts) {
  for (const platform of platforms) {
    const title = `busybox sh: ${s.name} [${platform}]`;
    if (skip || busybox === null) {
      test.skip(`${title} (skipped: ${skip ?? 'no /bin/busybox'})`, () => {});
      continue;
    }
    test(title, (t) => {
      const native = runNative(busybox, ['sh', '-c', s.script]);
      const boxed = runSandbox(busybox, ['sh', '-c', s.script], { platform });
      t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
      t.is(boxed.status, native.status, `sandbox stderr:\n${boxed.stderr}`);
    });
  }
}

// A `#!` script (with an interpreter argument) run by sh from a directory the sandbox mounts.
for (const platform of platforms) {
  const title = `a #! script run by sh [${platform}]`;
  if (skip || busybox === null) {
    test.skip(`${title} (skipped)`, () => {});
    continue;
  }
  test(title, (t) => {
    const dir = mkdtempSync(join(overlayScratchBase, 'tsvisor-script-'));
    try {
      const script = join(dir, 'script.sh');
      writeFileSync(script, `#!${busybox} sh\necho "args: $0 $*"\nexit 6\n`);
      chmodSync(script, 0o755);
      const line = `${script} x y; echo status $?`;
      const native = runNative(busybox, ['sh', '-c', line]);
      const boxed = runSandbox(busybox, ['sh', '-c', line], { platform, extraCliArgs: ['--mount', `${dir}:${dir}`] });
      t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
      t.is(boxed.status, native.status);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// fork of 200 MiB: the sandbox's guest memory grows by what is written after the fork, not by a copy.
for (const platform of platforms) {
  const title = `fork of 200 MiB copies only what is written afterwards [${platform}]`;
  if (skip) {
    test.skip(`${title} (skipped: ${skip})`, () => {});
    continue;
  }
  test(title, async (t) => {
    const program = await guestProgram('proc_fork_big');
    const native = runNative(program);
    t.is(native.status, 0, native.stderr);
    const boxed = runSandbox(program, [], { platform, extraCliArgs: ['--stats'] });
    t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
    const peak = Number(/tsvisor stats: guest memory peak\s+([\d.]+)/.exec(boxed.stderr)?.[1]);
    // 200 MiB touched, 8 MiB rewritten by the child (copied in 2 MiB pages), plus page tables and stacks.
    t.true(peak >= 200 && peak < 200 + 8 + 24, `guest memory peak ${peak} MiB:\n${boxed.stderr}`);
  });
}
