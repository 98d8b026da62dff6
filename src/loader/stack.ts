// The initial process stack (argc, argv, envp, auxv and the strings they point to), laid out exactly
// as Linux's create_elf_tables (fs/binfmt_elf.c) and copy_strings (fs/exec.c) do, so that libc start-up
// code and programs that walk past envp find what they expect. Pure: the caller copies `bytes` into
// guest memory at `base`.

import { E2BIG } from '../abi/errno.js';
import { LoaderError } from './elf.js';

/** Auxiliary vector entry types, from include/uapi/linux/auxvec.h and arch/x86/include/uapi/asm/auxvec.h. */
export const AT = {
  NULL: 0, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9, UID: 11, EUID: 12, GID: 13,
  EGID: 14, PLATFORM: 15, HWCAP: 16, CLKTCK: 17, SECURE: 23, RANDOM: 25, HWCAP2: 26, EXECFN: 31,
  SYSINFO_EHDR: 33, MINSIGSTKSZ: 51,
} as const;

export interface StackSpec {
  stackTop: number;
  argv: string[];
  envp: string[];
  execfn: string;
  random: Uint8Array;              // 16 bytes for AT_RANDOM
  /**
   * The caller's entries, without AT_NULL. AT_RANDOM, AT_EXECFN and AT_PLATFORM point into the image, so
   * their values are filled in here: where the caller lists one (with any value) it keeps that position,
   * as Linux's order puts them between others; the ones not listed are appended.
   */
  auxv: Array<[number, number]>;
}

export interface StackImage {
  bytes: Uint8Array;  // bytes[i] is the byte at guest address base + i; base + bytes.length === stackTop
  sp: number;         // guest address of argc, 16-byte aligned
  base: number;       // guest address of bytes[0]
  /** The argument and environment strings ([start, end) each), as Linux's mm->arg_start..env_end. */
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
  /** The auxiliary vector as written, AT_NULL included (Linux's saved_auxv, /proc/PID/auxv). */
  auxv: Array<[number, number]>;
}

/** The whole image may not exceed this: a quarter of the default 8 MiB stack rlimit, like Linux's ARG_MAX. */
const MAX_STACK_IMAGE = 2 * 1024 * 1024;
/** Linux MAX_ARG_STRLEN (32 pages): copy_strings fails with E2BIG on any longer string. */
const MAX_ARG_STRLEN = 32 * 4096;
const WORD = 8;
const RANDOM_BYTES = 16;
/** ELF_PLATFORM on x86-64; AT_PLATFORM points at it. */
const PLATFORM = 'x86_64';
const FILLED_HERE: readonly number[] = [AT.RANDOM, AT.EXECFN, AT.PLATFORM];

const alignDown16 = (address: number): number => address - (address % 16);

/**
 * Builds the initial stack. From stackTop downwards, as Linux:
 *   8-byte NULL end marker ("bprm->p = vma->vm_end - sizeof(void *)")
 *   execfn, envp strings, argv strings (each NUL-terminated; in memory argv[0] is lowest)
 *   padding to 16 (arch_align_stack, without its random offset)
 *   "x86_64\0" (AT_PLATFORM), then the 16 AT_RANDOM bytes
 *   padding so that argc lands on a 16-byte boundary (STACK_ROUND)
 *   auxv pairs ending with AT_NULL, envp pointers + NULL, argv pointers + NULL, argc  <- sp
 * Throws LoaderError (exit 126) "argument list too long" when the image would exceed 2 MiB.
 */
export function buildInitialStack(spec: StackSpec): StackImage {
  const { stackTop, argv, envp, execfn, random, auxv } = spec;
  if (!Number.isSafeInteger(stackTop) || stackTop < 0) throw new RangeError(`stackTop ${stackTop} is not an address`);
  if (random.length !== RANDOM_BYTES) throw new RangeError(`AT_RANDOM needs ${RANDOM_BYTES} bytes, got ${random.length}`);
  for (const [type] of auxv) {
    if (type === AT.NULL) throw new RangeError('AT_NULL is added by buildInitialStack, not the caller');
  }
  const tooLong = (): never => { throw new LoaderError(`${execfn}: argument list too long`, 126, E2BIG); };

  const encoder = new TextEncoder();
  let stringBytes = 0;
  const encode = (text: string): Uint8Array => {
    const encoded = encoder.encode(`${text}\0`);
    if (encoded.length > MAX_ARG_STRLEN) tooLong();
    stringBytes += encoded.length;
    if (stringBytes > MAX_STACK_IMAGE) tooLong();
    return encoded;
  };
  const argvStrings = argv.map(encode);
  const envpStrings = envp.map(encode);
  const execfnString = encode(execfn);
  const platformString = encoder.encode(`${PLATFORM}\0`);

  // Compute every address first, top-down, then check the size before allocating.
  let p = stackTop - WORD;
  const execfnAddress = (p -= execfnString.length);
  // copy_strings pushes the last string first, so the strings read in order going up.
  p -= stringBytes - execfnString.length;
  const stringsStart = p;
  p = alignDown16(p);
  const platformAddress = (p -= platformString.length);
  const randomAddress = (p -= RANDOM_BYTES);

  const pointers = new Map<number, number>([[AT.RANDOM, randomAddress], [AT.EXECFN, execfnAddress], [AT.PLATFORM, platformAddress]]);
  const fullAuxv: Array<[number, number]> = auxv.map(([type, value]) => [type, pointers.get(type) ?? value]);
  for (const type of FILLED_HERE) if (!auxv.some(([t]) => t === type)) fullAuxv.push([type, pointers.get(type)!]);
  fullAuxv.push([AT.NULL, 0]);
  p -= fullAuxv.length * 2 * WORD;
  const vectorWords = 1 + (argv.length + 1) + (envp.length + 1);
  // STACK_ROUND(sp, items): "(((unsigned long) (sp - items)) &~ 15UL)"; the padding ends up above auxv.
  const sp = alignDown16(p - vectorWords * WORD);
  if (stackTop - sp > MAX_STACK_IMAGE) tooLong();
  if (sp < 0) throw new RangeError(`stackTop ${stackTop} is too low for a ${stackTop - sp}-byte stack image`);

  const bytes = new Uint8Array(stackTop - sp);
  const view = new DataView(bytes.buffer);
  const base = sp;
  const writeBytes = (address: number, data: Uint8Array): void => bytes.set(data, address - base);
  let cursor = sp;
  const pushWord = (value: number): void => {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`stack word ${value} is not a 64-bit unsigned integer`);
    view.setUint32(cursor - base, value % 0x1_0000_0000, true);
    view.setUint32(cursor - base + 4, Math.floor(value / 0x1_0000_0000), true);
    cursor += WORD;
  };

  // The strings, ascending from stringsStart: argv, then envp, then execfn.
  let stringAddress = stringsStart;
  const placeStrings = (strings: Uint8Array[]): number[] => strings.map((encoded) => {
    writeBytes(stringAddress, encoded);
    const address = stringAddress;
    stringAddress += encoded.length;
    return address;
  });
  const argvAddresses = placeStrings(argvStrings);
  const argEnd = stringAddress;
  const envpAddresses = placeStrings(envpStrings);
  const envEnd = stringAddress;
  writeBytes(execfnAddress, execfnString);
  writeBytes(platformAddress, platformString);
  writeBytes(randomAddress, random);

  pushWord(argv.length);
  for (const address of argvAddresses) pushWord(address);
  pushWord(0);
  for (const address of envpAddresses) pushWord(address);
  pushWord(0);
  for (const [type, value] of fullAuxv) {
    pushWord(type);
    pushWord(value);
  }
  // Everything else (alignment padding and the end marker) stays zero.
  return { bytes, sp, base, argStart: stringsStart, argEnd, envStart: argEnd, envEnd, auxv: fullAuxv };
}
