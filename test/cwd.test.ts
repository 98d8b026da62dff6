// The sandbox starts in the caller's working directory and shows the host's /tmp read-only under the
// overlay root, as runsc do does: `tsvisor run -- ./hello` from a directory under /tmp runs it, and
// what the program writes there stays in the sandbox. --tmpfs PATH gives a fresh tmpfs where the user
// wants one (and a root whose /tmp is empty gets one, as under runsc); a program then hidden by it is
// reported with a hint, relative paths too.
import test from 'ava';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestProgram } from './helpers/guest-programs.js';
import { busyboxPath, kvmSkipReason, platforms, runSandbox } from './helpers/run.js';

const skip = kvmSkipReason();
const bb = busyboxPath();

/** A scratch directory under base holding a copy of the hello program and a file. */
async function workDir(base: string): Promise<string> {
  const dir = mkdtempSync(join(base, 'tsvisor-cwd-'));
  copyFileSync(await guestProgram('hello'), join(dir, 'hello'));
  writeFileSync(join(dir, 'f'), 'echo from the host\n');
  return dir;
}

function maybe(title: string, needsBusybox: boolean, body: (t: import('ava').ExecutionContext, platform: 'kvm' | 'kvm-exit') => Promise<void>): void {
  for (const platform of platforms) {
    const full = `${title} [${platform}]`;
    const why = skip ?? (needsBusybox && bb === null ? 'no busybox' : null);
    if (why !== null) test.skip(`${full} (skipped: ${why})`, () => {});
    else test(full, (t) => body(t, platform));
  }
}

for (const [where, base] of [['/tmp', tmpdir()], ['$HOME', homedir()]] as const) {
  maybe(`./hello from a directory under ${where} runs it`, false, async (t, platform) => {
    const dir = await workDir(base);
    try {
      const r = runSandbox('./hello', [], { platform, cwd: dir, withoutCheckout: true });
      t.is(r.stdout, 'hello, world\n', r.stderr);
      t.is(r.status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

maybe('busybox pwd prints the caller\'s working directory', true, async (t, platform) => {
  const dir = await workDir(tmpdir());
  try {
    const r = runSandbox(bb!, ['pwd'], { platform, cwd: dir, withoutCheckout: true });
    t.is(r.stdout, `${dir}\n`, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

maybe('the host\'s /tmp is read through the overlay; writes there stay in the sandbox', true, async (t, platform) => {
  const dir = await workDir(tmpdir());
  try {
    // Files are read back by sourcing them (busybox sh forks for anything else).
    const script = '. ./f && echo "echo changed" > f && . ./f && echo "echo created" > g && . ./g';
    const r = runSandbox(bb!, ['sh', '-c', script], { platform, cwd: dir, withoutCheckout: true });
    t.is(r.stdout, 'from the host\nchanged\ncreated\n', r.stderr);
    t.is(readFileSync(join(dir, 'f'), 'utf8'), 'echo from the host\n', 'a write reached the host');
    t.false(existsSync(join(dir, 'g')), 'a file created in the sandbox appeared on the host');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

maybe('--tmpfs /tmp gives an empty tmpfs, and a program it hides is reported with a hint', true, async (t, platform) => {
  const dir = await workDir(tmpdir());
  try {
    const ls = runSandbox(bb!, ['ls', '-A', '/tmp'], { platform, extraCliArgs: ['--tmpfs', '/tmp'], withoutCheckout: true });
    t.is(ls.stdout, '', ls.stderr);
    t.is(ls.status, 0);
    const mounts = runSandbox(bb!, ['cat', '/proc/mounts'], { platform, extraCliArgs: ['--tmpfs', '/tmp'], withoutCheckout: true });
    t.regex(mounts.stdout, /^tmpfs \/tmp tmpfs /m);
    for (const program of ['./hello', join(dir, 'hello')]) {
      const r = runSandbox(program, [], { platform, cwd: dir, extraCliArgs: ['--tmpfs', '/tmp'], withoutCheckout: true });
      t.is(r.status, 127);
      t.regex(r.stderr, /no such file in the sandbox \(its \/tmp is the sandbox's own: --mount the directory\)/, `${program}: ${r.stderr}`);
      t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

maybe('a root whose /tmp is empty gets a fresh tmpfs there; one whose /tmp has files keeps them', true, async (t, platform) => {
  const root = mkdtempSync(join(tmpdir(), 'tsvisor-root-'));
  try {
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'tmp'));
    copyFileSync(bb!, join(root, 'bin', 'busybox'));
    const empty = runSandbox('/bin/busybox', ['cat', '/proc/mounts'], { platform, extraCliArgs: ['--rootfs', root], withoutCheckout: true });
    t.regex(empty.stdout, /^tmpfs \/tmp tmpfs /m, empty.stderr);
    writeFileSync(join(root, 'tmp', 'kept'), 'echo kept\n');
    const full = runSandbox('/bin/busybox', ['cat', '/proc/mounts'], { platform, extraCliArgs: ['--rootfs', root], withoutCheckout: true });
    t.notRegex(full.stdout, / \/tmp /, full.stderr);
    const kept = runSandbox('/bin/busybox', ['sh', '-c', '. /tmp/kept'], { platform, extraCliArgs: ['--rootfs', root], withoutCheckout: true });
    t.is(kept.stdout, 'kept\n', kept.stderr);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--tmpfs needs an absolute path: status 2', (t) => {
  const r = runSandbox('/bin/true', [], { extraCliArgs: ['--tmpfs', 'relative'] });
  t.is(r.status, 2);
  t.regex(r.stderr, /--tmpfs relative: expected an absolute path/);
});
