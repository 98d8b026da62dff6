// The signal structs of x86-64 Linux that cross the syscall boundary, with their sizes in one place:
// struct sigaction (the kernel's, not glibc's), stack_t, and the rt_sigframe a handler runs on
// (arch/x86/include/asm/sigframe.h, uapi/asm/sigcontext.h, uapi/asm/ucontext.h):
//
//   rt_sigframe   pretcode (the restorer, where the handler returns) at 0, ucontext at 8, siginfo at 312
//   ucontext      uc_flags, uc_link, uc_stack (stack_t), uc_mcontext (sigcontext), uc_sigmask
//   sigcontext    r8..r15 rdi rsi rbp rbx rdx rax rcx rsp rip eflags, cs gs fs ss (u16), err, trapno,
//                 oldmask, cr2, fpstate (pointer), 8 reserved words
//   fpstate       the XSAVE area (standard form), 64-byte aligned, above the frame: the 512-byte FXSAVE
//                 legacy region whose bytes 464..511 carry struct _fpx_sw_bytes, the 64-byte XSAVE
//                 header, the extended components, then FP_XSTATE_MAGIC2 just past the XSAVE area
import { SIGINFO_SIZE } from './siginfo.js';
import { SIGACTION_SIZE, SIGSET_SIZE, STACK_T_SIZE } from './structs.js';

export { SIGACTION_SIZE, STACK_T_SIZE };

// ---- struct sigaction: handler, flags, restorer, mask (all 8 bytes) ----

export interface SigAction {
  handler: number;
  flags: number;
  restorer: number;
  mask: bigint;
}

export function decodeSigaction(raw: Uint8Array): SigAction {
  const v = new DataView(raw.buffer, raw.byteOffset, SIGACTION_SIZE);
  return {
    handler: Number(v.getBigUint64(0, true)),
    // Flags are an unsigned long; every flag Linux knows is in the low 32 bits.
    flags: v.getUint32(8, true),
    restorer: Number(v.getBigUint64(16, true)),
    mask: v.getBigUint64(24, true),
  };
}

export function encodeSigaction(a: SigAction): Uint8Array {
  const out = new Uint8Array(SIGACTION_SIZE);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(a.handler), true);
  v.setBigUint64(8, BigInt(a.flags >>> 0), true);
  v.setBigUint64(16, BigInt(a.restorer), true);
  v.setBigUint64(24, a.mask, true);
  return out;
}

// ---- stack_t: ss_sp at 0, ss_flags (int) at 8, ss_size at 16 ----

export interface SigStack {
  sp: number;
  flags: number;
  size: number;
}

export function decodeStack(raw: Uint8Array): SigStack {
  const v = new DataView(raw.buffer, raw.byteOffset, STACK_T_SIZE);
  return { sp: Number(v.getBigUint64(0, true)), flags: v.getInt32(8, true), size: Number(v.getBigUint64(16, true)) };
}

export function encodeStack(s: SigStack, out: Uint8Array = new Uint8Array(STACK_T_SIZE), at = 0): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset + at, STACK_T_SIZE);
  v.setBigUint64(0, BigInt(s.sp), true);
  v.setInt32(8, s.flags, true);
  v.setInt32(12, 0, true);
  v.setBigUint64(16, BigInt(s.size), true);
  return out;
}

// ---- struct rt_sigframe ----
export const FRAME_PRETCODE = 0;
export const FRAME_UC = 8;
export const FRAME_INFO = 312;
export const FRAME_SIZE = FRAME_INFO + SIGINFO_SIZE; // 440
/** Linux leaves the 128-byte red zone below the interrupted rsp alone. */
export const RED_ZONE = 128;

/** struct ucontext offsets. */
export const UC_FLAGS = 0;
export const UC_LINK = 8;
export const UC_STACK = 16;
export const UC_MCONTEXT = 40;
export const UC_SIGMASK = UC_MCONTEXT + 256;
export const UC_SIZE = UC_SIGMASK + SIGSET_SIZE; // 304

/** uc_flags: the fpstate is an XSAVE area; ss is saved; sigreturn restores ss strictly (64-bit code). */
export const UC_FP_XSTATE = 0x1;
export const UC_SIGCONTEXT_SS = 0x2;
export const UC_STRICT_RESTORE_SS = 0x4;

/** struct sigcontext (uc_mcontext) offsets. */
export const Sc = {
  r8: 0, r9: 8, r10: 16, r11: 24, r12: 32, r13: 40, r14: 48, r15: 56,
  rdi: 64, rsi: 72, rbp: 80, rbx: 88, rdx: 96, rax: 104, rcx: 112, rsp: 120, rip: 128, eflags: 136,
  cs: 144, gs: 146, fs: 148, ss: 150, err: 152, trapno: 160, oldmask: 168, cr2: 176, fpstate: 184,
} as const;

// ---- the XSAVE area (Intel SDM vol. 1, 13.4) and struct _fpx_sw_bytes ----
export const FXSAVE_SIZE = 512;
export const XSAVE_HEADER = 512;
export const XSAVE_HEADER_SIZE = 64;
/** The smallest XSAVE area: legacy region and header. */
export const XSAVE_MIN_SIZE = FXSAVE_SIZE + XSAVE_HEADER_SIZE;
export const FX_FCW = 0;
export const FX_MXCSR = 24;
export const FX_MXCSR_MASK = 28;
/** struct _fpx_sw_bytes, in the software-available bytes of the legacy region. */
export const FX_SW = 464;
export const FX_SW_SIZE = 48;
export const FP_XSTATE_MAGIC1 = 0x46505853;
export const FP_XSTATE_MAGIC2 = 0x46505845;
export const FP_XSTATE_MAGIC2_SIZE = 4;
/** Offsets inside _fpx_sw_bytes. */
export const SW_MAGIC1 = 0;
export const SW_EXTENDED_SIZE = 4;
export const SW_XFEATURES = 8;
export const SW_XSTATE_SIZE = 16;
/** XSAVE header: XSTATE_BV at 0, XCOMP_BV at 8 (0 in the standard form). */
export const HDR_XSTATE_BV = 0;
export const HDR_XCOMP_BV = 8;
/** x87 and SSE: the components of the legacy region. */
export const XFEATURE_FPSSE = 0x3;
/** The FPU state a handler starts with (fninit's control word, MXCSR at reset). */
export const FCW_INIT = 0x037f;
export const MXCSR_INIT = 0x1f80;
