// The guest's fixed address-space and physical-memory layout, shared by platform and mm.
//
// Guest virtual: the program owns everything below USER_TOP except two PML4 slots that every address
// space shares (like Linux's kernel half, but in the lower half because the PVM host runs the stub at
// CPL 3 and the reference design keeps it user-addressable there):
//   PHYS_BASE  .. +512 GiB   supervisor-only map of all guest-physical memory (2 MiB pages, NX)
//   STUB_BASE  .. +512 GiB   per-vCPU stub copies: code page (user RX) + mailbox page (user RW)
// Guest physical: [0, PLATFORM_RESERVED) holds boot structures and per-vCPU pages; mm allocates above.

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
export const HUGE_PAGE_SIZE = 2 * 1024 * 1024;

export const PHYS_BASE = 0x4000_0000_0000;
export const STUB_BASE = 0x4080_0000_0000;
export const RESERVED_VA_START = PHYS_BASE;
export const RESERVED_VA_END = 0x4100_0000_0000;
export const USER_TOP = 0x7fff_ffff_f000;

/** Holds the per-vCPU areas (1 MiB + MAX_VCPUS * 128 KiB), rounded up to a 2 MiB page. */
export const PLATFORM_RESERVED = 34 * 1024 * 1024;
/** One vCPU per live task: 2 stub pages each fill exactly the one stub page table (512 entries). */
export const MAX_VCPUS = 256;

/** Per-vCPU guest-physical pages, inside PLATFORM_RESERVED. */
export const VCPU_AREA_BASE = 0x10_0000;
export const VCPU_AREA_PAGES = 32;
export const VcpuPage = {
  stubCode: 0,
  mailbox: 1,
  gdt: 2,
  tss: 3, // 3 pages: 104-byte TSS then the 8 KiB I/O permission bitmap
  idt: 6,
  kernelStack: 7, // 4 pages, top at page 11
  queue: 11, // QUEUE_PAGES pages
  doubleFaultStack: 27, // 1 page: IST1, where a fault met while delivering another is taken
} as const;
export const KERNEL_STACK_PAGES = 4;
export const QUEUE_PAGES = 16;

export function vcpuAreaGpa(vcpuId: number): number {
  return VCPU_AREA_BASE + vcpuId * VCPU_AREA_PAGES * PAGE_SIZE;
}
export function stubVa(vcpuId: number): number {
  return STUB_BASE + vcpuId * 2 * PAGE_SIZE;
}
