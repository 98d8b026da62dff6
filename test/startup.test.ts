// The installed command (the bundle in dist/bundle, package.json's bin): it answers as the modules
// in dist/src do, its --version and --help come from the saved text without yargs, --stats gives the
// steps of the start in order, and a sandbox has one Gofer process whatever it mounts, started before
// the command line is read.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestProgram, projectRoot } from './helpers/guest-programs.js';
import { busyboxPath, checkoutMount, cliPath, kvmSkipReason } from './helpers/run.js';

const bundled = join(projectRoot, 'dist', 'bundle', 'cli', 'tsvisor.cjs');
const skip = kvmSkipReason();
const needsKvm = skip === null ? test : test.skip;
// Serial, for tests that run the command many times in spawnSync: that holds the worker's event loop,
// and a test that reads a running sandbox's processes as it prints would find it long over.
const needsKvmSerial = skip === null ? test.serial : test.skip;

function run(cli: string, args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('package.json\'s bin is the bundle', (t) => {
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  t.is(join(projectRoot, pkg.bin.tsvisor!), bundled);
});

test('--version and --help of the bundle are yargs\' own, saved or not', (t) => {
  for (const args of [['--version'], ['--help'], ['run', '--help'], ['check', '--help']]) {
    const modules = run(cliPath, args);
    const saved = run(bundled, args);
    // YARGS_DISABLE_WRAP turns the saved answers off: the bundle's yargs answers, unwrapped.
    const live = run(bundled, args, { ...process.env, YARGS_DISABLE_WRAP: '1' });
    const liveModules = run(cliPath, args, { ...process.env, YARGS_DISABLE_WRAP: '1' });
    t.is(modules.status, 0);
    t.deepEqual(saved, modules, args.join(' '));
    t.deepEqual(live, liveModules, `${args.join(' ')} without wrapping`);
  }
});

test('bad usage from the bundle: one line and status 2', (t) => {
  const r = run(bundled, ['run', '--memory', 'lots', '--', '/bin/true']);
  t.is(r.status, 2);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.deepEqual(r, run(cliPath, ['run', '--memory', 'lots', '--', '/bin/true']));
});

needsKvm('--stats gives the steps of the start in the order they happen', async (t) => {
  const program = await guestProgram('exit42');
  const r = run(bundled, ['run', ...checkoutMount, '--stats', '--', program]);
  t.is(r.status, 42, r.stderr);
  const steps = ['Node.js ready', 'modules loaded', 'VM created', 'Gofer ready', 'program loaded', 'first syscall', 'exit'];
  const at = steps.map((step) => {
    const m = new RegExp(`start: ${step} +([\\d.]+) ms`).exec(r.stderr);
    t.not(m, null, `${step} in ${r.stderr}`);
    return Number(m?.[1]);
  });
  for (let i = 1; i < at.length; i++) t.true(at[i]! >= at[i - 1]!, `${steps[i]} (${at[i]} ms) before ${steps[i - 1]} (${at[i - 1]} ms)`);
});

// Run as installed: the file itself, whose first line starts Node.js without the certificates Node.js
// would parse at every start; the program still gets the variable as the user set it.
(skip === null && busyboxPath() !== null ? test : test.skip)('the command\'s Node.js starts without NODE_EXTRA_CA_CERTS; the program gets it', (t) => {
  const show = ['run', ...checkoutMount, '--', busyboxPath()!, 'sh', '-c', 'echo "[${NODE_EXTRA_CA_CERTS-unset}] [${TSVISOR_NODE_EXTRA_CA_CERTS-unset}]"'];
  const asInstalled = (env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(bundled, show, { encoding: 'utf8', env, timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const base = { ...process.env };
  delete base.NODE_EXTRA_CA_CERTS;
  // A file that is not there: a Node.js that reads the variable warns about it on stderr.
  const missing = join(tmpdir(), 'tsvisor-no-such-certificates.pem');
  t.regex(spawnSync(process.execPath, ['-e', '0'], { encoding: 'utf8', env: { ...base, NODE_EXTRA_CA_CERTS: missing } }).stderr, /extra certs/);
  t.deepEqual(asInstalled({ ...base, NODE_EXTRA_CA_CERTS: missing }), { status: 0, stdout: `[${missing}] [unset]\n`, stderr: '' });
  t.deepEqual(asInstalled({ ...base, NODE_EXTRA_CA_CERTS: '/a b/$HOME\'s "certs"' }), { status: 0, stdout: '[/a b/$HOME\'s "certs"] [unset]\n', stderr: '' });
  t.deepEqual(asInstalled(base), { status: 0, stdout: '[unset] [unset]\n', stderr: '' });
});

(skip === null && busyboxPath() !== null ? test : test.skip)('one Gofer process serves the root and every --mount', async (t) => {
  const dirs = [mkdtempSync(join(tmpdir(), 'tsvisor-one-gofer-')), mkdtempSync(join(tmpdir(), 'tsvisor-one-gofer-'))];
  writeFileSync(join(dirs[1]!, 'seen'), 'yes\n');
  try {
    const mounts = dirs.flatMap((d, i) => ['--mount', `${d}:/mnt/${i}`]);
    const child = spawn(process.execPath, [bundled, 'run', ...checkoutMount, ...mounts, '--', busyboxPath()!, 'sh', '-c', 'cat /mnt/1/seen; sleep 5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const seen = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    t.is(seen, 'yes\n');
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter((p) => p !== '');
    const gofers = children.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('tsvisor-gofer');
      } catch {
        return false;
      }
    });
    t.is(gofers.length, 1, `children: ${children.join(', ')}`);
    // It holds each directory it serves open (O_PATH): the command started it before it knew them.
    const open = readdirSync(`/proc/${gofers[0]}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${gofers[0]}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    for (const d of dirs) t.true(open.includes(d), `${d} among the Gofer's fds: ${open.join(' ')}`);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('close', resolve));
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

needsKvmSerial('the code cache: written in the user\'s cache directory by a run whose program ran, then used as it is', async (t) => {
  const program = await guestProgram('exit42');
  const home = mkdtempSync(join(tmpdir(), 'tsvisor-code-cache-'));
  const env = { ...process.env, XDG_CACHE_HOME: home };
  const dir = join(home, 'tsvisor');
  const files = (): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  try {
    t.is(run(bundled, ['run', '--help'], env).status, 0);
    t.is(run(bundled, ['run', '--memory', 'lots', '--', program], env).status, 2);
    t.deepEqual(files(), [], 'no cache from help or bad usage');
    const first = run(bundled, ['run', ...checkoutMount, '--', program], env);
    t.is(first.status, 42, first.stderr);
    t.is(files().length, 1, files().join(' '));
    const cache = join(dir, files()[0]!);
    t.is(statSync(dir).mode & 0o777, 0o700);
    t.is(statSync(cache).mode & 0o777, 0o600);
    const written = statSync(cache);
    t.deepEqual(run(bundled, ['run', ...checkoutMount, '--', program], env), first);
    t.is(statSync(cache).mtimeMs, written.mtimeMs, 'a cache V8 took is not written again');
    // Garbage is V8's to reject: the run is the same, and the cache is made again.
    writeFileSync(cache, 'not a code cache');
    t.deepEqual(run(bundled, ['run', ...checkoutMount, '--', program], env), first);
    t.not(readFileSync(cache, 'utf8').slice(0, 16), 'not a code cache');
    // A cache others may write is not read: it is replaced by one of the user's own.
    chmodSync(cache, 0o666);
    t.deepEqual(run(bundled, ['run', ...checkoutMount, '--', program], env), first);
    t.is(statSync(cache).mode & 0o777, 0o600);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

needsKvmSerial('no place for the code cache: the command runs the same', async (t) => {
  const program = await guestProgram('exit42');
  const home = mkdtempSync(join(tmpdir(), 'tsvisor-code-cache-'));
  try {
    const file = join(home, 'a-file');
    writeFileSync(file, '');
    const expected = run(bundled, ['run', ...checkoutMount, '--', program]);
    t.is(expected.status, 42, expected.stderr);
    t.deepEqual(run(bundled, ['run', ...checkoutMount, '--', program], { ...process.env, XDG_CACHE_HOME: file }), expected);
    const { HOME: _home, XDG_CACHE_HOME: _xdg, ...noHome } = process.env;
    t.deepEqual(run(bundled, ['run', ...checkoutMount, '--', program], noHome), expected);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
