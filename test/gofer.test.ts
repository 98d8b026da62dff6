// The Gofer against the host kernel: every request on a scratch tree, checked against what Node's fs
// says about the same tree; read-only mode; fds and processes not leaked. No /dev/kvm needed.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import {
  closeSync, existsSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync,
  readSync, rmSync, statfsSync, statSync, symlinkSync, writeFileSync, writeSync, type BigIntStats,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  EACCES, EBUSY, EEXIST, EINVAL, EIO, EISDIR, ELOOP, ENOENT, ENOTDIR, ENOTEMPTY, EOPNOTSUPP, EPERM, EROFS, Errno,
} from '../src/abi/errno.js';
import { GoferClient, type GoferStat } from '../src/gofer/client.js';
import {
  DT_DIR, DT_LNK, DT_REG, O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY,
  RENAME_EXCHANGE, RENAME_NOREPLACE,
} from '../src/gofer/protocol.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'tsvisor-gofer-'));
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

let treeCount = 0;
/**
 * A fresh tree: root/{file.txt, dir/{inner.txt, sub/}, link-passwd -> /etc/passwd, link-up -> ../../..,
 * link-rel -> dir/inner.txt}, beside outside/secret.txt that nothing may reach.
 */
function makeTree(): { root: string; secret: string } {
  const base = path.join(scratch, `t${treeCount++}`);
  const root = path.join(base, 'root');
  mkdirSync(path.join(root, 'dir', 'sub'), { recursive: true });
  mkdirSync(path.join(base, 'outside'));
  writeFileSync(path.join(root, 'file.txt'), 'hello gofer\n');
  writeFileSync(path.join(root, 'dir', 'inner.txt'), 'inner\n');
  symlinkSync('/etc/passwd', path.join(root, 'link-passwd'));
  symlinkSync('../../..', path.join(root, 'link-up'));
  symlinkSync('dir/inner.txt', path.join(root, 'link-rel'));
  const secret = path.join(base, 'outside', 'secret.txt');
  writeFileSync(secret, 'secret\n');
  return { root, secret };
}

function withGofer(t: ExecutionContext, readOnly: boolean, fn: (c: GoferClient, root: string, secret: string) => void): void {
  const { root, secret } = makeTree();
  const c = GoferClient.start(root, { readOnly });
  try {
    t.is(c.ready(), null);
    fn(c, root, secret);
  } finally {
    c.close();
  }
}

function ok<T>(t: ExecutionContext, v: T | Errno): T {
  if (v instanceof Errno) t.fail(`unexpected ${v.name}`);
  return v as T;
}

function sameStat(t: ExecutionContext, got: GoferStat | Errno, host: BigIntStats, what: string): void {
  const s = ok(t, got);
  t.deepEqual(
    [s.dev, s.ino, s.mode, s.nlink, s.uid, s.gid, s.rdev, s.size, s.blksize, s.blocks, s.mtimeNs, s.ctimeNs],
    [host.dev, host.ino, host.mode, host.nlink, host.uid, host.gid, host.rdev, host.size, host.blksize, host.blocks, host.mtimeNs, host.ctimeNs].map((v, i) => (i >= 10 ? v : Number(v))),
    what,
  );
}

function readAll(fd: number): string {
  const buf = Buffer.alloc(4096);
  const n = readSync(fd, buf, 0, buf.length, 0);
  return buf.subarray(0, n).toString();
}

test('stat is lstat of the same file, for files, directories, symlinks and the root', (t) => {
  withGofer(t, false, (c, root) => {
    for (const p of [[], ['file.txt'], ['dir'], ['dir', 'inner.txt'], ['dir', 'sub'], ['link-passwd'], ['link-up'], ['link-rel']]) {
      sameStat(t, c.stat(p), lstatSync(path.join(root, ...p), { bigint: true }), p.join('/'));
    }
    t.is(c.stat(['missing']), ENOENT);
    t.is(c.stat(['file.txt', 'x']), ENOTDIR);
  });
});

test('open hands over a host fd that reads and writes the file', (t) => {
  withGofer(t, false, (c, root) => {
    const r = ok(t, c.open(['file.txt'], O_RDONLY, 0));
    t.is(readAll(r.fd), 'hello gofer\n');
    sameStat(t, r.stat, lstatSync(path.join(root, 'file.txt'), { bigint: true }), 'stat of the opened file');
    t.is(fstatSync(r.fd).ino, r.stat.ino);
    closeSync(r.fd);

    const created = ok(t, c.open(['dir', 'new.txt'], O_CREAT | O_EXCL | O_RDWR, 0o640));
    writeSync(created.fd, 'created');
    closeSync(created.fd);
    t.is(readFileSync(path.join(root, 'dir', 'new.txt'), 'utf8'), 'created');
    t.is(statSync(path.join(root, 'dir', 'new.txt')).mode & 0o777, 0o640, 'the mode as given: the Sentry applies the umask');
    t.is(c.open(['dir', 'new.txt'], O_CREAT | O_EXCL | O_WRONLY, 0o600), EEXIST);

    const appended = ok(t, c.open(['dir', 'new.txt'], O_WRONLY | O_APPEND, 0));
    writeSync(appended.fd, '+more');
    closeSync(appended.fd);
    t.is(readFileSync(path.join(root, 'dir', 'new.txt'), 'utf8'), 'created+more');

    const truncated = ok(t, c.open(['dir', 'new.txt'], O_WRONLY | O_TRUNC, 0));
    t.is(truncated.stat.size, 0);
    closeSync(truncated.fd);

    const again = ok(t, c.open(['file.txt'], O_CREAT | O_RDONLY, 0o600)); // O_CREAT of an existing file opens it
    closeSync(again.fd);

    const dir = ok(t, c.open(['dir'], O_RDONLY | O_DIRECTORY, 0));
    t.true(fstatSync(dir.fd).isDirectory());
    closeSync(dir.fd);
    const rootDir = ok(t, c.open([], O_RDONLY | O_DIRECTORY, 0));
    t.is(fstatSync(rootDir.fd).ino, statSync(root).ino);
    closeSync(rootDir.fd);

    t.is(c.open(['file.txt'], O_RDONLY | O_DIRECTORY, 0), ENOTDIR);
    t.is(c.open(['dir'], O_WRONLY, 0), EISDIR);
    t.is(c.open(['missing'], O_RDONLY, 0), ENOENT);
    t.is(c.open(['missing', 'x'], O_CREAT | O_WRONLY, 0o600), ENOENT);
    t.is(c.open(['file.txt'], 3, 0), EINVAL);
    t.is(c.open(['link-rel'], O_RDONLY, 0), ELOOP, 'the last component is never followed');
  });
});

test('devices and FIFOs under the root are never opened', (t) => {
  withGofer(t, false, (c, root) => {
    const fifo = path.join(root, 'fifo');
    execFileSync('mkfifo', [fifo]); // Node has no mkfifo
    // Opening a FIFO for reading would block the Gofer until a writer came: it is refused instead.
    t.is(c.open(['fifo'], O_RDONLY, 0), EACCES);
    t.is(c.open(['fifo'], O_WRONLY, 0), EACCES);
    t.is(ok(t, c.stat(['fifo'])).mode & 0o170000, 0o010000);
  });
});

test('readdir lists what the host lists, with inode numbers and types, in several replies when large', (t) => {
  withGofer(t, false, (c, root) => {
    const entries = ok(t, c.readdir([]));
    t.deepEqual(entries.map((e) => e.name).sort(), readdirSync(root).sort());
    for (const e of entries) {
      const st = lstatSync(path.join(root, e.name));
      t.is(e.ino, st.ino, e.name);
      t.is(e.type, st.isDirectory() ? DT_DIR : st.isSymbolicLink() ? DT_LNK : DT_REG, e.name);
    }
    // ~600 KB of names: more than ten 64 KB replies.
    const big = path.join(root, 'big');
    mkdirSync(big);
    const names = Array.from({ length: 2500 }, (_, i) => `${String(i).padStart(5, '0')}-${'n'.repeat(240)}`);
    for (const n of names) writeFileSync(path.join(big, n), '');
    const listed = ok(t, c.readdir(['big']));
    t.deepEqual(listed.map((e) => e.name).sort(), names);
    t.deepEqual(ok(t, c.readdir(['dir', 'sub'])), []);
    t.is(c.readdir(['file.txt']), ENOTDIR);
    t.is(c.readdir(['link-up']), ELOOP);
    t.is(c.readdir(['missing']), ENOENT);
  });
});

test('readlink returns the target as stored, never resolved', (t) => {
  withGofer(t, false, (c, root) => {
    for (const name of ['link-passwd', 'link-up', 'link-rel']) t.is(c.readlink([name]), readlinkSync(path.join(root, name)));
    t.is(c.readlink(['file.txt']), EINVAL);
    t.is(c.readlink([]), EINVAL);
    t.is(c.readlink(['missing']), ENOENT);
  });
});

test('mkdir, unlink, rmdir, rename, symlink and link change the host tree as the host calls would', (t) => {
  withGofer(t, false, (c, root) => {
    const at = (...p: string[]): string => path.join(root, ...p);
    t.is(c.mkdir(['made'], 0o750), null);
    t.is(statSync(at('made')).mode & 0o777, 0o750);
    t.is(c.mkdir(['made'], 0o750), EEXIST);
    t.is(c.mkdir([], 0o750), EEXIST);
    t.is(c.mkdir(['missing', 'x'], 0o750), ENOENT);

    t.is(c.symlink('../file.txt', ['made', 'ln']), null);
    t.is(readlinkSync(at('made', 'ln')), '../file.txt');
    t.is(c.symlink('x', ['made', 'ln']), EEXIST);
    t.is(c.symlink('', ['made', 'empty']), ENOENT);

    t.is(c.link(['file.txt'], ['made', 'hard']), null);
    t.is(statSync(at('made', 'hard')).ino, statSync(at('file.txt')).ino);
    t.is(statSync(at('file.txt')).nlink, 2);
    t.is(c.link(['link-passwd'], ['made', 'hard-link-to-symlink']), null, 'linkat without AT_SYMLINK_FOLLOW');
    t.true(lstatSync(at('made', 'hard-link-to-symlink')).isSymbolicLink());
    t.is(c.link(['dir'], ['made', 'dirlink']), EPERM, 'no hard links to directories');

    t.is(c.rename(['made', 'hard'], ['made', 'renamed'], 0), null);
    t.false(existsSync(at('made', 'hard')));
    t.true(existsSync(at('made', 'renamed')));
    t.is(c.rename(['made', 'renamed'], ['file.txt'], RENAME_NOREPLACE), EEXIST);
    t.is(c.rename(['made', 'renamed'], ['dir', 'inner.txt'], RENAME_EXCHANGE), null);
    t.is(readFileSync(at('made', 'renamed'), 'utf8'), 'inner\n');
    t.is(c.rename(['made'], [], 0), EBUSY, 'the root');
    t.is(c.rename(['made', 'renamed'], ['made', 'x'], 8), EINVAL, 'unknown flags');

    t.is(c.unlink(['made'], true), ENOTEMPTY);
    t.is(c.unlink(['made', 'renamed'], false), null);
    t.false(existsSync(at('made', 'renamed')));
    t.is(c.unlink(['dir'], false), EISDIR);
    t.is(c.unlink(['file.txt'], true), ENOTDIR);
    t.is(c.unlink(['link-up'], false), null, 'unlink removes the symlink, not its target');
    t.false(existsSync(at('link-up')));
    t.true(existsSync(path.dirname(root)));
    rmSync(at('made'), { recursive: true });
    t.is(c.mkdir(['made'], 0o700), null);
    t.is(c.unlink(['made'], true), null);
    t.false(existsSync(at('made')));
  });
});

test('chmod, chown, truncate and utimens act on the file itself', (t) => {
  withGofer(t, false, (c, root) => {
    const file = path.join(root, 'file.txt');
    t.is(c.chmod(['file.txt'], 0o604), null);
    t.is(statSync(file).mode & 0o7777, 0o604);
    t.is(c.chmod([], 0o755), null);
    t.is(statSync(root).mode & 0o7777, 0o755);
    t.is(c.chmod(['link-passwd'], 0o777), EOPNOTSUPP, 'a symlink is not followed');

    const st = statSync(file);
    t.is(c.chown(['file.txt'], -1, -1), null);
    t.is(c.chown(['file.txt'], st.uid, st.gid), null);
    t.is(c.chown(['file.txt'], 1.5, 0), EINVAL);

    t.is(c.truncate(['file.txt'], 5), null);
    t.is(readFileSync(file, 'utf8'), 'hello');
    t.is(c.truncate(['file.txt'], 100), null);
    t.is(statSync(file).size, 100);
    t.is(c.truncate(['dir'], 0), EISDIR);
    t.is(c.truncate(['file.txt'], -1), EINVAL);

    const before = lstatSync(file, { bigint: true });
    t.is(c.utimens(['file.txt'], 1_000_000_123n, null), null);
    let after = lstatSync(file, { bigint: true });
    t.is(after.atimeNs, 1_000_000_123n);
    t.is(after.mtimeNs, before.mtimeNs, 'null leaves mtime alone');
    t.is(c.utimens(['file.txt'], null, -1_500_000_000n), null);
    after = lstatSync(file, { bigint: true });
    t.is(after.mtimeNs, -1_500_000_000n, 'before 1970');
    t.is(c.utimens([], 5_000_000_000n, 6_000_000_000n), null);
    t.is(lstatSync(root, { bigint: true }).mtimeNs, 6_000_000_000n);
    const passwd = statSync('/etc/passwd', { bigint: true });
    t.is(c.utimens(['link-rel'], 7_000_000_000n, 7_000_000_000n), null);
    t.is(lstatSync(path.join(root, 'link-rel'), { bigint: true }).mtimeNs, 7_000_000_000n, 'the symlink itself');
    t.is(statSync('/etc/passwd', { bigint: true }).mtimeNs, passwd.mtimeNs);
    t.not(lstatSync(path.join(root, 'dir', 'inner.txt'), { bigint: true }).mtimeNs, 7_000_000_000n, 'nor its target');
  });
});

test('statfs is the host statfs of the root', (t) => {
  withGofer(t, false, (c, root) => {
    const raw = ok(t, c.statfs());
    t.is(raw.length, 120);
    const view = new DataView(raw.buffer, raw.byteOffset);
    const host = statfsSync(root);
    // struct statfs: f_type, f_bsize, f_blocks, ... (all 64-bit on x86-64).
    t.is(Number(view.getBigInt64(0, true)), host.type, 'f_type');
    t.is(Number(view.getBigInt64(8, true)), host.bsize, 'f_bsize');
    t.is(Number(view.getBigUint64(16, true)), host.blocks, 'f_blocks');
  });
});

test('read-only mode: every change is EROFS, lookups still answer first', (t) => {
  withGofer(t, true, (c, root) => {
    t.is(c.readOnly, true);
    const r = ok(t, c.open(['file.txt'], O_RDONLY, 0));
    closeSync(r.fd);
    const existing = ok(t, c.open(['file.txt'], O_RDONLY | O_CREAT, 0o600));
    closeSync(existing.fd);
    t.is(c.open(['file.txt'], O_WRONLY, 0), EROFS);
    t.is(c.open(['file.txt'], O_RDWR, 0), EROFS);
    t.is(c.open(['file.txt'], O_RDONLY | O_TRUNC, 0), EROFS);
    t.is(c.open(['new.txt'], O_CREAT | O_WRONLY, 0o600), EROFS);
    t.is(c.open(['file.txt'], O_CREAT | O_EXCL | O_RDONLY, 0o600), EEXIST);
    t.is(c.open(['missing'], O_RDONLY, 0), ENOENT);
    t.is(c.mkdir(['new'], 0o700), EROFS);
    t.is(c.mkdir(['dir'], 0o700), EEXIST);
    t.is(c.unlink(['file.txt'], false), EROFS);
    t.is(c.unlink(['dir', 'sub'], true), EROFS);
    t.is(c.rename(['file.txt'], ['moved'], 0), EROFS);
    t.is(c.symlink('x', ['ln']), EROFS);
    t.is(c.link(['file.txt'], ['hard']), EROFS);
    t.is(c.link(['missing'], ['hard']), ENOENT);
    t.is(c.chmod(['file.txt'], 0o777), EROFS);
    t.is(c.chown(['file.txt'], 0, 0), EROFS);
    t.is(c.chown(['missing'], 0, 0), ENOENT);
    t.is(c.truncate(['file.txt'], 0), EROFS);
    t.is(c.utimens(['file.txt'], 0n, 0n), EROFS);
    t.is(readFileSync(path.join(root, 'file.txt'), 'utf8'), 'hello gofer\n');
    t.deepEqual(readdirSync(root).sort(), ['dir', 'file.txt', 'link-passwd', 'link-rel', 'link-up']);
    t.true(ok(t, c.statfs()).length === 120);
    t.is(ok(t, c.readdir([])).length, 5);
  });
});

test('no fd leaks in either process, and close() ends the Gofer', async (t) => {
  const { root } = makeTree();
  const c = GoferClient.start(root, { readOnly: false });
  t.is(c.ready(), null);
  const pid = c.pid!;
  // A leak shows as an fd into the served tree, or as a growing total. Node opens and closes a few
  // fds of its own at start-up (at a pace that differs between machines), so the total may only fall.
  const fds = (proc: string): string[] =>
    readdirSync(`/proc/${proc}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${proc}/fd/${fd}`);
      } catch {
        return ''; // closed since the listing (e.g. the listing's own directory fd)
      }
    });
  const intoTree = (proc: string): number => fds(proc).filter((target) => target.startsWith(root)).length;
  const goferFds = fds(String(pid)).length;
  const goferTreeFds = intoTree(String(pid));
  const ownFds = fds('self').length;
  for (let i = 0; i < 200; i++) {
    c.stat(['dir', 'inner.txt']);
    c.stat(['dir', 'missing', 'x']);
    c.stat(['link-up', 'x']);
    const r = c.open(['dir', 'inner.txt'], O_RDONLY, 0);
    if (!(r instanceof Errno)) closeSync(r.fd);
    c.open(['link-rel'], O_RDONLY, 0);
    c.readdir(['dir']);
    c.readlink(['link-rel']);
    c.truncate(['file.txt'], 3);
    c.chmod(['file.txt'], 0o644);
    c.mkdir(['dir', 'm'], 0o700);
    c.rename(['dir', 'm'], ['dir', 'n'], 0);
    c.unlink(['dir', 'n'], true);
  }
  t.is(intoTree(String(pid)), goferTreeFds, 'the Gofer holds no more fds into its tree than its root');
  t.is(intoTree('self'), 0, 'every fd the Gofer passed was closed');
  t.true(fds(String(pid)).length <= goferFds, 'the Gofer has no more fds than at start');
  t.is(fds('self').length, ownFds);
  c.close();
  c.close();
  t.is(c.stat([]), EIO, 'a closed client answers EIO');
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  t.false(isAlive(pid));
});

function isAlive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

test('one Gofer serves several roots: each request reaches its own, read-only per root, a missing root fails alone', async (t) => {
  const a = makeTree();
  const b = makeTree();
  writeFileSync(path.join(b.root, 'only-in-b'), 'b\n');
  const [ca, cb, missing] = GoferClient.startAll([
    { hostRoot: a.root, readOnly: true },
    { hostRoot: b.root, readOnly: false },
    { hostRoot: path.join(scratch, 'no-such-root'), readOnly: false },
  ], {});
  t.is(ca!.pid, cb!.pid, 'one process');
  t.is(ca!.ready(), null);
  t.is(cb!.ready(), null);
  t.is(missing!.ready(), EIO);
  t.is(missing!.stat([]), EIO);
  t.is(ca!.stat(['only-in-b']), ENOENT);
  t.false(cb!.stat(['only-in-b']) instanceof Errno);
  t.is(ca!.mkdir(['new'], 0o755), EROFS);
  t.is(cb!.mkdir(['new'], 0o755), null);
  t.true(statSync(path.join(b.root, 'new')).isDirectory());
  t.false(existsSync(path.join(a.root, 'new')));
  t.deepEqual(ok(t, ca!.readdir(['dir'])).map((e) => e.name).sort(), ['inner.txt', 'sub']);
  const pid = ca!.pid!;
  ca!.close();
  missing!.close();
  t.false(cb!.stat(['file.txt']) instanceof Errno, 'the others go on when one root is closed');
  cb!.close();
  // The last root closed ends the process.
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}/stat`) && !/\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.false(existsSync(`/proc/${pid}/stat`) && !/\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), 'the Gofer ended');
});
