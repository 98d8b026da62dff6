// Typed access to the six syscall arguments in the mailbox register file (rdi rsi rdx r10 r8 r9).
// One instance per task, reused for every call: reading an argument allocates nothing.
import { Mailbox, Reg } from '../platform/mailbox.js';

const ARG_REGS = [Reg.rdi, Reg.rsi, Reg.rdx, Reg.r10, Reg.r8, Reg.r9] as const;
const TWO_32 = 0x1_0000_0000;

export class SyscallArgs {
  constructor(private readonly mailbox: Mailbox) {}

  /** C `int`: the low 32 bits, signed (Linux ignores the upper half for int arguments). */
  int(i: number): number {
    return this.mailbox.regInt(ARG_REGS[i]!);
  }
  /** C `unsigned int`. */
  uint(i: number): number {
    return this.mailbox.regInt(ARG_REGS[i]!) >>> 0;
  }
  /**
   * A pointer or size: the full 64-bit value as a number. Values of 2^53 and above become
   * Number.MAX_SAFE_INTEGER + 1, which no range check accepts, so they fail as EFAULT / EINVAL would.
   */
  ptr(i: number): number {
    const r = ARG_REGS[i]!;
    if (this.mailbox.regHigh(r) >= 0x20_0000) return Number.MAX_SAFE_INTEGER + 1;
    return this.mailbox.reg(r);
  }
  size(i: number): number {
    return this.ptr(i);
  }
  /**
   * A signed 64-bit value (off_t, loff_t, long) as a number: exact within +-2^53, clamped to
   * +-Number.MAX_SAFE_INTEGER beyond, where every offset check fails anyway.
   */
  long(i: number): number {
    const r = ARG_REGS[i]!;
    const high = this.mailbox.regHigh(r) | 0;
    if (high >= 0x20_0000) return Number.MAX_SAFE_INTEGER;
    if (high < -0x20_0000) return Number.MIN_SAFE_INTEGER;
    return high * TWO_32 + this.mailbox.regLow(r);
  }
  u64(i: number): bigint {
    return this.mailbox.regBig(ARG_REGS[i]!);
  }
}
