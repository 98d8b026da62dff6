// The per-vCPU queue of page-table writes that guest CPL 0 code replays (guest/stub.S apply_queue).
// On the PVM host the shadow page tables only follow writes the guest makes itself, so every change to
// a live entry is written by the Sentry into guest memory *and* queued here; the stub rewrites the same
// value at CPL 0 and invalidates the TLB entry before it returns to the program. On VMX/SVM the replay is
// redundant but harmless, and it keeps one protocol for both hosts.
// Threads of one process run on several vCPUs, each replaying its own queue when it next runs: a
// replay may come after the Sentry changed the entry again for another vCPU. So the stub rewrites an
// entry only while it still holds the queued value, and whoever must wait until a replay is done (a
// retired table's page, freed only after its scrub) waits for the queue to be found empty again.
import { PHYS_BASE, PAGE_SIZE, QUEUE_PAGES } from './layout.js';
import { Mailbox, MailboxOffset } from './mailbox.js';

const HEADER_WORDS = 4; // u64 count, u64 cr3: 0 nothing, 1 flush the TLB, else the root to load
const ENTRY_WORDS = 6; // u64 pte_va, u64 value, u64 invlpg_va
export const QUEUE_CAPACITY = Math.floor((QUEUE_PAGES * PAGE_SIZE - HEADER_WORDS * 4) / (ENTRY_WORDS * 4));
const TWO_32 = 0x1_0000_0000;

export class QueueFullError extends Error {}

/** invlpg_va's bit 0: store the value whatever the entry holds (a retired table's scrub). */
export const STORE_ALWAYS = 1;

/** Someone with writes in a queue, told once the guest has replayed them. */
export interface ReplayWaiter {
  replayed(queue: PageTableQueue): void;
}

export class PageTableQueue {
  private readonly words: Uint32Array;
  private readonly waiters = new Set<ReplayWaiter>();

  constructor(memory: ArrayBuffer, gpa: number, private readonly mailbox: Mailbox) {
    this.words = new Uint32Array(memory, gpa, (QUEUE_PAGES * PAGE_SIZE) >> 2);
  }

  get length(): number {
    return this.words[0]!;
  }

  /** Queue the replay of the 64-bit entry at guest-physical pteGpa, now holding (lo, hi), for address va. */
  push(pteGpa: number, lo: number, hi: number, va: number): void {
    const n = this.words[0]!;
    if (n >= QUEUE_CAPACITY) throw new QueueFullError(`page-table queue full (${QUEUE_CAPACITY} entries)`);
    const w = HEADER_WORDS + n * ENTRY_WORDS;
    const pteVa = PHYS_BASE + pteGpa;
    this.words[w] = pteVa >>> 0;
    this.words[w + 1] = Math.floor(pteVa / TWO_32);
    this.words[w + 2] = lo;
    this.words[w + 3] = hi;
    this.words[w + 4] = va >>> 0;
    this.words[w + 5] = Math.floor(va / TWO_32);
    this.words[0] = n + 1;
    this.mailbox.set32(MailboxOffset.ptPending, 1);
  }

  /** Tell waiter when the guest has replayed what is queued now (noteReplayed finds the queue empty). */
  awaitReplay(waiter: ReplayWaiter): void {
    this.waiters.add(waiter);
  }

  /**
   * At each event of the vCPU, before the Sentry queues anything for it: an empty queue means the stub
   * replayed everything queued before (it clears the count when done), so the waiters are told.
   */
  noteReplayed(): void {
    if (this.waiters.size === 0 || this.words[0] !== 0) return;
    for (const w of this.waiters) w.replayed(this);
    this.waiters.clear();
  }

  /** Ask for a full TLB flush (CR3 reload) after the replay; a pending switch of roots flushes too. */
  flushAll(): void {
    if (this.words[2] === 0 && this.words[3] === 0) this.words[2] = 1;
    this.mailbox.set32(MailboxOffset.ptPending, 1);
  }

  /** After the replay, load `root` (the guest-physical address of a PML4) into CR3. */
  switchRoot(root: number): void {
    this.words[2] = root >>> 0;
    this.words[3] = Math.floor(root / TWO_32);
    this.mailbox.set32(MailboxOffset.ptPending, 1);
  }
}
