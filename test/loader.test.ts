// Loader tests: parseElf against real binaries built here with gcc (checked against readelf) and against
// copies broken one field at a time; buildInitialStack checked by decoding its bytes like libc would;
// loadProgram of a dynamic program and of the dynamic linker into an address space over plain memory.

import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { E2BIG, EACCES, ELIBBAD, ENOENT } from '../src/abi/errno.js';
import { LoaderError, parseElf, PROT_EXEC, PROT_READ, PROT_WRITE, type ElfImage } from '../src/loader/elf.js';
import { chooseLayout, type ExecFile, execFileOf, loadProgram } from '../src/loader/load.js';
import { AT, buildInitialStack } from '../src/loader/stack.js';
import { AddressSpace } from '../src/mm/address-space.js';
import { PageAllocator } from '../src/mm/physical.js';
import { VmaKind } from '../src/mm/vma.js';

const workDir = mkdtempSync(path.join(os.tmpdir(), 'tsvisor-loader-'));
const binaries: Record<'static' | 'staticPie' | 'dynamic', string> = {
  static: path.join(workDir, 'hello-static'),
  staticPie: path.join(workDir, 'hello-static-pie'),
  dynamic: path.join(workDir, 'hello-dynamic'),
};

test.before(() => {
  const source = path.join(workDir, 'hello.c');
  writeFileSync(source, '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
  execFileSync('gcc', ['-static', '-O2', '-o', binaries.static, source]);
  execFileSync('gcc', ['-static-pie', '-O2', '-o', binaries.staticPie, source]);
  execFileSync('gcc', ['-O2', '-o', binaries.dynamic, source]);
});

test.after.always(() => rmSync(workDir, { recursive: true, force: true }));

/** What `readelf -lhW` says about the ELF header and the PT_LOAD headers. */
function readelf(file: string): { type: string; entry: number; loads: Array<Record<string, number>> } {
  const output = execFileSync('readelf', ['-lhW', file], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  const type = /^\s*Type:\s+(\w+)/m.exec(output)![1]!;
  const entry = Number(/Entry point address:\s+(0x[0-9a-f]+)/.exec(output)![1]);
  const loadLine = /^\s*LOAD\s+(0x\S+) (0x\S+) 0x\S+ (0x\S+) (0x\S+) (.{3}) (0x\S+)$/gm;
  const loads = [...output.matchAll(loadLine)].map(([, offset, vaddr, filesz, memsz, flags, align]) => ({
    offset: Number(offset), vaddr: Number(vaddr), filesz: Number(filesz), memsz: Number(memsz), align: Number(align),
    prot: (flags!.includes('R') ? PROT_READ : 0) | (flags!.includes('W') ? PROT_WRITE : 0) | (flags!.includes('E') ? PROT_EXEC : 0),
  }));
  return { type, entry, loads };
}

function checkInvariants(t: ExecutionContext, image: ElfImage): void {
  t.true(image.segments.length >= 2);
  t.true(image.segments.some((s) => (s.prot & PROT_EXEC) !== 0 && image.entry >= s.vaddr && image.entry < s.vaddr + s.memsz),
    'entry lies in an executable segment');
  t.is(image.minVaddr % 4096, 0);
  t.is(image.maxVaddr % 4096, 0);
  t.true(image.minVaddr <= image.segments[0]!.vaddr);
  const last = image.segments.at(-1)!;
  t.true(image.maxVaddr >= last.vaddr + last.memsz && image.maxVaddr - (last.vaddr + last.memsz) < 4096);
  t.is(image.phentsize, 56);
  t.false(image.executableStack);
}

for (const [label, key, kind, type] of [
  ['static', 'static', 'exec', 'EXEC'], ['static-pie', 'staticPie', 'dyn', 'DYN'],
] as const) {
  test(`parses a ${label} binary as readelf does`, (t) => {
    const image = parseElf(readFileSync(binaries[key]), binaries[key]);
    const reference = readelf(binaries[key]);
    t.is(reference.type, type);
    t.is(image.kind, kind);
    t.is(image.entry, reference.entry);
    t.is(image.interp, null);
    t.deepEqual(image.segments, reference.loads);
    checkInvariants(t, image);
  });
}

test('a dynamically linked binary names its interpreter', (t) => {
  const image = parseElf(readFileSync(binaries.dynamic), binaries.dynamic);
  t.is(image.interp, '/lib64/ld-linux-x86-64.so.2');
  t.deepEqual(image.segments, readelf(binaries.dynamic).loads);
  checkInvariants(t, image);
});

/** A copy of the static binary with `patch` applied; offsets of the first PT_LOAD header are passed in. */
function patched(patch: (view: DataView, firstLoad: number, bytes: Uint8Array) => Uint8Array | void): Uint8Array {
  const bytes = new Uint8Array(readFileSync(binaries.static));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phoff = Number(view.getBigUint64(32, true));
  let firstLoad = phoff;
  while (view.getUint32(firstLoad, true) !== 1) firstLoad += 56;
  return patch(view, firstLoad, bytes) ?? bytes;
}

const rejections: Array<[string, () => Uint8Array, RegExp]> = [
  ['an empty file', () => new Uint8Array(0), /not an ELF file/],
  ['a shell script', () => new TextEncoder().encode('#!/bin/sh\necho hi\n'), /not an ELF file/],
  ['a 32-bit ELF', () => patched((view) => view.setUint8(4, 1)), /ELF class 1, not ELFCLASS64/],
  ['an AArch64 ELF', () => patched((view) => view.setUint16(18, 183, true)), /ELF for machine 183, not x86-64/],
  ['a relocatable object', () => patched((view) => view.setUint16(16, 1, true)), /not an executable/],
  ['truncated program headers', () => patched((view, _, bytes) => bytes.subarray(0, Number(view.getBigUint64(32, true)) + 56)),
    /program header table .* past the end of the file/],
  ['a PT_LOAD with filesz > memsz', () => patched((view, load) => {
    view.setBigUint64(load + 32, view.getBigUint64(load + 40, true) + 1n, true);
  }), /file size 0x[0-9a-f]+ exceeds memory size/],
  ['a PT_LOAD past the end of the file', () => patched((view, load, bytes) => {
    // Keep the offset congruent to the address so that only the file range is wrong.
    view.setBigUint64(load + 8, BigInt(Math.ceil(bytes.length / 4096) * 4096) + (view.getBigUint64(load + 16, true) % 4096n), true);
  }), /past the end of the file/],
  ['a PT_LOAD whose offset is not congruent to its address', () => patched((view, load) => {
    view.setBigUint64(load + 16, view.getBigUint64(load + 16, true) + 8n, true);
  }), /differ modulo the page size/],
  ['a PT_LOAD above the user address limit', () => patched((view, load) => {
    view.setBigUint64(load + 16, 0x7fff_ffff_f000n, true);
  }), /above the user address limit/],
  ['a 64-bit field beyond 2^53', () => patched((view, load) => view.setBigUint64(load + 40, 1n << 60n, true)), /too large/],
  ['overlapping PT_LOADs', () => patched((view, load) => {
    view.setBigUint64(load + 56 + 16, view.getBigUint64(load + 16, true) + BigInt(Number(view.getBigUint64(load + 56 + 8, true)) % 4096), true);
  }), /overlaps or precedes/],
];

for (const [what, makeFile, message] of rejections) {
  test(`rejects ${what}`, (t) => {
    const error = t.throws(() => parseElf(makeFile(), '/bin/broken'), { instanceOf: LoaderError });
    t.is(error?.exitStatus, 126);
    t.true(error?.message.startsWith('/bin/broken: '), error?.message);
    t.regex(error?.message ?? '', message);
    t.false(error?.message.includes('\n'));
  });
}

test('builds the initial stack as Linux lays it out', (t) => {
  const stackTop = 0x7fff_ffff_e000;
  const random = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
  const callerAuxv: Array<[number, number]> = [[AT.PAGESZ, 4096], [AT.ENTRY, 0x401500], [AT.UID, 1000], [AT.SECURE, 0]];
  const image = buildInitialStack({ stackTop, argv: ['prog', 'a b'], envp: ['X=1'], execfn: '/bin/prog', random, auxv: callerAuxv });

  t.is(image.base + image.bytes.length, stackTop);
  t.is(image.sp % 16, 0);
  t.is(image.base, image.sp);
  const view = new DataView(image.bytes.buffer, image.bytes.byteOffset, image.bytes.byteLength);
  const word = (address: number): number => Number(view.getBigUint64(address - image.base, true));
  const cString = (address: number): string => {
    const start = address - image.base;
    return new TextDecoder().decode(image.bytes.subarray(start, image.bytes.indexOf(0, start)));
  };

  let cursor = image.sp;
  const next = (): number => { const value = word(cursor); cursor += 8; return value; };
  t.is(next(), 2);
  t.deepEqual([cString(next()), cString(next())], ['prog', 'a b']);
  t.is(next(), 0);
  t.is(cString(next()), 'X=1');
  t.is(next(), 0);
  const auxv: Array<[number, number]> = [];
  for (let type = next(), value = next(); ; type = next(), value = next()) {
    auxv.push([type, value]);
    if (type === AT.NULL) break;
  }
  t.deepEqual(auxv.at(-1), [AT.NULL, 0]);
  const lookup = new Map(auxv);
  for (const [type, value] of callerAuxv) t.is(lookup.get(type), value);
  const randomAddress = lookup.get(AT.RANDOM)!;
  t.deepEqual(image.bytes.subarray(randomAddress - image.base, randomAddress - image.base + 16), random);
  t.is(cString(lookup.get(AT.EXECFN)!), '/bin/prog');
  t.is(cString(lookup.get(AT.PLATFORM)!), 'x86_64');
  t.is(auxv.length, callerAuxv.length + 4);

  // Linux's order: strings in ascending argv, envp, execfn, then the zero end marker at the very top.
  t.is(word(stackTop - 8), 0);
  t.is(lookup.get(AT.EXECFN)! + '/bin/prog\0'.length, stackTop - 8);
  t.true(randomAddress < lookup.get(AT.PLATFORM)!);
});

test('refuses an argument list over 2 MiB', (t) => {
  const argv = Array.from({ length: 40 }, () => 'x'.repeat(64 * 1024));
  const error = t.throws(() => buildInitialStack({
    stackTop: 0x7fff_ffff_e000, argv, envp: [], execfn: '/bin/big', random: new Uint8Array(16), auxv: [],
  }), { instanceOf: LoaderError });
  t.is(error?.exitStatus, 126);
  t.regex(error?.message ?? '', /argument list too long/);
});

// loadProgram into an address space over plain memory (no /dev/kvm): what Linux's load_elf_binary leaves.
const MIB = 1024 * 1024;
const INTERP = '/lib64/ld-linux-x86-64.so.2';
const HOST_AUXV: Array<[number, number]> = [[AT.HWCAP, 0x1f8b_fbff], [AT.CLKTCK, 100], [AT.MINSIGSTKSZ, 3376], [AT.HWCAP2, 2]];
const IDS = { uid: 1000, euid: 1000, gid: 100, egid: 100 };

function emptyAddressSpace(randomize = false): AddressSpace {
  const memory = new ArrayBuffer(64 * MIB);
  const bytes = new Uint8Array(memory);
  const allocator = new PageAllocator({ punchHole: (gpa, n) => bytes.fill(0, gpa, gpa + n) }, 2 * MIB, 64 * MIB);
  return new AddressSpace(memory, allocator, [], chooseLayout(randomize));
}

const INTERP_BYTES = readFileSync(INTERP);

function interpreterFile(): ExecFile {
  return execFileOf(INTERP_BYTES, { path: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', dev: 0xfe00, ino: 7 });
}

test('loads a dynamic program and its interpreter as Linux does, with its auxv in Linux\'s order', (t) => {
  const mm = emptyAddressSpace();
  const program = readFileSync(binaries.dynamic);
  const opened: string[] = [];
  let vdso = 0;
  const loaded = loadProgram(mm, {
    execfn: './hello', file: execFileOf(program, { path: '/srv/hello', dev: 0xfe01, ino: 42 }), argv: ['hello', 'x'], envp: ['A=1'],
    hostAuxv: HOST_AUXV, ids: IDS,
    openInterpreter: (path) => { opened.push(path); return interpreterFile(); },
    mapVdso: (space) => (vdso = space.map({ addr: 0, length: 8192, prot: PROT_READ | PROT_EXEC, fixed: false, noReplace: false, shared: false, kind: VmaKind.Anonymous, name: '[vdso]' }) as number),
  });
  t.deepEqual(opened, [INTERP]);
  const auxv = mm.exec!.auxv;
  t.deepEqual(auxv.map(([type]) => type), [
    AT.SYSINFO_EHDR, AT.MINSIGSTKSZ, AT.HWCAP, AT.PAGESZ, AT.CLKTCK, AT.PHDR, AT.PHENT, AT.PHNUM, AT.BASE, AT.FLAGS, AT.ENTRY,
    AT.UID, AT.EUID, AT.GID, AT.EGID, AT.SECURE, AT.RANDOM, AT.HWCAP2, AT.EXECFN, AT.PLATFORM, AT.NULL,
  ]);
  const value = new Map(auxv.map(([type, v]) => [type, v]));
  const image = parseElf(program, 'hello');
  const interp = parseElf(INTERP_BYTES, INTERP);
  // A PIE with an interpreter goes to ELF_ET_DYN_BASE (without ASLR exactly where Linux puts it).
  const bias = 0x5555_5555_4000;
  t.is(value.get(AT.ENTRY), image.entry + bias);
  t.is(value.get(AT.PHDR), bias + image.phoff);
  t.is(value.get(AT.PHNUM), image.phnum);
  t.is(value.get(AT.SYSINFO_EHDR), vdso);
  t.is(value.get(AT.MINSIGSTKSZ), 3376);
  t.is(value.get(AT.UID), 1000);
  t.is(value.get(AT.EGID), 100);
  // The interpreter sits at the top of the mmap area, and the program starts at its entry.
  const base = value.get(AT.BASE)!;
  t.is(loaded.interpBase, base);
  t.is(base + interp.maxVaddr, mm.layout.mmapBase);
  t.is(loaded.entry, interp.entry + base);
  t.is(loaded.comm, 'hello');
  t.true(vdso < base, 'the vDSO is mapped after the interpreter, below it');
  // The break follows the program directly when nothing is randomised.
  t.is(mm.brkStart, Math.ceil((image.maxVaddr + bias) / 4096) * 4096);
  // Mappings carry the files' identities; the argument and environment strings are where exec put them.
  const named = (path: string) => mm.vmas.list.filter((v) => v.name === path);
  t.is(named('/srv/hello').length, image.segments.length);
  t.true(named('/srv/hello').every((v) => v.dev === 0xfe01 && v.ino === 42));
  t.true(named('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2').every((v) => v.dev === 0xfe00 && v.ino === 7));
  const exec = mm.exec!;
  t.is(exec.argEnd - exec.argStart, 'hello\0x\0'.length);
  t.is(exec.envStart, exec.argEnd);
  t.is(exec.envEnd - exec.envStart, 'A=1\0'.length);
  const strings = new Uint8Array(exec.envEnd - exec.argStart);
  t.is(mm.copyIn(exec.argStart, strings), strings.length);
  t.is(Buffer.from(strings).toString('latin1'), 'hello\0x\0A=1\0');
  t.true(exec.startCode >= bias && exec.endCode > exec.startCode && exec.startStack === loaded.sp);
});

test('the dynamic linker run directly is placed like a static PIE, its break at ELF_ET_DYN_BASE', (t) => {
  const mm = emptyAddressSpace();
  const file = interpreterFile();
  const loaded = loadProgram(mm, { execfn: INTERP, file, argv: [INTERP, '/bin/true'], envp: [], hostAuxv: HOST_AUXV, ids: IDS });
  const value = new Map(mm.exec!.auxv.map(([type, v]) => [type, v]));
  t.is(value.get(AT.BASE), 0);
  t.is(loaded.interpBase, 0);
  t.is(value.get(AT.ENTRY), loaded.entry);
  t.is(mm.brkStart, 0x5555_5555_5000);
});

test('a dynamic program whose interpreter cannot be opened is refused with execve\'s error', (t) => {
  const program = readFileSync(binaries.dynamic);
  const request = { execfn: '/srv/hello', file: execFileOf(program, { path: '/srv/hello', dev: 0, ino: 0 }), argv: ['hello'], envp: [], hostAuxv: HOST_AUXV, ids: IDS };
  const missing = t.throws(() => loadProgram(emptyAddressSpace(), { ...request, openInterpreter: () => ENOENT }), { instanceOf: LoaderError });
  t.is(missing?.exitStatus, 127);
  t.is(missing?.errno, ENOENT);
  t.regex(missing?.message ?? '', /^\/srv\/hello: cannot open its interpreter \/lib64\/ld-linux-x86-64\.so\.2 \(ENOENT\)$/);
  const denied = t.throws(() => loadProgram(emptyAddressSpace(), { ...request, openInterpreter: () => EACCES }), { instanceOf: LoaderError });
  t.is(denied?.exitStatus, 126);
  t.is(denied?.errno, EACCES);
  const notElf = t.throws(() => loadProgram(emptyAddressSpace(), {
    ...request, openInterpreter: () => execFileOf(new TextEncoder().encode('#!/bin/sh\n'), { path: INTERP, dev: 0, ino: 0 }),
  }), { instanceOf: LoaderError });
  t.is(notElf?.errno, ELIBBAD);
  t.regex(notElf?.message ?? '', /not an ELF file/);
  const nobody = t.throws(() => loadProgram(emptyAddressSpace(), request), { instanceOf: LoaderError });
  t.is(nobody?.exitStatus, 126);
  t.regex(nobody?.message ?? '', /dynamically linked/);
});

test('argument lists over the limit are E2BIG to execve', (t) => {
  const error = t.throws(() => buildInitialStack({
    stackTop: 0x7fff_ffff_e000, argv: ['x'.repeat(200 * 1024)], envp: [], execfn: '/bin/big', random: new Uint8Array(16), auxv: [],
  }), { instanceOf: LoaderError });
  t.is(error?.errno, E2BIG);
});
