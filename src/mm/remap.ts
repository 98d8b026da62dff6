// mremap(2), as Linux's mm/mremap.c: shrink in place, grow in place when the space after the area is
// free, else move (MREMAP_MAYMOVE) to a new range or to the one given (MREMAP_FIXED), optionally leaving
// the old range mapped (MREMAP_DONTUNMAP). Moving never copies memory: the page-table entries move.
import { EFAULT, EINVAL, ENOMEM, Errno } from '../abi/errno.js';
import { HUGE_PAGE_SIZE, PAGE_SIZE, RESERVED_VA_END, RESERVED_VA_START, USER_TOP } from '../platform/layout.js';
import { type AddressSpace, roundUp } from './address-space.js';
import { fileOffset, type Vma } from './vma.js';

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

export function remap(mm: AddressSpace, addr: number, oldLengthIn: number, newLengthIn: number, flags: number, newAddr: number): number | Errno {
  if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0) return EINVAL;
  const mayMove = (flags & MREMAP_MAYMOVE) !== 0;
  const fixed = (flags & MREMAP_FIXED) !== 0;
  const dontUnmap = (flags & MREMAP_DONTUNMAP) !== 0;
  if (fixed && !mayMove) return EINVAL;
  // "MREMAP_DONTUNMAP ... old_size must be equal to new_size" (a move that never resizes).
  if (dontUnmap && (!mayMove || oldLengthIn !== newLengthIn)) return EINVAL;
  if (addr % PAGE_SIZE !== 0) return EINVAL;
  const oldLength = roundUp(oldLengthIn);
  const newLength = roundUp(newLengthIn);
  if (newLength === 0) return EINVAL;
  if (!Number.isSafeInteger(addr + oldLength) || addr + oldLength > USER_TOP) return EFAULT;
  if (mm.vmas.find(addr) === undefined) return EFAULT;
  if (fixed || dontUnmap) return remapTo(mm, addr, oldLength, newLength, newAddr, fixed, dontUnmap);

  // "Always allow a shrinking remap: that just unmaps the unnecessary pages."
  if (oldLength >= newLength) {
    if (oldLength > newLength) mm.unmapRange(addr + newLength, addr + oldLength);
    return addr;
  }
  const vma = mm.vmas.find(addr)!;
  const refused = checkResize(mm, vma, addr, oldLength, newLength);
  if (refused !== null) return refused;
  if (oldLength === vma.end - addr) {
    const end = vma.end + (newLength - oldLength);
    if (end <= USER_TOP && mm.placeable(vma.start, end - vma.start) && !mm.vmas.overlaps(vma.end, end)) {
      mm.vmas.resize(vma, vma.start, end);
      mm.vmas.mergeAround(vma.start, end);
      return addr;
    }
  }
  if (!mayMove) return ENOMEM;
  if (newLength > USER_TOP) return ENOMEM;
  const dst = destination(mm, vma, addr, newLength);
  if (dst < 0) return ENOMEM;
  return move(mm, vma, addr, oldLength, newLength, dst, false);
}

/** mremap_to: MREMAP_FIXED (target given) or MREMAP_DONTUNMAP (target a hint). */
function remapTo(mm: AddressSpace, addr: number, oldLength: number, newLength: number, target: number, fixed: boolean, dontUnmap: boolean): number | Errno {
  // Linux checks the new address for both: it is where the move goes, or the hint for it.
  if (target % PAGE_SIZE !== 0) return EINVAL;
  if (newLength > USER_TOP || target > USER_TOP - newLength) return EINVAL;
  // "Ensure the old/new locations do not overlap".
  if (addr + oldLength > target && target + newLength > addr) return EINVAL;
  if (fixed) {
    if (target < RESERVED_VA_END && target + newLength > RESERVED_VA_START) return ENOMEM;
    mm.unmapRange(target, target + newLength);
  }
  if (oldLength > newLength) {
    mm.unmapRange(addr + newLength, addr + oldLength);
    oldLength = newLength;
  }
  const vma = mm.vmas.find(addr);
  if (vma === undefined) return EFAULT;
  const refused = checkResize(mm, vma, addr, oldLength, newLength, dontUnmap);
  if (refused !== null) return refused;
  const dst = fixed ? target : destination(mm, vma, addr, newLength, target);
  if (dst < 0) return ENOMEM;
  return move(mm, vma, addr, oldLength, newLength, dst, dontUnmap);
}

/** Linux vma_to_resize: what may not be resized or moved. */
function checkResize(mm: AddressSpace, vma: Vma, addr: number, oldLength: number, newLength: number, dontUnmap = false): Errno | null {
  // Duplicating with old_size 0 makes sense only for shared mappings.
  if (oldLength === 0 && !vma.shared) return EINVAL;
  // "We can't remap across vm area boundaries".
  if (oldLength > vma.end - addr) return EFAULT;
  const grows = newLength - (dontUnmap ? 0 : oldLength);
  if (grows > 0 && mm.vmas.totalBytes + grows > mm.limits.addressSpace()) return ENOMEM;
  return null;
}

/**
 * A free range for the moved area. The same offset inside a 2 MiB slot as the old range, when there is
 * room for it, lets whole 2 MiB pages and whole tables of 4 KiB pages move with one write each.
 */
function destination(mm: AddressSpace, vma: Vma, addr: number, length: number, hint = 0): number {
  const req = { shared: vma.shared, file: vma.file };
  if (hint !== 0) {
    const at = mm.unmappedArea(hint, length, req);
    if (at === hint) return at;
  }
  if (length >= HUGE_PAGE_SIZE) {
    const aligned = mm.unmappedArea(0, length, req, HUGE_PAGE_SIZE, addr % HUGE_PAGE_SIZE);
    if (aligned >= 0) return aligned;
  }
  return mm.unmappedArea(0, length, req);
}

/** Linux move_vma: a copy of the area at dst takes the pages; the old range goes unless dontUnmap. */
function move(mm: AddressSpace, vma: Vma, addr: number, oldLength: number, newLength: number, dst: number, dontUnmap: boolean): number {
  const moved: Vma = { ...vma, start: dst, end: dst + newLength, offset: fileOffset(vma, addr) };
  mm.vmas.insert(moved);
  if (oldLength > 0) {
    mm.tables.move(addr, dst, oldLength);
    // Whatever is left in the old range (nothing but empty tables) goes with it.
    if (!dontUnmap) mm.unmapRange(addr, addr + oldLength);
  }
  mm.vmas.mergeAround(dst, dst + newLength);
  return dst;
}
