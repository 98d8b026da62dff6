// The vDSO: guest/vdso.c, built into build/guest/vdso.so by guest/build.sh, mapped into every process at
// exec with its [vvar] data page right below it, as Linux's map_vdso (arch/x86/entry/vdso/vma.c) and
// gVisor's loader/vdso.go do. The image and the page exist once per sandbox: every address space maps
// the same guest-physical pages, the image read+execute and the page read-only. The kernel's timekeeper
// (src/kernel/timekeeper.ts) writes the page; AT_SYSINFO_EHDR tells libc where the image is.
import { readFileSync } from 'node:fs';
import { ENOMEM, Errno } from '../abi/errno.js';
import { PROT_EXEC, PROT_READ } from '../abi/mman.js';
import type { AddressSpace } from '../mm/address-space.js';
import type { PageAllocator } from '../mm/physical.js';
import { SpecialPages } from '../mm/special-pages.js';
import { VmaKind } from '../mm/vma.js';
import { vdsoImagePath } from '../platform/guest-files.js';
import { PAGE_SIZE } from '../platform/layout.js';
import { parseElf } from './elf.js';

export class Vdso {
  private constructor(readonly vvar: SpecialPages, readonly image: SpecialPages) {}

  /**
   * Puts the image and an empty [vvar] page into guest memory. The image is copied as it is: linked at
   * 0 with one PT_LOAD from file offset 0 and no relocations (guest/build.sh checks), so its file bytes
   * are its memory image; the section headers stay too, for debuggers.
   */
  static create(allocator: PageAllocator, memory: ArrayBuffer, file: Uint8Array = readFileSync(vdsoImagePath)): Vdso {
    const image = parseElf(file, 'vDSO image');
    const seg = image.segments[0]!;
    if (image.kind !== 'dyn' || image.interp !== null || image.segments.length !== 1 || seg.vaddr !== 0 ||
        seg.offset !== 0 || seg.filesz !== seg.memsz || seg.prot !== (PROT_READ | PROT_EXEC)) {
      throw new Error(`${vdsoImagePath} is not a vDSO image (one read+execute PT_LOAD at 0): rebuild with npm run build`);
    }
    const bytes = new Uint8Array(memory);
    const vvar = SpecialPages.create(allocator, bytes, '[vvar]', new Uint8Array(PAGE_SIZE));
    const code = SpecialPages.create(allocator, bytes, '[vdso]', file);
    if (vvar instanceof Errno || code instanceof Errno) throw new Error('no guest memory for the vDSO');
    return new Vdso(vvar, code);
  }

  /** Guest-physical address of the [vvar] page. */
  get vvarGpa(): number {
    return this.vvar.pages[0]!;
  }

  /**
   * Maps [vvar] and then [vdso] where mmap would put them (the top of the mmap area, after the program),
   * populated at once (a fault costs more than the two pages). Returns the image's address, or the errno
   * of the mapping that failed.
   */
  /** map, for the loader: the vDSO's address, or null when it could not be mapped (glibc then makes syscalls). */
  mapOrNone(mm: AddressSpace): number | null {
    const va = this.map(mm);
    return va instanceof Errno ? null : va;
  }

  map(mm: AddressSpace): number | Errno {
    const vvarSize = this.vvar.size();
    const length = vvarSize + this.image.size();
    const start = mm.unmappedArea(0, length);
    if (start < 0) return ENOMEM;
    const common = { fixed: true, noReplace: true, shared: false, kind: VmaKind.Special, offset: 0, privileged: true, populate: true };
    // Like Linux's: the data page can never be made writable; the image can (a private copy then).
    const vvar = mm.map({ ...common, addr: start, length: vvarSize, prot: PROT_READ, mayWrite: false, name: '[vvar]', file: this.vvar });
    if (vvar instanceof Errno) return vvar;
    const image = mm.map({
      ...common, addr: start + vvarSize, length: this.image.size(), prot: PROT_READ | PROT_EXEC, mayWrite: true, name: '[vdso]', file: this.image,
    });
    if (image instanceof Errno) mm.unmap(start, vvarSize);
    return image;
  }
}
