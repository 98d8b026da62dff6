// Debian's busybox-static applets on the sandbox's files: the overlay root (the host's / read-only,
// changes kept in the sandbox), /tmp (tmpfs), and host directories given with --mount (written
// through the Gofer). Output is compared with the same applet run natively, and host directories are
// checked afterwards: unchanged under the overlay, changed as asked under --mount.
// (`busybox sh -c 'a | b'` needs fork and is left out; the shell's builtins work.)
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxPath, kvmSkipReason, overlayScratchBase, type Platform, platforms, runNative, runSandbox } from './helpers/run.js';

const busybox = busyboxPath();
const skip = busybox ? kvmSkipReason() : '/bin/busybox is missing (apt-get install busybox-static)';
const bb = busybox ?? '/bin/busybox';

/** A directory visible through the overlay root (the host's /tmp is hidden by the sandbox's tmpfs). */
function buildDir(tag: string): string {
  const dir = join(overlayScratchBase, `fs-bb-${tag}-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function tree(dir: string): void {
  mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(dir, 'one.txt'), 'one\n');
  writeFileSync(join(dir, 'sub', 'two.txt'), 'two\n'.repeat(1000));
  writeFileSync(join(dir, 'sub', 'deeper', 'three'), randomBytes(20000));
  symlinkSync('one.txt', join(dir, 'link'));
}

/** Names, modes, sizes and contents below dir. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const s = lstatSync(p);
      out.push(`${rel}/${name} ${s.mode.toString(8)} ${s.isDirectory() ? '' : s.size}`);
      if (s.isDirectory()) walk(p, `${rel}/${name}`);
      else if (s.isSymbolicLink()) out.push(`-> ${readlinkSync(p)}`);
      else out.push(readFileSync(p).toString('base64'));
    }
  };
  walk(dir, '');
  return out.join('\n');
}

function sorted(s: string): string {
  return s.split('\n').filter((l) => l !== '').sort().join('\n');
}

type Case = (t: ExecutionContext, platform: Platform) => void;

const cases: Array<[string, Case]> = [
  ['ls -la / lists the host root', (t, platform) => {
    const native = runNative(bb, ['ls', '-a', '/']);
    const boxed = runSandbox(bb, ['ls', '-a', '/'], { platform });
    t.is(boxed.stdout, native.stdout, boxed.stderr);
    const long = runSandbox(bb, ['ls', '-la', '/'], { platform });
    t.is(long.status, 0, long.stderr);
    t.regex(long.stdout, /^d.* etc$/m);
    t.regex(long.stdout, /^dr-xr-xr-x .* proc$/m);
  }],
  ['cat /etc/os-release', (t, platform) => {
    const native = runNative(bb, ['cat', '/etc/os-release']);
    const boxed = runSandbox(bb, ['cat', '/etc/os-release'], { platform });
    t.is(boxed.stdout, native.stdout, boxed.stderr);
    t.is(boxed.status, 0);
  }],
  ['sha256sum of a 10 MB file, through the overlay and through --mount', (t, platform) => {
    const dir = buildDir('sha');
    const file = join(dir, 'big');
    writeFileSync(file, randomBytes(10 * 1024 * 1024));
    const native = runNative(bb, ['sha256sum', file]);
    const viaOverlay = runSandbox(bb, ['sha256sum', file], { platform });
    t.is(viaOverlay.stdout, native.stdout, viaOverlay.stderr);
    const viaMount = runSandbox(bb, ['sha256sum', '/mnt/sha/big'], { platform, extraCliArgs: ['--mount', `${dir}:/mnt/sha:ro`] });
    t.is(viaMount.stdout.split(' ')[0], native.stdout.split(' ')[0], viaMount.stderr);
    rmSync(dir, { recursive: true, force: true });
  }],
  ['find and tar of a directory match the native run', (t, platform) => {
    const dir = buildDir('find');
    tree(dir);
    const native = runNative(bb, ['find', dir]);
    const boxed = runSandbox(bb, ['find', dir], { platform });
    t.is(sorted(boxed.stdout), sorted(native.stdout), boxed.stderr);
    const out = mkdtempSync(join(tmpdir(), 'tsvisor-tar-'));
    const tar = runSandbox(bb, ['tar', 'cf', '/mnt/out/t.tar', '-C', dir, '.'], { platform, extraCliArgs: ['--mount', `${out}:/mnt/out`] });
    t.is(tar.status, 0, tar.stderr);
    const extracted = join(out, 'x');
    mkdirSync(extracted);
    execFileSync('tar', ['xf', join(out, 't.tar'), '-C', extracted]);
    t.is(snapshot(extracted), snapshot(dir));
    rmSync(out, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }],
  ['cp -r, mv and rm -r on a --mount directory change the host', (t, platform) => {
    const src = buildDir('cp-src');
    tree(src);
    const out = mkdtempSync(join(tmpdir(), 'tsvisor-cp-'));
    const mount = ['--mount', `${out}:/mnt/out`];
    const cp = runSandbox(bb, ['cp', '-r', src, '/mnt/out/copy'], { platform, extraCliArgs: mount });
    t.is(cp.status, 0, cp.stderr);
    t.is(snapshot(join(out, 'copy')), snapshot(src));
    const mv = runSandbox(bb, ['mv', '/mnt/out/copy/one.txt', '/mnt/out/moved.txt'], { platform, extraCliArgs: mount });
    t.is(mv.status, 0, mv.stderr);
    t.false(existsSync(join(out, 'copy', 'one.txt')));
    t.is(readFileSync(join(out, 'moved.txt'), 'utf8'), 'one\n');
    const rm = runSandbox(bb, ['rm', '-r', '/mnt/out/copy'], { platform, extraCliArgs: mount });
    t.is(rm.status, 0, rm.stderr);
    t.deepEqual(readdirSync(out), ['moved.txt']);
    rmSync(out, { recursive: true, force: true });
    rmSync(src, { recursive: true, force: true });
  }],
  ['cp, mv and rm -r on the overlay root leave the host unchanged', (t, platform) => {
    const dir = buildDir('ovl');
    tree(dir);
    const before = snapshot(dir);
    for (const args of [
      ['cp', '-r', join(dir, 'sub'), join(dir, 'sub-copy')],
      ['mv', join(dir, 'one.txt'), join(dir, 'renamed.txt')],
      ['rm', '-r', join(dir, 'sub')],
      ['rm', '-rf', '/etc/apt'],
      ['mv', '/etc/hostname', '/etc/hostname.moved'],
    ]) {
      const r = runSandbox(bb, args, { platform });
      t.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    t.is(snapshot(dir), before);
    t.true(existsSync('/etc/apt'));
    t.true(existsSync('/etc/hostname'));
    rmSync(dir, { recursive: true, force: true });
  }],
  ['writing under /tmp and under / (overlay) is read back in the same run', (t, platform) => {
    // The files are read back by sourcing them (`read` needs poll, which the Sentry lacks so far).
    const script = 'echo "echo tmp: hello" > /tmp/f && . /tmp/f && ' +
      'echo "echo root: world" > /etc/tsvisor-written && . /etc/tsvisor-written && ' +
      'echo "echo appended" >> /etc/os-release && . /etc/os-release';
    const r = runSandbox(bb, ['sh', '-c', script], { platform });
    t.is(r.stdout, 'tmp: hello\nroot: world\nappended\n', r.stderr);
    t.false(existsSync('/etc/tsvisor-written'));
    t.false(readFileSync('/etc/os-release', 'utf8').includes('appended'));
  }],
];

for (const [name, run] of cases) {
  for (const platform of platforms) {
    const title = `busybox: ${name} [${platform}]`;
    if (skip) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, (t) => run(t, platform));
  }
}
