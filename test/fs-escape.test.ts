// Escape attempts through the VFS. A scratch directory is the sandbox's root (--rootfs); it has an
// etc/secret saying "inside" and symlinks that point above it in every way. Every walk must end
// inside it: `..` stops at the root, absolute links start from it, loops give ELOOP, and the host's
// own /etc is never reached. With --rootfs-rw, writes land in that directory and nowhere else.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestProgram, projectRoot } from './helpers/guest-programs.js';
import { checkoutMount, cliPath, kvmSkipReason, platforms, runSandbox } from './helpers/run.js';

const skip = kvmSkipReason();

const expected = `cat /etc/secret: inside
cat /../../../../etc/secret: inside
cat ../../../../../../etc/secret: inside
cat /etc/../../etc/secret: inside
chdir("/etc") = 0
cat ../../../etc/secret: inside
chdir("../../../../..") = 0
cwd: /
cat /link-abs: inside
cat /link-up: inside
cat /dir-link/secret: inside
cat /deep/a/b/c/escape: inside
chdir("/deep/a/b/c") = 0
chdir("up-link") = 0
cwd: /
cat /etc/hostname: -1 ENOENT
cat /etc/passwd: -1 ENOENT
cat /proc/self/root/etc/secret: inside
cat /proc/self/root/../../etc/secret: inside
cat /proc/1/cwd/etc/secret: inside
open("/loop-a", O_RDONLY) = -1 ELOOP
open("/loop-self/x", O_RDONLY) = -1 ELOOP
open(name, O_RDONLY) = -1 ENAMETOOLONG
open(longpath, O_RDONLY) = -1 ENAMETOOLONG
open("/link-new", O_CREAT | O_WRONLY, 0644) = 3
write(fd, "made\\n", 5) = 5
close(fd) = 0
cat /made-by-link: made
symlink("/../../..", "/tmp/up") = 0
cat /tmp/up/etc/secret: inside
`;

/** The scratch root: the program at /bin/fs_escape and links that try to leave. */
async function makeRoot(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'tsvisor-escape-'));
  for (const d of ['etc', 'deep/a/b/c', 'bin', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'etc', 'secret'), 'inside\n');
  const links: Array<[string, string]> = [
    ['/etc/secret', 'link-abs'], ['../../../../../etc/secret', 'link-up'], ['/etc', 'dir-link'],
    ['../../../../../../etc/secret', 'deep/a/b/c/escape'], ['../../../../../../..', 'deep/a/b/c/up-link'],
    ['loop-b', 'loop-a'], ['loop-a', 'loop-b'], ['loop-self', 'loop-self'], ['/made-by-link', 'link-new'],
  ];
  for (const [target, path] of links) symlinkSync(target, join(root, path));
  copyFileSync(await guestProgram('fs_escape'), join(root, 'bin', 'fs_escape'));
  return root;
}

for (const platform of platforms) {
  for (const writable of [false, true]) {
    const title = `walks stay inside --rootfs${writable ? '-rw' : ''} [${platform}]`;
    if (skip) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, async (t) => {
      const root = await makeRoot();
      const hostMarker = '/made-by-link';
      const extra = ['--rootfs', root, ...(writable ? ['--rootfs-rw'] : [])];
      const r = runSandbox('/bin/fs_escape', [], { platform, extraCliArgs: extra });
      t.is(r.stdout, expected, r.stderr);
      t.is(r.status, 0);
      // The file created through the absolute link is in the root (rw) or nowhere (overlay).
      t.is(existsSync(join(root, 'made-by-link')), writable);
      if (writable) t.is(readFileSync(join(root, 'made-by-link'), 'utf8'), 'made\n');
      t.false(existsSync(hostMarker), 'a file was created at the host root');
      rmSync(root, { recursive: true, force: true });
    });
  }
}

test('a --rootfs that does not exist is a sandbox failure (125) with one line', (t) => {
  if (skip) return t.pass();
  const r = runSandbox('/bin/true', [], { extraCliArgs: ['--rootfs', '/nonexistent-tsvisor-root'] });
  t.is(r.status, 125);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('a program outside --rootfs is not found (127)', async (t) => {
  if (skip) return t.pass();
  const root = await makeRoot();
  const r = runSandbox(await guestProgram('hello'), [], { extraCliArgs: ['--rootfs', root], withoutCheckout: true });
  t.is(r.status, 127, r.stderr);
  rmSync(root, { recursive: true, force: true });
});

test.serial('a Gofer killed while the program runs: EIO from then on, open host fds keep working', async (t) => {
  if (skip) return t.pass();
  const program = await guestProgram('fs_gofer_dies');
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-gofer-dies-'));
  writeFileSync(join(dir, 'a'), 'alive');
  writeFileSync(join(dir, 'b'), 'b');
  const child = spawn(process.execPath, [cliPath, 'run', ...checkoutMount, '--mount', `${dir}:/mnt/dies`, '--', program, '/mnt/dies'], { cwd: projectRoot });
  let out = '';
  let killed = false;
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (!killed && out.includes('ready\n')) {
      killed = true;
      // Only the Gofer of this sandbox (it serves the root and every mount): its command line names this test's directory.
      const pids = execFileSync('pgrep', ['-f', `tsvisor-gofer .* ${dir}( |$)`], { encoding: 'utf8' }).trim().split('\n');
      for (const pid of pids) if (pid !== '') process.kill(Number(pid), 'SIGKILL');
    }
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.true(killed, out);
  t.is(status, 0);
  t.regex(out, /stat\("b", &st\) = -1 EIO\nopen\("a", O_RDONLY\) = -1 EIO\nmkdir\("d", 0755\) = -1 EIO\npread\(fd, buf, 5, 0\) = 5\nstill readable: alive\n/);
  rmSync(dir, { recursive: true, force: true });
});
