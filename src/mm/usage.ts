// How much memory an address space uses, as /proc/PID/status, statm and stat report it (Linux's
// task_mem and task_statm in fs/proc/task_mmu.c): sizes from the areas, resident memory from the
// page tables.
import { PROT_EXEC, PROT_WRITE } from '../abi/mman.js';
import type { AddressSpace } from './address-space.js';
import { VmaKind } from './vma.js';

export interface MemoryUsage {
  /** Bytes of all areas (VmSize), and the most there have been (VmPeak). */
  size: number;
  peak: number;
  /** Resident bytes (VmRSS), split as Linux does: private anonymous, file-backed, shared memory. */
  rss: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  /** Private writable areas that are not the stack (VmData), the stack (VmStk). */
  data: number;
  stack: number;
  /** The program's code (VmExe: end_code - start_code) and the other executable areas (VmLib). */
  exe: number;
  lib: number;
}

export function memoryUsage(mm: AddressSpace): MemoryUsage {
  const u: MemoryUsage = { size: 0, peak: mm.vmas.peakBytes, rss: 0, rssAnon: 0, rssFile: 0, rssShmem: 0, data: 0, stack: 0, exe: 0, lib: 0 };
  let execBytes = 0;
  for (const v of mm.vmas.list) {
    const length = v.end - v.start;
    u.size += length;
    if (v.growsDown || v.kind === VmaKind.Stack) u.stack += length;
    else if ((v.prot & PROT_WRITE) !== 0 && !v.shared) u.data += length;
    else if ((v.prot & PROT_EXEC) !== 0 && (v.prot & PROT_WRITE) === 0) execBytes += length;
    let resident = 0;
    mm.tables.forEachLeaf(v.start, v.end, (va, m) => {
      resident += Math.min(v.end, va + m.size) - Math.max(v.start, va);
    });
    if (v.shared) u.rssShmem += resident;
    else if (v.file !== null) u.rssFile += resident;
    else u.rssAnon += resident;
  }
  u.rss = u.rssAnon + u.rssFile + u.rssShmem;
  u.peak = Math.max(u.peak, u.size);
  const exec = mm.exec;
  const code = exec === null ? 0 : Math.ceil(exec.endCode / 4096) * 4096 - Math.floor(exec.startCode / 4096) * 4096;
  u.exe = Math.min(code, execBytes);
  u.lib = execBytes - u.exe;
  return u;
}
