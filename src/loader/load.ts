// exec: puts an ELF program into a fresh address space, with its initial stack, as Linux's
// load_elf_binary does: a static program alone; a dynamic one (PT_INTERP) with the dynamic linker it
// names, which then maps the libraries itself with mmap. The address-space layout is Linux's too: with
// ASLR (the default) the mmap base, the stack top, the program break, a PIE and the interpreter are
// placed at random in Linux's ranges; without it (--no-aslr, Linux's personality ADDR_NO_RANDOMIZE)
// exactly where Linux puts them.
import { randomInt, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ELIBBAD, ENOENT, ENOMEM, Errno } from '../abi/errno.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { type AddressSpace, type AddressSpaceLayout, roundUp } from '../mm/address-space.js';
import { BufferMappable, type Mappable } from '../mm/mappable.js';
import { STACK_GUARD_GAP, VmaKind } from '../mm/vma.js';
import { PAGE_SIZE, USER_TOP } from '../platform/layout.js';
import { type ElfImage, type ElfSource, LoaderError, parseElf } from './elf.js';
import { AT, buildInitialStack } from './stack.js';

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

/** What /proc/PID/maps and /proc/PID/exe show for a file: its path in the sandbox, device and inode. */
export interface FileIdentity {
  path: string;
  dev: number;
  ino: number;
}

/**
 * A file exec maps (the program, its interpreter): its size, reads of its headers, the object its
 * segments map, and what identifies it. fs opens one (ProgramFile); execFileOf makes one of bytes.
 */
export interface ExecFile {
  size: number;
  read(offset: number, length: number): Uint8Array | Errno;
  mappable: Mappable;
  identity: FileIdentity;
  /** Drops the loader's hold on the file once it is mapped (the interpreter's: the loader opened it). */
  close?(): void;
}

/** A file held in memory as an ExecFile. */
export function execFileOf(bytes: Uint8Array, identity: FileIdentity): ExecFile {
  return {
    size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length),
    mappable: new BufferMappable(bytes, identity.path), identity,
  };
}

export interface ExecRequest {
  /** Path as the program named it: argv[0] is separate, this is AT_EXECFN. */
  execfn: string;
  /** The program; its identity is the path, device and inode its mappings show. */
  file: ExecFile;
  argv: string[];
  envp: string[];
  /** Host auxv entries passed through unchanged (hardware capabilities, clock ticks). */
  hostAuxv: Array<[number, number]>;
  ids: { uid: number; euid: number; gid: number; egid: number };
  /**
   * Opens the dynamic linker that PT_INTERP names, inside the sandbox as execve does (a relative path
   * from the working directory), or says why it cannot. Without it a dynamic program is refused.
   */
  openInterpreter?: (path: string) => ExecFile | Errno;
  /** Maps the vDSO into the new address space and returns its address (AT_SYSINFO_EHDR); none if absent. */
  mapVdso?: (mm: AddressSpace) => number | null;
}

export interface LoadedProgram {
  /** Where the program starts running: the interpreter's entry point when there is one. */
  entry: number;
  sp: number;
  image: ElfImage;
  /** The interpreter's load address (AT_BASE), 0 without one. */
  interpBase: number;
  /** The new comm: the last component of the name exec was given, at most 15 bytes (begin_new_exec). */
  comm: string;
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

/**
 * Maps the program (and the dynamic linker it names) into a fresh address space and writes the initial
 * stack, as Linux's load_elf_binary does: the one entry point for exec. Throws LoaderError, whose errno
 * is what execve returns.
 */
export function loadProgram(mm: AddressSpace, req: ExecRequest): LoadedProgram {
  const image = parseElf(elfSource(req.file, req.execfn), req.execfn);
  const interp = image.interp === null ? null : openInterpreter(req, image.interp);
  try {
    return loadImages(mm, req, image, interp);
  } finally {
    interp?.file.close?.();
  }
}

function loadImages(mm: AddressSpace, req: ExecRequest, image: ElfImage, interp: { name: string; image: ElfImage; file: ExecFile } | null): LoadedProgram {
  const randomize = mm.layout.randomize === true;
  const bias = loadBias(mm, image, randomize);
  mapImage(mm, req.execfn, image, req.file, bias);

  // The break: right after the program. A program without an interpreter that is itself ET_DYN (a
  // static PIE, or ld.so run directly) has it at ELF_ET_DYN_BASE: Linux moves it out of the mmap area.
  // With ASLR, one page further (for the others) and then anywhere in the next gigabyte.
  const movedBrk = image.kind === 'dyn' && interp === null;
  let brk = movedBrk ? roundUp(ELF_ET_DYN_BASE) : roundUp(image.maxVaddr + bias);
  if (randomize) {
    if (!movedBrk) brk += PAGE_SIZE;
    brk += randomInt(BRK_RND_RANGE / PAGE_SIZE) * PAGE_SIZE;
  }
  mm.brkStart = mm.brkEnd = brk;

  // load_elf_interp: an ET_DYN interpreter goes where mmap puts its whole span; AT_BASE is its bias.
  let entry = image.entry + bias;
  let interpBase = 0;
  if (interp !== null) {
    const interpBias = interp.image.kind === 'dyn' ? placeAnywhere(mm, interp.image) : 0;
    mapImage(mm, interp.name, interp.image, interp.file, interpBias);
    entry = interp.image.entry + interpBias;
    interpBase = interpBias;
  }
  const vdso = req.mapVdso?.(mm) ?? null;

  const stackTop = randomize ? USER_TOP - randomPages(STACK_RND_BITS) * PAGE_SIZE : USER_TOP;
  const random = new Uint8Array(16);
  randomFillSync(random);
  const host = new Map(req.hostAuxv);
  const fromHost = (type: number): Array<[number, number]> => (host.has(type) ? [[type, host.get(type)!]] : []);
  const known = new Set<number>([AT.MINSIGSTKSZ, AT.HWCAP, AT.CLKTCK, AT.HWCAP2]);
  const built = buildInitialStack({
    stackTop,
    argv: req.argv,
    envp: req.envp,
    execfn: req.execfn,
    random,
    // create_elf_tables' order (ARCH_DLINFO first); the pointers into the stack are filled in there.
    auxv: [
      ...(vdso !== null ? [[AT.SYSINFO_EHDR, vdso] as [number, number]] : []),
      ...fromHost(AT.MINSIGSTKSZ),
      ...fromHost(AT.HWCAP),
      [AT.PAGESZ, PAGE_SIZE],
      [AT.CLKTCK, host.get(AT.CLKTCK) ?? 100],
      [AT.PHDR, phdrAddress(image) + bias],
      [AT.PHENT, image.phentsize],
      [AT.PHNUM, image.phnum],
      [AT.BASE, interpBase],
      [AT.FLAGS, 0],
      [AT.ENTRY, image.entry + bias],
      [AT.UID, req.ids.uid],
      [AT.EUID, req.ids.euid],
      [AT.GID, req.ids.gid],
      [AT.EGID, req.ids.egid],
      [AT.SECURE, 0],
      [AT.RANDOM, 0],
      ...fromHost(AT.HWCAP2),
      ...req.hostAuxv.filter(([type]) => !known.has(type)),
      [AT.EXECFN, 0],
      [AT.PLATFORM, 0],
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
  if (typeof stack !== 'number') throw new LoaderError(`${req.execfn}: cannot map the stack`, 126, ENOMEM);
  if (mm.fill(built.base, built.bytes) !== null) throw new LoaderError(`${req.execfn}: cannot write the initial stack`, 126, ENOMEM);
  mm.exec = { ...codeAndData(image, bias), startStack: built.sp, argStart: built.argStart, argEnd: built.argEnd,
    envStart: built.envStart, envEnd: built.envEnd, auxv: built.auxv };
  const comm = Buffer.from(req.execfn.slice(req.execfn.lastIndexOf('/') + 1)).subarray(0, 15).toString();
  return { entry, sp: built.sp, image, interpBase, comm };
}

/** The interpreter, opened and parsed; the errors execve gives (ENOENT of it is the program's ENOENT). */
function openInterpreter(req: ExecRequest, name: string): { name: string; image: ElfImage; file: ExecFile } {
  if (req.openInterpreter === undefined) {
    throw new LoaderError(`${req.execfn}: dynamically linked (needs ${name}), and no interpreter can be opened here`, 126);
  }
  const file = req.openInterpreter(name);
  if (file instanceof Errno) {
    throw new LoaderError(`${req.execfn}: cannot open its interpreter ${name} (${file.name})`, file === ENOENT ? 127 : 126, file);
  }
  try {
    return { name, image: parseElf(elfSource(file, name), name, ELIBBAD), file };
  } catch (err) {
    file.close?.();
    throw err;
  }
}

/** An ExecFile as parseElf reads it: a failed or short read is exec's error. */
function elfSource(file: ExecFile, name: string): ElfSource {
  return {
    size: file.size,
    read: (offset, length) => {
      const bytes = file.read(offset, length);
      if (bytes instanceof Errno) throw new LoaderError(`${name}: cannot read it (${bytes.name})`, 126, bytes);
      if (bytes.length < length) throw new LoaderError(`${name}: the file shrank while it was read`, 126);
      return bytes;
    },
  };
}

/** Linux's start_code, end_code, start_data, end_data: the executable segments, and all of them. */
function codeAndData(image: ElfImage, bias: number): { startCode: number; endCode: number; startData: number; endData: number } {
  let startCode = Infinity, endCode = 0, startData = 0, endData = 0;
  for (const seg of image.segments) {
    const exec = (seg.prot & PROT_EXEC) !== 0;
    if (exec && seg.vaddr < startCode) startCode = seg.vaddr;
    if (startData < seg.vaddr) startData = seg.vaddr;
    const fileEnd = seg.vaddr + seg.filesz;
    if (exec && endCode < fileEnd) endCode = fileEnd;
    if (endData < fileEnd) endData = fileEnd;
  }
  if (startCode === Infinity) startCode = 0;
  return { startCode: startCode + bias, endCode: endCode + bias, startData: startData + bias, endData: endData + bias };
}

/**
 * Where a program goes. ET_EXEC: where it says. A static PIE, as Linux 6 does: if a segment asks for
 * more than page alignment, at ELF_ET_DYN_BASE (plus the mmap randomisation, aligned); otherwise where
 * mmap would put the whole image (the mmap area).
 */
function loadBias(mm: AddressSpace, image: ElfImage, randomize: boolean): number {
  if (image.kind !== 'dyn') return 0;
  const align = Math.max(PAGE_SIZE, ...image.segments.map((s) => s.align));
  // A PIE with an interpreter always goes to ELF_ET_DYN_BASE, out of the way of the libraries.
  if (align > PAGE_SIZE || image.interp !== null) {
    let base = ELF_ET_DYN_BASE + (randomize ? randomPages(MMAP_RND_BITS) * PAGE_SIZE : 0);
    base -= base % align;
    const bias = base - image.minVaddr;
    return bias - (bias % PAGE_SIZE);
  }
  return placeAnywhere(mm, image);
}

/** The bias that puts the whole image where mmap would put a mapping of its span. */
function placeAnywhere(mm: AddressSpace, image: ElfImage): number {
  const start = mm.unmappedArea(0, image.maxVaddr - image.minVaddr);
  if (start < 0) throw new LoaderError(`${image.segments.length} segments do not fit in the address space`, 126, ENOMEM);
  return start - image.minVaddr;
}

/** Every PT_LOAD of an image, at its address plus bias. */
function mapImage(mm: AddressSpace, name: string, image: ElfImage, file: ExecFile, bias: number): void {
  for (const seg of image.segments) mapSegment(mm, name, file.mappable, file.identity, seg, bias);
}

/**
 * One PT_LOAD: its file part as a private mapping of the file (the pages its page cache holds mapped
 * now, since faults are expensive here; the others fault in, 64 KiB at a time, as the program touches
 * them; a file without a page cache is mapped whole), the rest of the page after the file bytes zeroed
 * (padzero), and the remaining bss anonymous.
 */
function mapSegment(mm: AddressSpace, name: string, file: Mappable, identity: FileIdentity, seg: ElfImage['segments'][number], bias: number): void {
  const vaddr = seg.vaddr + bias;
  const mapStart = vaddr - (vaddr % PAGE_SIZE);
  // A segment without file bytes is all bss, from its first page on (Linux elf_load).
  const fileEnd = seg.filesz > 0 ? roundUp(vaddr + seg.filesz) : mapStart;
  const memEnd = roundUp(vaddr + seg.memsz);
  const cannot = (what: string): never => { throw new LoaderError(`${name}: cannot ${what} at 0x${mapStart.toString(16)}`, 126, ENOMEM); };
  if (fileEnd > mapStart) {
    const r = mm.map({
      addr: mapStart, length: fileEnd - mapStart, prot: seg.prot, fixed: true, noReplace: false, shared: false,
      kind: VmaKind.File, name: identity.path, dev: identity.dev, ino: identity.ino, file,
      offset: seg.offset - (vaddr - mapStart), privileged: true,
    });
    if (typeof r !== 'number') cannot('map a segment');
    mm.populateCached(mapStart, fileEnd);
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

let hostAuxvCache: Array<[number, number]> | null = null;

/**
 * HWCAP, HWCAP2, CLKTCK and MINSIGSTKSZ as the host kernel gives them to its own programs: read once
 * (they describe the host's CPU and kernel, which do not change while tsvisor runs), not at every exec.
 */
export function hostAuxv(): Array<[number, number]> {
  hostAuxvCache ??= readHostAuxv();
  return hostAuxvCache;
}

function readHostAuxv(): Array<[number, number]> {
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
