// Call sites that skip the `syscall` trap, as gVisor's systrap platform does.
//
// On the PVM host the `syscall` instruction itself costs a switch into guest supervisor mode (1 to 7 us
// on our machines) before the stub has even posted the request; a plain call into the stub's user
// entry costs nothing of the kind (guest/stub.S, user_entry). So once a site of the common sequence
//     mov $nr, %eax      b8 imm32
//     syscall            0f 05
// has trapped, its 5-byte mov is rewritten into a jmp to a trampoline of its own near the code:
//     lea -128(%rsp), %rsp         step below the red zone, which a leaf function may be using
//     mov $nr, %eax
//     lea return(%rip), %rcx       rax and rcx as `syscall` leaves them (r11 the stub fills in)
//     call *%gs:0x58               the user entry of the vCPU's stub (GS base is its mailbox, which
//                                  holds that address); returns with the answer in rax
//     lea 128(%rsp), %rsp
//     jmp return                   the instruction after the syscall
// glibc's syscall(), which takes the number in a register, ends in the other 7-byte sequence
//     mov 0x8(%rsp), %r9   4c 8b 4c 24 08
//     syscall              0f 05
// whose trampoline starts with that mov instead (before it moves rsp) and leaves rax as it is.
// The syscall bytes stay in place, so code that jumps straight to them still traps as before.
//
// Only code that cannot change under us is patched: private, executable, non-writable areas of a
// file (the program image). A program that reads its own code sees the jmp, as under gVisor.
// Trampolines live in pages of their own ("[syscall-trampolines]" in /proc/self/maps) within
// +-2 GiB of the code they serve, as a rel32 jmp needs, as high in that reach as is free (low fixed
// addresses are where programs place MAP_FIXED mappings) but out of the heap's way: below the break's
// start, or well above it (the break starts up to 1 GiB after the program and grows up to the next
// mapping, so a page above it would stop a heap that Linux lets grow). Should the program map over, unmap,
// mprotect or discard such a page anyway, the sites it served get their original bytes back.
// Every vCPU's GS base is its own mailbox (src/platform/boot.ts), so one trampoline serves all the
// threads of a process, on whichever vCPU each runs, and a fork child's copies need no change. GS is
// the sandbox's: Linux programs keep their TLS in FS, and arch_prctl here sets no GS base.
import { PROT_EXEC, PROT_READ } from '../abi/mman.js';
import { type AddressSpace, MMAP_MIN_ADDR } from '../mm/address-space.js';
import { canExec, canWrite, VmaKind } from '../mm/vma.js';
import { MailboxOffset } from '../platform/mailbox.js';
import { PAGE_SIZE, USER_TOP } from '../platform/layout.js';

const SITE_BYTES = 7;
const MOV_EAX = 0xb8;
/** mov 0x8(%rsp), %r9: the sixth argument, in glibc's syscall(). */
const MOV_R9_STACK = [0x4c, 0x8b, 0x4c, 0x24, 0x08] as const;
const JMP_REL32 = 0xe9;
/** Each trampoline takes at most 38 bytes. */
const TRAMPOLINE_STRIDE = 40;
/** rel32 reaches +-2 GiB; trampolines are placed well inside that. */
const REACH = 2 ** 30;
/** How far above the break's start the heap keeps its room free of trampoline pages. */
const HEAP_ROOM = 2 ** 32;
/** Sites that could not be patched are remembered so they are not examined again; at most this many. */
const MAX_REJECTED = 4096;

interface TrampolinePage {
  va: number;
  next: number;
  /** The sites that jump here: their address and first 5 bytes, to restore them if the page goes. */
  sites: Array<[site: number, original: Uint8Array]>;
}

const NAME = '[syscall-trampolines]';

export class SyscallSites {
  patched = 0;
  private readonly pages: TrampolinePage[] = [];
  private readonly rejected = new Set<number>();
  private readonly site = new Uint8Array(SITE_BYTES);
  private readonly code = new Uint8Array(TRAMPOLINE_STRIDE);

  constructor(private readonly mm: AddressSpace) {}

  /** fork: the same sites and pages in the child's copy of the address space. */
  fork(child: AddressSpace): SyscallSites {
    const copy = new SyscallSites(child);
    copy.patched = this.patched;
    for (const page of this.pages) copy.pages.push({ va: page.va, next: page.next, sites: [...page.sites] });
    for (const site of this.rejected) copy.rejected.add(site);
    return copy;
  }

  /** After a trapped syscall `nr` that returns to `ret`: patch its site if it is one we can. */
  consider(ret: number, nr: number): void {
    const start = ret - SITE_BYTES;
    if (start < MMAP_MIN_ADDR || this.rejected.has(start)) return;
    if (!this.patch(start, nr)) {
      if (this.rejected.size >= MAX_REJECTED) this.rejected.clear();
      this.rejected.add(start);
    }
  }

  private patch(start: number, nr: number): boolean {
    const vma = this.mm.vmas.find(start);
    if (vma === undefined || vma.end < start + SITE_BYTES || vma.kind !== VmaKind.File || vma.shared ||
        !canExec(vma) || canWrite(vma)) return false;
    if (this.mm.copyIn(start, this.site) !== SITE_BYTES) return false;
    const s = this.site;
    if (s[5] !== 0x0f || s[6] !== 0x05) return false;
    const movNr = s[0] === MOV_EAX;
    if (movNr ? (s[1]! | (s[2]! << 8) | (s[3]! << 16) | (s[4]! << 24)) !== nr : !MOV_R9_STACK.every((b, i) => s[i] === b)) return false;
    const page = this.pageNear(start);
    if (page === undefined) return false;
    const trampoline = page.va + page.next;
    const ret = start + SITE_BYTES;
    const c = this.code;
    let at = 0;
    const bytes = (...b: number[]): void => { for (const x of b) c[at++] = x; };
    const rel32 = (target: number): void => {
      const rel = target - (trampoline + at + 4);
      c[at++] = rel & 0xff; c[at++] = (rel >> 8) & 0xff; c[at++] = (rel >> 16) & 0xff; c[at++] = (rel >> 24) & 0xff;
    };
    if (!movNr) bytes(...MOV_R9_STACK);                      // mov 0x8(%rsp), %r9
    bytes(0x48, 0x8d, 0x64, 0x24, 0x80);                     // lea -0x80(%rsp), %rsp
    if (movNr) bytes(MOV_EAX, s[1]!, s[2]!, s[3]!, s[4]!);   // mov $nr, %eax
    bytes(0x48, 0x8d, 0x0d); rel32(ret);                     // lea ret(%rip), %rcx
    bytes(0x65, 0xff, 0x14, 0x25, MailboxOffset.userEntry, 0, 0, 0); // call *%gs:userEntry
    bytes(0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00);   // lea 0x80(%rsp), %rsp
    bytes(JMP_REL32); rel32(ret);                            // jmp ret
    if (this.mm.fill(trampoline, c.subarray(0, at)) !== null) return false;
    page.next += TRAMPOLINE_STRIDE;
    const original = s.slice(0, 5);
    const rel = trampoline - (start + 5);
    if (!this.rewrite(start, JMP_REL32, rel)) return false;
    page.sites.push([start, original]);
    this.patched++;
    return true;
  }

  /**
   * After a syscall that may have changed the address space: a trampoline page that is no longer ours
   * as we made it (unmapped, mapped over, mprotected, its contents discarded) is forgotten, and the
   * sites that jumped to it are restored, so they trap again. Returns whether any page went: then the
   * current call, if it came through a trampoline, must not return into it.
   */
  verify(): boolean {
    let dropped = false;
    for (let i = this.pages.length - 1; i >= 0; i--) {
      const page = this.pages[i]!;
      if (this.intact(page)) continue;
      for (const [site, original] of page.sites) this.mm.fill(site, original);
      this.pages.splice(i, 1);
      dropped = true;
    }
    return dropped;
  }

  private intact(page: TrampolinePage): boolean {
    const vma = this.mm.vmas.find(page.va);
    if (vma === undefined || vma.name !== NAME || vma.prot !== (PROT_READ | PROT_EXEC)) return false;
    // MADV_DONTNEED and the like leave the mapping but discard what we wrote: the first trampoline
    // then reads as zeros (no trampoline starts with a zero byte).
    const head = this.site.subarray(0, 1);
    return this.mm.copyIn(page.va, head) === 1 && head[0] !== 0;
  }

  /** Writes opcode + imm32 over the first 5 bytes of a site. */
  private rewrite(site: number, opcode: number, imm32: number): boolean {
    const b = new Uint8Array([opcode, imm32 & 0xff, (imm32 >> 8) & 0xff, (imm32 >> 16) & 0xff, (imm32 >> 24) & 0xff]);
    return this.mm.fill(site, b) === null;
  }

  /** A trampoline page within reach of the site at `near` with room left, mapped if need be. */
  private pageNear(near: number): TrampolinePage | undefined {
    const inReach = (va: number): boolean => Math.abs(va - near) < REACH;
    const found = this.pages.find((p) => inReach(p.va) && p.next + TRAMPOLINE_STRIDE <= PAGE_SIZE);
    if (found !== undefined) return found;
    const bottom = Math.max(MMAP_MIN_ADDR, near - REACH);
    const top = Math.min(USER_TOP, near + REACH);
    let gap = this.mm.vmas.findGapTopDown(PAGE_SIZE, bottom, Math.min(top, this.mm.brkStart));
    if (gap < 0) gap = this.mm.vmas.findGapTopDown(PAGE_SIZE, Math.max(bottom, this.mm.brkStart + HEAP_ROOM), top);
    if (gap < 0 || !inReach(gap)) return undefined;
    const va = this.mm.map({
      addr: gap, length: PAGE_SIZE, prot: PROT_READ | PROT_EXEC, fixed: false, noReplace: true, shared: false,
      kind: VmaKind.Anonymous, name: NAME,
    });
    if (va !== gap) return undefined;
    const page: TrampolinePage = { va, next: 0, sites: [] };
    this.pages.push(page);
    return page;
  }
}
