// Builds what the guest CPU needs before its first instruction: the supervisor map of physical memory,
// the stub mappings, and per vCPU a GDT (Linux layout), a TSS with RSP0 and an I/O bitmap that opens
// only the stub's ports, an IDT for the 32 exception vectors, and its own copy of the stub.
// Everything here is written host-side before the vCPU first runs, which every host flavour sees.
import { readFileSync } from 'node:fs';
import { stubBinaryPath, stubSymbolsPath } from './addon.js';
import {
  HUGE_PAGE_SIZE, KERNEL_STACK_PAGES, PAGE_SIZE, PHYS_BASE, STUB_BASE, VCPU_AREA_PAGES, VcpuPage, stubVa, vcpuAreaGpa,
} from './layout.js';
import { MailboxOffset } from './mailbox.js';

export const Pte = {
  present: 0x1, write: 0x2, user: 0x4, accessed: 0x20, dirty: 0x40, huge: 0x80,
  /** NX is bit 63: bit 31 of the high word. */
  nxHigh: 0x8000_0000,
} as const;

const GDT_ENTRIES = 10;
const TSS_SELECTOR = 0x40;
const DOUBLE_FAULT = 8;
const TSS_SIZE = 104;
const IO_BITMAP_BYTES = 8192;
const STUB_PORTS = [0x10, 0x11, 0x12];
const KERNEL_CS = 0x10;

/** Boot tables in the platform's reserved physical range. */
const PHYSMAP_PDPT_GPA = 0x1000;
const PHYSMAP_PD_GPA = 0x2000; // one PD page per GiB, up to 4
const STUB_PDPT_GPA = 0x8000;
const STUB_PD_GPA = 0x9000;
const STUB_PT_GPA = 0xa000;

export interface StubImage {
  code: Uint8Array;
  symbols: Record<string, number>;
}

export function loadStub(): StubImage {
  const code = readFileSync(stubBinaryPath);
  const symbols = JSON.parse(readFileSync(stubSymbolsPath, 'utf8')) as Record<string, number>;
  for (const name of ['syscall_entry', 'user_entry', 'start_context', 'int3_entry', 'exc_entries', 'queue_va', 'kstack_top']) {
    if (symbols[name] === undefined) throw new Error(`guest stub is missing symbol ${name}: rebuild with npm run build`);
  }
  return { code: new Uint8Array(code.buffer, code.byteOffset, code.byteLength), symbols };
}

class PhysWriter {
  private readonly view: DataView;
  constructor(memory: ArrayBuffer) {
    this.view = new DataView(memory);
  }
  u64(gpa: number, value: bigint): void {
    this.view.setBigUint64(gpa, value, true);
  }
  pte(gpa: number, target: number, flags: number, nx: boolean): void {
    this.view.setUint32(gpa, (target >>> 0) | flags, true);
    this.view.setUint32(gpa + 4, Math.floor(target / 0x1_0000_0000) | (nx ? Pte.nxHigh : 0), true);
  }
}

/** PML4 entries that every address space shares: [index, low word, high word]. */
export type RootEntry = readonly [index: number, lo: number, hi: number];

export function buildSharedTables(memory: ArrayBuffer, memoryBytes: number, vcpuCount: number): RootEntry[] {
  const w = new PhysWriter(memory);
  const table = Pte.present | Pte.write | Pte.accessed;
  const gib = Math.ceil(memoryBytes / 2 ** 30);
  for (let g = 0; g < gib; g++) {
    const pd = PHYSMAP_PD_GPA + g * PAGE_SIZE;
    w.pte(PHYSMAP_PDPT_GPA + g * 8, pd, table, false);
    for (let i = 0; i < 512; i++) {
      const gpa = g * 2 ** 30 + i * HUGE_PAGE_SIZE;
      if (gpa >= memoryBytes) break;
      w.pte(pd + i * 8, gpa, table | Pte.dirty | Pte.huge, true);
    }
  }
  const userTable = table | Pte.user;
  w.pte(STUB_PDPT_GPA + ((STUB_BASE / 2 ** 30) % 512) * 8, STUB_PD_GPA, userTable, false);
  w.pte(STUB_PD_GPA, STUB_PT_GPA, userTable, false);
  for (let id = 0; id < vcpuCount; id++) {
    const area = vcpuAreaGpa(id);
    const slot = ((stubVa(id) - STUB_BASE) / PAGE_SIZE) * 8;
    w.pte(STUB_PT_GPA + slot, area + VcpuPage.stubCode * PAGE_SIZE, Pte.present | Pte.user | Pte.accessed, false);
    w.pte(STUB_PT_GPA + slot + 8, area + VcpuPage.mailbox * PAGE_SIZE, userTable | Pte.dirty, true);
  }
  return [
    [pml4Index(PHYS_BASE), PHYSMAP_PDPT_GPA | table, 0],
    [pml4Index(STUB_BASE), STUB_PDPT_GPA | userTable, 0],
  ];
}

function pml4Index(va: number): number {
  return Math.floor(va / 2 ** 39) % 512;
}

export interface VcpuBoot {
  mailboxGpa: number;
  queueGpa: number;
  stubVa: number;
  /** The mailbox's guest address: syscall-site trampolines find their vCPU's user_entry through GS. */
  gsBase: number;
  gdtBase: number; gdtLimit: number;
  idtBase: number; idtLimit: number;
  tssBase: number; tssLimit: number; tssSelector: number;
}

/** Writes the vCPU's stub copy, GDT, TSS and IDT; returns the addresses its sregs need. */
export function buildVcpu(memory: ArrayBuffer, id: number, stub: StubImage, exitless: boolean, directCpl0: boolean, spinLimit: number): VcpuBoot {
  const bytes = new Uint8Array(memory);
  const view = new DataView(memory);
  const area = vcpuAreaGpa(id);
  const page = (n: number): number => area + n * PAGE_SIZE;
  bytes.fill(0, area, area + VCPU_AREA_PAGES * PAGE_SIZE);
  const va = stubVa(id);
  const kstackTop = PHYS_BASE + page(VcpuPage.kernelStack + KERNEL_STACK_PAGES);
  const queueVa = PHYS_BASE + page(VcpuPage.queue);

  bytes.set(stub.code, page(VcpuPage.stubCode));
  view.setBigUint64(page(VcpuPage.stubCode) + stub.symbols.queue_va!, BigInt(queueVa), true);
  view.setBigUint64(page(VcpuPage.stubCode) + stub.symbols.kstack_top!, BigInt(kstackTop), true);

  const mailbox = page(VcpuPage.mailbox);
  view.setUint32(mailbox + MailboxOffset.exitless, exitless ? 1 : 0, true);
  view.setUint32(mailbox + MailboxOffset.directCpl0, directCpl0 ? 1 : 0, true);
  view.setBigUint64(mailbox + MailboxOffset.spinLimit, BigInt(spinLimit), true);
  // Written while the platform still runs with exits too: no call site is rewritten before it turns exitless.
  view.setBigUint64(mailbox + MailboxOffset.userEntry, BigInt(va + stub.symbols.user_entry!), true);

  // GDT, Linux layout: 0x10 kernel CS, 0x18 kernel SS, 0x23 user CS32, 0x2b user SS, 0x33 user CS64.
  const gdt = page(VcpuPage.gdt);
  view.setBigUint64(gdt + 2 * 8, 0x00af9b000000ffffn, true);
  view.setBigUint64(gdt + 3 * 8, 0x00cf93000000ffffn, true);
  view.setBigUint64(gdt + 4 * 8, 0x00cffb000000ffffn, true);
  view.setBigUint64(gdt + 5 * 8, 0x00cff3000000ffffn, true);
  view.setBigUint64(gdt + 6 * 8, 0x00affb000000ffffn, true);
  const tss = page(VcpuPage.tss);
  const tssBase = BigInt(PHYS_BASE + tss);
  const tssLimit = TSS_SIZE + IO_BITMAP_BYTES;
  const limit = BigInt(tssLimit);
  view.setBigUint64(gdt + (TSS_SELECTOR >> 3) * 8,
    (limit & 0xffffn) | ((tssBase & 0xffffffn) << 16n) | (0x89n << 40n) | (((limit >> 16n) & 0xfn) << 48n) |
    (((tssBase >> 24n) & 0xffn) << 56n), true);
  view.setBigUint64(gdt + (TSS_SELECTOR >> 3) * 8 + 8, tssBase >> 32n, true);

  // TSS: RSP0 for exceptions from user mode; IST1 for double faults (a fault while delivering one, as
  // on a bad stack inside the stub: reported as a stub fault rather than ending the vCPU in a triple
  // fault); the I/O bitmap denies every port but the stub's.
  view.setBigUint64(tss + 4, BigInt(kstackTop), true);
  view.setBigUint64(tss + 36, BigInt(PHYS_BASE + page(VcpuPage.doubleFaultStack + 1)), true);
  view.setUint16(tss + 102, TSS_SIZE, true);
  bytes.fill(0xff, tss + TSS_SIZE, tss + TSS_SIZE + IO_BITMAP_BYTES + 1);
  for (const port of STUB_PORTS) bytes[tss + TSS_SIZE + (port >> 3)]! &= ~(1 << (port & 7));

  // IDT: interrupt gates to the stub's per-vector entries; int3 is DPL 3 so the stub can use it.
  const idt = page(VcpuPage.idt);
  for (let v = 0; v < 32; v++) {
    const handler = BigInt(va + (v === 3 ? stub.symbols.int3_entry! : stub.symbols.exc_entries! + v * 16));
    const type = v === 3 ? 0xeen : 0x8en;
    const ist = v === DOUBLE_FAULT ? 1n : 0n;
    view.setBigUint64(idt + v * 16,
      (handler & 0xffffn) | (BigInt(KERNEL_CS) << 16n) | (ist << 32n) | (type << 40n) | (((handler >> 16n) & 0xffffn) << 48n), true);
    view.setBigUint64(idt + v * 16 + 8, handler >> 32n, true);
  }

  return {
    mailboxGpa: mailbox,
    queueGpa: page(VcpuPage.queue),
    stubVa: va,
    gsBase: va + PAGE_SIZE,
    gdtBase: PHYS_BASE + gdt, gdtLimit: GDT_ENTRIES * 8 - 1,
    idtBase: PHYS_BASE + idt, idtLimit: 32 * 16 - 1,
    tssBase: PHYS_BASE + tss, tssLimit, tssSelector: TSS_SELECTOR,
  };
}
