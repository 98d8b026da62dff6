// exec: puts a static ELF program into a fresh address space, with its initial stack, as Linux's
// load_elf_binary does for a binary without PT_INTERP.
import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { type AddressSpace, roundUp } from '../mm/address-space.js';
import { VmaKind } from '../mm/vma.js';
import { PAGE_SIZE, USER_TOP } from '../platform/layout.js';
import { LoaderError, parseElf, type ElfImage } from './elf.js';
import { AT, buildInitialStack } from './stack.js';

/** Where a static-PIE program is placed without ASLR (Linux's ELF_ET_DYN_BASE on x86-64). */
const ET_DYN_BASE = 0x5555_5555_4000;
/** RLIMIT_STACK's default: the stack area reserved below the top. */
export const STACK_SIZE = 8 * 1024 * 1024;
/** Linux keeps at least this much between the stack and the mmap area (mm/util.c mmap_base). */
const MIN_STACK_GAP = 128 * 1024 * 1024;

export interface ExecRequest {
  /** Path as the program named it: argv[0] is separate, this is AT_EXECFN. */
  execfn: string;
  file: Uint8Array;
  argv: string[];
  envp: string[];
  /** Host auxv entries passed through unchanged (hardware capabilities, clock ticks). */
  hostAuxv: Array<[number, number]>;
  ids: { uid: number; euid: number; gid: number; egid: number };
}

export interface LoadedProgram {
  entry: number;
  sp: number;
  image: ElfImage;
}

/** The layout an address space needs before exec: where mmap starts placing areas. */
export function defaultMmapBase(): number {
  return USER_TOP - MIN_STACK_GAP;
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
  const bias = image.kind === 'dyn' ? ET_DYN_BASE - image.minVaddr : 0;
  let mappedEnd = 0;
  for (const seg of image.segments) {
    const start = Math.max(seg.vaddr + bias - ((seg.vaddr + bias) % PAGE_SIZE), mappedEnd);
    const end = roundUp(seg.vaddr + bias + seg.memsz);
    if (end > start) {
      const r = mm.map(start, end - start, seg.prot, VmaKind.Image, req.execfn, { fixed: true, noReplace: false });
      if (typeof r !== 'number') throw new LoaderError(`${req.execfn}: cannot map segment at ${start.toString(16)}`, 126);
      mappedEnd = end;
    }
    // Fresh pages are zero, so the bss past filesz needs no clearing.
    const failed = mm.fill(seg.vaddr + bias, req.file.subarray(seg.offset, seg.offset + seg.filesz));
    if (failed !== null) throw new LoaderError(`${req.execfn}: out of guest memory loading it`, 126);
  }
  mm.brkStart = mm.brkEnd = roundUp(image.maxVaddr + bias);

  const stackTop = USER_TOP;
  const stack = mm.map(stackTop - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE, VmaKind.Stack, '[stack]', { fixed: true, noReplace: false });
  if (typeof stack !== 'number') throw new LoaderError(`${req.execfn}: cannot map the stack`, 126);
  const random = new Uint8Array(16);
  randomFillSync(random);
  const built = buildInitialStack({
    stackTop,
    argv: req.argv,
    envp: req.envp,
    execfn: req.execfn,
    random,
    auxv: [
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
  if (mm.fill(built.base, built.bytes) !== null) throw new LoaderError(`${req.execfn}: cannot write the initial stack`, 126);
  return { entry: image.entry + bias, sp: built.sp, image };
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
