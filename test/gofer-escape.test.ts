// Escape attempts against the Gofer, which runs as the Sentry's user (often root): '..' and odd names
// through the client and straight through the protocol, symlinks in the middle and at the end of a path,
// a directory swapped for a symlink while requests run, malformed messages in both directions, and a
// Gofer killed or stopped in the middle of a request. None may reach a file outside the root, make the
// client throw, or hang it.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import {
  closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readSync, rmSync, statSync,
  symlinkSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  EACCES, EINVAL, EIO, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EOPNOTSUPP, EROFS, Errno,
} from '../src/abi/errno.js';
import { GoferClient } from '../src/gofer/client.js';
import {
  beginReply, decodeReplyHeader, encodeAttach, encodeRequest, MAX_MESSAGE, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, Op,
  PROTOCOL_VERSION, Reader, REPLY_MORE, type Request, S_IFLNK, S_IFMT, Writer,
} from '../src/gofer/protocol.js';
import { GoferProcess } from '../src/gofer/spawn.js';
import { goferHostCalls } from '../src/platform/gofer-host.js';

const host = goferHostCalls();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'tsvisor-gofer-escape-'));
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

let treeCount = 0;
interface Tree { root: string; outside: string; secret: string }

/** root/{file.txt, d/secret.txt, link-passwd, link-up, link-secret, link-outside, link-dangling} beside outside/secret.txt. */
function makeTree(): Tree {
  const base = path.join(scratch, `t${treeCount++}`);
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  mkdirSync(path.join(root, 'd'), { recursive: true });
  mkdirSync(outside);
  const secret = path.join(outside, 'secret.txt');
  writeFileSync(secret, 'secret\n', { mode: 0o600 });
  writeFileSync(path.join(root, 'file.txt'), 'inside\n');
  writeFileSync(path.join(root, 'd', 'secret.txt'), 'inside\n');
  symlinkSync('/etc/passwd', path.join(root, 'link-passwd'));
  symlinkSync('../../..', path.join(root, 'link-up'));
  symlinkSync(secret, path.join(root, 'link-secret'));
  symlinkSync('../outside', path.join(root, 'link-outside'));
  symlinkSync(path.join(outside, 'created.txt'), path.join(root, 'link-dangling'));
  return { root, outside, secret };
}

function withGofer(t: ExecutionContext, fn: (c: GoferClient, tree: Tree) => void): void {
  const tree = makeTree();
  const c = GoferClient.start(tree.root, { readOnly: false });
  try {
    t.is(c.ready(), null);
    fn(c, tree);
  } finally {
    c.close();
  }
}

function outsideUntouched(t: ExecutionContext, tree: Tree): void {
  t.is(readFileSync(tree.secret, 'utf8'), 'secret\n', 'the secret is intact');
  t.is(statSync(tree.secret).mode & 0o777, 0o600, 'and keeps its mode');
  t.deepEqual(readdirSync(tree.outside), ['secret.txt'], 'nothing was created outside');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('names that are not one plain component are refused by the client', (t) => {
  withGofer(t, (c) => {
    for (const bad of ['..', '.', 'd/secret.txt', 'a\0b', '/etc']) {
      t.is(c.stat([bad]), EINVAL, JSON.stringify(bad));
      t.is(c.stat(['d', bad]), EINVAL);
      t.is(c.open([bad], O_RDONLY, 0), EINVAL);
      t.is(c.mkdir([bad], 0o700), EINVAL);
      t.is(c.rename(['file.txt'], [bad], 0), EINVAL);
      t.is(c.link([bad], ['x']), EINVAL);
      t.is(c.symlink('x', [bad]), EINVAL);
    }
    t.is(c.stat(['']), ENOENT);
    t.is(c.stat(['x'.repeat(256)]), ENAMETOOLONG);
    t.is(c.symlink('a\0b', ['x']), EINVAL);
  });
});

/** Speaks the protocol directly to a Gofer, without the client's own checks. */
class RawGofer {
  readonly proc: GoferProcess;
  private readonly w = new Writer();
  readonly buf = new Uint8Array(MAX_MESSAGE);
  readonly fds = new Int32Array(8);

  constructor(root: string) {
    this.proc = GoferProcess.spawn(root, false);
    const hello = this.receive(30_000);
    if (typeof hello === 'number' || hello.errno !== 0) throw new Error('the gofer did not start');
  }

  sendRaw(bytes: Uint8Array, fds: Int32Array = new Int32Array(0)): void {
    if (host.sendMsg(this.proc.socketFd, bytes, bytes.length, fds) !== bytes.length) throw new Error('sendmsg failed');
  }

  request(id: number, req: Request): { id: number; errno: number; reader: Reader } | number {
    encodeRequest(this.w, id, req);
    this.sendRaw(this.w.bytes.subarray(0, this.w.pos));
    return this.receive(5_000);
  }

  receive(timeoutMs: number): { id: number; errno: number; reader: Reader } | number {
    const n = host.recvMsg(this.proc.socketFd, this.buf, this.fds, timeoutMs);
    for (const fd of this.fds) if (fd >= 0) host.close(fd);
    if (n <= 0) return n;
    const reader = new Reader(this.buf, n);
    const h = decodeReplyHeader(reader);
    if (h === null) throw new Error('malformed reply from the gofer');
    return { id: h.id, errno: h.errno, reader };
  }
}

function errnoOf(reply: { errno: number } | number): number {
  return typeof reply === 'number' ? reply : reply.errno;
}

test('the Gofer checks every component again: raw requests with .., /, NUL', (t) => {
  const tree = makeTree();
  const raw = new RawGofer(tree.root);
  try {
    let id = 1;
    const bads = [['..'], ['..', '..', 'etc', 'passwd'], ['.'], ['d', '..', '..'], ['d/secret.txt'], ['a\0b'], ['/etc'], ['x'.repeat(300)]];
    for (const p of bads) {
      for (const req of [
        { op: Op.Stat, path: p }, { op: Op.Open, path: p, flags: O_RDWR | O_TRUNC, mode: 0 },
        { op: Op.Readdir, path: p }, { op: Op.Unlink, path: p, isDir: false }, { op: Op.Mkdir, path: p, mode: 0o777 },
        { op: Op.Chmod, path: p, mode: 0o777 }, { op: Op.Truncate, path: p, length: 0 },
        { op: Op.Rename, from: ['file.txt'], to: p, flags: 0 }, { op: Op.Link, from: p, to: ['stolen'] },
      ] as Request[]) {
        const reply = raw.request(id, req);
        t.true(typeof reply !== 'number' && reply.id === id, 'one reply under the same id');
        t.true([EINVAL.code, ENAMETOOLONG.code].includes(errnoOf(reply)), `${JSON.stringify(p)} op ${req.op}: errno ${errnoOf(reply)}`);
        id++;
      }
    }
    t.is(errnoOf(raw.request(id++, { op: Op.Stat, path: [''] })), ENOENT.code);
    t.is(errnoOf(raw.request(id++, { op: Op.Stat, path: ['file.txt'] })), 0, 'still serving');
  } finally {
    raw.proc.close();
  }
  outsideUntouched(t, tree);
  t.true(existsSync('/etc/passwd'));
});

test('symlinks are never followed: not in the middle of a path, not at its end', (t) => {
  withGofer(t, (c, tree) => {
    // In the middle: ELOOP, whatever the link points at.
    t.is(c.stat(['link-passwd', 'x']), ELOOP);
    t.is(c.stat(['link-up', 'etc', 'passwd']), ELOOP);
    t.is(c.open(['link-up', 'etc', 'passwd'], O_RDONLY, 0), ELOOP);
    t.is(c.open(['link-outside', 'secret.txt'], O_RDWR, 0), ELOOP);
    t.is(c.open(['link-outside', 'new.txt'], O_CREAT | O_WRONLY, 0o666), ELOOP);
    t.is(c.readdir(['link-up']), ELOOP);
    t.is(c.readdir(['link-outside']), ELOOP);
    t.is(c.mkdir(['link-outside', 'x'], 0o777), ELOOP);
    t.is(c.symlink('x', ['link-outside', 'x']), ELOOP);
    t.is(c.unlink(['link-outside', 'secret.txt'], false), ELOOP);
    t.is(c.rename(['link-outside', 'secret.txt'], ['stolen'], 0), ELOOP);
    t.is(c.rename(['file.txt'], ['link-outside', 'planted'], 0), ELOOP);
    t.is(c.link(['link-outside', 'secret.txt'], ['stolen']), ELOOP);
    t.is(c.truncate(['link-outside', 'secret.txt'], 0), ELOOP);
    t.is(c.chmod(['link-outside', 'secret.txt'], 0o777), ELOOP);
    t.is(c.readlink(['link-outside', 'x']), ELOOP);
    t.is(c.stat(['file.txt', 'x']), ENOTDIR, 'a file in the middle is ENOTDIR, not ELOOP');

    // At the end: reported as the symlink itself, or refused.
    const st = c.stat(['link-passwd']);
    t.false(st instanceof Errno);
    if (!(st instanceof Errno)) {
      t.is(st.mode & S_IFMT, S_IFLNK);
      t.is(st.size, '/etc/passwd'.length);
    }
    t.is(c.open(['link-passwd'], O_RDONLY, 0), ELOOP);
    t.is(c.open(['link-secret'], O_WRONLY | O_TRUNC, 0), ELOOP);
    t.is(c.open(['link-dangling'], O_CREAT | O_WRONLY, 0o666), ELOOP, 'O_CREAT through a dangling symlink');
    t.is(c.truncate(['link-secret'], 0), ELOOP);
    t.is(c.chmod(['link-secret'], 0o777), EOPNOTSUPP);
    const secretTimes = statSync(tree.secret, { bigint: true });
    t.is(c.utimens(['link-secret'], 1n, 1n), null, 'the link itself');
    t.is(lstatSync(path.join(tree.root, 'link-secret'), { bigint: true }).mtimeNs, 1n);
    t.is(statSync(tree.secret, { bigint: true }).mtimeNs, secretTimes.mtimeNs);
    t.is(c.chown(['link-secret'], 4321, 4321), null, 'lchown: the link itself');
    t.is(lstatSync(path.join(tree.root, 'link-secret')).uid, 4321);
    t.is(statSync(tree.secret).uid, Number(secretTimes.uid));
    t.is(c.link(['link-secret'], ['hard']), null);
    t.true(lstatSync(path.join(tree.root, 'hard')).isSymbolicLink(), 'a hard link to the symlink, not to its target');
    t.is(c.open(['hard'], O_RDONLY, 0), ELOOP);
    t.is(c.unlink(['link-secret'], false), null, 'unlink removes the link');
    outsideUntouched(t, tree);
  });
});

test('a directory swapped for a symlink during requests never leads outside', async (t) => {
  const tree = makeTree();
  const c = GoferClient.start(tree.root, { readOnly: false });
  t.is(c.ready(), null);
  const d = path.join(tree.root, 'd');
  const f = path.join(tree.root, 'file.txt');
  const insideIno = statSync(path.join(d, 'secret.txt')).ino;
  // Another process flips root/d between the real directory and a symlink to the directory holding the
  // secret, and root/file.txt between a file and a symlink to the secret, as fast as it can.
  const started = `${d}.go`;
  const done = `${d}.done`;
  const script = `
    const fs = require('fs');
    const [d, f, outside, secret, started, done] = process.argv.slice(1);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (!fs.existsSync(started)) Atomics.wait(pause, 0, 0, 1);
    const end = Date.now() + 1500;
    for (let i = 0; Date.now() < end; i++) {
      fs.renameSync(d, d + '.real'); fs.symlinkSync(outside, d);
      fs.renameSync(f, f + '.real'); fs.symlinkSync(secret, f);
      fs.unlinkSync(d); fs.renameSync(d + '.real', d);
      fs.unlinkSync(f); fs.renameSync(f + '.real', f);
      // Now and then the real tree stays a little while, so that both outcomes are seen.
      if (i % 4 === 0) Atomics.wait(pause, 0, 0, 0.3);
    }
    fs.writeFileSync(done, '');`;
  const swapper = spawn(process.execPath, ['-e', script, d, f, tree.outside, tree.secret, started, done], { stdio: 'inherit' });
  const exited = new Promise<number | null>((resolve) => swapper.on('exit', (code) => resolve(code)));
  // Other tests of this file may hold the event loop for a while: the swapper starts when told, and the
  // loop below (synchronous) runs until it is done.
  writeFileSync(started, '');
  const outcomes = new Map<string, number>();
  const note = (what: string): void => void outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
  const buf = Buffer.alloc(64);
  // The loop blocks this process's event loop, so the swapper's end is seen through its marker file.
  const end = Date.now() + 10_000;
  while (!existsSync(done) && Date.now() < end) {
    for (const p of [['d', 'secret.txt'], ['file.txt']]) {
      const r = c.open(p, O_RDONLY, 0);
      if (r instanceof Errno) {
        note(`open ${r.name}`);
      } else {
        const text = buf.subarray(0, readSync(r.fd, buf, 0, buf.length, 0)).toString();
        closeSync(r.fd);
        t.is(text, 'inside\n', `open(${p.join('/')}) read a file outside the root`);
        note('open ok');
      }
    }
    const st = c.stat(['d', 'secret.txt']);
    if (st instanceof Errno) note(`stat ${st.name}`);
    else if (st.ino !== insideIno) t.fail('stat reached the secret');
    else note('stat ok');
    const created = c.open(['d', 'planted.txt'], O_CREAT | O_WRONLY, 0o644);
    if (!(created instanceof Errno)) closeSync(created.fd);
    c.truncate(['file.txt'], 7);
    c.chmod(['file.txt'], 0o644);
  }
  t.is(await exited, 0, 'the swapper ran to the end');
  c.close();
  const summary = [...outcomes].map(([k, v]) => `${k}: ${v}`).join(', ');
  t.log(summary);
  t.true((outcomes.get('open ok') ?? 0) > 0, `some opens found the real file (${summary})`);
  t.true((outcomes.get('open ELOOP') ?? 0) > 0, `some opens met the symlink (${summary})`);
  outsideUntouched(t, tree);
});

test('malformed requests get EIO under their id, and the Gofer keeps serving', (t) => {
  const tree = makeTree();
  const raw = new RawGofer(tree.root);
  // The baseline once the Gofer has answered: Node.js opens some fds of its own while it starts.
  const goferFds = errnoOf(raw.request(10, { op: Op.Stat, path: ['file.txt'] })) === 0
    ? readdirSync(`/proc/${raw.proc.pid}/fd`).length : -1;
  try {
    const w = new Writer();
    const header = (id: number, op: number, reserved = 0): Writer => w.reset().u32(id).u16(op).u16(reserved);
    const cases: Array<[string, Uint8Array, number]> = [
      ['3 bytes', Uint8Array.of(1, 2, 3), 0],
      ['header only, unknown op', header(11, 999).bytes.slice(0, 8), 11],
      ['reserved field set', header(12, Op.Statfs, 7).bytes.slice(0, 8), 12],
      ['path count beyond the message', header(13, Op.Stat).u16(60000).bytes.slice(0, w.pos), 13],
      ['component longer than the message', header(14, Op.Stat).u16(1).u16(5000).u8(0x61).bytes.slice(0, w.pos), 14],
      ['trailing bytes', header(15, Op.Stat).path(['file.txt']).u32(0).bytes.slice(0, w.pos), 15],
      ['missing fields', header(16, Op.Open).path(['file.txt']).bytes.slice(0, w.pos), 16],
      ['bad boolean', header(17, Op.Unlink).path(['file.txt']).u8(7).bytes.slice(0, w.pos), 17],
      ['bad utimens mask', header(18, Op.Utimens).path(['file.txt']).u8(9).i64(0n).i64(0n).bytes.slice(0, w.pos), 18],
    ];
    const huge = new Uint8Array(MAX_MESSAGE + 4096);
    huge.set(header(19, Op.Stat).bytes.subarray(0, 8));
    cases.push(['larger than any message', huge, 19]);
    for (const [what, bytes, id] of cases) {
      raw.sendRaw(bytes);
      const reply = raw.receive(5_000);
      t.true(typeof reply !== 'number' && reply.id === id && reply.errno === EIO.code, `${what}: ${JSON.stringify(reply)}`);
    }
    // An fd sent along with a request is closed, not kept.
    const pair = new Int32Array(2);
    t.is(host.socketPair(pair), 0);
    raw.sendRaw(header(20, Op.Stat).path(['file.txt']).bytes.slice(0, w.pos), Int32Array.of(pair[0]!));
    t.is(errnoOf(raw.receive(5_000)), 0);
    host.close(pair[0]!);
    host.close(pair[1]!);
    // Random garbage: one reply each, never a crash.
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16) & 0xff;
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from({ length: 1 + (random() % 64) }, random);
      bytes[6] = 0;
      bytes[7] = 1; // a non-zero reserved field: never a valid request that could change the tree
      raw.sendRaw(bytes);
      t.true(typeof raw.receive(5_000) !== 'number');
    }
    t.is(errnoOf(raw.request(21, { op: Op.Stat, path: ['file.txt'] })), 0, 'still serving');
    t.is(readdirSync(`/proc/${raw.proc.pid}/fd`).length, goferFds, 'no fd kept');
    // An empty message reads as end of file: the Gofer ends, the Sentry sees the socket close.
    raw.sendRaw(new Uint8Array(0));
    t.is(raw.receive(5_000), 0);
  } finally {
    raw.proc.close();
  }
  outsideUntouched(t, tree);
});

/** A client over a socketpair whose other end the test writes replies into before each call. */
function fakeGofer(timeoutMs = 300): { c: GoferClient; peer: number; w: Writer; send: (fds?: number[]) => void } {
  const pair = new Int32Array(2);
  if (host.socketPair(pair) !== 0) throw new Error('socketpair');
  const c = GoferClient.overSocket(pair[0]!, 'fake', { readOnly: false, timeoutMs, startTimeoutMs: timeoutMs });
  const w = new Writer();
  const send = (fds: number[] = []): void => void host.sendMsg(pair[1]!, w.bytes, w.pos, Int32Array.from(fds));
  beginReply(w, 0, Op.Hello).u32(PROTOCOL_VERSION);
  send();
  return { c, peer: pair[1]!, w, send };
}

test('malformed replies give EIO and never make the client throw', (t) => {
  const { c, peer, w, send } = fakeGofer();
  const ownFds = readdirSync('/proc/self/fd').length;
  beginReply(w, 1, Op.Stat).u32(1).u32(2); // a stat reply 8 bytes long instead of 144
  send();
  t.is(c.stat(['x']), EIO);
  beginReply(w, 2, Op.Readlink).str('x');
  send();
  t.is(c.stat(['x']), EIO, 'the reply of another op');
  beginReply(w, 3, Op.Open).raw(new Uint8Array(144));
  send();
  t.is(c.open(['x'], O_RDONLY, 0), EIO, 'an open reply without its fd');
  const pair = new Int32Array(2);
  host.socketPair(pair);
  beginReply(w, 4, Op.Stat).raw(new Uint8Array(144));
  send([pair[0]!, pair[1]!]);
  t.is(c.stat(['x']), EIO, 'fds where none belong are closed');
  host.close(pair[0]!);
  host.close(pair[1]!);
  beginReply(w, 5, Op.Mkdir, 9999);
  send();
  t.is(c.mkdir(['x'], 0o700), EIO, 'an errno unknown here');
  beginReply(w, 99, Op.Mkdir, ENOENT.code);
  send();
  beginReply(w, 6, Op.Mkdir, ENOENT.code);
  send();
  t.is(c.mkdir(['x'], 0o700), ENOENT, 'a stray reply to an earlier id is skipped');
  beginReply(w, 7, Op.Readdir).u64(1).u8(8).u16(200).raw(new Uint8Array(3));
  send();
  t.is(c.readdir([]), EIO, 'an entry cut short');
  t.is(readdirSync('/proc/self/fd').length, ownFds);
  w.reset().u8(1).u8(2);
  send();
  t.is(c.statfs(), EIO, 'a reply too short for its header ends the client');
  t.is(c.stat([]), EIO);
  c.close();
  host.close(peer);
});

test('a Gofer that never answers: EIO after the timeout', (t) => {
  const { c, peer } = fakeGofer(300);
  const t0 = Date.now();
  t.is(c.stat([]), EIO);
  const waited = Date.now() - t0;
  t.true(waited >= 250 && waited < 3000, `waited ${waited} ms`);
  t.is(c.stat([]), EIO, 'and from then on');
  c.close();
  host.close(peer);
});

test('a greeting of another protocol version is refused', (t) => {
  const pair = new Int32Array(2);
  host.socketPair(pair);
  const c = GoferClient.overSocket(pair[0]!, 'fake', { readOnly: false, timeoutMs: 300 });
  const w = new Writer();
  beginReply(w, 0, Op.Hello).u32(PROTOCOL_VERSION + 1);
  host.sendMsg(pair[1]!, w.bytes, w.pos, new Int32Array(0));
  t.is(c.ready(), EIO);
  t.is(c.stat([]), EIO);
  c.close();
  host.close(pair[1]!);
});

test('a Gofer whose root does not exist: EIO, not a crash', (t) => {
  const c = GoferClient.start(path.join(scratch, 'no-such-dir'), { readOnly: true });
  t.is(c.ready(), EIO);
  t.is(c.stat([]), EIO);
  c.close();
});

test('a Gofer killed with SIGKILL between requests: EIO at once, and from then on', (t) => {
  const { root } = makeTree();
  const c = GoferClient.start(root, { readOnly: false, timeoutMs: 5_000 });
  t.false(c.stat(['file.txt']) instanceof Errno);
  process.kill(c.pid!, 'SIGKILL');
  const t0 = Date.now();
  t.is(c.stat(['file.txt']), EIO);
  t.true(Date.now() - t0 < 2_000, 'noticed from the closed socket, not the timeout');
  t.is(c.open(['file.txt'], O_RDONLY, 0), EIO);
  t.is(c.readdir([]), EIO);
  c.close();
});

test('a Gofer killed in the middle of a request: EIO within the timeout', (t) => {
  const { root } = makeTree();
  const c = GoferClient.start(root, { readOnly: false, timeoutMs: 5_000 });
  t.is(c.ready(), null);
  const pid = c.pid!;
  // Stopped, the Gofer holds the next request unanswered until another process kills it.
  process.kill(pid, 'SIGSTOP');
  spawn('sh', ['-c', `sleep 0.3; kill -9 ${pid}`], { stdio: 'ignore' });
  const t0 = Date.now();
  t.is(c.stat(['file.txt']), EIO);
  const waited = Date.now() - t0;
  t.true(waited >= 200 && waited < 5_000, `waited ${waited} ms`);
  c.close();
});

test('a stopped Gofer: EIO after the timeout, and the client ends it', async (t) => {
  const { root } = makeTree();
  const c = GoferClient.start(root, { readOnly: false, timeoutMs: 500 });
  t.is(c.ready(), null);
  const pid = c.pid!;
  process.kill(pid, 'SIGSTOP');
  const t0 = Date.now();
  t.is(c.stat(['file.txt']), EIO);
  const waited = Date.now() - t0;
  t.true(waited >= 450 && waited < 3_000, `waited ${waited} ms`);
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}/stat`) && !/\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); i++) await sleep(20);
  t.false(existsSync(`/proc/${pid}/stat`) && !/\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), 'the stopped Gofer was killed');
  c.close();
});

test('the host / read-only, as the default rootfs: devices and kernel pseudo-filesystems are refused', (t) => {
  const c = GoferClient.start('/', { readOnly: true });
  try {
    t.is(c.ready(), null);
    const passwd = c.open(['etc', 'passwd'], O_RDONLY, 0);
    t.false(passwd instanceof Errno);
    if (!(passwd instanceof Errno)) closeSync(passwd.fd);
    t.is(c.open(['etc', 'passwd'], O_RDWR, 0), EROFS);
    t.is(c.open(['dev', 'null'], O_RDONLY, 0), EACCES, 'a device node');
    t.is(c.open(['proc', 'cpuinfo'], O_RDONLY, 0), EACCES, 'procfs');
    t.is(c.readdir(['proc']), EACCES);
    t.is(c.open(['proc', 'self', 'environ'], O_RDONLY, 0), ELOOP, '/proc/self is a symlink');
    t.is(c.open(['proc', '1', 'root', 'etc', 'passwd'], O_RDONLY, 0), ELOOP, 'a magic link is a symlink too');
    if (existsSync('/sys/kernel')) t.is(c.readdir(['sys', 'kernel']), EACCES, 'sysfs');
    if (existsSync('/sys/fs/cgroup/cgroup.controllers')) t.is(c.open(['sys', 'fs', 'cgroup', 'cgroup.controllers'], O_RDONLY, 0), EACCES, 'cgroup2');
    if (existsSync('/dev/pts/ptmx')) t.is(c.readdir(['dev', 'pts']), EACCES, 'devpts');
    t.false(c.stat(['proc']) instanceof Errno, 'metadata of the mount point itself is fine');
  } finally {
    c.close();
  }
});

test('random and damaged requests: one answer each, valid ones under their id, and nothing changes', (t) => {
  const tree = makeTree();
  const before = readdirSync(tree.root).sort();
  const proc = GoferProcess.spawn(tree.root, true);
  const buf = new Uint8Array(MAX_MESSAGE);
  const fds = new Int32Array(8);
  /** Reads one answer (every message of it: readdir's come in parts); its id and errno. */
  const answer = (): { id: number; errno: number } | number => {
    for (;;) {
      const n = host.recvMsg(proc.socketFd, buf, fds, 5_000);
      for (const fd of fds) if (fd >= 0) host.close(fd);
      if (n <= 0) return n;
      const h = decodeReplyHeader(new Reader(buf, n));
      if (h === null) return -1;
      if ((h.flags & REPLY_MORE) === 0) return { id: h.id, errno: h.errno };
    }
  };
  try {
    t.is(errnoOf(answer()), 0, 'the greeting');
    let seed = 99;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 8) % n;
    const name = (): string => ['file.txt', 'd', 'secret.txt', 'link-up', 'x'][random(5)]!;
    const p = (): string[] => Array.from({ length: random(4) }, name);
    const requests: Array<() => Request> = [
      () => ({ op: Op.Stat, path: p() }), () => ({ op: Op.Readdir, path: p() }), () => ({ op: Op.Readlink, path: p() }),
      () => ({ op: Op.Open, path: p(), flags: random(1 << 20), mode: random(0o7777) }),
      () => ({ op: Op.Mkdir, path: p(), mode: random(0o777) }), () => ({ op: Op.Chmod, path: p(), mode: random(0o777) }),
      () => ({ op: Op.Unlink, path: p(), isDir: random(2) === 1 }),
      () => ({ op: Op.Rename, from: p(), to: p(), flags: random(4) }), () => ({ op: Op.Link, from: p(), to: p() }),
      () => ({ op: Op.Symlink, target: name(), path: p() }), () => ({ op: Op.Chown, path: p(), uid: random(70000), gid: random(70000) }),
      () => ({ op: Op.Truncate, path: p(), length: random(1 << 30) }),
      () => ({ op: Op.Utimens, path: p(), atimeNs: random(2) ? BigInt(random(1 << 30)) : null, mtimeNs: random(2) ? -BigInt(random(1 << 30)) : null }),
      () => ({ op: Op.Statfs }),
    ];
    const w = new Writer();
    let eio = 0;
    for (let i = 1; i <= 5_000; i++) {
      encodeRequest(w, i, requests[random(requests.length)]!());
      const bytes = w.bytes.slice(0, w.pos);
      host.sendMsg(proc.socketFd, bytes, bytes.length, new Int32Array(0));
      const valid = answer();
      if (typeof valid === 'number' || valid.id !== i || valid.errno === EIO.code) {
        t.fail(`request ${i} (${bytes.join(',')}): ${JSON.stringify(valid)}`);
        break;
      }
      // Damaged: a byte changed, or cut short, or a byte too many; any root index.
      const damaged = [
        () => { const b = bytes.slice(); b[random(b.length)] = random(256); return b; },
        () => bytes.slice(0, random(bytes.length)),
        () => Uint8Array.from([...bytes, random(256)]),
        () => { const b = bytes.slice(); b[6] = random(256); b[7] = random(256); return b; },
      ][random(4)]!();
      if (damaged.length === 0) continue; // an empty message reads as end of file
      host.sendMsg(proc.socketFd, damaged, damaged.length, new Int32Array(0));
      const reply = answer();
      if (typeof reply === 'number') {
        t.fail(`damaged request ${i} (${damaged.join(',')}): no answer (${reply})`);
        break;
      }
      if (reply.errno === EIO.code) eio++;
    }
    t.true(eio > 1_000, `${eio} damaged requests refused`);
    encodeRequest(w, 1, { op: Op.Statfs });
    host.sendMsg(proc.socketFd, w.bytes, w.pos, new Int32Array(0));
    t.is(errnoOf(answer()), 0, 'still serving');
  } finally {
    proc.close();
  }
  t.deepEqual(readdirSync(tree.root).sort(), before, 'read-only: nothing created or removed');
  outsideUntouched(t, tree);
});

test('a Gofer started unattached serves what the attach message names, and refuses anything else first', (t) => {
  const { root } = makeTree();
  const [c] = GoferClient.startAll([{ hostRoot: root, readOnly: true }], {}, GoferProcess.spawnUnattached());
  t.is(c!.ready(), null);
  t.false(c!.stat(['file.txt']) instanceof Errno);
  t.is(c!.mkdir(['new'], 0o755), EROFS);
  c!.close();
  // A first message that is a request, not the directories: the Gofer says so and exits.
  const raw = GoferProcess.spawnUnattached();
  const w = new Writer();
  encodeRequest(w, 1, { op: Op.Stat, path: [] });
  host.sendMsg(raw.socketFd, w.bytes, w.pos, new Int32Array(0));
  t.is(host.recvMsg(raw.socketFd, new Uint8Array(MAX_MESSAGE), new Int32Array(8), 30_000), 0, 'end of file, no answer');
  raw.close();
});

test('an unattached Gofer takes exactly one well-formed attach message', (t) => {
  const { root } = makeTree();
  const w = new Writer();
  encodeAttach(w, [{ path: root, readOnly: true }, { path: path.join(root, 'd'), readOnly: false }]);
  const good = w.bytes.slice(0, w.pos);
  encodeAttach(w, [{ path: 'relative', readOnly: false }]);
  const relative = w.bytes.slice(0, w.pos);
  const noRoots = Uint8Array.of(0, 0, 0, 0, Op.Attach, 0, 0, 0, 0, 0);
  const readOnlyTwo = good.slice();
  readOnlyTwo[12 + 2 + Buffer.byteLength(root)] = 2;
  const buf = new Uint8Array(MAX_MESSAGE);
  const fds = new Int32Array(8);
  const greetings = (bytes: Uint8Array): number => {
    const proc = GoferProcess.spawnUnattached();
    try {
      host.sendMsg(proc.socketFd, bytes, bytes.length, new Int32Array(0));
      let count = 0;
      for (;;) {
        const n = host.recvMsg(proc.socketFd, buf, fds, count === 2 ? 200 : 30_000);
        if (n <= 0) return count;
        count++;
      }
    } finally {
      proc.close();
    }
  };
  t.is(greetings(good), 2, 'one greeting per root');
  t.is(greetings(good.slice(0, good.length - 1)), 0, 'cut short: end of file, no answer');
  t.is(greetings(Uint8Array.from([...good, 0])), 0, 'a byte too many');
  t.is(greetings(relative), 0, 'a relative path');
  t.is(greetings(noRoots), 0, 'no roots');
  t.is(greetings(readOnlyTwo), 0, 'a read-only flag that is not 0 or 1');
});
