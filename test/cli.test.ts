// What a user of the tsvisor command sees: exit statuses like a shell's, one-line errors, --strace.
import test from 'ava';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestProgram, projectRoot } from './helpers/guest-programs.js';
import { checkoutMount, cliPath, kvmSkipReason, runSandbox } from './helpers/run.js';

const skip = kvmSkipReason();
const needsKvm = skip === null ? test : test.skip;
// Under the project: the sandbox sees the host's files there.
mkdirSync(join(projectRoot, 'build'), { recursive: true });
const scratch = mkdtempSync(join(projectRoot, 'build', 'cli-test-'));

function oneLine(t: { true(v: boolean, m?: string): void }, stderr: string): void {
  t.true(stderr.trim().split('\n').length === 1, `expected one line, got: ${stderr}`);
}

test('a program that does not exist: status 127 and one line', (t) => {
  const r = runSandbox(join(scratch, 'missing'));
  t.is(r.status, 127);
  oneLine(t, r.stderr);
  t.regex(r.stderr, /missing: no such file/);
});

test('a command not in PATH: status 127', (t) => {
  const r = runSandbox('tsvisor-no-such-command');
  t.is(r.status, 127);
  t.regex(r.stderr, /command not found/);
});

test('a shell script is not an ELF executable: status 126 and one line', (t) => {
  const script = join(scratch, 'script.sh');
  writeFileSync(script, '#!/bin/sh\necho hi\n');
  chmodSync(script, 0o755);
  const r = runSandbox(script);
  t.is(r.status, 126);
  oneLine(t, r.stderr);
});

needsKvm('a dynamically linked program runs: its status is its own', (t) => {
  t.is(runSandbox('/bin/true').status, 0);
  t.is(runSandbox('/bin/false').status, 1);
});

needsKvm('a dynamic program whose interpreter is missing: status 127 and one line naming it', (t) => {
  const source = join(scratch, 'hello.c');
  writeFileSync(source, 'int main(void) { return 0; }\n');
  const program = join(scratch, 'no-interp');
  const built = spawnSync('gcc', ['-O2', '-Wl,--dynamic-linker=/nonexistent/ld-tsvisor.so', '-o', program, source], { encoding: 'utf8' });
  t.is(built.status, 0, built.stderr);
  const r = runSandbox(program);
  t.is(r.status, 127);
  oneLine(t, r.stderr);
  t.regex(r.stderr, /interpreter \/nonexistent\/ld-tsvisor\.so \(ENOENT\)/);
});

test('run without a program is a usage error: status 2', (t) => {
  const r = spawnSync(process.execPath, [cliPath, 'run'], { cwd: projectRoot, encoding: 'utf8' });
  t.is(r.status, 2);
  oneLine(t, r.stderr);
});

test('an unknown option is a usage error: status 2', (t) => {
  const r = spawnSync(process.execPath, [cliPath, 'run', '--no-such-option', '--', '/bin/true'], { cwd: projectRoot, encoding: 'utf8' });
  t.is(r.status, 2);
});

needsKvm('--strace prints each syscall with its result', async (t) => {
  const hello = await guestProgram('hello');
  const r = runSandbox(hello, [], { extraCliArgs: ['--strace'] });
  t.is(r.status, 0);
  t.regex(r.stderr, /write\(1, 0x[0-9a-f]+, 13\) = 13/);
  t.regex(r.stderr, /exit_group\(0\) = \?/);
  t.regex(r.stderr, /rseq\(.*\) = -1 ENOSYS/);
});

needsKvm('check reports the host flavour', (t) => {
  const r = spawnSync(process.execPath, [cliPath, 'check'], { cwd: projectRoot, encoding: 'utf8' });
  t.is(r.status, 0);
  t.regex(r.stdout, /host flavour: (pvm|vmx|svm)/);
});

// Some hosts (chroots, minimal containers) have no /proc: the Gofer must still open files for the Sentry.
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--mount', 'true']).status === 0;

/**
 * `tsvisor check` in a private mount namespace prepared by `setup` (a shell script run as root first).
 * Root, so that it reads the checkout wherever it lives (a run as an unprivileged user cannot read one
 * in a 0700 home directory); the namespace takes /dev/kvm away instead.
 */
function checkInNamespace(setup: string): SpawnSyncReturns<string> {
  const script = `${setup} && exec "${process.execPath}" "${cliPath}" check`;
  return spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { cwd: projectRoot, encoding: 'utf8' });
}

// A bind mount of /dev/kvm with nodev: opening the device fails with EACCES, even for root, as it does
// for a user outside the kvm group.
(canUnshare && existsSync('/dev/kvm') ? test : test.skip)('without access to /dev/kvm: status 125 and what to do', (t) => {
  const r = checkInNamespace('mount --bind /dev/kvm /dev/kvm && mount -o remount,bind,nodev /dev/kvm');
  t.is(r.status, 125, `tsvisor check ended with status ${r.status} (signal ${r.signal}); stdout: ${r.stdout}; stderr: ${r.stderr}`);
  oneLine(t, r.stderr);
  t.regex(r.stderr, /\/dev\/kvm.*(kvm group|root)/);
});

// An empty /dev: no KVM at all on this host, as far as tsvisor can tell.
(canUnshare ? test : test.skip)('without /dev/kvm: status 125 and what to do', (t) => {
  const r = checkInNamespace('mount -t tmpfs none /dev');
  t.is(r.status, 125, `tsvisor check ended with status ${r.status} (signal ${r.signal}); stdout: ${r.stdout}; stderr: ${r.stderr}`);
  oneLine(t, r.stderr);
  t.regex(r.stderr, /\/dev\/kvm.*(kvm_intel|nested virtualization)/);
});
(canUnshare && skip === null ? test : test.skip)('runs a program on a host without /proc', async (t) => {
  const hello = await guestProgram('hello');
  const script = `umount -l /proc && exec "${process.execPath}" "${cliPath}" run ${checkoutMount.join(' ')} -- "${hello}"`;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { cwd: projectRoot, encoding: 'utf8' });
  t.is(r.stdout, 'hello, world\n', r.stderr);
  t.is(r.status, 0);
});
