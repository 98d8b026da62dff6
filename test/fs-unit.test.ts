// The VFS without a machine: tmpfs over a page allocator on plain memory, path walks over a small
// mount table, pipes and their wait queues, advisory locks, the dentry cache's pruning.
import test from 'ava';
import { EAGAIN, EBUSY, EEXIST, ELOOP, ENODATA, ENOENT, ENOSPC, ENOMEM, EPERM, EPIPE, ERESTARTSYS, EXDEV, Errno } from '../src/abi/errno.js';
import { type CachingDentry, pruneCache } from '../src/fs/dcache.js';
import { FdTable } from '../src/fs/fd-table.js';
import { FileData, type PageStore } from '../src/fs/file-data.js';
import { F_SEAL_WRITE, O_CREAT, O_EXCL, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, POLLIN, POLLOUT } from '../src/abi/fcntl.js';
import { F_RDLCK, F_UNLCK, F_WRLCK, LOCK_EX, LOCK_SH, LOCK_UN, LockTable } from '../src/fs/lock.js';
import { mkdirAt, openAt, renameAt, rmdirAt, statAt, symlinkAt, unlinkAt } from '../src/fs/ops.js';
import { OverlayFs } from '../src/fs/overlay.js';
import { newPipe } from '../src/fs/pipe.js';
import { addSeals } from '../src/fs/seals.js';
import { InternalTmpfs, Tmpfs, TmpfsDentry } from '../src/fs/tmpfs.js';
import { pathOf, resolve } from '../src/fs/walk.js';
import { FsContext, MountNamespace, type VirtualDentry } from '../src/fs/vfs.js';
import { BlockedCall } from '../src/kernel/blocking.js';
import { Blocked } from '../src/kernel/syscall-table.js';
import type { Task } from '../src/kernel/task.js';
import { PageAllocator } from '../src/mm/physical.js';
import { blockingIo, transfer } from '../src/syscalls/read-write.js';

const MIB = 1024 * 1024;

function store(): PageStore & { allocator: PageAllocator } {
  const memory = new Uint8Array(16 * MIB);
  const allocator = new PageAllocator({ punchHole: (gpa, n) => memory.fill(0, gpa, gpa + n) }, 2 * MIB, 16 * MIB);
  return { memory, allocator };
}

function sandbox(): { ctx: FsContext; root: Tmpfs; s: ReturnType<typeof store>; ns: MountNamespace } {
  const s = store();
  const root = new Tmpfs(s, null, 0o755);
  const ns = new MountNamespace(root, root.root, false, 'test');
  const vd: VirtualDentry = { mount: ns.root, dentry: root.root };
  const ctx = new FsContext(ns, vd, vd, { uid: 0, gid: 0 });
  return { ctx, root, s, ns };
}

function writeFile(ctx: FsContext, path: string, text: string): void {
  const f = openAt(ctx, ctx.cwd, path, O_CREAT | O_WRONLY, 0o644);
  if (f instanceof Errno) throw new Error(`${path}: ${f.name}`);
  f.incRef();
  f.write(Buffer.from(text));
  f.decRef();
}

function readFile(ctx: FsContext, path: string): string | Errno {
  const f = openAt(ctx, ctx.cwd, path, O_RDONLY, 0);
  if (f instanceof Errno) return f;
  f.incRef();
  const buf = new Uint8Array(4096);
  const n = f.read(buf);
  f.decRef();
  return typeof n === 'number' ? Buffer.from(buf.subarray(0, n)).toString() : n;
}

test('tmpfs file data lives in allocator pages and goes back when the file does', (t) => {
  const { ctx, s } = sandbox();
  const before = s.allocator.stats.committedBytes;
  const f = openAt(ctx, ctx.cwd, '/big', O_CREAT | O_RDWR, 0o600);
  if (f instanceof Errno) return t.fail(f.name);
  f.incRef();
  t.is(f.write(new Uint8Array(10_000).fill(7)), 10_000);
  t.is(s.allocator.stats.committedBytes - before, 3 * 4096);
  t.is(unlinkAt(ctx, ctx.cwd, '/big'), null);
  // Unlinked but open: still readable.
  const buf = new Uint8Array(4);
  t.is(f.pread(buf, 9_000), 4);
  t.deepEqual([...buf], [7, 7, 7, 7]);
  f.decRef();
  t.is(s.allocator.stats.committedBytes, before);
});

test('tmpfs extended attributes are charged to guest memory, and given back with the value or the inode', (t) => {
  const { ctx, root, s } = sandbox();
  writeFile(ctx, 'f', '');
  const f = resolve(ctx, ctx.cwd, 'f', true) as VirtualDentry;
  const before = s.allocator.stats.committedBytes;
  const ffree = (): number => Number(new DataView(root.statfs().buffer).getBigUint64(48, true));
  const freeBefore = ffree();
  t.is(f.dentry.setxattr('user.big', new Uint8Array(65536), 0), null);
  t.is(f.dentry.setxattr('user.small', new Uint8Array(10), 0), null);
  const charged = s.allocator.stats.committedBytes - before;
  t.true(charged >= 65536 + 10 && charged <= 65536 + 10 + 2 * 4096, `${charged}`);
  t.true(freeBefore - ffree() >= 64, 'statfs counts attributes in the inode space');
  t.deepEqual(f.dentry.listxattr(), ['user.big', 'user.small']);
  t.is(f.dentry.setxattr('user.big', new Uint8Array(1), 0), null);
  t.true(s.allocator.stats.committedBytes - before <= 4096);
  t.is(f.dentry.setxattr('user.small', new Uint8Array(1), 1), EEXIST);
  t.is(f.dentry.setxattr('user.none', new Uint8Array(1), 2), ENODATA);
  t.is(f.dentry.removexattr('user.small'), null);
  t.is(f.dentry.removexattr('user.small'), ENODATA);
  t.is(unlinkAt(ctx, ctx.cwd, 'f'), null);
  t.is(s.allocator.stats.committedBytes, before);
  t.is(ffree(), freeBefore + 1);
});

test('tmpfs extended attributes run out (ENOSPC) when guest memory does', (t) => {
  const { ctx, s } = sandbox();
  writeFile(ctx, 'f', '');
  const f = resolve(ctx, ctx.cwd, 'f', true) as VirtualDentry;
  const before = s.allocator.stats.committedBytes;
  let r: Errno | null = null;
  let n = 0;
  while (r === null && n < 1000) r = f.dentry.setxattr(`user.${n++}`, new Uint8Array(65536), 0);
  t.is(r, ENOSPC);
  t.true(n > 100 && n < 1000, `${n}`);
  for (let i = 0; i < n - 1; i++) t.is(f.dentry.removexattr(`user.${i}`), null);
  t.is(s.allocator.stats.committedBytes, before);
});

test('tmpfs sparse files read zeros in holes and take no pages for them', (t) => {
  const { s } = sandbox();
  const data = new FileData(s);
  t.is(data.writeAt(2 ** 40, new Uint8Array([1, 2, 3])), 3);
  t.is(data.size, 2 ** 40 + 3);
  t.is(data.blocks, 8);
  const out = new Uint8Array(6).fill(9);
  t.is(data.readAt(2 ** 40 - 3, out), 6);
  t.deepEqual([...out], [0, 0, 0, 1, 2, 3]);
  t.is(data.seekData(0, true), 2 ** 40);
  t.is(data.seekData(0, false), 0);
  data.truncate(2);
  t.is(data.blocks, 0);
  data.release();
});

test('a MAP_SHARED page of a tmpfs file is the file page itself', (t) => {
  const { ctx } = sandbox();
  writeFile(ctx, '/m', 'abc');
  const f = openAt(ctx, ctx.cwd, '/m', O_RDWR, 0);
  if (f instanceof Errno) return t.fail(f.name);
  f.incRef();
  const m = f.mappable()!;
  const gpa = m.sharedPage(0) as number;
  t.true(gpa > 0);
  const dentry = resolve(ctx, ctx.cwd, '/m', true) as VirtualDentry;
  t.is((dentry.dentry as TmpfsDentry).fileData.page(0), gpa);
  f.decRef();
});

test('a memfd lives while a description or a mapping holds it, and counts its writable shared mappings', (t) => {
  const s = store();
  const memfds = new InternalTmpfs(s);
  const f = memfds.createFile('memfd:t', 0o777, { uid: 0, gid: 0 }, O_RDWR, 0);
  f.incRef();
  t.is(f.write(new Uint8Array(5000).fill(1)), 5000);
  t.is(s.allocator.stats.committedBytes, 2 * 4096);
  const m = f.mappable();
  m.hold!(true);
  t.is(addSeals(f.sealState, true, 0o100777, F_SEAL_WRITE), EBUSY);
  m.hold!(false);
  m.drop!(true);
  f.decRef();
  t.is(s.allocator.stats.committedBytes, 2 * 4096, 'the mapping keeps the file');
  t.is(addSeals(f.sealState, true, 0o100777, F_SEAL_WRITE), null);
  m.drop!(false);
  t.is(s.allocator.stats.committedBytes, 0);
});

test('F_SETPIPE_SZ: past pipe-max-size only with privilege, and never a ring Linux cannot allocate', (t) => {
  const [r, w] = newPipe(O_NONBLOCK);
  r.incRef();
  w.incRef();
  t.is(r.pipe.resize(2 * MIB, false), EPERM);
  t.is(r.pipe.resize(256 * MIB, true), 256 * MIB);
  t.is(r.pipe.resize(512 * MIB, true), ENOMEM);
  // Shrinking needs no privilege, even from above the limit.
  t.is(r.pipe.resize(4 * MIB, false), 4 * MIB);
  t.is(r.pipe.resize(8 * MIB, false), EPERM);
  t.is(w.write(new Uint8Array(3 * MIB)), 3 * MIB);
  t.is(r.pipe.resize(2 * MIB, false), EBUSY);
  r.decRef();
  w.decRef();
});

test('splice into pipes: a file\'s page layout, no merging of writes, pages moved whole or in part, tee leaves its input', (t) => {
  const [r, w] = newPipe(O_NONBLOCK);
  const [r2, w2] = newPipe(O_NONBLOCK);
  for (const f of [r, w, r2, w2]) f.incRef();
  const data = new Uint8Array(70000).map((_, i) => i % 251);
  // From 100 bytes into a page: sixteen pages hold 65436 bytes, the first 3996 of them.
  t.is(r.pipe.insert(data.subarray(0, 65536), 100), 65436);
  t.is(r.pipe.room, 0);
  t.is(w.write(new Uint8Array(1)), EAGAIN);
  const head = new Uint8Array(3996);
  t.is(r.read(head), 3996);
  t.deepEqual(head, data.subarray(0, 3996));
  // One page free: a write does not merge into the spliced page before it, but the next merges into its own.
  t.is(w.write(new Uint8Array([7])), 1);
  t.is(r.pipe.room, 0);
  t.is(w.write(new Uint8Array([8])), 1);
  // tee copies the first pages and leaves them; splice moves them.
  t.is(r.pipe.spliceTo(r2.pipe, 5000, true), 5000);
  t.is(r.pipe.size, 65436 - 3996 + 2);
  t.is(r2.pipe.room, 14);
  const moved = new Uint8Array(5000);
  t.is(r2.read(moved), 5000);
  t.deepEqual(moved, data.subarray(3996, 8996));
  t.is(r.pipe.spliceTo(r2.pipe, 4096 + 10, false), 4106);
  t.is(r.pipe.size, 65436 - 3996 + 2 - 4106);
  const next = new Uint8Array(4106);
  t.is(r2.read(next), 4106);
  t.deepEqual(next, data.subarray(3996, 8102));
  for (const f of [r, w, r2, w2]) f.decRef();
});

test('.. never climbs above the root, and absolute symlinks start from it', (t) => {
  const { ctx } = sandbox();
  t.is(mkdirAt(ctx, ctx.cwd, '/a', 0o755), null);
  t.is(mkdirAt(ctx, ctx.cwd, '/a/b', 0o755), null);
  writeFile(ctx, '/secret', 'inside');
  t.is(symlinkAt(ctx, '/secret', ctx.cwd, '/a/b/abs'), null);
  t.is(symlinkAt(ctx, '../../../../../../secret', ctx.cwd, '/a/b/rel'), null);
  for (const p of ['/../../secret', '/a/b/../../../../secret', '/a/b/abs', '/a/b/rel']) t.is(readFile(ctx, p), 'inside', p);
  const up = resolve(ctx, ctx.cwd, '/a/b/../../../..', true) as VirtualDentry;
  t.is(pathOf(ctx, up), '/');
});

test('symlink loops end in ELOOP after 40 links', (t) => {
  const { ctx } = sandbox();
  symlinkAt(ctx, 'l2', ctx.cwd, '/l1');
  symlinkAt(ctx, 'l1', ctx.cwd, '/l2');
  t.is(resolve(ctx, ctx.cwd, '/l1', true), ELOOP);
  // A chain of 40 links resolves; 41 do not.
  writeFile(ctx, '/end', 'x');
  symlinkAt(ctx, '/end', ctx.cwd, '/c0');
  for (let i = 1; i <= 40; i++) symlinkAt(ctx, `/c${i - 1}`, ctx.cwd, `/c${i}`);
  t.false(resolve(ctx, ctx.cwd, '/c39', true) instanceof Errno);
  t.is(resolve(ctx, ctx.cwd, '/c40', true), ELOOP);
});

test('mounts are crossed both ways, and busy mount points cannot be removed', (t) => {
  const { ctx, s, ns } = sandbox();
  mkdirAt(ctx, ctx.cwd, '/mnt', 0o755);
  const other = new Tmpfs(s, null);
  const at = resolve(ctx, ctx.cwd, '/mnt', true) as VirtualDentry;
  ns.mount(at, other, other.root, false, 'other');
  writeFile(ctx, '/mnt/inside', 'on the mount');
  t.is(readFile(ctx, '/mnt/../mnt/inside'), 'on the mount');
  t.is(other.root.child('inside') instanceof TmpfsDentry, true);
  t.is(rmdirAt(ctx, ctx.cwd, '/mnt'), EBUSY);
  t.is(renameAt(ctx, ctx.cwd, '/mnt/inside', ctx.cwd, '/outside', 0), EXDEV);
  const st = statAt(ctx, ctx.cwd, '/mnt/inside', true);
  t.false(st instanceof Errno);
});

test('pipes: EAGAIN when empty, waiters woken by writes and by the last writer closing', (t) => {
  const [r, w] = newPipe(0);
  r.incRef();
  w.incRef();
  const buf = new Uint8Array(8);
  t.is(r.read(buf), EAGAIN);
  let woken = 0;
  r.waitFor(POLLIN, () => woken++);
  t.is(woken, 0);
  t.is(w.write(Buffer.from('hi')), 2);
  t.is(woken, 1);
  t.is(r.read(buf), 2);
  r.waitFor(POLLIN, () => woken++);
  w.decRef();
  t.is(woken, 2);
  t.is(r.read(buf), 0);
  let writable = 0;
  const [r2, w2] = newPipe(0);
  r2.incRef();
  w2.incRef();
  t.is(w2.write(new Uint8Array(65536)), 65536);
  t.is(w2.write(new Uint8Array(1)), EAGAIN);
  w2.waitFor(POLLOUT, () => writable++);
  r2.read(new Uint8Array(4096));
  t.is(writable, 1);
  r2.decRef();
  t.is(w2.write(new Uint8Array(1)), EPIPE);
});

test('flock: shared locks coexist, exclusive ones conflict, and close releases', (t) => {
  const locks = new LockTable();
  const [a] = newPipe(0);
  const [b] = newPipe(0);
  a.incRef();
  t.is(locks.flock('k', a, LOCK_SH), null);
  t.is(locks.flock('k', b, LOCK_SH), null);
  t.is(locks.flock('k', b, LOCK_EX), EAGAIN);
  t.is(locks.flock('k', b, LOCK_UN), null);
  t.is(locks.flock('k', a, LOCK_EX), null);
  t.is(locks.flock('k', b, LOCK_SH), EAGAIN);
  a.decRef();
  t.is(locks.flock('k', b, LOCK_EX), null);
});

test('record locks split, merge, conflict between owners and go with their owner', (t) => {
  const locks = new LockTable();
  t.is(locks.setRecord('k', { owner: 1, type: F_WRLCK, start: 0, end: 99, pid: 1 }), null);
  t.is(locks.setRecord('k', { owner: 1, type: F_UNLCK, start: 40, end: 59, pid: 1 }), null);
  t.is(locks.conflict('k', { owner: 2, type: F_RDLCK, start: 45, end: 50, pid: 2 }), null);
  t.is(locks.conflict('k', { owner: 2, type: F_RDLCK, start: 55, end: 65, pid: 2 })?.start, 60);
  t.is(locks.setRecord('k', { owner: 2, type: F_RDLCK, start: 0, end: 10, pid: 2 }), EAGAIN);
  t.is(locks.setRecord('k', { owner: 1, type: F_RDLCK, start: 0, end: Infinity, pid: 1 }), null);
  t.is(locks.setRecord('k', { owner: 2, type: F_RDLCK, start: 0, end: 10, pid: 2 }), null);
  locks.releaseOwner('k', 1);
  t.is(locks.conflict('k', { owner: 3, type: F_WRLCK, start: 20, end: 30, pid: 3 }), null);
});

test('the fd table holds references: the description goes with its last fd', (t) => {
  const fds = new FdTable();
  const [r, w] = newPipe(0);
  const fd = fds.add(r) as number;
  const copy = fds.add(r, false, 10) as number;
  fds.add(w);
  t.is(copy, 10);
  fds.remove(fd);
  t.is(w.write(Buffer.from('x')), 1, 'a reader is still there');
  fds.closeRange(0, 1023, false);
  t.deepEqual(fds.openFds(), []);
});

test('the dentry cache drops unused leaves and keeps what is in use', (t) => {
  const { root } = sandbox();
  const node = (name: string, refs = 0): CachingDentry =>
    Object.assign(new TmpfsDentry(name, null, root, root.root.slot), { children: null, refs }) as unknown as CachingDentry;
  const top = node('/');
  const dir = node('dir');
  const busy = node('busy', 1);
  dir.children = new Map([['busy', busy], ['idle', node('idle')]]);
  top.children = new Map([['dir', dir], ['a', node('a')], ['b', node('b')]]);
  t.is(pruneCache(top, 0), 2);
  t.deepEqual([...top.children.keys()], ['dir']);
  t.deepEqual([...dir.children.keys()], ['busy']);
});

test('an fs context keeps its working directory alive', (t) => {
  const { ctx } = sandbox();
  mkdirAt(ctx, ctx.cwd, '/w', 0o755);
  const w = resolve(ctx, ctx.cwd, '/w', true) as VirtualDentry;
  ctx.setCwd(w);
  t.is(w.dentry.refs, 1);
  t.is(rmdirAt(ctx, ctx.root, '/w'), null);
  t.true(w.dentry.deleted);
});

/** Just enough of a Task for the read/write helpers: guest memory is one buffer at address 0. */
function fakeTask(memory: Uint8Array): { task: Task; results: Array<number | Errno> } {
  const results: Array<number | Errno> = [];
  const mm = {
    forEachRange(va: number, length: number, _write: boolean, fn: (gpa: number, n: number) => boolean | void): Errno | null {
      if (length > 0) fn(va, length);
      return null;
    },
    view: (gpa: number, n: number) => memory.subarray(gpa, gpa + n),
  };
  const fake = {
    mm,
    blocked: null as BlockedCall | null,
    block(interrupted: () => number | Errno = () => ERESTARTSYS) {
      fake.blocked = new BlockedCall(interrupted);
      return fake.blocked;
    },
    complete: (r: number | Errno) => {
      fake.blocked = null;
      results.push(r);
    },
  };
  return { task: fake as unknown as Task, results };
}

test('a read of an empty pipe blocks only until a write, then completes the task', (t) => {
  const memory = new Uint8Array(64);
  const { task, results } = fakeTask(memory);
  const [r, w] = newPipe(0);
  r.incRef();
  w.incRef();
  const first = blockingIo(task, r, POLLIN, () => transfer(task, r, 0, 16, true, null));
  t.is(first, Blocked.instance);
  t.deepEqual(results, []);
  w.write(Buffer.from('wake'));
  t.deepEqual(results, [4]);
  t.is(Buffer.from(memory.subarray(0, 4)).toString(), 'wake');
  // With O_NONBLOCK the same read answers EAGAIN at once.
  r.flags |= O_NONBLOCK;
  t.is(blockingIo(task, r, POLLIN, () => transfer(task, r, 0, 16, true, null)), EAGAIN);
  // A blocked reader sees end of file when the last writer goes.
  r.flags &= ~O_NONBLOCK;
  t.is(blockingIo(task, r, POLLIN, () => transfer(task, r, 0, 16, true, null)), Blocked.instance);
  w.decRef();
  t.deepEqual(results, [4, 0]);
});

test('a signal takes back a blocked pipe read: its waiter leaves the queue and a later write wakes nobody', (t) => {
  const memory = new Uint8Array(64);
  const { task, results } = fakeTask(memory);
  const [r, w] = newPipe(0);
  r.incRef();
  w.incRef();
  t.is(blockingIo(task, r, POLLIN, () => transfer(task, r, 0, 16, true, null)), Blocked.instance);
  t.is(r.pipe.queue.size, 1);
  const call = task.blocked!;
  task.blocked = null;
  t.is(call.cancel(), ERESTARTSYS);
  t.is(r.pipe.queue.size, 0);
  w.write(Buffer.from('late'));
  t.deepEqual(results, []);
  t.is(r.read(new Uint8Array(8)), 4);
  // A call that made progress before it blocked (a long pipe write) answers with that progress instead.
  const partial = blockingIo(task, r, POLLIN, () => null, () => 7);
  t.is(partial, Blocked.instance);
  t.is(task.blocked!.cancel(), 7);
  t.is(r.pipe.queue.size, 0);
});

test('overlay: copy-up on write, whiteouts, opaque directories; the lower layer never changes', (t) => {
  const s = store();
  const lower = new Tmpfs(s, null, 0o755);
  const root = { uid: 0, gid: 0 };
  lower.root.mkdir('d', 0o755, root);
  const d = lower.root.child('d') as TmpfsDentry;
  const file = d.create('f', 0o644, root) as TmpfsDentry;
  file.fileData.writeAt(0, Buffer.from('lower'));
  d.create('g', 0o644, root);
  const overlay = new OverlayFs(new Tmpfs(s, null, 0o755), lower.root);
  const ns = new MountNamespace(overlay, overlay.root, false, 'overlay');
  const vd: VirtualDentry = { mount: ns.root, dentry: overlay.root };
  const ctx = new FsContext(ns, vd, vd, { uid: 0, gid: 0 });
  t.is(readFile(ctx, '/d/f'), 'lower');
  const w = openAt(ctx, ctx.cwd, '/d/f', O_WRONLY, 0);
  if (w instanceof Errno) return t.fail(w.name);
  w.incRef();
  w.pwrite(Buffer.from('UP'), 0);
  w.decRef();
  t.is(readFile(ctx, '/d/f'), 'UPwer');
  t.is(file.fileData.size, 5);
  const lowerBytes = new Uint8Array(5);
  file.fileData.readAt(0, lowerBytes);
  t.is(Buffer.from(lowerBytes).toString(), 'lower', 'the lower file changed');
  t.is(unlinkAt(ctx, ctx.cwd, '/d/g'), null);
  t.is(readFile(ctx, '/d/g'), ENOENT);
  t.true(d.child('g') instanceof TmpfsDentry, 'the lower name went');
  const names = (): string[] => ((resolve(ctx, ctx.cwd, '/d', true) as VirtualDentry).dentry.readdir(ctx) as Array<{ name: string }>).map((e) => e.name).sort();
  t.deepEqual(names(), ['f']);
  // Removing the directory and making it again hides the lower one's entries.
  t.is(unlinkAt(ctx, ctx.cwd, '/d/f'), null);
  t.is(rmdirAt(ctx, ctx.cwd, '/d'), null);
  t.is(mkdirAt(ctx, ctx.cwd, '/d', 0o700), null);
  t.deepEqual(names(), []);
  t.true(d.child('f') instanceof TmpfsDentry);
  // A directory with a lower part cannot be renamed (overlayfs without redirect_dir).
  lower.root.mkdir('e', 0o755, root);
  t.is(renameAt(ctx, ctx.cwd, '/e', ctx.cwd, '/e2', 0), EXDEV);
  // A file made where a lower one was removed still hides it once removed or renamed in turn (as tar
  // does when it replaces a file: unlink, create, unlink, symlink).
  lower.root.create('h', 0o644, root);
  for (const again of ['unlink', 'rename']) {
    t.is(unlinkAt(ctx, ctx.cwd, '/h'), null);
    const c = openAt(ctx, ctx.cwd, '/h', O_WRONLY | O_CREAT | O_EXCL, 0o600);
    if (c instanceof Errno) return t.fail(c.name);
    c.incRef();
    c.decRef();
    t.is(again === 'unlink' ? unlinkAt(ctx, ctx.cwd, '/h') : renameAt(ctx, ctx.cwd, '/h', ctx.cwd, '/h2', 0), null);
    t.is(readFile(ctx, '/h'), ENOENT, `after ${again}`);
    t.is(openAt(ctx, ctx.cwd, '/h', O_WRONLY | O_CREAT | O_EXCL, 0o600) instanceof Errno, false, `create after ${again}`);
  }
});
