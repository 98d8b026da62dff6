// File seals (fcntl F_ADD_SEALS, F_GET_SEALS): how Linux's mm/memfd.c adds them and what mm/shmem.c
// then refuses. Every tmpfs regular file has seals, F_SEAL_SEAL from the start (so none can be added);
// memfd_create(MFD_ALLOW_SEALING) makes files without it. Seals belong to the inode and are never removed.
import { EBUSY, EINVAL, EPERM, type Errno } from '../abi/errno.js';
import {
  F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
} from '../abi/fcntl.js';
import { PAGE_SIZE } from '../platform/layout.js';

const F_ALL_SEALS = F_SEAL_SEAL | F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
const WRITE_SEALS = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

/** What an inode keeps for its seals (Linux shmem_inode_info.seals, and the mapping's i_mmap_writable). */
export interface SealState {
  seals: number;
  /** Areas that map the file shared and may write to it: F_SEAL_WRITE cannot be added while there are any. */
  writableMappings: number;
}

/**
 * fcntl(F_ADD_SEALS) on a description (writable: open for writing) of an inode with mode `mode` and
 * seal state `state` (null: a file without seals). Checks in memfd_add_seals' order.
 */
export function addSeals(state: SealState | null, writable: boolean, mode: number, seals: number): Errno | null {
  if (!writable) return EPERM;
  if ((seals & ~F_ALL_SEALS) !== 0 || state === null) return EINVAL;
  if ((state.seals & F_SEAL_SEAL) !== 0) return EPERM;
  // F_SEAL_EXEC on an executable file seals its contents too (W^X), so it waits for writers as F_SEAL_WRITE.
  if ((seals & F_SEAL_EXEC) !== 0 && (mode & 0o111) !== 0) seals |= F_SEAL_SHRINK | F_SEAL_GROW | WRITE_SEALS;
  if ((seals & F_SEAL_WRITE) !== 0 && (state.seals & F_SEAL_WRITE) === 0 && state.writableMappings > 0) return EBUSY;
  state.seals |= seals;
  return null;
}

/** Whether new shared mappings may not write (mmap: EPERM with PROT_WRITE, else never writable). */
export function writeSealed(seals: number): boolean {
  return (seals & WRITE_SEALS) !== 0;
}

/**
 * How many bytes of a write of `length` at `offset` into a file of `size` bytes the seals let through:
 * shmem checks each page-sized step of the copy, so under F_SEAL_GROW the steps that end inside the
 * file go and the first that would grow it stops the write. EPERM when not one step may go.
 */
export function sealedWriteLength(seals: number, offset: number, length: number, size: number): number | Errno {
  if ((seals & WRITE_SEALS) !== 0) return EPERM;
  if ((seals & F_SEAL_GROW) === 0 || offset + length <= size) return length;
  const lastBoundary = size - (size % PAGE_SIZE);
  return lastBoundary > offset ? lastBoundary - offset : EPERM;
}

/** truncate to newSize (shmem_setattr): F_SEAL_SHRINK and F_SEAL_GROW; F_SEAL_WRITE does not forbid it. */
export function sealedResize(seals: number, oldSize: number, newSize: number): Errno | null {
  if ((newSize < oldSize && (seals & F_SEAL_SHRINK) !== 0) || (newSize > oldSize && (seals & F_SEAL_GROW) !== 0)) return EPERM;
  return null;
}

/** fallocate (shmem_fallocate): punching a hole writes; allocating past the size grows, KEEP_SIZE or not. */
export function sealedAllocate(seals: number, punch: boolean, end: number, size: number): Errno | null {
  if (punch) return (seals & WRITE_SEALS) !== 0 ? EPERM : null;
  return (seals & F_SEAL_GROW) !== 0 && end > size ? EPERM : null;
}

/** chmod (shmem_setattr): F_SEAL_EXEC keeps the execute bits as they are. */
export function sealedModeChange(seals: number, oldMode: number, newMode: number): Errno | null {
  return (seals & F_SEAL_EXEC) !== 0 && ((oldMode ^ newMode) & 0o111) !== 0 ? EPERM : null;
}
