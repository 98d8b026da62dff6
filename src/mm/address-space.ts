// One process's address space: its areas (vma.ts), its page tables (page-tables.ts) and the pages behind
// them (pager.ts, physical.ts). The only way the Sentry reads or writes program memory: copyIn, copyOut,
// readString and forEachRange check every byte against the areas and report EFAULT, never throw.
// The mapping calls (mmap, munmap, mprotect, brk) are here; mremap, madvise, mincore and msync in
// remap.ts and advice.ts.
import { EEXIST, EFAULT, EINVAL, ENOMEM, EPERM, Errno, EACCES } from '../abi/errno.js';
import { PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { BUS_ADRERR, SEGV_ACCERR, SEGV_MAPERR } from '../abi/signal.js';
import type { RootEntry } from '../platform/boot.js';
import { HUGE_PAGE_SIZE, PAGE_SIZE, RESERVED_VA_END, RESERVED_VA_START, USER_TOP } from '../platform/layout.js';
import type { GuestRanges } from './guest-ranges.js';
import type { Mappable } from './mappable.js';
import { PageTables, type Mapping } from './page-tables.js';
import { PageResult, Pager } from './pager.js';
import type { PageAllocator } from './physical.js';
import { SharedMemory } from './shared-memory.js';
import { Advice, canExec, canRead, canWrite, startGap, STACK_GUARD_GAP, VmaKind, VmaList, type Vma } from './vma.js';

/** Lowest address mmap hands out without MAP_FIXED, as Linux's default vm.mmap_min_addr. */
export const MMAP_MIN_ADDR = 0x10000;
/** MAP_32BIT places mappings in [1 GiB, 2 GiB), as Linux on x86-64 does. */
const MAP_32BIT_START = 0x4000_0000;
const MAP_32BIT_END = 0x8000_0000;
/** Page-fault error code bits (Intel SDM 4.7). */
const PF_PRESENT = 0x1;
const PF_WRITE = 0x2;
const PF_INSTRUCTION = 0x10;
/** A fault the tables allow, this many times in a row at one place: the host disagrees, give up. */
const MAX_REPEATED_FAULTS = 64;
/** The used private pages fork copies for the child at once (1 MiB), rather than share copy-on-write. */
export const FORK_COPY_PAGES = 256;

export type FaultResult =
  | { mapped: true }
  | { mapped: false; signal: 'SIGSEGV' | 'SIGBUS' | 'SIGKILL'; code: number; addr: number };

export interface AddressSpaceLayout {
  /** Top of the mmap area: mappings are placed below it, top-down. */
  mmapBase: number;
  /** Whether exec randomises the layout (ASLR); false unless said. */
  randomize?: boolean;
}

/** The resource limits that bound an address space, in bytes (Infinity: none). */
export interface MemoryLimits {
  stack(): number;
  data(): number;
  addressSpace(): number;
}

/** What mmap asks for; AddressSpace.map checks the placement and creates the area. */
export interface MapRequest {
  addr: number;
  /** Page aligned, > 0. */
  length: number;
  prot: number;
  /** MAP_FIXED: replace what is there. */
  fixed: boolean;
  /** MAP_FIXED_NOREPLACE: EEXIST instead of replacing. */
  noReplace: boolean;
  shared: boolean;
  growsDown?: boolean;
  /** MAP_32BIT. */
  low32?: boolean;
  kind: VmaKind;
  name: string;
  /** The file's device and inode for /proc/PID/maps (default 0). */
  dev?: number;
  ino?: number;
  file?: Mappable | null;
  offset?: number;
  /** False for a shared mapping of a file opened read-only. */
  mayWrite?: boolean;
  /** MAP_POPULATE (without MAP_NONBLOCK) or MAP_LOCKED. */
  populate?: boolean;
  /** MAP_NORESERVE: a reservation the program may never touch; nothing is mapped ahead in it. */
  noReserve?: boolean;
  /** CAP_SYS_RAWIO: may map below vm.mmap_min_addr. */
  privileged?: boolean;
}

/** What --stats reports of an address space's paging. */
export interface MemoryStats {
  /** Page-table entries written and, of those, replayed by the guest at CPL 0. */
  tableWrites: number;
  replayed: number;
  /** Tables replaced by fresh copies because a batch would have overflowed the replay queue. */
  replacements: number;
  hugePages: number;
  collapses: number;
  mappedAhead: number;
  copyOnWrite: number;
  spuriousFaults: number;
}

/**
 * What exec left in the address space that /proc shows (Linux's mm->start_code .. env_end and
 * saved_auxv): /proc/PID/stat, cmdline, environ and auxv read them.
 */
export interface ExecLayout {
  startCode: number;
  endCode: number;
  startData: number;
  endData: number;
  /** The initial stack pointer (argc). */
  startStack: number;
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
  /** The auxiliary vector, AT_NULL included. */
  auxv: ReadonlyArray<readonly [number, number]>;
}

const NO_LIMITS: MemoryLimits = { stack: () => 8 * 1024 * 1024, data: () => Infinity, addressSpace: () => Infinity };

export class AddressSpace {
  readonly vmas = new VmaList();
  readonly tables: PageTables;
  readonly pager: Pager;
  private readonly bytes: Uint8Array;
  /** The same memory as a Buffer, for decoding strings in place. */
  private readonly text: Buffer;
  /** resolve's lookups fill this rather than allocating one per page. */
  private readonly resolved: Mapping = { gpa: 0, size: 0, user: false, writable: false, exec: false, accessed: false };
  brkStart = 0;
  brkEnd = 0;
  faults = 0;
  /** Faults on pages the tables already allowed: should stay 0 (see PageTables.replayPath). */
  spuriousFaults = 0;
  limits: MemoryLimits = NO_LIMITS;
  /** Set by exec. */
  exec: ExecLayout | null = null;
  /** Tasks using this address space (kept by the kernel): more than one may run on several vCPUs at once. */
  tasks = 0;
  private lastFault = -1;
  private repeatedFaults = 0;
  /** retire() has freed the pages and handed the tables over: release() must not walk them. */
  private retired = false;

  constructor(
    private readonly memory: ArrayBuffer,
    readonly allocator: PageAllocator,
    private readonly shared: readonly RootEntry[],
    readonly layout: AddressSpaceLayout,
  ) {
    this.bytes = new Uint8Array(memory);
    this.text = Buffer.from(memory);
    this.tables = new PageTables(memory, allocator, shared);
    this.tables.inUse = (start, end) => this.vmas.overlaps(start, end);
    this.pager = new Pager(this.tables, allocator, this.bytes);
    this.pager.soleTask = () => this.tasks <= 1;
  }

  get stats(): MemoryStats {
    const t = this.tables.stats;
    const p = this.pager.stats;
    return {
      tableWrites: t.updates, replayed: t.replayed, replacements: t.replacements, hugePages: p.hugePages,
      collapses: p.collapses, mappedAhead: p.mappedAhead, copyOnWrite: p.copyOnWrite,
      spuriousFaults: this.spuriousFaults,
    };
  }

  // ---- program memory access -------------------------------------------------------------------

  /** Copies guest [va, va+dst.length) into dst. Returns bytes copied before the first fault, or EFAULT. */
  copyIn(va: number, dst: Uint8Array): number | Errno {
    let done = 0;
    const r = this.forEachRange(va, dst.length, false, (gpa, n) => {
      dst.set(this.bytes.subarray(gpa, gpa + n), done);
      done += n;
    });
    return r === null ? done : done > 0 ? done : r;
  }

  /** Copies src into guest memory at va. Returns bytes copied before the first fault, or EFAULT. */
  copyOut(va: number, src: Uint8Array): number | Errno {
    let done = 0;
    const r = this.forEachRange(va, src.length, true, (gpa, n) => {
      this.bytes.set(src.subarray(done, done + n), gpa);
      done += n;
    });
    return r === null ? done : done > 0 ? done : r;
  }

  /** A NUL-terminated string of at most maxLength bytes (without the NUL), or EFAULT / ENAMETOOLONG. */
  readString(va: number, maxLength: number, tooLong: Errno): string | Errno {
    // A string within one page (nearly every path) is decoded straight from guest memory; one that
    // crosses pages is gathered first, so that a character split between them decodes whole.
    let parts: Uint8Array[] | null = null;
    let length = 0;
    let pos = va;
    for (;;) {
      if (!Number.isSafeInteger(pos) || pos < 0 || pos >= USER_TOP) return EFAULT;
      const gpa = this.resolve(pos, false);
      if (gpa < 0) return EFAULT;
      const pageEnd = gpa + (PAGE_SIZE - (pos % PAGE_SIZE));
      const nul = this.bytes.indexOf(0, gpa);
      const end = nul >= 0 && nul < pageEnd ? nul : pageEnd;
      length += end - gpa;
      if (length > maxLength) return tooLong;
      if (end < pageEnd && parts === null) return this.text.toString('utf8', gpa, end);
      (parts ??= []).push(this.bytes.subarray(gpa, end));
      if (end < pageEnd) return Buffer.concat(parts, length).toString('utf8');
      pos += end - gpa;
    }
  }

  /**
   * Calls fn(gpa, length) for each physically contiguous run of [va, va+length), faulting pages in as
   * the program would. Returns null on success or EFAULT at the first inaccessible page (runs before
   * it have been passed to fn). fn returns false to stop early (a short read). Lets read/write use
   * host I/O straight into guest memory.
   */
  forEachRange(va: number, length: number, write: boolean, fn: (gpa: number, length: number) => boolean | void): Errno | null {
    if (length === 0) return null;
    if (!Number.isSafeInteger(va) || va < 0 || length < 0 || va + length > USER_TOP) return EFAULT;
    let pos = va;
    const end = va + length;
    let runVa = va;
    let runGpa = -1;
    let runLength = 0;
    let moves = this.tables.moves;
    while (pos < end) {
      const gpa = this.resolve(pos, write);
      if (this.tables.moves !== moves) {
        // This fault collapsed the slot under the run not yet passed to fn: its pages are freed, and the
        // data would go to them (or come from them). Walk the run again: its pages are mapped by now.
        moves = this.tables.moves;
        if (runLength > 0) {
          pos = runVa;
          runLength = 0;
          continue;
        }
      }
      if (gpa < 0) {
        if (runLength > 0) fn(runGpa, runLength);
        return EFAULT;
      }
      const n = Math.min(end - pos, PAGE_SIZE - (pos % PAGE_SIZE));
      if (runLength > 0 && gpa === runGpa + runLength) {
        runLength += n;
      } else {
        if (runLength > 0 && fn(runGpa, runLength) === false) return null;
        runVa = pos;
        runGpa = gpa;
        runLength = n;
      }
      pos += n;
    }
    fn(runGpa, runLength);
    return null;
  }

  /**
   * The physically contiguous runs of [va, va+length) into out, as many as it holds (the caller goes
   * on from va + out.bytes), faulting pages in as forEachRange does. Returns null, or EFAULT at the
   * first inaccessible page (out then holds the runs before it).
   */
  gatherRanges(va: number, length: number, write: boolean, out: GuestRanges): Errno | null {
    for (;;) {
      out.clear(this.bytes);
      const moves = this.tables.moves;
      const fault = this.forEachRange(va, length, write, out.add);
      // A fault that collapsed a 2 MiB slot freed the pages of runs gathered before it: gather again.
      // Their pages are mapped by now, and no slot collapses twice, so this ends.
      if (this.tables.moves === moves) return fault;
    }
  }

  /** A view of guest memory at a guest-physical address (from forEachRange). */
  view(gpa: number, length: number): Uint8Array {
    return this.bytes.subarray(gpa, gpa + length);
  }

  /**
   * Guest-physical address of va for a Sentry access, faulting the page in (or breaking copy-on-write)
   * if the area allows it; -1 if not. Unlike a fault of the program, this never grows the stack
   * (Linux's get_user_pages does not either).
   */
  private resolve(va: number, write: boolean): number {
    const vma = this.vmas.find(va);
    if (vma === undefined || !canRead(vma) || (write && !canWrite(vma))) return -1;
    let m = this.tables.lookupInto(va, this.resolved);
    if (m === null || (write && !m.writable && !vma.shared && this.allocator.refCount(m.gpa, m.size) > 1)) {
      const page = va - (va % PAGE_SIZE);
      if (this.pager.fault(vma, page, write) !== PageResult.Mapped) return -1;
      m = this.tables.lookupInto(va, this.resolved);
      if (m === null) return -1;
    } else if (!m.accessed) {
      this.tables.markAccessed(va);
    }
    return m.gpa + (va % m.size);
  }

  /** The object behind a new MAP_SHARED|MAP_ANONYMOUS mapping of `length` bytes. */
  createSharedMemory(length: number): SharedMemory {
    return new SharedMemory(this.allocator, length, this.bytes);
  }

  // ---- faults ----------------------------------------------------------------------------------

  /** A page fault from the program: map the page if the areas allow the access, else say which signal. */
  handleFault(addr: number, errorCode: number): FaultResult {
    const vma = this.vmas.find(addr) ?? this.growStack(addr);
    if (vma === undefined) return { mapped: false, signal: 'SIGSEGV', code: SEGV_MAPERR, addr };
    const write = (errorCode & PF_WRITE) !== 0;
    const fetch = (errorCode & PF_INSTRUCTION) !== 0;
    if ((write && !canWrite(vma)) || (fetch && !canExec(vma)) || !canRead(vma)) {
      return { mapped: false, signal: 'SIGSEGV', code: SEGV_ACCERR, addr };
    }
    const page = addr - (addr % PAGE_SIZE);
    const m = this.tables.lookup(addr);
    if (m !== null && m.user && (!write || m.writable) && (!fetch || m.exec)) {
      // The tables allow the access, yet the guest faulted: its view is stale. Replay the path, and
      // give up if that does not help either.
      const key = page + (errorCode & (PF_PRESENT | PF_WRITE | PF_INSTRUCTION)) / 8;
      this.repeatedFaults = key === this.lastFault ? this.repeatedFaults + 1 : 0;
      this.lastFault = key;
      if (this.repeatedFaults >= MAX_REPEATED_FAULTS) return { mapped: false, signal: 'SIGSEGV', code: SEGV_MAPERR, addr };
      this.tables.replayPath(addr);
      this.spuriousFaults++;
      return { mapped: true };
    }
    this.lastFault = -1;
    const r = this.pager.fault(vma, page, write);
    if (r === PageResult.Bus) return { mapped: false, signal: 'SIGBUS', code: BUS_ADRERR, addr };
    // Linux's out-of-memory killer ends the process.
    if (r === PageResult.OutOfMemory) return { mapped: false, signal: 'SIGKILL', code: 0, addr };
    this.faults++;
    return { mapped: true };
  }

  /**
   * A fault just below a MAP_GROWSDOWN area extends it (Linux expand_downwards): up to RLIMIT_STACK in
   * all, and never closer than the stack guard gap to the area below.
   */
  private growStack(addr: number): Vma | undefined {
    const stack = this.vmas.findFrom(addr);
    if (stack === undefined || !stack.growsDown) return undefined;
    const start = addr - (addr % PAGE_SIZE);
    if (stack.end - start > this.limits.stack()) return undefined;
    if (this.vmas.totalBytes + (stack.start - start) > this.limits.addressSpace()) return undefined;
    const prev = this.vmas.findBefore(stack.start);
    if (prev !== undefined && prev !== stack && (prev.end > start ||
        (!prev.growsDown && prev.prot !== 0 && start - prev.end < STACK_GUARD_GAP))) return undefined;
    this.vmas.resize(stack, start, stack.end);
    return stack;
  }

  // ---- mappings --------------------------------------------------------------------------------

  /** mmap: places and creates an area; returns its address or the Linux errno. */
  map(req: MapRequest): number | Errno {
    const { length } = req;
    if (length <= 0 || length % PAGE_SIZE !== 0) return EINVAL;
    if (length > USER_TOP) return ENOMEM;
    let start: number;
    if (req.fixed || req.noReplace) {
      start = req.addr;
      if (start % PAGE_SIZE !== 0) return EINVAL;
      if (start + length > USER_TOP) return ENOMEM;
      if (start < MMAP_MIN_ADDR && req.privileged !== true) return EPERM;
      // The stub and the physical-memory map live there: nothing of the program's may replace them.
      if (start < RESERVED_VA_END && start + length > RESERVED_VA_START) return req.noReplace ? EEXIST : ENOMEM;
      if (req.noReplace && this.vmas.overlaps(start, start + length)) return EEXIST;
    } else {
      start = this.unmappedArea(req.addr, length, req);
      if (start < 0) return ENOMEM;
    }
    const replaced = req.fixed ? this.mappedBytes(start, start + length) : 0;
    if (this.vmas.totalBytes - replaced + length > this.limits.addressSpace()) return ENOMEM;
    if (req.fixed) this.unmapRange(start, start + length);
    const vma: Vma = {
      start, end: start + length, prot: req.prot, mayWrite: req.mayWrite ?? true, shared: req.shared,
      growsDown: req.growsDown ?? false, advice: 0, kind: req.kind, file: req.file ?? null,
      offset: req.offset ?? 0, name: req.name, dev: req.dev ?? 0, ino: req.ino ?? 0,
      // accountable_mapping(): private and writable, unless MAP_NORESERVE.
      accounted: !req.shared && (req.prot & PROT_WRITE) !== 0 && req.noReserve !== true, noReserve: req.noReserve === true,
    };
    this.vmas.insert(vma);
    this.vmas.mergeAround(start, start + length);
    // Linux populates with a write fault only where that breaks copy-on-write: private writable areas.
    if (req.populate === true && canRead(vma)) this.populate(start, start + length, canWrite(vma) && !req.shared);
    else if (vma.file === null && !vma.shared && !vma.growsDown && canWrite(vma) && req.noReserve !== true) this.mapAhead(start, start + length);
    return start;
  }

  /** Where mmap without MAP_FIXED puts `length` bytes: the hint if free, else a free range. -1 if none. */
  unmappedArea(hint: number, length: number, req?: Pick<MapRequest, 'shared' | 'file' | 'low32'>, align = PAGE_SIZE, alignOffset = 0): number {
    if (hint !== 0) {
      // Linux round_hint_to_min: a hint below mmap_min_addr is raised to it.
      const start = Math.max(hint - (hint % PAGE_SIZE), MMAP_MIN_ADDR);
      if (this.placeable(start, length) && this.vmas.isFree(start, start + length)) return start;
    }
    if (req?.low32 === true) return this.vmas.findGapBottomUp(length, MAP_32BIT_START, MAP_32BIT_END);
    const anonymousPrivate = req !== undefined && (req.file ?? null) === null && !req.shared;
    if (hint === 0 && anonymousPrivate && length % HUGE_PAGE_SIZE === 0) {
      // Linux aligns anonymous mappings of whole 2 MiB multiples on 2 MiB (thp_get_unmapped_area):
      // search with 2 MiB of padding, then move up to the boundary.
      const padded = this.findFree(length + HUGE_PAGE_SIZE);
      if (padded >= 0) {
        const offsetSub = (HUGE_PAGE_SIZE - (padded % HUGE_PAGE_SIZE)) % HUGE_PAGE_SIZE;
        return offsetSub === 0 ? padded + HUGE_PAGE_SIZE : padded + offsetSub;
      }
    }
    return this.findFree(length, align, alignOffset);
  }

  /** munmap. */
  unmap(start: number, length: number): Errno | null {
    if (start % PAGE_SIZE !== 0 || length <= 0 || !Number.isSafeInteger(start + length)) return EINVAL;
    const end = start + roundUp(length);
    if (end > USER_TOP) return EINVAL;
    this.unmapRange(start, end);
    return null;
  }

  /** mprotect: prot has no PROT_GROWS* bits left; growsDown is PROT_GROWSDOWN. */
  protect(start: number, length: number, prot: number, growsDown = false): Errno | null {
    if (start % PAGE_SIZE !== 0) return EINVAL;
    if (length === 0) return null;
    let end = start + roundUp(length);
    if (!Number.isSafeInteger(end) || end <= start || end > USER_TOP) return ENOMEM;
    const first = this.vmas.findFrom(start);
    if (first === undefined || first.start >= end) return ENOMEM;
    if (growsDown) {
      if (!first.growsDown) return EINVAL;
      start = first.start;
    } else if (first.start > start) {
      return ENOMEM;
    }
    // Linux applies the change area by area and stops at the first hole (ENOMEM) or refusal (EACCES).
    let pos = start;
    let error: Errno | null = null;
    while (pos < end) {
      const vma = this.vmas.find(pos);
      if (vma === undefined) { error = ENOMEM; break; }
      if ((prot & PROT_WRITE) !== 0 && !vma.mayWrite) { error = EACCES; break; }
      const pieceEnd = Math.min(end, vma.end);
      this.vmas.splitAt(pos);
      this.vmas.splitAt(pieceEnd);
      const piece = this.vmas.find(pos)!;
      const old = piece.prot;
      piece.prot = prot;
      // mprotect_fixup: private memory made writable is charged (VM_ACCOUNT) from then on.
      if ((prot & PROT_WRITE) !== 0 && !piece.shared && !piece.noReserve) piece.accounted = true;
      const lost = old & ~prot;
      // Rights taken away are taken from the entries now; rights given come back at the next fault.
      if (lost !== 0) {
        this.tables.restrict(pos, pieceEnd, { user: canRead(piece), write: canWrite(piece), exec: canExec(piece) });
      }
      pos = pieceEnd;
    }
    end = pos;
    this.vmas.mergeAround(start, end);
    return error;
  }

  /** brk(2): returns the new break, or the old one when the request cannot be met (Linux semantics). */
  setBrk(requested: number): number {
    if (!Number.isSafeInteger(requested) || requested < this.brkStart || requested > USER_TOP) return this.brkEnd;
    if (requested - this.brkStart > this.limits.data()) return this.brkEnd;
    const oldTop = roundUp(this.brkEnd);
    const newTop = roundUp(requested);
    if (newTop === oldTop) {
      this.brkEnd = requested;
      return requested;
    }
    if (newTop < oldTop) {
      // Linux shrinks only an existing heap area: with nothing mapped there the break stays.
      if (!this.vmas.overlaps(newTop, oldTop)) return this.brkEnd;
      this.unmapRange(newTop, oldTop);
      this.brkEnd = requested;
      return requested;
    }
    const next = this.vmas.findFrom(oldTop);
    if (next !== undefined && newTop + PAGE_SIZE > startGap(next)) return this.brkEnd;
    if (newTop > RESERVED_VA_START && oldTop < RESERVED_VA_END) return this.brkEnd;
    if (this.vmas.totalBytes + (newTop - oldTop) > this.limits.addressSpace()) return this.brkEnd;
    const heap = oldTop > 0 ? this.vmas.find(oldTop - 1) : undefined;
    if (heap !== undefined && heap.kind === VmaKind.Heap && heap.end === oldTop) {
      this.vmas.resize(heap, heap.start, newTop);
    } else {
      this.vmas.insert({
        start: oldTop, end: newTop, prot: PROT_READ | PROT_WRITE, mayWrite: true, shared: false, growsDown: false,
        advice: 0, kind: VmaKind.Heap, file: null, offset: 0, name: '[heap]', dev: 0, ino: 0, accounted: true, noReserve: false,
      });
    }
    this.vmas.mergeAround(oldTop, newTop);
    this.mapAhead(oldTop, newTop);
    this.brkEnd = requested;
    return requested;
  }

  /** Maps the start of a new private anonymous range ahead of use (see Pager.mapAhead). */
  private mapAhead(start: number, end: number): void {
    const vma = this.vmas.find(start);
    if (vma !== undefined) this.pager.mapAhead(vma, start, end);
  }

  /** Maps every page of [start, end) now, as the program would fault them (MAP_POPULATE, mlock). */
  populate(start: number, end: number, write: boolean): PageResult {
    for (const vma of this.vmas.within(start, end)) {
      if (!canRead(vma)) continue;
      const r = this.pager.populate(vma, Math.max(start, vma.start), Math.min(end, vma.end), write && canWrite(vma));
      if (r !== PageResult.Mapped) return r;
    }
    return PageResult.Mapped;
  }

  /** Maps the pages of the private file mappings in [start, end) that their page caches hold (exec). */
  populateCached(start: number, end: number): void {
    for (const vma of this.vmas.within(start, end)) {
      if (canRead(vma)) this.pager.populateCached(vma, Math.max(start, vma.start), Math.min(end, vma.end));
    }
  }

  /** Fills [va, va+data.length) of existing areas now (exec's segments), bypassing their protection. */
  fill(va: number, data: Uint8Array): Errno | null {
    let done = 0;
    for (let pos = va; pos < va + data.length;) {
      const vma = this.vmas.find(pos);
      if (vma === undefined) return EFAULT;
      let gpa = this.tables.translate(pos);
      if (gpa < 0 || (!vma.shared && this.allocator.refCount(gpa - (gpa % PAGE_SIZE)) > 1)) {
        if (this.pager.fault(vma, pos - (pos % PAGE_SIZE), true) !== PageResult.Mapped) return ENOMEM;
        gpa = this.tables.translate(pos);
      }
      const n = Math.min(va + data.length - pos, PAGE_SIZE - (pos % PAGE_SIZE));
      this.bytes.set(data.subarray(done, done + n), gpa);
      done += n;
      pos += n;
    }
    return null;
  }

  /**
   * fork(2): a new address space with the same areas, whose pages are those of this one: shared
   * mappings share them outright; private ones share them read-only in both until a write copies the
   * page (the pager's copy-on-write break, as for a private file page). MADV_DONTFORK areas are left
   * out; MADV_WIPEONFORK areas come empty.
   *
   * Except that the private writable 4 KiB pages the program has used and this process alone holds
   * (its stack first) are copied for the child now, up to FORK_COPY_PAGES: they are the pages either
   * side is about to write, and here a copy-on-write break (a fault), and taking the right to write
   * away from the parent (a replayed page-table write), each cost far more than copying 4 KiB. The
   * parent then keeps writing those pages without a fault, and a child that execs at once (a shell's)
   * has cost no page-table change in the parent at all.
   */
  fork(): AddressSpace {
    const child = new AddressSpace(this.memory, this.allocator, this.shared, this.layout);
    child.brkStart = this.brkStart;
    child.brkEnd = this.brkEnd;
    // The arguments, environment and auxiliary vector are in the copied memory, at the same places.
    child.exec = this.exec;
    let copies = FORK_COPY_PAGES;
    const copy = (gpa: number): number => {
      if (copies === 0 || this.allocator.refCount(gpa) !== 1) return -1;
      const page = this.allocator.allocPage();
      if (page < 0) return -1;
      this.bytes.copyWithin(page, gpa, gpa + PAGE_SIZE);
      copies--;
      return page;
    };
    const stackFirst = [...this.vmas.list].sort((a, b) => Number(b.growsDown) - Number(a.growsDown));
    for (const vma of stackFirst) {
      if ((vma.advice & Advice.dontFork) !== 0) continue;
      // insert takes the child's reference on the area's object.
      child.vmas.insert({ ...vma });
      if ((vma.advice & Advice.wipeOnFork) !== 0) continue;
      const cow = !vma.shared && canWrite(vma);
      const shared = this.tables.forkInto(child.tables, vma.start, vma.end, cow, copy);
      for (let i = 0; i < shared.length; i += 2) {
        this.tables.restrict(shared[i]!, shared[i + 1]!, { user: canRead(vma), write: false, exec: canExec(vma) });
      }
    }
    return child;
  }

  /**
   * The last task using this address space is gone: its areas go at once, as in Linux's exit_mmap
   * before the parent can reap the process (a file's last mapping lets it go by then), shared file
   * pages written back first. The pages stay mapped, each by its own reference, until retire()
   * releases the tables.
   */
  dropAreas(): void {
    const pieces = this.vmas.carve(0, USER_TOP);
    for (const piece of pieces) if (piece.shared && piece.file !== null) this.pager.writeBack(piece, piece.start, piece.end);
    for (const piece of pieces) this.vmas.release(piece);
  }

  /**
   * No vCPU runs on the tables any more: drop every page (and any area still left), and hand the tables
   * to the retire machinery (PageTables.releaseAll), which the guest completes through the attached
   * queue. Done when `tablesPending` turns false.
   */
  retire(): void {
    this.dropAreas();
    this.tables.releaseAll();
    this.retired = true;
  }

  /** Whether retired tables still wait for the guest to scrub them. */
  get tablesPending(): boolean {
    return this.tables.pendingRetire;
  }

  /** Drops every mapping and page table: the process is gone. Shared file pages are written back. */
  release(): void {
    this.tables.queue = null;
    // The areas may have gone already (dropAreas), their pages not, unless retire() freed them: its
    // tables still hold the entries the guest has not scrubbed yet, so they must not be walked again.
    this.dropAreas();
    if (!this.retired) this.pager.clear(0, USER_TOP);
    this.tables.release();
  }

  /** Removes the areas in [start, end) and their pages (writing back shared file pages first). */
  unmapRange(start: number, end: number): void {
    const pieces = this.vmas.carve(start, end);
    if (pieces.length === 0) return;
    for (const piece of pieces) if (piece.shared && piece.file !== null) this.pager.writeBack(piece, piece.start, piece.end);
    this.pager.clear(pieces[0]!.start, pieces[pieces.length - 1]!.end);
    for (const piece of pieces) this.vmas.release(piece);
  }

  /** Bytes of areas inside [start, end). */
  mappedBytes(start: number, end: number): number {
    let total = 0;
    for (const v of this.vmas.within(start, end)) total += Math.min(end, v.end) - Math.max(start, v.start);
    return total;
  }

  /** Whether [start, start+length) may hold program mappings at all. */
  placeable(start: number, length: number): boolean {
    const end = start + length;
    return start % PAGE_SIZE === 0 && start >= MMAP_MIN_ADDR && end <= USER_TOP && end > start &&
      (end <= RESERVED_VA_START || start >= RESERVED_VA_END);
  }

  /** Top-down search below the mmap base, then below the reserved range, then above the base. */
  private findFree(length: number, align = PAGE_SIZE, alignOffset = 0): number {
    const top = this.layout.mmapBase;
    let start = this.vmas.findGapTopDown(length, RESERVED_VA_END, top, align, alignOffset);
    if (start < 0) start = this.vmas.findGapTopDown(length, MMAP_MIN_ADDR, Math.min(top, RESERVED_VA_START), align, alignOffset);
    // Linux falls back to a bottom-up search of the whole space when the top-down one fails.
    if (start < 0) start = this.vmas.findGapBottomUp(length, Math.max(top, RESERVED_VA_END), USER_TOP);
    return start;
  }
}

export function roundUp(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}
