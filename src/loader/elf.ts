// ELF64 parsing for the loader: validates an executable the way Linux's fs/binfmt_elf.c and gVisor's
// pkg/sentry/loader/elf.go do, and describes what to map. Pure: it reads only through the ElfSource it is given, and no guest memory, so every
// check here runs in unit tests against real and deliberately broken binaries.
import { ENOEXEC, type Errno } from '../abi/errno.js';

export const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;

/** Where parseElf reads a file: its size and the bytes at an offset (the range lies inside the file). */
export interface ElfSource {
  size: number;
  read(offset: number, length: number): Uint8Array;
}

/** A file held whole in memory as an ElfSource. */
export function bytesSource(file: Uint8Array): ElfSource {
  return { size: file.length, read: (offset, length) => file.subarray(offset, offset + length) };
}

export interface LoadSegment { vaddr: number; memsz: number; filesz: number; offset: number; prot: number; align: number }

export interface ElfImage {
  kind: 'exec' | 'dyn';          // ET_EXEC or ET_DYN (static-PIE when no interp)
  entry: number;                 // e_entry as in the file (not relocated)
  phoff: number; phentsize: number; phnum: number;
  segments: LoadSegment[];       // PT_LOAD only, in file order
  interp: string | null;         // PT_INTERP path, null for static programs
  executableStack: boolean;      // PT_GNU_STACK flags & PF_X
  minVaddr: number; maxVaddr: number; // page-aligned span of all PT_LOAD
}

/**
 * A file the loader refuses. exitStatus is what a shell reports: 126 "cannot execute", 127 "not found";
 * errno is what execve(2) returns for it (ENOEXEC for a bad format, E2BIG, ELIBBAD, ENOENT, ...).
 */
export class LoaderError extends Error {
  constructor(message: string, readonly exitStatus: 126 | 127, readonly errno: Errno = ENOEXEC) {
    super(message);
    this.name = 'LoaderError';
  }
}

const PAGE_SIZE = 4096;
/** x86-64 TASK_SIZE with 4-level paging: user space ends one guard page below 2^47. */
const TASK_SIZE = 0x7fff_ffff_f000;
const ELF_HEADER_SIZE = 64;    // sizeof(Elf64_Ehdr)
const PHDR_SIZE = 56;          // sizeof(Elf64_Phdr)
/** Linux: "if (size == 0 || size > 65536 ...) goto out;" with size = e_phnum * sizeof(struct elf_phdr). */
const MAX_PHNUM = Math.floor(65536 / PHDR_SIZE);
const PATH_MAX = 4096;

const ELFCLASS64 = 2, ELFDATA2LSB = 1, EV_CURRENT = 1;
const ET_EXEC = 2, ET_DYN = 3;
const EM_X86_64 = 62;
const PT_LOAD = 1, PT_INTERP = 3, PT_GNU_STACK = 0x6474e551;
const PF_X = 1, PF_W = 2, PF_R = 4;

const ELF_TYPE_NAMES: Record<number, string> = { 0: 'ET_NONE', 1: 'a relocatable object', 4: 'a core dump' };

const hex = (value: number): string => `0x${value.toString(16)}`;
const pageDown = (address: number): number => address - (address % PAGE_SIZE);
const pageUp = (address: number): number => pageDown(address + PAGE_SIZE - 1);

/**
 * Parses and validates an x86-64 ELF64 executable, reading only its headers. `name` is only used in
 * messages.
 * Every rejection is a LoaderError with exit status 126, a one-line message naming the file, and errno
 * (ENOEXEC; an interpreter that is no ELF64 x86-64 executable is ELIBBAD to execve).
 */
export function parseElf(file: Uint8Array | ElfSource, name: string, errno: Errno = ENOEXEC): ElfImage {
  const reject: (problem: string) => never = (problem) => { throw new LoaderError(`${name}: ${problem}`, 126, errno); };
  const source = file instanceof Uint8Array ? bytesSource(file) : file;
  const size = source.size;
  const header = source.read(0, Math.min(size, ELF_HEADER_SIZE));
  let view = new DataView(header.buffer, header.byteOffset, header.byteLength);

  // 64-bit fields become numbers only when exact; nothing legitimate comes near 2^53.
  const u64 = (offset: number, field: string): number => {
    const value = view.getBigUint64(offset, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) reject(`malformed ELF: ${field} 0x${value.toString(16)} is too large`);
    return Number(value);
  };
  // Operands are below 2^53, so an overflowing sum rounds to at least 2^53 and is caught here.
  const checkedAdd = (a: number, b: number, what: string): number => {
    const sum = a + b;
    if (sum > Number.MAX_SAFE_INTEGER) reject(`malformed ELF: ${what} overflows`);
    return sum;
  };

  if (size < 4 || header[0] !== 0x7f || header[1] !== 0x45 || header[2] !== 0x4c || header[3] !== 0x46) {
    reject('not an ELF file');
  }
  if (size < ELF_HEADER_SIZE) reject(`truncated ELF header (${size} bytes, need ${ELF_HEADER_SIZE})`);

  const elfClass = header[4]!, dataEncoding = header[5]!, identVersion = header[6]!;
  if (elfClass !== ELFCLASS64) reject(`ELF class ${elfClass}, not ELFCLASS64 (only 64-bit programs run)`);
  if (dataEncoding !== ELFDATA2LSB) reject(`ELF data encoding ${dataEncoding}, not little-endian`);
  if (identVersion !== EV_CURRENT) reject(`ELF identification version ${identVersion}, not EV_CURRENT`);

  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  const version = view.getUint32(20, true);
  if (type !== ET_EXEC && type !== ET_DYN) {
    reject(`ELF type ${type} (${ELF_TYPE_NAMES[type] ?? 'unknown'}) is not an executable`);
  }
  if (machine !== EM_X86_64) reject(`ELF for machine ${machine}, not x86-64`);
  if (version !== EV_CURRENT) reject(`ELF version ${version}, not EV_CURRENT`);

  const entry = u64(24, 'e_entry');
  const phoff = u64(32, 'e_phoff');
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  if (phentsize !== PHDR_SIZE) reject(`program header size ${phentsize}, not ${PHDR_SIZE}`);
  if (phnum < 1 || phnum > MAX_PHNUM) reject(`${phnum} program headers, expected 1 to ${MAX_PHNUM}`);
  const phEnd = checkedAdd(phoff, phnum * PHDR_SIZE, 'program header table end');
  if (phEnd > size) {
    reject(`program header table (offset ${hex(phoff)}, ${phnum} entries) extends past the end of the file (${size} bytes)`);
  }
  const table = source.read(phoff, phnum * PHDR_SIZE);
  view = new DataView(table.buffer, table.byteOffset, table.byteLength);

  const segments: LoadSegment[] = [];
  let interp: string | null = null;
  let executableStack = false;
  let previousEnd = 0;

  for (let index = 0; index < phnum; index++) {
    const at = index * PHDR_SIZE;
    const segmentType = view.getUint32(at, true);
    const flags = view.getUint32(at + 4, true);
    const where = `program header ${index}`;

    if (segmentType === PT_GNU_STACK) {
      executableStack = (flags & PF_X) !== 0;
    } else if (segmentType === PT_INTERP) {
      if (interp !== null) reject(`more than one PT_INTERP`);
      interp = readInterpreter(source, u64(at + 8, `${where} p_offset`), u64(at + 32, `${where} p_filesz`), reject);
    } else if (segmentType === PT_LOAD) {
      const offset = u64(at + 8, `${where} p_offset`);
      const vaddr = u64(at + 16, `${where} p_vaddr`);
      const filesz = u64(at + 32, `${where} p_filesz`);
      const memsz = u64(at + 40, `${where} p_memsz`);
      const align = u64(at + 48, `${where} p_align`);
      if (filesz > memsz) reject(`${where}: PT_LOAD file size ${hex(filesz)} exceeds memory size ${hex(memsz)}`);
      const fileEnd = checkedAdd(offset, filesz, `${where} file range`);
      if (fileEnd > size) {
        reject(`${where}: PT_LOAD file range ${hex(offset)}..${hex(fileEnd)} extends past the end of the file (${size} bytes)`);
      }
      // mmap maps whole pages, so the file offset must sit at the same place in its page as the address.
      if (vaddr % PAGE_SIZE !== offset % PAGE_SIZE) {
        reject(`${where}: PT_LOAD address ${hex(vaddr)} and file offset ${hex(offset)} differ modulo the page size`);
      }
      const end = checkedAdd(vaddr, memsz, `${where} address range`);
      // Linux: "if (... TASK_SIZE - eppnt->p_memsz < k) goto out;"
      if (end > TASK_SIZE) reject(`${where}: PT_LOAD ends at ${hex(end)}, above the user address limit ${hex(TASK_SIZE)}`);
      // The ELF spec: "Loadable segment entries ... appear in ascending order, sorted on the p_vaddr member."
      if (segments.length > 0 && vaddr < previousEnd) {
        reject(`${where}: PT_LOAD at ${hex(vaddr)} overlaps or precedes the previous one (ending at ${hex(previousEnd)})`);
      }
      previousEnd = end;
      const prot = (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) | (flags & PF_X ? PROT_EXEC : 0);
      segments.push({ vaddr, memsz, filesz, offset, prot, align });
    }
  }

  if (segments.length === 0) reject('no loadable (PT_LOAD) segments');
  return {
    kind: type === ET_EXEC ? 'exec' : 'dyn',
    entry,
    phoff, phentsize, phnum,
    segments,
    interp,
    executableStack,
    minVaddr: pageDown(segments[0]!.vaddr),
    maxVaddr: pageUp(previousEnd),
  };
}

/** The PT_INTERP path: bounded like Linux ("p_filesz > PATH_MAX || p_filesz < 2") and NUL-terminated. */
function readInterpreter(source: ElfSource, offset: number, size: number, reject: (problem: string) => never): string {
  if (size < 2 || size > PATH_MAX) reject(`PT_INTERP size ${size} is not between 2 and ${PATH_MAX}`);
  if (offset > source.size - size) reject(`PT_INTERP at ${hex(offset)} extends past the end of the file (${source.size} bytes)`);
  const bytes = source.read(offset, size);
  if (bytes[size - 1] !== 0) reject('PT_INTERP path is not NUL-terminated');
  // The kernel opens it as a C string, so anything after the first NUL is ignored.
  const path = bytes.subarray(0, bytes.indexOf(0));
  if (path.length === 0) reject('PT_INTERP path is empty');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(path);
  } catch {
    return reject('PT_INTERP path is not valid UTF-8');
  }
}
