// exec: puts a static ELF program into a fresh address space, with its initial stack, as Linux's
// load_elf_binary does for a binary without PT_INTERP, including its address-space layout: with ASLR
// (the default) the mmap base, the stack top, the program break and a static-PIE program are placed at
// random in Linux's ranges; without it (--no-aslr, Linux's personality ADDR_NO_RANDOMIZE) exactly where
// Linux puts them.
import { randomInt, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { type AddressSpace, type AddressSpaceLayout, roundUp } from '../mm/address-space.js';
import { BufferMappable } from '../mm/mappable.js';
import { STACK_GUARD_GAP, VmaKind } from '../mm/vma.js';
import { PAGE_SIZE, USER_TOP } from '../platform/layout.js';
import { LoaderError, parseElf, type ElfImage } from './elf.js';
import { AT, buildInitialStack } from './stack.js';
import type { Vdso } from './vdso.js';

/** Linux's ELF_ET_DYN_BASE on x86-64: two thirds of the 47-bit space (not page aligned). */
const ELF_ET_DYN_BASE = Math.floor(USER_TOP / 3) * 2;
/** RLIMIT_STACK's default. */
export const STACK_SIZE = 8 * 1024 * 1024;
/** Linux keeps at least this much, and at most five sixths of the space, above the mmap base. */
const MIN_GAP = 128 * 1024 * 1024;
const MAX_GAP = Math.floor(USER_TOP / 6) * 5;
/** Random bits, in pages: the mmap base (vm.mmap_rnd_bits = 28) and the stack top (STACK_RND_MASK). */
const MMAP_RND_BITS = 28;
const STACK_RND_BITS = 22;
/** arch_randomize_brk on x86-64: the break starts anywhere in the gigabyte after the program. */
const BRK_RND_RANGE = 1024 * 1024 * 1024;
/** setup_arg_pages: the initial stack area reaches this far below the arguments. */
const STACK_EXPAND = 128 * 1024;

export interface ExecRequest {
  /** Path as the program named it: argv[0] is separate, this is AT_EXECFN. */
  execfn: string;
  file: Uint8Array;
  argv: string[];
  envp: string[];
  /** Host auxv entries passed through unchanged (hardware capabilities, clock ticks). */
  hostAuxv: Array<[number, number]>;
  ids: { uid: number; euid: number; gid: number; egid: number };
  /** The sandbox's vDSO, mapped into the new address space (AT_SYSINFO_EHDR); null for none. */
  vdso: Vdso | null;
}

export interface LoadedProgram {
  entry: number;
  sp: number;
  image: ElfImage;
}

/**
 * The layout an address space needs before exec (arch/x86/mm/mmap.c mmap_base): the mmap base sits
 * below the stack's maximum size, its random range and the guard gap, and with ASLR up to 1 TiB lower.
 */
export function chooseLayout(randomize: boolean, stackLimit = STACK_SIZE): AddressSpaceLayout {
  const stackRandom = randomize ? (2 ** STACK_RND_BITS - 1) * PAGE_SIZE : 0;
  const gap = Math.min(MAX_GAP, Math.max(MIN_GAP, stackLimit + stackRandom + STACK_GUARD_GAP));
  const rnd = randomize ? randomPages(MMAP_RND_BITS) * PAGE_SIZE : 0;
  const mmapBase = USER_TOP - gap - rnd;
  return { mmapBase: mmapBase - (mmapBase % PAGE_SIZE), randomize };
}

/** The mmap base without ASLR. */
export function defaultMmapBase(): number {
  return chooseLayout(false).mmapBase;
}

export function readProgram(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new LoaderError(`${path}: no such file`, 127);
    if (code === 'EACCES') throw new LoaderError(`${path}: permission denied`, 126);
    if (code === 'EISDIR') throw new LoaderError(`${path}: is a directory`, 126);
    throw new LoaderError(`${path}: ${(err as Error).message}`, 126);
  }
}

export function loadProgram(mm: AddressSpace, req: ExecRequest): LoadedProgram {
  const image = parseElf(req.file, req.execfn);
  if (image.interp !== null) {
    throw new LoaderError(`${req.execfn}: dynamically linked (needs ${image.interp}); only static programs run so far`, 126);
  }
  const randomize = mm.layout.randomize === true;
  const bias = loadBias(mm, image, randomize);
  const file = new BufferMappable(req.file, req.execfn);
  for (const seg of image.segments) mapSegment(mm, req, file, seg, bias);

  // The break: right after the program; a static PIE's at ELF_ET_DYN_BASE (Linux moves it out of the
  // mmap area); with ASLR, one page further and then anywhere in the next gigabyte.
  let brk = image.kind === 'dyn' ? roundUp(ELF_ET_DYN_BASE) : roundUp(image.maxVaddr + bias);
  if (randomize) {
    if (image.kind !== 'dyn') brk += PAGE_SIZE;
    brk += randomInt(BRK_RND_RANGE / PAGE_SIZE) * PAGE_SIZE;
  }
  mm.brkStart = mm.brkEnd = brk;

  // The vDSO after the program, as Linux's arch_setup_additional_pages: where mmap would put it.
  const vdso = req.vdso === null ? 0 : req.vdso.map(mm);
  if (typeof vdso !== 'number') throw new LoaderError(`${req.execfn}: cannot map the vDSO (${vdso.name})`, 126);

  const stackTop = randomize ? USER_TOP - randomPages(STACK_RND_BITS) * PAGE_SIZE : USER_TOP;
  const random = new Uint8Array(16);
  randomFillSync(random);
  const built = buildInitialStack({
    stackTop,
    argv: req.argv,
    envp: req.envp,
    execfn: req.execfn,
    random,
    auxv: [
      ...(vdso !== 0 ? [[AT.SYSINFO_EHDR, vdso] as [number, number]] : []),
      [AT.PHDR, phdrAddress(image) + bias],
      [AT.PHENT, image.phentsize],
      [AT.PHNUM, image.phnum],
      [AT.PAGESZ, PAGE_SIZE],
      [AT.BASE, 0],
      [AT.FLAGS, 0],
      [AT.ENTRY, image.entry + bias],
      [AT.UID, req.ids.uid],
      [AT.EUID, req.ids.euid],
      [AT.GID, req.ids.gid],
      [AT.EGID, req.ids.egid],
      [AT.SECURE, 0],
      ...req.hostAuxv,
    ],
  });
  // The stack area covers the arguments and 128 KiB more (at most RLIMIT_STACK); it grows down on
  // faults below it, like Linux's.
  const argsBottom = built.base - (built.base % PAGE_SIZE);
  const stackLimit = mm.limits.stack();
  const stackStart = stackTop - argsBottom + STACK_EXPAND > stackLimit ? stackTop - roundUp(Math.min(stackLimit, stackTop)) : argsBottom - STACK_EXPAND;
  const stack = mm.map({
    addr: stackStart, length: stackTop - stackStart, prot: PROT_READ | PROT_WRITE, fixed: true, noReplace: false,
    shared: false, growsDown: true, kind: VmaKind.Stack, name: '[stack]', privileged: true,
  });
  if (typeof stack !== 'number') throw new LoaderError(`${req.execfn}: cannot map the stack`, 126);
  if (mm.fill(built.base, built.bytes) !== null) throw new LoaderError(`${req.execfn}: cannot write the initial stack`, 126);
  return { entry: image.entry + bias, sp: built.sp, image };
}

/**
 * Where a program goes. ET_EXEC: where it says. A static PIE, as Linux 6 does: if a segment asks for
 * more than page alignment, at ELF_ET_DYN_BASE (plus the mmap randomisation, aligned); otherwise where
 * mmap would put the whole image (the mmap area).
 */
function loadBias(mm: AddressSpace, image: ElfImage, randomize: boolean): number {
  if (image.kind !== 'dyn') return 0;
  const align = Math.max(PAGE_SIZE, ...image.segments.map((s) => s.align));
  if (align > PAGE_SIZE) {
    let base = ELF_ET_DYN_BASE + (randomize ? randomPages(MMAP_RND_BITS) * PAGE_SIZE : 0);
    base -= base % align;
    const bias = base - image.minVaddr;
    return bias - (bias % PAGE_SIZE);
  }
  const start = mm.unmappedArea(0, image.maxVaddr - image.minVaddr);
  if (start < 0) throw new LoaderError(`${image.segments.length} segments do not fit in the address space`, 126);
  return start - image.minVaddr;
}

/**
 * One PT_LOAD: its file part as a private mapping of the file (read in now: faults are expensive here),
 * the rest of the page after the file bytes zeroed (padzero), and the remaining bss anonymous.
 */
function mapSegment(mm: AddressSpace, req: ExecRequest, file: BufferMappable, seg: ElfImage['segments'][number], bias: number): void {
  const vaddr = seg.vaddr + bias;
  const mapStart = vaddr - (vaddr % PAGE_SIZE);
  // A segment without file bytes is all bss, from its first page on (Linux elf_load).
  const fileEnd = seg.filesz > 0 ? roundUp(vaddr + seg.filesz) : mapStart;
  const memEnd = roundUp(vaddr + seg.memsz);
  const cannot = (what: string): never => { throw new LoaderError(`${req.execfn}: cannot ${what} at 0x${mapStart.toString(16)}`, 126); };
  if (fileEnd > mapStart) {
    const r = mm.map({
      addr: mapStart, length: fileEnd - mapStart, prot: seg.prot, fixed: true, noReplace: false, shared: false,
      kind: VmaKind.File, name: req.execfn, file, offset: seg.offset - (vaddr - mapStart), privileged: true,
    });
    if (typeof r !== 'number') cannot('map a segment');
    mm.populate(mapStart, fileEnd, false);
    if (seg.memsz > seg.filesz && mm.fill(vaddr + seg.filesz, new Uint8Array(fileEnd - (vaddr + seg.filesz))) !== null) {
      cannot('clear the end of a segment');
    }
  }
  const bssStart = Math.max(fileEnd, mapStart);
  if (memEnd > bssStart) {
    const r = mm.map({
      addr: bssStart, length: memEnd - bssStart, prot: seg.prot, fixed: true, noReplace: false, shared: false,
      kind: VmaKind.Anonymous, name: '', privileged: true,
    });
    if (typeof r !== 'number') cannot('map the bss');
  }
}

/** A random number of pages below 2^bits. */
function randomPages(bits: number): number {
  return randomInt(2 ** bits);
}

/** The program headers' address in memory: inside the PT_LOAD that covers e_phoff. */
function phdrAddress(image: ElfImage): number {
  for (const seg of image.segments) {
    if (image.phoff >= seg.offset && image.phoff < seg.offset + seg.filesz) return seg.vaddr + (image.phoff - seg.offset);
  }
  return 0;
}

/** HWCAP, HWCAP2, CLKTCK and MINSIGSTKSZ as the host kernel gives them to its own programs. */
export function hostAuxv(): Array<[number, number]> {
  const wanted = new Set<number>([AT.HWCAP, AT.HWCAP2, AT.CLKTCK, AT.MINSIGSTKSZ]);
  const out: Array<[number, number]> = [];
  try {
    const raw = readFileSync('/proc/self/auxv');
    for (let i = 0; i + 16 <= raw.length; i += 16) {
      const type = Number(raw.readBigUInt64LE(i));
      if (wanted.has(type)) out.push([type, Number(raw.readBigUInt64LE(i + 8))]);
    }
  } catch {
    out.push([AT.CLKTCK, 100]);
  }
  return out;
}
