// What a user of the tsvisor command sees: exit statuses like a shell's, one-line errors, --strace.
import test from 'ava';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
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

needsKvm('a #! script runs its interpreter with its arguments, as execve does', (t) => {
  const script = join(scratch, 'script.sh');
  writeFileSync(script, '#!/bin/sh -e\necho "hi $0 $*"\nexit 3\n');
  chmodSync(script, 0o755);
  const r = runSandbox(script, ['a', 'b']);
  t.is(r.stdout, `hi ${script} a b\n`);
  t.is(r.status, 3);
});

test('a script whose interpreter is missing: status 127 and one line; a text file without #!: 126', (t) => {
  const script = join(scratch, 'no-interpreter.sh');
  writeFileSync(script, '#!/no/such/interpreter\necho hi\n');
  chmodSync(script, 0o755);
  const r = runSandbox(script);
  t.is(r.status, 127);
  oneLine(t, r.stderr);
  t.regex(r.stderr, /bad interpreter/);
  const text = join(scratch, 'text-file');
  writeFileSync(text, 'echo hi\n');
  chmodSync(text, 0o755);
  const plain = runSandbox(text);
  t.is(plain.status, 126);
  oneLine(t, plain.stderr);
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
  t.regex(r.stderr, /write\(1, "hello, world\\n", 13\) = 13 <\d+\.\d{6}>/);
  t.regex(r.stderr, /exit_group\(0\) = \?/);
  t.regex(r.stderr, /rseq\(.*\) = -1 ENOSYS/);
});

needsKvm('check: each finding on its line, the round trips measured, status 0', (t) => {
  const r = spawnSync(process.execPath, [cliPath, 'check'], { cwd: projectRoot, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '');
  const lines = r.stdout.trimEnd().split('\n');
  t.deepEqual(lines.map((l) => l.split(/ {2,}|(?<=trip) (?=\d)/)[0]), ['/dev/kvm', 'host flavour', 'vCPUs', 'Gofer', 'exit round trip', 'exitless round trip', 'ready: tsvisor run will work on this host']);
  t.regex(lines[0]!, /usable \(mode \d{3}, group \w+\)$/);
  t.regex(lines[1]!, /^host flavour {8}(VMX|SVM|PVM) \(/);
  t.regex(lines[2]!, /^vCPUs {15}\d+ tasks at once \(KVM allows \d+ per VM\)$/);
  t.regex(lines[4]!, /^exit round trip {5}\d+\.\d\d us per syscall \(kvm-exit/);
  t.regex(lines[5]!, /^exitless round trip \d+\.\d\d us per syscall \(kvm, rewritten call site\); \d+\.\d\d us per syscall trapped/);
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

/** tsvisor with these arguments, from the project root; stdin empty. */
function cli(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cliPath, ...args], { cwd: projectRoot, encoding: 'utf8', input: '', timeout: 60_000 });
}

/** A usage error: status 2 and exactly this one line. */
function usageError(t: { is(a: unknown, b: unknown, m?: string): void }, args: string[], message: string): void {
  const r = cli(args);
  t.is(r.status, 2, `tsvisor ${args.join(' ')}: ${r.stderr}`);
  t.is(r.stderr, `tsvisor: ${message}\n`);
}

test('bad option values: status 2 and one line naming the option and what it expects', (t) => {
  const run = (...opts: string[]): string[] => ['run', ...opts, '--', '/bin/true'];
  for (const bad of ['abc', '0', '-1', '1e3', '']) {
    usageError(t, run(`--timeout=${bad}`), `--timeout ${bad}: expected a number of seconds above 0 and up to 2147483, e.g. --timeout 30 or --timeout 0.5`);
  }
  usageError(t, run('--env', 'NOVALUE'), '--env NOVALUE: expected NAME=VALUE, e.g. --env LANG=C.UTF-8');
  usageError(t, run('--env', '=x'), '--env =x: expected NAME=VALUE, e.g. --env LANG=C.UTF-8');
  usageError(t, run('--cwd', 'relative/dir'), '--cwd relative/dir: expected an absolute path inside the sandbox, e.g. --cwd /tmp');
  for (const bad of ['1000', '1000:', 'root:root', '1:2:3', '4294967295:0']) {
    usageError(t, run('--user', bad), `--user ${bad}: expected UID:GID, two numbers from 0 to 4294967294, e.g. --user 1000:1000`);
  }
  for (const bad of ['two words', '-lead', 'x'.repeat(65), 'a_b']) {
    usageError(t, run(`--hostname=${bad}`), `--hostname ${bad}: expected up to 64 letters, digits, '-' and '.', e.g. --hostname sandbox`);
  }
  usageError(t, run('--strace-file', join(scratch, 'no-such-dir', 'trace')), `--strace-file ${join(scratch, 'no-such-dir', 'trace')}: cannot create it (ENOENT)`);
  usageError(t, ['--log-format', 'xml', ...run()], 'Invalid values: Argument: log-format, Given: "xml", Choices: "text", "json" (see tsvisor --help)');
  usageError(t, run('--strace-format', 'yaml'), 'Invalid values: Argument: strace-format, Given: "yaml", Choices: "text", "json" (see tsvisor --help)');
});

test('an unknown option is named once, as it was typed', (t) => {
  usageError(t, ['run', '--no-such-option', '--', '/bin/true'], 'unknown option or command: --no-such-option (see tsvisor --help)');
  usageError(t, ['run', '--log-formt', 'json', '--', '/bin/true'], 'unknown option or command: --log-formt (see tsvisor --help)');
});

test('--help lists every option with examples and the exit statuses', (t) => {
  const r = cli(['run', '--help']);
  t.is(r.status, 0);
  for (const option of ['--tty', '--interactive', '--timeout', '--env', '--clear-env', '--cwd', '--user', '--hostname', '--log-format', '--log-level', '--strace', '--strace-format', '--strace-file']) {
    t.regex(r.stdout, new RegExp(`^ +(?:-\\w, )?${option} `, 'm'), option);
  }
  t.regex(r.stdout, /Examples:\n {2}tsvisor run /);
  t.regex(r.stdout, /124 when --timeout killed it/);
});

needsKvm('--timeout kills the sandbox: status 124 and one line saying so', async (t) => {
  const sleeper = await guestProgram('long_sleep');
  for (const platform of ['kvm', 'kvm-exit'] as const) {
    const r = runSandbox(sleeper, [], { platform, extraCliArgs: ['--timeout', '0.5'] });
    t.is(r.status, 124, `${platform}: ${r.stderr}`);
    t.is(r.stderr, `tsvisor: ${sleeper} timed out after 0.5 s and was killed\n`);
  }
  // A program that computes without making a syscall is stopped as well.
  const spinner = await guestProgram('spin');
  const r = runSandbox(spinner, [], { extraCliArgs: ['--timeout', '1'] });
  t.is(r.status, 124, r.stderr);
  // Finishing in time: the program's own status.
  t.is(runSandbox('/bin/true', [], { extraCliArgs: ['--timeout', '30'] }).status, 0);
});

needsKvm('--env and --clear-env: the environment the program gets', (t) => {
  const only = runSandbox('/usr/bin/env', [], { extraCliArgs: ['--clear-env', '--env', 'A=1', '--env', 'B=x=y', '--env', 'EMPTY='] });
  t.is(only.status, 0, only.stderr);
  t.is(only.stdout, 'A=1\nB=x=y\nEMPTY=\n');
  const added = runSandbox('/usr/bin/env', [], { env: { TSVISOR_TEST_INHERITED: 'host', TSVISOR_TEST_SET: 'host' }, extraCliArgs: ['--env', 'TSVISOR_TEST_SET=sandbox'] });
  const lines = added.stdout.split('\n');
  t.true(lines.includes('TSVISOR_TEST_INHERITED=host'));
  t.true(lines.includes('TSVISOR_TEST_SET=sandbox'));
  t.false(lines.includes('TSVISOR_TEST_SET=host'));
});

needsKvm('--cwd: the working directory in the sandbox, checked as chdir would', (t) => {
  const r = runSandbox('/bin/pwd', [], { extraCliArgs: ['--cwd', '/etc'] });
  t.is(r.stdout, '/etc\n', r.stderr);
  const relative = runSandbox('/bin/cat', ['hostname'], { extraCliArgs: ['--cwd', '/etc'] });
  t.is(relative.status, 0, relative.stderr);
  usageError(t, ['run', '--cwd', '/no/such/dir', '--', '/bin/pwd'], '--cwd /no/such/dir: no such directory in the sandbox');
  usageError(t, ['run', '--cwd', '/etc/hostname', '--', '/bin/pwd'], '--cwd /etc/hostname: not a directory');
  // A --tmpfs is there already when the directory is looked up.
  t.is(runSandbox('/bin/pwd', [], { extraCliArgs: ['--tmpfs', '/work-here', '--cwd', '/work-here'] }).stdout, '/work-here\n');
});

needsKvm('--user: the ids the program sees and the permissions it gets', (t) => {
  const id = runSandbox('/bin/sh', ['-c', 'id -u; id -g; id -ru; id -rg'], { extraCliArgs: ['--user', '1234:5678'] });
  t.is(id.stdout, '1234\n5678\n1234\n5678\n', id.stderr);
  // Not root any more: a root-only file cannot be read.
  const shadow = runSandbox('/bin/cat', ['/etc/shadow'], { extraCliArgs: ['--user', '1234:5678'] });
  t.not(shadow.status, 0);
  t.regex(shadow.stderr, /Permission denied/);
});

needsKvm('--hostname: uname and /proc/sys/kernel/hostname', (t) => {
  const r = runSandbox('/bin/sh', ['-c', 'uname -n; cat /proc/sys/kernel/hostname'], { extraCliArgs: ['--hostname', 'box.example'] });
  t.is(r.stdout, 'box.example\nbox.example\n', r.stderr);
});

needsKvm('--log-format json: every log line is one JSON object', (t) => {
  const r = cli(['--log-level', 'info', '--log-format', 'json', 'run', ...checkoutMount, '--', '/bin/true']);
  t.is(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split('\n');
  t.true(lines.length >= 1);
  for (const line of lines) {
    const entry = JSON.parse(line) as { level: string; message: string; timestamp: string };
    t.true(['info', 'warn', 'error', 'debug'].includes(entry.level), line);
    t.is(typeof entry.message, 'string');
    t.false(Number.isNaN(Date.parse(entry.timestamp)), line);
  }
  t.true(lines.some((l) => (JSON.parse(l) as { message: string }).message.startsWith('host KVM flavour: ')));
});

needsKvm('--strace-file: the trace goes to the file, not to stderr', async (t) => {
  const hello = await guestProgram('hello');
  const file = join(scratch, 'trace.txt');
  const r = runSandbox(hello, [], { extraCliArgs: ['--strace-file', file] });
  t.is(r.status, 0);
  t.is(r.stdout, 'hello, world\n');
  t.is(r.stderr, '');
  const trace = readFileSync(file, 'utf8');
  t.regex(trace, /^\[pid 1\] write\(1, "hello, world\\n", 13\) = 13 <\d+\.\d{6}>$/m);
  t.regex(trace, /^\[pid 1\] exit_group\(0\) = \?$/m);
});

// As an unprivileged user (nobody), with and without the device's group, and with a device only its
// owner may open. Each case runs in a private mount namespace that binds a /dev/kvm of its own over the
// real one (a node of the same device, with the mode and group the case needs: the host's device keeps
// its mode for everyone else, whatever that mode is) and binds the checkout under a fresh directory in
// /tmp, so that the other user reaches it wherever the checkout lives (root's home is mode 700).
const canDropPrivileges = canUnshare && existsSync('/dev/kvm') && spawnSync('setpriv', ['--version']).status === 0;
/** The group a udev set-up gives /dev/kvm: kvm where it exists, else the device's own. */
const kvmGroup = ((): { gid: number; name: string } => {
  const kvm = spawnSync('getent', ['group', 'kvm'], { encoding: 'utf8' }).stdout.split(':');
  if (kvm.length >= 3) return { gid: Number(kvm[2]), name: kvm[0]! };
  const gid = existsSync('/dev/kvm') ? statSync('/dev/kvm').gid : 0;
  return { gid, name: spawnSync('getent', ['group', String(gid)], { encoding: 'utf8' }).stdout.split(':')[0] || String(gid) };
})();
function checkAsNobody(groups: string, mode: string): SpawnSyncReturns<string> {
  const { rdev } = statSync('/dev/kvm');
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-check-'));
  try {
    const checkout = `${dir}/checkout`;
    const script = [
      `mount -t tmpfs -o mode=755 none "${dir}"`,
      `mknod -m ${mode} "${dir}/kvm" c ${Math.floor(rdev / 256)} ${rdev % 256}`, `chgrp ${kvmGroup.gid} "${dir}/kvm"`, `mount --bind "${dir}/kvm" /dev/kvm`,
      `mkdir "${checkout}"`, `mount --bind "${projectRoot}" "${checkout}"`,
      `exec setpriv --reuid 65534 --regid 65534 ${groups} "${process.execPath}" "${checkout}/${relative(projectRoot, cliPath)}" check`,
    ].join(' && ');
    return spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { cwd: '/', encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
/** What went wrong, for an assertion's message. */
const described = (r: SpawnSyncReturns<string>): string => `status ${r.status} (signal ${r.signal}); stdout: ${r.stdout}; stderr: ${r.stderr}`;
(canDropPrivileges ? test : test.skip)('check as a user outside the kvm group, inside it, and with a device only its owner may open', (t) => {
  const outside = checkAsNobody('--clear-groups', '660');
  t.is(outside.status, 125, described(outside));
  t.is(outside.stdout, '');
  const { name } = kvmGroup;
  t.is(outside.stderr, `tsvisor: /dev/kvm (mode 660, group ${name}) is not usable by this user (EACCES): add your user to the ${name} group (usermod -aG ${name} $USER, then log in again), or run as root\n`);
  const inside = checkAsNobody(`--groups ${kvmGroup.gid}`, '660');
  t.is(inside.status, 0, described(inside));
  t.regex(inside.stdout, /^ready: tsvisor run will work on this host$/m);
  const ownerOnly = checkAsNobody(`--groups ${kvmGroup.gid}`, '600');
  t.is(ownerOnly.status, 125, described(ownerOnly));
  t.is(ownerOnly.stderr, `tsvisor: /dev/kvm (mode 600, group ${name}) is not usable by this user (EACCES): only its owner may open it: chgrp kvm /dev/kvm && chmod 660 /dev/kvm (as udev sets it up), then add your user to the kvm group; or run as root\n`);
});

needsKvm('tsvisor trace PID on|off switches --strace while the sandbox runs', async (t) => {
  const program = await guestProgram('trace_phases');
  const child = spawn(process.execPath, [cliPath, 'run', ...checkoutMount, '--', program], { cwd: projectRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  const poke = (): void => { for (const w of waiters.splice(0)) w(); };
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); poke(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); poke(); });
  const until = async (what: () => boolean): Promise<void> => {
    while (!what()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { poke(); resolve(code); }));
  const trace = (state: string): void => {
    const r = cli(['trace', String(child.pid), state]);
    t.is(r.status, 0, r.stderr);
  };
  await until(() => stdout.includes('phase 1\n'));
  trace('on');
  await until(() => stderr.includes('tsvisor: tracing on\n'));
  child.stdin.write('go\n');
  await until(() => stdout.includes('phase 2\n'));
  trace('off');
  await until(() => stderr.includes('tsvisor: tracing off\n'));
  child.stdin.write('go\n');
  t.is(await exited, 0);
  t.is(stdout, 'phase 1\nphase 2\nphase 3\n');
  t.is(stderr.match(/\] getuid\(\) = \d+ </g)?.length, 3, stderr);
  t.notRegex(stderr, /getppid|getgid/);
  // The read that waited for the second line began while tracing was on: it is shown to its end.
  t.regex(stderr, /\] read\(0, <unfinished \.\.\.>\n(.|\n)*\] <\.\.\. read resumed>"go\\n", \d+\) = 3 </);
});

test('tsvisor trace: bad process ids are usage errors', (t) => {
  usageError(t, ['trace', 'abc', 'on'], 'trace abc: expected the process id of a tsvisor run, e.g. tsvisor trace 4242 on');
  usageError(t, ['trace', String(process.pid), 'on'], `trace ${process.pid}: not a tsvisor run`);
  usageError(t, ['trace', '4000000000', 'off'], 'trace 4000000000: no such process');
  usageError(t, ['trace', String(process.pid), 'maybe'], 'Invalid values: Argument: state, Given: "maybe", Choices: "on", "off" (see tsvisor --help)');
});

needsKvm('--stats=json: per-syscall counts, errors and latency histograms, paging, memory and the start-up phases', async (t) => {
  const program = await guestProgram('strace_calls');
  const r = runSandbox(program, [], { extraCliArgs: ['--stats=json'] });
  t.is(r.status, 0, r.stderr);
  const report = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as {
    flavour: string; mode: string; platform: { exit_events: number; exitless_since_ms: number | null }; exit: { status: number };
    syscalls: { total: number; by_name: Record<string, { count: number; errors: number; latency_us: Record<string, number> }> };
    syscall_sites_patched: number; page_faults: { served: number }; page_tables: { updates: number; replayed_by_guest: number };
    memory: { guest_peak_bytes: number; returned_to_host_bytes: number; sentry_rss_bytes: number };
    tlb_shootdowns: { total: number; waited: number };
    phases_ms: { cli: number; sandbox_setup: number; program: number; teardown: number };
    startup_ms: Record<string, number>;
  };
  t.deepEqual(Object.keys(report), [
    'flavour', 'mode', 'platform', 'vdso', 'exit', 'syscalls', 'syscall_sites_patched', 'page_faults', 'page_tables', 'memory', 'tasks',
    'tlb_shootdowns', 'phases_ms', 'startup_ms',
  ]);
  // One thread: nobody else to flush for.
  t.deepEqual(report.tlb_shootdowns, { total: 0, waited: 0 });
  // The steps of the start, in the order they happen.
  const steps = ['node_ready', 'modules_loaded', 'vm_created', 'gofer_ready', 'program_loaded', 'first_syscall', 'exited'].map((s) => report.startup_ms[s]!);
  t.true(steps.every((at, i) => at > 0 && (i === 0 || at >= steps[i - 1]!)), JSON.stringify(report.startup_ms));
  t.is(report.mode, 'kvm');
  t.is(report.exit.status, 0);
  const calls = Object.entries(report.syscalls.by_name);
  t.is(calls.reduce((sum, [, c]) => sum + c.count, 0), report.syscalls.total);
  for (const [name, c] of calls) {
    t.is(Object.values(c.latency_us).reduce((a, b) => a + b, 0), c.count, name);
    for (const bucket of Object.keys(c.latency_us)) t.regex(bucket, /^(<|>=)\d+$/);
  }
  // The program's own calls: four opens, one of them of a missing file.
  t.is(report.syscalls.by_name.openat?.count, 4);
  t.is(report.syscalls.by_name.openat?.errors, 1);
  t.is(report.syscalls.by_name.writev?.count, 1);
  t.is(report.syscalls.by_name.exit_group?.count, 1);
  t.true(Number.isInteger(report.page_faults.served) && report.memory.guest_peak_bytes > 0 && report.memory.sentry_rss_bytes > 0);
  t.true(report.page_tables.updates > 0);
  // A program this short never leaves VM exits (--exitless-after's 1000 events), so no call site is rewritten.
  t.is(report.platform.exitless_since_ms, null);
  t.true(report.platform.exit_events >= report.syscalls.total, JSON.stringify(report.platform));
  t.is(report.syscall_sites_patched, 0);
  const turned = runSandbox(program, [], { extraCliArgs: ['--stats=json', '--exitless-after', '0'] });
  const exitless = JSON.parse(turned.stderr.trim().split('\n').at(-1)!) as typeof report;
  t.is(exitless.platform.exit_events, 0);
  t.true(exitless.platform.exitless_since_ms! > 0 && exitless.syscall_sites_patched > 0, JSON.stringify(exitless.platform));
  for (const phase of ['cli', 'sandbox_setup', 'program', 'teardown'] as const) t.true(report.phases_ms[phase] >= 0, phase);
  usageError(t, ['run', '--stats=xml', '--', '/bin/true'], '--stats=xml: expected --stats (lines) or --stats=json');
  usageError(t, ['run', '--exitless-after', '1.5', '--', '/bin/true'], '--exitless-after must be a whole number of events, 0 or more (0: exitless from the start)');
});

needsKvm('--report-unsupported: what the program used that the sandbox lacks, with counts', async (t) => {
  const program = await guestProgram('unsupported_calls');
  const r = runSandbox(program, [], { extraCliArgs: ['--report-unsupported', '--log-level', 'error'] });
  t.is(r.status, 0, r.stderr);
  const report = r.stderr.trim().split('\n').map((l) => l.split(/ {2,}/));
  t.deepEqual(report, [
    ['tsvisor unsupported: file /proc/sys/kernel/no-such-file', '3'],
    ['tsvisor unsupported: syscall sethostname', '2'],
    ['tsvisor unsupported: ioctl 0x5412 (TIOCSTI)', '1'],
    ['tsvisor unsupported: socket option SOL_SOCKET SO_KEEPALIVE', '1'],
    ['tsvisor unsupported: syscall rseq', '1'],
  ]);
  const none = runSandbox('/bin/true', [], { extraCliArgs: ['--report-unsupported', '--log-level', 'error', '--cwd', '/'] });
  t.regex(none.stderr, /^tsvisor unsupported: syscall rseq {2}1\n$/);
});
