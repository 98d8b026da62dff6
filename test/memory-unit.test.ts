// Memory management without /dev/kvm: the address space over a plain ArrayBuffer, with the replay queue
// and the host's shadow paging modelled (test/helpers/shadow-mmu.ts). After every operation the guest's
// view (what the modelled host would translate) must match the page tables the Sentry wrote, every
// freed page must be punched out at once, and at the end nothing may be left allocated.
import test, { type ExecutionContext } from 'ava';
import { EACCES, EEXIST, EFAULT, EINVAL, ENAMETOOLONG, ENOMEM, EPERM, type Errno } from '../src/abi/errno.js';
import { PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE } from '../src/abi/mman.js';
import { advise, MADV, residency, sync } from '../src/mm/advice.js';
import { AddressSpace, type FaultResult, type MapRequest } from '../src/mm/address-space.js';
import type { Mappable } from '../src/mm/mappable.js';
import { type FileCache, PageCache } from '../src/mm/page-cache.js';
import { PageAllocator } from '../src/mm/physical.js';
import { MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, remap } from '../src/mm/remap.js';
import { VmaKind } from '../src/mm/vma.js';
import { RESERVED_VA_START } from '../src/platform/layout.js';
import { FakeHostMemory, FakeQueue, ShadowMmu, type Translation } from './helpers/shadow-mmu.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const PAGE = 4 * KIB;
const HUGE = 2 * MIB;
const MEMORY = 96 * MIB;
const MMAP_BASE = 0x7f00_0000_0000;
const RW = PROT_READ | PROT_WRITE;

interface Guest {
  mm: AddressSpace;
  allocator: PageAllocator;
  host: FakeHostMemory;
  queue: FakeQueue;
  bytes: Uint8Array;
  /** End of a syscall or fault: the batch is closed and the guest replays the queue. */
  batch(): number;
  /** A second vCPU of the same address space: its own queue, replayed when it runs. */
  vcpu(): { queue: FakeQueue; replay(): number };
  /** The program touches va like the CPU would, faulting until the access goes through. */
  touch(va: number, write?: boolean): Translation | FaultResult;
  write(va: number, value: number): void;
  read(va: number): number;
  mmap(req: Partial<MapRequest> & { length: number }): number;
  /** The guest's view of [start, end) must be the tables' (sampled every `step` bytes). */
  check(t: ExecutionContext, start: number, end: number, step?: number): void;
}

function guest(): Guest {
  const memory = new ArrayBuffer(MEMORY);
  const bytes = new Uint8Array(memory);
  const words = new Uint32Array(memory);
  const host = new FakeHostMemory(bytes);
  const allocator = new PageAllocator(host, HUGE, MEMORY);
  const mm = new AddressSpace(memory, allocator, [], { mmapBase: MMAP_BASE });
  const mmu = new ShadowMmu(words, mm.tables.root);
  host.mmu = mmu;
  const queue = new FakeQueue();
  mm.tables.queue = queue;
  const batch = (): number => {
    mm.tables.endBatch();
    return queue.replay(words, mmu);
  };
  const touch = (va: number, write = false): Translation | FaultResult => {
    for (let i = 0; i < 4; i++) {
      const tr = mmu.access(va);
      if (tr !== null && tr.user && (!write || tr.write)) return tr;
      const r = mm.handleFault(va, (tr !== null ? 1 : 0) | (write ? 2 : 0) | 4);
      batch();
      if (!r.mapped) return r;
    }
    throw new Error(`fault loop at ${va.toString(16)}`);
  };
  const translation = (va: number, write: boolean): Translation => {
    const r = touch(va, write);
    if (!('gpa' in r)) throw new Error(`access to ${va.toString(16)} failed: ${JSON.stringify(r)}`);
    return r;
  };
  return {
    mm, allocator, host, queue, bytes, batch, touch,
    vcpu: () => {
      const other = new FakeQueue();
      return { queue: other, replay: () => other.replay(words, mmu) };
    },
    write: (va, value) => { bytes[translation(va, true).gpa + (va % PAGE)] = value; },
    read: (va) => bytes[translation(va, false).gpa + (va % PAGE)]!,
    mmap: (req) => {
      const r = mm.map({ addr: 0, prot: RW, fixed: false, noReplace: false, shared: false, kind: VmaKind.Anonymous, name: '', ...req });
      batch();
      if (typeof r !== 'number') throw new Error(`mmap failed: ${r.name}`);
      return r;
    },
    check: (t, start, end, step = PAGE) => {
      for (let va = start; va < end; va += step) {
        const m = mm.tables.lookup(va);
        const tr = mmu.access(va);
        if (m === null) {
          if (tr !== null) t.fail(`guest still maps ${va.toString(16)} -> ${tr.gpa.toString(16)}`);
          continue;
        }
        const gpa = m.gpa + (va % m.size) - (va % PAGE);
        if (tr === null || tr.gpa !== gpa) t.fail(`guest maps ${va.toString(16)} to ${tr?.gpa.toString(16)}, tables say ${gpa.toString(16)}`);
        else if ((tr.write && !m.writable) || (tr.user && !m.user) || (tr.exec && !m.exec)) {
          t.fail(`guest has more rights on ${va.toString(16)} than the tables give`);
        }
      }
      t.pass();
    },
  };
}

function finish(t: ExecutionContext, g: Guest): void {
  g.mm.release();
  t.is(g.allocator.stats.committedBytes, 0, 'every page and table is freed at exit');
}

// Two threads on two vCPUs: each vCPU replays its own queue when it next runs, which may be after the
// other changed the same entries again.
test('a late replay on one vCPU never undoes what another did since; a retired table waits for its scrubs', (t) => {
  const g = guest();
  const b = g.vcpu();
  const a = g.mmap({ length: 4 * MIB });
  g.write(a, 1);
  g.write(a + 2 * MIB, 2);
  t.is(g.mm.pager.stats.hugePages, 2);
  // vCPU A splits the first huge page; its batch ends, but it has not run (nor replayed) yet.
  t.is(g.mm.unmap(a + 12 * KIB, 8 * KIB), null);
  g.mm.tables.endBatch();
  t.true(g.queue.length > 0);
  // vCPU B unmaps everything, the table made by the split included, and replays at once.
  g.mm.tables.queue = b.queue;
  t.is(g.mm.unmap(a, 4 * MIB), null);
  g.mm.tables.endBatch();
  b.replay();
  // A runs at last: its replay of the split must not bring the unmapped table back.
  g.mm.tables.queue = g.queue;
  g.batch();
  g.check(t, a, a + 4 * MIB);
  // The memory is handed out again, as tables and as data; the old range stays unmapped.
  const c = g.mmap({ length: 8 * MIB });
  for (let va = c; va < c + 8 * MIB; va += 64 * KIB) g.write(va, 3);
  g.check(t, a, a + 4 * MIB);
  g.check(t, c, c + 8 * MIB, 64 * KIB);
  // A table retired by B's batch is freed only after B's replay, however many batches A runs meanwhile.
  const d = g.mmap({ length: 2 * GIB, addr: 0x40_0000_0000, fixed: true });
  g.write(d, 4);
  g.write(d + 1 * GIB, 5);
  g.mm.tables.queue = b.queue;
  t.is(g.mm.unmap(d, 2 * GIB), null);
  g.mm.tables.endBatch();
  g.mm.tables.queue = g.queue;
  for (let i = 0; i < 3; i++) g.batch();
  t.true(g.mm.tablesPending, 'the tables wait for the vCPU that scrubs them');
  b.replay();
  t.false(g.mm.tablesPending);
  g.check(t, d, d + 2 * GIB, 64 * MIB);
  finish(t, g);
});

test('anonymous memory gets 2 MiB pages; a partial munmap splits one and frees the rest at once', (t) => {
  const g = guest();
  const a = g.mmap({ length: 8 * MIB });
  t.is(a % HUGE, 0, 'a 2 MiB multiple is placed on a 2 MiB boundary, as Linux does');
  g.write(a + 5, 7);
  g.write(a + 3 * MIB, 9);
  t.is(g.mm.pager.stats.hugePages, 2);
  const before = g.host.punched;
  t.is(g.mm.unmap(a + 2 * MIB + 12 * KIB, 8 * KIB), null);
  const replayed = g.batch();
  t.is(g.host.punched - before, 8 * KIB, 'the unmapped 8 KiB go back to the host');
  t.true(replayed <= 2, `splitting costs one replayed write (got ${replayed})`);
  t.is(g.read(a + 3 * MIB), 9, 'the split page keeps its contents');
  t.like(g.touch(a + 2 * MIB + 12 * KIB), { mapped: false, signal: 'SIGSEGV', code: 1 });
  g.check(t, a, a + 8 * MIB);
  t.is(g.mm.unmap(a, 8 * MIB), null);
  g.batch();
  g.check(t, a, a + 8 * MIB);
  finish(t, g);
});

// A fork child that unmaps part of a 2 MiB page the parent still maps whole splits the page under it:
// the parent's copy-on-write, fork and unmap must then treat it as its 512 pages.
test('a 2 MiB page shared by fork and split by one side stays right for the other', (t) => {
  const g = guest();
  const a = g.mmap({ length: 4 * MIB });
  g.write(a + 5, 7);
  g.write(a + 2 * MIB, 8);
  t.is(g.mm.pager.stats.hugePages, 2);
  const child = g.mm.fork();
  g.batch();
  child.tables.queue = new FakeQueue();
  t.is(child.unmap(a + 12 * KIB, 8 * KIB), null, 'the child splits the first 2 MiB page');
  child.tables.endBatch();
  t.is(g.allocator.refCount(g.mm.tables.lookup(a)!.gpa, HUGE), 2, 'its other pages are still shared');
  g.write(a + 6, 9);
  t.not(g.mm.tables.lookup(a)!.gpa, child.tables.lookup(a)!.gpa - (child.tables.lookup(a)!.gpa % HUGE), 'the parent\'s write copied the page');
  const grandchild = g.mm.fork();
  g.batch();
  grandchild.tables.queue = new FakeQueue();
  t.is(g.mm.unmap(a, 4 * MIB), null);
  g.batch();
  t.is(g.bytes[child.tables.lookup(a)!.gpa + 5], 7, 'the child keeps its contents');
  t.is(g.bytes[grandchild.tables.lookup(a)!.gpa + 6], 9);
  child.release();
  grandchild.release();
  finish(t, g);
});

test('munmap of 4 KiB pages needs no replay; the table freed is safe to reuse as a table', (t) => {
  const g = guest();
  const a = g.mmap({ length: 2 * MIB, addr: 0x5000_0000, fixed: true });
  t.is(advise(g.mm, a, 2 * MIB, MADV.NOHUGEPAGE), null);
  for (let va = a; va < a + 2 * MIB; va += 64 * KIB) g.write(va, 1);
  t.true(g.mm.pager.stats.mappedAhead > 0, 'faults map their 64 KiB window');
  t.is(g.mm.unmap(a + 64 * KIB, 64 * KIB), null);
  t.is(g.batch(), 0, 'clearing punched 4 KiB pages is host-side only');
  g.check(t, a, a + 2 * MIB);
  t.is(g.mm.unmap(a, 2 * MIB), null);
  t.is(g.batch(), 1, 'the whole table goes with one write (the emptied directory above it stays, idle)');
  g.batch();
  // The freed table page becomes a table again elsewhere; protections must still reach the guest.
  const b = g.mmap({ length: 256 * KIB, addr: 0x6000_0000, fixed: true });
  for (let va = b; va < b + 256 * KIB; va += PAGE) g.write(va, 2);
  t.is(g.mm.protect(b, 256 * KIB, PROT_READ), null);
  g.batch();
  t.like(g.touch(b + 8 * KIB, true), { mapped: false, signal: 'SIGSEGV', code: 2 });
  t.is(g.read(b + 8 * KIB), 2);
  g.check(t, b, b + 256 * KIB);
  finish(t, g);
});

test('mapping and unmapping in one place needs no replay; idle empty tables are bounded', (t) => {
  const g = guest();
  const a = g.mmap({ length: PAGE, addr: 0x7000_0000_0000, fixed: true });
  g.write(a, 1);
  t.is(g.mm.unmap(a, PAGE), null);
  g.batch();
  const tables = g.allocator.stats.committedBytes;
  let replayed = 0;
  for (let i = 0; i < 20; i++) {
    g.mmap({ length: PAGE, addr: a, fixed: true });
    g.write(a, 2);
    t.is(g.mm.unmap(a, PAGE), null);
    replayed += g.batch();
  }
  t.is(replayed, 0, 'the emptied table stays linked and is used again');
  t.is(g.allocator.stats.committedBytes, tables);
  // Empty tables in many places: at most a bounded number stays.
  for (let i = 0; i < 200; i++) {
    const b = 0x7100_0000_0000 + i * HUGE;
    g.mmap({ length: PAGE, addr: b, fixed: true });
    g.write(b, 3);
    t.is(g.mm.unmap(b, PAGE), null);
    g.batch();
  }
  g.batch();
  t.true(g.allocator.stats.committedBytes <= tables + 70 * PAGE, `idle tables are bounded (${g.allocator.stats.committedBytes - tables} bytes)`);
  g.check(t, 0x7100_0000_0000, 0x7100_0000_0000 + 200 * HUGE, HUGE);
  finish(t, g);
});

test('a 1 GiB range is unmapped with one write per table and the freed tables are scrubbed', (t) => {
  const g = guest();
  const a = g.mmap({ length: 1 * GIB, addr: 0x40_0000_0000, fixed: true });
  for (let slot = 0; slot < 16; slot++) g.write(a + slot * 64 * MIB, slot);
  const sub = g.mmap({ length: 64 * KIB, addr: a + 1 * GIB + 4 * KIB, fixed: true });
  g.write(sub, 1);
  t.is(g.mm.unmap(a, 1 * GIB), null);
  const replayed = g.batch();
  t.true(replayed <= 17 + 1, `clear the directory entry and scrub its 16 entries (got ${replayed})`);
  g.batch();
  g.check(t, a, a + 1 * GIB, 64 * MIB);
  // Reuse the freed directory page for a new directory and change an entry in it.
  const b = g.mmap({ length: 16 * MIB, addr: 0x80_0000_0000, fixed: true });
  g.write(b, 1);
  g.write(b + 2 * MIB, 2);
  t.is(g.mm.unmap(b, 2 * MIB), null);
  g.batch();
  g.check(t, b, b + 16 * MIB, 512 * KIB);
  g.check(t, a, a + 1 * GIB, 64 * MIB);
  t.is(g.read(sub), 1);
  finish(t, g);
});

test('mprotect splits and merges areas and takes rights away at once', (t) => {
  const g = guest();
  const a = g.mmap({ length: 64 * KIB });
  for (let va = a; va < a + 64 * KIB; va += PAGE) g.write(va, 5);
  t.is(g.mm.protect(a + 16 * KIB, 16 * KIB, PROT_READ), null);
  g.batch();
  t.is(g.mm.vmas.list.length, 3);
  t.like(g.touch(a + 20 * KIB, true), { mapped: false, code: 2 });
  t.is(g.read(a + 20 * KIB), 5);
  t.is(g.mm.protect(a + 16 * KIB, 16 * KIB, RW), null);
  g.batch();
  t.is(g.mm.vmas.list.length, 1, 'the three areas merge back into one');
  g.write(a + 20 * KIB, 6);
  t.is(g.mm.protect(a, 64 * KIB, PROT_NONE), null);
  g.batch();
  t.like(g.touch(a + 4 * KIB), { mapped: false, code: 2 });
  t.is(g.mm.protect(a, 64 * KIB, PROT_READ | PROT_EXEC), null);
  g.batch();
  t.is(g.read(a + 20 * KIB), 6, 'PROT_NONE keeps the contents');
  g.check(t, a, a + 64 * KIB);
  t.is(g.mm.protect(a + 128 * KIB, PAGE, PROT_READ), ENOMEM);
  t.is(g.mm.protect(a + 1, PAGE, PROT_READ), EINVAL);
  finish(t, g);
});

test('a batch that would overflow the queue replaces tables instead', (t) => {
  const g = guest();
  g.mm.tables.queueCapacity = 120;
  const a = g.mmap({ length: 4 * MIB, addr: 0x7000_1000, fixed: true });
  for (let va = a; va < a + 4 * MIB - PAGE; va += 64 * KIB) g.write(va, 3);
  t.is(g.mm.protect(a, 4 * MIB - PAGE, PROT_READ), null);
  const replayed = g.batch();
  t.true(replayed <= 120, `the queue never overflows (got ${replayed})`);
  t.true(g.mm.tables.stats.replacements > 0, 'tables were replaced');
  g.check(t, a, a + 4 * MIB - PAGE);
  t.like(g.touch(a + 128 * KIB, true), { mapped: false, code: 2 });
  for (let i = 0; i < 20; i++) g.batch();
  g.check(t, a, a + 4 * MIB - PAGE);
  t.is(g.mm.unmap(a, 4 * MIB), null);
  t.true(g.batch() <= 120);
  for (let i = 0; i < 20; i++) g.batch();
  g.check(t, a, a + 4 * MIB);
  finish(t, g);
});

test('mremap grows in place, moves with the contents and shrinks', (t) => {
  const g = guest();
  const a = g.mmap({ length: 4 * MIB });
  g.write(a, 11);
  g.write(a + 3 * MIB, 12);
  const grown = remap(g.mm, a, 4 * MIB, 6 * MIB, 0, 0);
  g.batch();
  t.true(grown === a || grown === ENOMEM);
  // Block growth in place, then move.
  const b = g.mmap({ length: 64 * KIB, addr: 0x2000_0000, fixed: true });
  g.write(b, 21);
  g.mmap({ length: PAGE, addr: b + 64 * KIB, fixed: true });
  t.is(remap(g.mm, b, 64 * KIB, 128 * KIB, 0, 0), ENOMEM, 'no room and no MREMAP_MAYMOVE');
  const moved = remap(g.mm, b, 64 * KIB, 128 * KIB, MREMAP_MAYMOVE, 0) as number;
  g.batch();
  t.not(moved, b);
  t.is(g.read(moved), 21, 'the contents move with the pages');
  t.like(g.touch(b), { mapped: false, code: 1 });
  g.check(t, moved, moved + 128 * KIB);
  // A 2 MiB page moves with one write to a 2 MiB-compatible place.
  const bigMoved = remap(g.mm, a, 4 * MIB, 4 * MIB, MREMAP_MAYMOVE | MREMAP_FIXED, 0x3000_0000) as number;
  const replayed = g.batch();
  t.is(bigMoved, 0x3000_0000);
  t.true(replayed <= 8, `huge pages move by their directory entries (got ${replayed})`);
  t.is(g.read(bigMoved + 3 * MIB), 12);
  t.is(g.read(bigMoved), 11);
  g.check(t, a, a + 4 * MIB, 256 * KIB);
  // Unaligned move, leaf by leaf, and DONTUNMAP leaves zero-fill memory behind.
  const c = remap(g.mm, bigMoved, 4 * MIB, 4 * MIB, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, 0x5000_3000) as number;
  g.batch();
  t.is(c, 0x5000_3000);
  t.is(g.read(c + 3 * MIB), 12);
  t.is(g.read(bigMoved + 3 * MIB), 0, 'DONTUNMAP: the old range reads zeros');
  g.check(t, c, c + 4 * MIB, 64 * KIB);
  t.is(remap(g.mm, c, 4 * MIB, 2 * MIB, 0, 0), c);
  g.batch();
  t.like(g.touch(c + 3 * MIB), { mapped: false, code: 1 });
  t.is(remap(g.mm, c + 1, PAGE, PAGE, 0, 0), EINVAL);
  t.is(remap(g.mm, 0x1234_0000, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0), EFAULT);
  t.is(remap(g.mm, c, PAGE, PAGE, MREMAP_FIXED, 0x6000_0000), EINVAL, 'FIXED needs MAYMOVE');
  t.is(remap(g.mm, c, 0, PAGE, MREMAP_MAYMOVE, 0), EINVAL, 'old_size 0 duplicates only shared mappings');
  finish(t, g);
});

test('brk grows and shrinks the heap with Linux limits', (t) => {
  const g = guest();
  g.mm.brkStart = g.mm.brkEnd = 0x60_0000;
  t.is(g.mm.setBrk(0), 0x60_0000, 'brk(0) reports the break');
  t.is(g.mm.setBrk(0x60_0000 + 300 * KIB), 0x60_0000 + 300 * KIB);
  g.write(0x60_0000 + 200 * KIB, 4);
  t.is(g.mm.setBrk(0x60_0000 + 100), 0x60_0000 + 100);
  g.batch();
  t.like(g.touch(0x60_0000 + 200 * KIB), { mapped: false, code: 1 });
  t.is(g.mm.setBrk(0x50_0000), 0x60_0000 + 100, 'below the start: refused');
  g.mmap({ length: PAGE, addr: 0x60_0000 + 1 * MIB, fixed: true });
  t.is(g.mm.setBrk(0x60_0000 + 2 * MIB), 0x60_0000 + 100, 'into another mapping: refused');
  t.is(g.mm.setBrk(0x60_0000 + 1 * MIB - 2 * PAGE), 0x60_0000 + 1 * MIB - 2 * PAGE);
  t.is(g.read(0x60_0000 + 200 * KIB), 0, 'memory given back and taken again reads zeros');
  g.check(t, 0x60_0000, 0x60_0000 + 2 * MIB);
  finish(t, g);
});

test('MADV_DONTNEED punches without touching the tables; mincore reports what was touched', (t) => {
  const g = guest();
  const a = g.mmap({ length: 64 * KIB, addr: 0x7000_0000, fixed: true });
  g.write(a, 1);
  g.write(a + 8 * KIB, 2);
  const resident = residency(g.mm, a, 16) as Uint8Array;
  t.deepEqual([...resident].slice(0, 4), [1, 0, 1, 0], 'fault-around pages are not reported');
  const before = g.host.punched;
  t.is(advise(g.mm, a, 64 * KIB, MADV.DONTNEED), null);
  t.is(g.batch(), 0);
  t.is(g.host.punched - before, 64 * KIB);
  t.is(g.read(a + 8 * KIB), 0);
  t.deepEqual([...(residency(g.mm, a, 4) as Uint8Array)], [0, 0, 1, 0]);
  t.is(residency(g.mm, a + 128 * KIB, 1), ENOMEM);
  t.is(advise(g.mm, a, 64 * KIB, 77), EINVAL);
  t.is(advise(g.mm, a + 1, PAGE, MADV.DONTNEED), EINVAL);
  t.is(advise(g.mm, a, 128 * KIB, MADV.WILLNEED), ENOMEM, 'a hole in the range');
  g.check(t, a, a + 64 * KIB);
  finish(t, g);
});

test('a slot of 4 KiB pages becomes one 2 MiB page when its area covers it', (t) => {
  const g = guest();
  const a = g.mmap({ length: 2 * MIB - 64 * KIB, addr: 0x7200_0000, fixed: true });
  g.write(a + 100, 42);
  g.write(a + 1 * MIB, 43);
  g.mmap({ length: 64 * KIB, addr: a + 2 * MIB - 64 * KIB, fixed: true });
  t.is(g.mm.vmas.list.length, 1, 'the areas merge and cover the slot');
  g.write(a + 1536 * KIB, 44);
  t.is(g.mm.pager.stats.collapses, 1);
  t.is(g.read(a + 100), 42);
  t.is(g.read(a + 1 * MIB), 43);
  t.is(g.read(a + 1536 * KIB), 44);
  g.check(t, a, a + 2 * MIB);
  finish(t, g);
});

test('the stack grows down on faults, up to RLIMIT_STACK and not into the guard gap', (t) => {
  const g = guest();
  const top = 0x7ff0_0000_0000;
  const s = g.mmap({ length: 128 * KIB, addr: top - 128 * KIB, fixed: true, growsDown: true, kind: VmaKind.Stack, name: '[stack]' });
  g.write(s - 100 * KIB, 1);
  t.is(g.mm.vmas.find(s - 100 * KIB)?.start, s - 100 * KIB - 4 * KIB + (100 * KIB % PAGE === 0 ? 4 * KIB : 0));
  t.like(g.touch(top - 9 * MIB), { mapped: false, code: 1 }, 'beyond RLIMIT_STACK');
  g.mmap({ length: PAGE, addr: top - 4 * MIB, fixed: true });
  t.like(g.touch(top - 4 * MIB + 512 * KIB), { mapped: false, code: 1 }, 'inside the guard gap');
  t.is(g.mm.unmappedArea(top - 128 * KIB - 64 * KIB, 64 * KIB) !== top - 192 * KIB, true, 'mmap keeps out of the gap');
  finish(t, g);
});

/** A file with pages of its own (like tmpfs), to map. */
class PagedFile implements Mappable {
  readonly mapName = '/memfile';
  readonly pages = new Map<number, number>();
  holds = 0;
  constructor(private readonly g: { allocator: PageAllocator; bytes: Uint8Array }, private readonly length: number) {}
  size(): number { return this.length; }
  sharedPage(offset: number): number {
    let p = this.pages.get(offset);
    if (p === undefined) {
      p = this.g.allocator.allocPage();
      this.g.bytes.fill(0x66, p, p + PAGE);
      this.pages.set(offset, p);
    }
    return p;
  }
  readAt(): number { return 0; }
  writeAt(): number { return 0; }
  hold(): void { this.holds++; }
  drop(): void { this.holds--; }
  free(): void { for (const p of this.pages.values()) this.g.allocator.freePage(p); }
}

test('file mappings: shared pages are the file\'s, private ones copy on write, past the end is SIGBUS', (t) => {
  const g = guest();
  const file = new PagedFile(g, 5 * PAGE + 100);
  const shared = g.mmap({ length: 8 * PAGE, shared: true, kind: VmaKind.File, file, name: file.mapName });
  const priv = g.mmap({ length: 8 * PAGE, kind: VmaKind.File, file, name: file.mapName, prot: RW });
  t.is(file.holds, 2);
  t.is(g.read(priv + PAGE), 0x66);
  g.write(shared + PAGE, 0x11);
  t.is(g.read(priv + PAGE), 0x11, 'a private mapping sees the file until it writes');
  g.write(priv + PAGE, 0x22);
  t.is(g.mm.pager.stats.copyOnWrite, 1);
  t.is(g.read(shared + PAGE), 0x11, 'the private write went to a copy');
  t.is(g.bytes[file.pages.get(PAGE)!], 0x11);
  t.like(g.touch(shared + 6 * PAGE), { mapped: false, signal: 'SIGBUS' });
  t.is(g.read(shared + 5 * PAGE), 0x66, 'the page holding the end of the file maps');
  t.is(sync(g.mm, shared, 8 * PAGE, 4), null);
  t.is(g.mm.unmap(shared, 8 * PAGE), null);
  g.batch();
  t.is(file.holds, 1);
  g.check(t, shared, shared + 8 * PAGE);
  g.check(t, priv, priv + 8 * PAGE);
  g.mm.release();
  t.is(file.holds, 0);
  file.free();
  t.is(g.allocator.stats.committedBytes, 0);
});

/** A file without pages of its own whose private mappings share a page cache (a host file's way). */
class CachedFile implements Mappable {
  readonly mapName = '/hostfile';
  reads = 0;
  constructor(readonly contents: Uint8Array, readonly cache: FileCache) {
    cache.validate({ size: contents.length, mtimeNs: 0n, ctimeNs: 0n });
  }
  size(): number { return this.contents.length; }
  sharedPage(): null { return null; }
  readAt(offset: number, dst: Uint8Array): number {
    this.reads++;
    const part = this.contents.subarray(offset, offset + dst.length);
    dst.set(part);
    return part.length;
  }
  writeAt(): number { return 0; }
}

test('the page cache: private mappings share its pages, writes reach them, memory pressure takes the unused', (t) => {
  const g = guest();
  const cache = new PageCache({ memory: g.bytes, allocator: g.allocator }, 64 * PAGE);
  g.allocator.reclaim = (pages) => cache.reclaim(pages);
  const contents = new Uint8Array(8 * PAGE).fill(0x41);
  const file = new CachedFile(contents, cache.file('1:2'));
  const a = g.mmap({ length: 8 * PAGE, kind: VmaKind.File, file, name: file.mapName, prot: PROT_READ });
  const b = g.mmap({ length: 8 * PAGE, kind: VmaKind.File, file, name: file.mapName, prot: PROT_READ });
  t.is(g.read(a + 3 * PAGE), 0x41);
  t.is(g.read(b + 3 * PAGE), 0x41);
  t.is(file.reads, 1, 'one read fills the fault-around window, and the second mapping reads nothing');
  t.is(g.mm.tables.lookup(a + 3 * PAGE)!.gpa, g.mm.tables.lookup(b + 3 * PAGE)!.gpa, 'both map the cached page');
  t.false(g.mm.tables.lookup(a)!.writable);
  file.cache.written(3 * PAGE + 5, Uint8Array.of(0x42), () => ({ size: contents.length, mtimeNs: 1n, ctimeNs: 1n }));
  t.is(g.read(a + 3 * PAGE + 5), 0x42, 'a write through the file reaches the mappings');
  t.is(g.mm.protect(b, 8 * PAGE, RW), null);
  g.batch();
  g.write(b + 3 * PAGE, 0x43);
  t.is(g.read(a + 3 * PAGE), 0x41, 'a private write goes to a copy');
  const w = g.mmap({ length: 8 * PAGE, kind: VmaKind.File, file, name: file.mapName, prot: RW });
  t.is(g.read(w + PAGE), 0x41);
  t.not(g.mm.tables.lookup(w + PAGE)!.gpa, g.mm.tables.lookup(a + PAGE)!.gpa, 'a writable private mapping takes copies');
  t.is(g.mm.unmap(a, 8 * PAGE), null);
  t.is(g.mm.unmap(b, 8 * PAGE), null);
  t.is(g.mm.unmap(w, 8 * PAGE), null);
  g.batch();
  t.is(cache.stats.pages, 8, 'unmapped pages stay cached');
  // Every other page of guest memory taken: the allocator asks the cache for its unused pages.
  const taken: number[] = [];
  for (let p = g.allocator.allocPage(); p >= 0; p = g.allocator.allocPage()) taken.push(p);
  t.is(cache.stats.pages, 0, 'memory pressure reclaimed the cache');
  for (const p of taken) g.allocator.freePage(p);
  // Past the budget, the least recently used pages go.
  const big = new CachedFile(new Uint8Array(128 * PAGE).fill(7), cache.file('1:3'));
  const m = g.mmap({ length: 128 * PAGE, kind: VmaKind.File, file: big, name: big.mapName, prot: PROT_READ });
  for (let va = m; va < m + 128 * PAGE; va += PAGE) t.is(g.read(va), 7);
  t.true(cache.stats.pages <= 64 && cache.stats.evicted > 0, `cache within its budget: ${JSON.stringify(cache.stats)}`);
  t.is(g.read(m), 7, 'a mapping keeps the pages the cache dropped');
  g.mm.release();
  cache.reclaim(Infinity);
  t.is(g.allocator.stats.committedBytes, 0);
});

test('the page cache at the end: reclaiming everything frees the pages no mapping uses, in runs, and keeps the rest', (t) => {
  const g = guest();
  const cache = new PageCache({ memory: g.bytes, allocator: g.allocator }, 64 * PAGE);
  const file = new CachedFile(new Uint8Array(16 * PAGE).fill(0x41), cache.file('1:4'));
  const a = g.mmap({ length: 16 * PAGE, kind: VmaKind.File, file, name: file.mapName, prot: PROT_READ });
  t.is(g.read(a), 0x41);
  t.is(cache.stats.pages, 16, 'the fault read its 64 KiB window into the cache');
  t.is(g.mm.unmap(a + 4 * PAGE, 12 * PAGE), null);
  g.batch();
  const calls = g.host.calls;
  t.is(cache.reclaim(Infinity), 12, 'the 12 pages no mapping uses go');
  t.is(g.host.calls - calls, 1, 'in one punch: they are neighbours');
  t.is(cache.stats.pages, 4, 'the 4 still mapped stay');
  t.is(g.read(a + 3 * PAGE), 0x41);
  // A new mapping maps the kept pages and reads the others again.
  const b = g.mmap({ length: 16 * PAGE, kind: VmaKind.File, file, name: file.mapName, prot: PROT_READ });
  t.is(g.read(b + 8 * PAGE), 0x41);
  t.is(g.mm.tables.lookup(b + PAGE)!.gpa, g.mm.tables.lookup(a + PAGE)!.gpa, 'a kept page is still the cached one');
  t.is(cache.stats.pages, 16);
  g.mm.release();
  t.is(cache.reclaim(Infinity), 16, 'with no mapping left, every page goes');
  t.is(cache.stats.pages, 0);
  t.is(cache.file('1:4').pageCount, 0);
  t.is(g.allocator.stats.committedBytes, 0);
});

test('a fault that finds its window cached maps the cached pages of its 1 MiB; one that reads maps its 64 KiB', (t) => {
  const g = guest();
  const cache = new PageCache({ memory: g.bytes, allocator: g.allocator }, 1024 * PAGE);
  const file = new CachedFile(new Uint8Array(2 * MIB).fill(0x41), cache.file('1:5'));
  const length = 2 * MIB;
  const a = g.mmap({ length, kind: VmaKind.File, file, name: file.mapName, prot: PROT_READ });
  t.is(g.read(a + 5 * PAGE), 0x41);
  const mapped = (from: number, to: number): number => {
    let n = 0;
    for (let va = from; va < to; va += PAGE) if (g.mm.tables.lookup(va) !== null) n++;
    return n;
  };
  t.is(mapped(a, a + length), 16, 'a fault that read maps its 64 KiB window only');
  for (let va = a; va < a + length; va += 64 * KIB) t.is(g.read(va), 0x41);
  t.is(file.reads, 32, 'each window read once');
  const b = g.mmap({ length, kind: VmaKind.File, file, name: file.mapName, prot: PROT_READ });
  const va = b + 5 * PAGE;
  t.is(g.read(va), 0x41);
  t.is(file.reads, 32, 'the second mapping reads nothing');
  const block = va - (va % MIB);
  const from = Math.max(block, b);
  const to = Math.min(block + MIB, b + length);
  t.is(mapped(b, b + length), (to - from) / PAGE, 'the cached pages of the aligned 1 MiB around the fault are mapped, no more');
  const ahead = g.mm.tables.lookup(to - PAGE)!;
  t.is(ahead.gpa, g.mm.tables.lookup(a + (to - PAGE - b))!.gpa, 'the cached page itself');
  t.false(ahead.accessed, 'mapped ahead with the accessed bit clear');
  t.false(ahead.writable);
  g.mm.release();
  cache.reclaim(Infinity);
  t.is(g.allocator.stats.committedBytes, 0);
});

test('readString: one page or several (a character split between two pages decodes whole), its bound, a hole', (t) => {
  const g = guest();
  const a = g.mmap({ length: 2 * PAGE, prot: RW, kind: VmaKind.Anonymous, name: '' });
  const put = (va: number, text: string): void => {
    t.is(g.mm.copyOut(va, Buffer.from(`${text}\0`)), Buffer.byteLength(text) + 1);
  };
  put(a + 16, '/usr/lib/gcc/x86_64-linux-gnu/12/cc1');
  t.is(g.mm.readString(a + 16, 4095, ENAMETOOLONG), '/usr/lib/gcc/x86_64-linux-gnu/12/cc1');
  // 'é' is two bytes: the first ends the first page, the second starts the next.
  put(a + PAGE - 5, 'abcdé/x');
  t.is(g.mm.readString(a + PAGE - 5, 4095, ENAMETOOLONG), 'abcdé/x');
  t.is(g.mm.readString(a + PAGE - 5, 7, ENAMETOOLONG), ENAMETOOLONG, 'one byte over the bound');
  t.is(g.mm.readString(a + PAGE - 5, 8, ENAMETOOLONG), 'abcdé/x', 'the bound counts bytes');
  t.is(g.mm.copyOut(a + 100, Uint8Array.of(0x69, 0xff, 0x6a, 0)), 4);
  t.is(g.mm.readString(a + 100, 4095, ENAMETOOLONG), 'i\ufffdj', 'a byte that is no UTF-8 decodes as U+FFFD');
  // No NUL before the end of the area: the next page is a hole.
  g.mm.fill(a + PAGE, new Uint8Array(PAGE).fill(0x41));
  t.is(g.mm.readString(a + PAGE, 2 * PAGE, ENAMETOOLONG), EFAULT);
  t.is(g.mm.readString(a + 2 * PAGE - 3, 2, ENAMETOOLONG), ENAMETOOLONG);
  g.mm.release();
});

test('shared anonymous memory is one object; mremap with old size 0 maps it twice', (t) => {
  const g = guest();
  const shm = g.mm.createSharedMemory(16 * PAGE);
  const a = g.mmap({ length: 16 * PAGE, shared: true, kind: VmaKind.File, file: shm, name: shm.mapName });
  g.write(a + 3 * PAGE, 9);
  const b = remap(g.mm, a, 0, 16 * PAGE, MREMAP_MAYMOVE, 0) as number;
  g.batch();
  t.is(typeof b, 'number');
  t.is(g.read(b + 3 * PAGE), 9);
  g.write(b + 3 * PAGE, 10);
  t.is(g.read(a + 3 * PAGE), 10);
  t.is(g.mm.unmap(a, 16 * PAGE), null);
  t.true(g.batch() >= 1, 'pages still in use elsewhere are unmapped by replayed writes');
  g.check(t, a, a + 16 * PAGE);
  t.is(g.read(b + 3 * PAGE), 10);
  t.is(advise(g.mm, b, 16 * PAGE, MADV.REMOVE), null);
  g.batch();
  t.is(g.read(b + 3 * PAGE), 0, 'MADV_REMOVE frees the object\'s pages');
  t.is(g.mm.unmap(b, 16 * PAGE), null);
  g.batch();
  t.is(shm.pageCount, 0, 'the last unmap frees the object');
  finish(t, g);
});

test('a fork child\'s shared mapping holds its object once: the pages go when both sides unmap', (t) => {
  const g = guest();
  const shm = g.mm.createSharedMemory(4 * PAGE);
  const a = g.mmap({ length: 4 * PAGE, shared: true, kind: VmaKind.File, file: shm, name: shm.mapName });
  g.write(a, 5);
  const child = g.mm.fork();
  g.batch();
  child.tables.queue = new FakeQueue();
  t.is(child.unmap(a, 4 * PAGE), null);
  child.tables.endBatch();
  child.release();
  t.is(g.mm.unmap(a, 4 * PAGE), null);
  g.batch();
  t.is(shm.pageCount, 0);
  finish(t, g);
});

// The sandbox ends while a dead address space's retired tables still wait for the guest's scrub: its
// pages were freed by retire(), and release() must not walk the tables and free them twice.
test('an address space retired and not yet scrubbed is released at shutdown without freeing a page twice', (t) => {
  const g = guest();
  const a = g.mmap({ length: 64 * KIB });
  for (let va = a; va < a + 64 * KIB; va += PAGE) g.write(va, 7);
  g.mm.dropAreas();
  g.mm.retire();
  g.mm.tables.endBatch();
  t.true(g.mm.tablesPending);
  finish(t, g);
});

test('bad input gives the Linux errno', (t) => {
  const g = guest();
  const base: MapRequest = { addr: 0, length: PAGE, prot: RW, fixed: false, noReplace: false, shared: false, kind: VmaKind.Anonymous, name: '' };
  t.is(g.mm.map({ ...base, addr: 0x1000_0001, fixed: true }), EINVAL, 'unaligned MAP_FIXED');
  t.is(g.mm.map({ ...base, length: 0 }), EINVAL);
  t.is(g.mm.map({ ...base, length: 2 ** 48 }), ENOMEM, 'longer than the address space');
  t.is(g.mm.map({ ...base, addr: RESERVED_VA_START + 0x1000, fixed: true }), ENOMEM, 'over the stub and physical map');
  t.is(g.mm.map({ ...base, addr: RESERVED_VA_START, noReplace: true }), EEXIST);
  t.is(g.mm.map({ ...base, addr: 0x1000, fixed: true }), EPERM, 'below vm.mmap_min_addr');
  t.is(g.mm.map({ ...base, addr: 0x1000, fixed: true, privileged: true }), 0x1000);
  const a = g.mmap({ length: 4 * PAGE });
  t.is(g.mm.map({ ...base, addr: a + PAGE, noReplace: true }), EEXIST);
  const hinted = g.mm.map({ ...base, addr: RESERVED_VA_START + 0x1000 });
  t.true(typeof hinted === 'number' && (hinted < RESERVED_VA_START || hinted >= RESERVED_VA_START + 2 ** 40), 'a hint in the reserved range is ignored');
  t.is(g.mm.unmap(a + 1, PAGE), EINVAL);
  t.is(g.mm.unmap(a, 0), EINVAL);
  t.is(g.mm.unmap(RESERVED_VA_START, PAGE), null, 'munmap of a range with nothing mapped succeeds');
  const file = new PagedFile(g, PAGE);
  const ro = g.mmap({ length: PAGE, shared: true, kind: VmaKind.File, file, name: file.mapName, prot: PROT_READ, mayWrite: false });
  t.is(g.mm.protect(ro, PAGE, RW), EACCES as Errno);
  t.is(sync(g.mm, a, PAGE, 1 | 4), EINVAL);
  t.is(sync(g.mm, a + PAGE * 100, PAGE, 4), ENOMEM);
  g.mm.release();
  file.free();
  t.is(g.allocator.stats.committedBytes, 0);
});

test('MAP_POPULATE builds fresh tables host-side and links them with one write', (t) => {
  const g = guest();
  const a = g.mm.map({ addr: 0x10_0000_0000, length: 64 * MIB, prot: RW, fixed: true, noReplace: false, shared: false, kind: VmaKind.Anonymous, name: '', populate: true });
  const replayed = g.batch();
  t.is(a, 0x10_0000_0000);
  t.true(replayed <= 2, `got ${replayed}`);
  t.is(g.allocator.stats.committedBytes >= 64 * MIB, true);
  g.check(t, 0x10_0000_0000, 0x10_0000_0000 + 64 * MIB, 1 * MIB);
  finish(t, g);
});

test('pages freed in one batch in any order are punched as one run per contiguous range', (t) => {
  const host = new FakeHostMemory(new Uint8Array(8 * MIB));
  const allocator = new PageAllocator(host, 0, 8 * MIB);
  const pages = Array.from({ length: 16 }, () => allocator.allocPage());
  const shuffled = [...pages.slice(8).reverse(), ...pages.slice(0, 8).reverse()];
  allocator.batchFrees(() => { for (const gpa of shuffled.filter((_, i) => i !== 3)) allocator.freePage(gpa); });
  const kept = shuffled[3]!;
  // 15 pages around one still in use: two runs, two calls, every freed byte punched.
  t.is(host.calls, 2);
  t.is(host.punched, 15 * PAGE);
  t.true(allocator.freePage(kept));
  t.is(host.calls, 3);
});
