// Pages the Sentry itself puts into every address space, like Linux's special mappings
// (_install_special_mapping): the [vvar] page and the [vdso] image (src/loader/vdso.ts). One set of
// guest-physical pages for the whole sandbox, which each process maps; a private mapping of them that
// the program writes to (after mprotect, as a debugger setting a breakpoint would) gets its own copy,
// as in Linux. The object keeps its own reference on every page for as long as the sandbox lives.
import { ENOMEM, type Errno } from '../abi/errno.js';
import { PAGE_SIZE } from '../platform/layout.js';
import type { Mappable } from './mappable.js';
import type { PageAllocator } from './physical.js';

export class SpecialPages implements Mappable {
  private constructor(readonly mapName: string, readonly pages: readonly number[], private readonly bytes: Uint8Array) {}

  /** Enough zeroed pages for `contents`, holding it; ENOMEM if guest memory is short. */
  static create(allocator: PageAllocator, bytes: Uint8Array, mapName: string, contents: Uint8Array): SpecialPages | Errno {
    const pages: number[] = [];
    for (let done = 0; done < Math.max(contents.length, 1); done += PAGE_SIZE) {
      const gpa = allocator.allocPage();
      if (gpa < 0) {
        for (const p of pages) allocator.freePage(p);
        return ENOMEM;
      }
      bytes.set(contents.subarray(done, Math.min(contents.length, done + PAGE_SIZE)), gpa);
      pages.push(gpa);
    }
    return new SpecialPages(mapName, pages, bytes);
  }

  size(): number {
    return this.pages.length * PAGE_SIZE;
  }

  sharedPage(offset: number): number | null {
    return this.pages[Math.floor(offset / PAGE_SIZE)] ?? null;
  }

  readAt(offset: number, dst: Uint8Array): number {
    const n = Math.max(0, Math.min(dst.length, this.size() - offset));
    for (let done = 0; done < n;) {
      const pos = offset + done;
      const chunk = Math.min(n - done, PAGE_SIZE - (pos % PAGE_SIZE));
      const gpa = this.pages[Math.floor(pos / PAGE_SIZE)]! + (pos % PAGE_SIZE);
      dst.set(this.bytes.subarray(gpa, gpa + chunk), done);
      done += chunk;
    }
    return n;
  }

  writeAt(): number {
    // Mapped privately only: a write makes the process its own copy, never changes these pages.
    return 0;
  }
}
