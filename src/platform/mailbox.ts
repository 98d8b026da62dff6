// The per-vCPU mailbox page, seen from the Sentry. Mirrors guest/stub.S (.set lines) and kvm/mailbox.h.
// Registers are 64-bit; they are read and written as two 32-bit halves so that the hot path never
// allocates a BigInt. Guest pointers and sizes fit a double exactly (below 2^53).

export const MailboxOffset = {
  state: 0x000,
  parked: 0x004,
  kind: 0x008,
  exitless: 0x00c,
  vector: 0x010,
  errorCode: 0x018,
  faultAddr: 0x020,
  exitReason: 0x028,
  fsPending: 0x030,
  ptPending: 0x034,
  fsBase: 0x038,
  spinLimit: 0x040,
  directCpl0: 0x048,
  /** 1 when the request came through the `syscall` trap, 0 when through the stub's user entry. */
  trapped: 0x04c,
  /** Set by the Sentry: the answer must return through the ordinary path (iretq to rip), not by `ret`. */
  slowReturn: 0x050,
  /** Set by the Sentry, cleared by the vCPU thread when it injects the NMI: interrupt the program. */
  interrupt: 0x054,
  /**
   * Exitless mode: the address of this vCPU's user_entry. The vCPU's GS base is this mailbox, so a
   * patched call site reaches the stub of whichever vCPU runs it by `call *%gs:userEntry`.
   */
  userEntry: 0x058,
  regs: 0x080,
  origRax: 0x110,
  /** The signal hops of the stub (sig_enter, sig_restore, ...): where to go and what to load, set by the Sentry. */
  sigRip: 0x180,
  sigRax: 0x188,
  sigRcx: 0x190,
  sigRdx: 0x198,
  /** XSAVE area sig_enter saves the FPU/AVX state into. */
  sigSave: 0x1a0,
  /** XSAVE (or FXSAVE) area sig_restore loads, its components, and the components to reset first. */
  sigLoad: 0x1a8,
  sigLoadMask: 0x1b0,
  sigInitMask: 0x1b8,
  /** Where a restore hop goes next: sig_leave, or sig_enter when a signal is delivered at once. */
  sigNext: 0x1c0,
  /** The components sig_enter saves, then resets for the handler. */
  sigSaveMask: 0x1c8,
} as const;

export const enum EventKind {
  Syscall = 1,
  Fault = 2,
  Interrupted = 3,
  Halted = 4,
  StubFault = 5,
}

export const enum DoorbellState {
  Running = 0,
  Request = 1,
  Answered = 2,
  /**
   * Set by the Sentry on a request it will answer later (a blocked call): the stub parks its vCPU at
   * once instead of spinning, so that a waiting thread leaves the host CPU to the ones that run.
   */
  Waiting = 3,
}

/** Register indices in struct kvm_regs order. */
export const enum Reg {
  rax = 0, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags,
}
export const REG_COUNT = 18;

const TWO_32 = 0x1_0000_0000;

export class Mailbox {
  readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly regBase: number;

  constructor(memory: ArrayBuffer, gpa: number) {
    this.u32 = new Uint32Array(memory, gpa, 1024);
    this.i32 = new Int32Array(memory, gpa, 1024);
    this.regBase = MailboxOffset.regs >> 2;
  }

  /** Register as an unsigned number; exact below 2^53, which every valid guest address is. */
  reg(r: Reg): number {
    const i = this.regBase + r * 2;
    return this.u32[i + 1]! * TWO_32 + this.u32[i]!;
  }
  /** Low 32 bits as a signed int: the C `int` arguments of syscalls. */
  regInt(r: Reg): number {
    return this.i32[this.regBase + r * 2]!;
  }
  regLow(r: Reg): number {
    return this.u32[this.regBase + r * 2]!;
  }
  regHigh(r: Reg): number {
    return this.u32[this.regBase + r * 2 + 1]!;
  }
  regBig(r: Reg): bigint {
    const i = this.regBase + r * 2;
    return (BigInt(this.u32[i + 1]!) << 32n) | BigInt(this.u32[i]!);
  }
  /** Writes a number (negative values as two's complement, e.g. -errno). */
  setReg(r: Reg, value: number): void {
    const i = this.regBase + r * 2;
    if (value >= 0) {
      this.u32[i] = value >>> 0;
      this.u32[i + 1] = Math.floor(value / TWO_32) >>> 0;
    } else {
      const hi = Math.floor(value / TWO_32);
      this.u32[i] = (value - hi * TWO_32) >>> 0;
      this.u32[i + 1] = hi >>> 0;
    }
  }
  setRegBig(r: Reg, value: bigint): void {
    const i = this.regBase + r * 2;
    const v = BigInt.asUintN(64, value);
    this.u32[i] = Number(v & 0xffff_ffffn);
    this.u32[i + 1] = Number(v >> 32n);
  }

  get kind(): EventKind {
    return this.u32[MailboxOffset.kind >> 2]! as EventKind;
  }
  u64(offset: number): number {
    return this.u32[(offset >> 2) + 1]! * TWO_32 + this.u32[offset >> 2]!;
  }
  setU64(offset: number, value: number): void {
    this.u32[offset >> 2] = value >>> 0;
    this.u32[(offset >> 2) + 1] = Math.floor(value / TWO_32) >>> 0;
  }
  get32(offset: number): number {
    return Atomics.load(this.u32, offset >> 2);
  }
  set32(offset: number, value: number): void {
    Atomics.store(this.u32, offset >> 2, value);
  }
}
