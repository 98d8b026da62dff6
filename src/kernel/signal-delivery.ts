// Delivering signals on the way back to the program, as x86-64 Linux does (arch/x86/kernel/signal.c,
// signal_64.c, fpu/signal.c; gVisor pkg/sentry/arch/signal_amd64.go), after a syscall, a blocked
// syscall that completes or is interrupted, and a fault:
//
//   - an interrupted syscall's restart code becomes EINTR or a restart (rip back over `syscall`);
//   - each unblocked pending signal is taken in turn: ignored, fatal (the task ends), or given a frame:
//     below the red zone (or on the alternate stack with SA_ONSTACK) the 64-byte aligned XSAVE area,
//     then struct rt_sigframe (restorer, ucontext with every register and the mask to restore, siginfo);
//     the handler runs with the frame as its stack and (signo, &info, &uc) as arguments;
//   - rt_sigreturn reads the frame back, checks what the program may have changed (segments, flags,
//     the XSAVE header and MXCSR), and restores registers, mask, alternate stack and FPU state.
//
// The FPU/AVX registers live in the vCPU, which runs while the Sentry works, so the guest stub saves and
// loads them itself: the return to the program goes first through one of its hops (guest/stub.S:
// sig_enter does XSAVE into the frame, sig_restore does XRSTOR from it), in user mode, on areas this
// file has checked. The hops load rax, rcx and rdx from the mailbox and jump to the real destination.
import { EINTR, ERESTART_RESTARTBLOCK, ERESTARTNOINTR, ERESTARTSYS, ERESTART_MIN } from '../abi/errno.js';
import {
  decodeStack, encodeStack, FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2, FP_XSTATE_MAGIC2_SIZE, FRAME_INFO, FRAME_PRETCODE, FRAME_SIZE,
  FRAME_UC, FX_FCW, FX_MXCSR, FX_MXCSR_MASK, FX_SW, FCW_INIT, FXSAVE_SIZE, HDR_XCOMP_BV, HDR_XSTATE_BV, MXCSR_INIT, RED_ZONE,
  Sc, SW_EXTENDED_SIZE, SW_MAGIC1, SW_XFEATURES, SW_XSTATE_SIZE, type SigAction, UC_FLAGS, UC_FP_XSTATE, UC_MCONTEXT,
  UC_SIGCONTEXT_SS, UC_SIGMASK, UC_STACK, UC_STRICT_RESTORE_SS, XFEATURE_FPSSE, XSAVE_HEADER, XSAVE_HEADER_SIZE, XSAVE_MIN_SIZE,
} from '../abi/sigframe.js';
import { infoCode, infoSigno, kernelInfo, SIGINFO_SIZE } from '../abi/siginfo.js';
import { SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTART, SA_SIGINFO, SI_KERNEL, SIG_DFL, SIG_IGN, Signal, sigBit, signalName, SS_AUTODISARM } from '../abi/signal.js';
import { MailboxOffset, type Mailbox, Reg } from '../platform/mailbox.js';
import { beginGroupStop, stopDiscarded } from './job-control.js';
import { machineOf, type SignalMachine, withdrawInterrupt } from './signal-machine.js';
import { forceFatalSignal, forceSignal } from './signal-send.js';
import { DefaultAction, defaultAction, type FpuRestore, type QueuedSignal } from './signals.js';
import { RegistersRestored } from './syscall-table.js';
import type { SyscallTracer } from './strace.js';
import type { Task, TaskExit } from './task.js';

/** The user selectors of the guest GDT (src/platform/boot.ts, Linux's layout). */
const USER_CS = 0x33;
const USER_SS = 0x2b;
const EFLAGS_TF = 0x100;
const EFLAGS_DF = 0x400;
const EFLAGS_RF = 0x1_0000;
/** The flags rt_sigreturn takes from the frame (Linux FIX_EFLAGS: AC OF DF TF SF ZF AF PF CF RF). */
const FIX_EFLAGS = 0x5_0dd5;
/** Lowest non-canonical address: user code and stacks lie below. */
const CANONICAL_HIGH_WORD = 0x8000;
/** Frames built in one return at most; the next return delivers the rest. */
const MAX_FRAMES = 64;
/** restart_syscall(2)'s number on x86-64. */
const NR_RESTART_SYSCALL = 219;
const PAGE = 4096;
const PF_WRITE = 0x2;
const PF_USER = 0x4;

/** sigcontext offset of each register of the mailbox's register file. */
const SC_REGS: ReadonlyArray<readonly [Reg, number]> = [
  [Reg.r8, Sc.r8], [Reg.r9, Sc.r9], [Reg.r10, Sc.r10], [Reg.r11, Sc.r11], [Reg.r12, Sc.r12], [Reg.r13, Sc.r13],
  [Reg.r14, Sc.r14], [Reg.r15, Sc.r15], [Reg.rdi, Sc.rdi], [Reg.rsi, Sc.rsi], [Reg.rbp, Sc.rbp], [Reg.rbx, Sc.rbx],
  [Reg.rdx, Sc.rdx], [Reg.rax, Sc.rax], [Reg.rcx, Sc.rcx], [Reg.rsp, Sc.rsp], [Reg.rip, Sc.rip], [Reg.rflags, Sc.eflags],
];

// Scratch buffers: delivery runs on the Sentry's one thread, one task at a time.
const frameBytes = new Uint8Array(FRAME_SIZE);
const frameView = new DataView(frameBytes.buffer);
const fpBytes = new Uint8Array(XSAVE_MIN_SIZE);
const fpView = new DataView(fpBytes.buffer);
const word = new Uint8Array(4);
const wordView = new DataView(word.buffer);

/** Index in Mailbox.u32 of a register's low half. */
function regWord(r: Reg): number {
  return (MailboxOffset.regs >> 2) + r * 2;
}

function copyWord64(mb: Mailbox, fromWord: number, toOffset: number): void {
  mb.u32[toOffset >> 2] = mb.u32[fromWord]!;
  mb.u32[(toOffset >> 2) + 1] = mb.u32[fromWord + 1]!;
}

function canonical(mb: Mailbox, r: Reg): boolean {
  return mb.regHigh(r) < CANONICAL_HIGH_WORD;
}

/** The restart code in rax after a syscall (-ERESTARTSYS and the rest), or 0. */
function restartCode(mb: Mailbox): number {
  if (mb.regHigh(Reg.rax) !== 0xffff_ffff) return 0;
  const code = -mb.regInt(Reg.rax);
  return code >= ERESTART_MIN && code <= ERESTART_RESTARTBLOCK.code && code !== 515 ? code : 0;
}

/** Whether the return to the program has signal work: a signal to deliver, a restart, an FPU restore. */
export function signalWork(task: Task, syscall: boolean): boolean {
  const s = task.signals;
  return s.deliverable || s.fpuRestore !== null || (syscall && restartCode(task.running.mailbox) !== 0);
}

/** Run the syscall again: rax back to its number, rip back over the two bytes of `syscall`. */
function restartSyscall(mb: Mailbox): void {
  copyWord64(mb, MailboxOffset.origRax >> 2, MailboxOffset.regs + Reg.rax * 8);
  mb.setReg(Reg.rip, mb.reg(Reg.rip) - 2);
  mb.set32(MailboxOffset.slowReturn, 1);
}

/** Linux's ERESTART_RESTARTBLOCK without a handler: the program makes restart_syscall(2) instead. */
function continueThroughRestartSyscall(mb: Mailbox): void {
  mb.setReg(Reg.rax, NR_RESTART_SYSCALL);
  mb.setReg(Reg.rip, mb.reg(Reg.rip) - 2);
  mb.set32(MailboxOffset.slowReturn, 1);
}

/**
 * deliverSignals took a stop signal: the task parks before the program runs again. syscall: the
 * syscall's result (and its restart code) is still to be delivered once the process continues.
 */
export class DeliveryStopped {
  constructor(readonly syscall: boolean) {}
}

/**
 * Delivers what is pending on the way back to the program (syscall: after a syscall, whose rax may
 * hold a restart code). Returns how the task ends if a signal kills it, DeliveryStopped if a stop
 * signal stops its process, else null with the mailbox set up for the return.
 */
export function deliverSignals(task: Task, syscall: boolean, trace: SyscallTracer | null): TaskExit | DeliveryStopped | null {
  const mb = task.running.mailbox;
  const m = machineOf(task.running);
  const sig = task.signals;
  let restart = syscall ? restartCode(mb) : 0;
  let frames = 0;
  let firstArea = 0;
  let stopped = false;
  while (sig.deliverable && frames < MAX_FRAMES) {
    const q = sig.take();
    if (q === null) break;
    const signo = infoSigno(q.info);
    const act = sig.process.action(signo);
    if (act.handler === SIG_IGN) continue;
    if (act.handler === SIG_DFL) {
      const d = defaultAction(signo);
      if (d === DefaultAction.Terminate || d === DefaultAction.Core) {
        trace?.signal?.(task, signo, infoCode(q.info), true);
        return { status: null, signal: signo, detail: q.detail };
      }
      if (d === DefaultAction.Stop) {
        // A stop signal that was blocked when sent and is unblocked now (else signal-send stopped at once).
        if (stopDiscarded(task.kernel, task.group, signo)) continue;
        trace?.signal?.(task, signo, infoCode(q.info), false);
        beginGroupStop(task.kernel, task.group, signo);
        // Nothing done yet: the whole return (restart code included) waits for SIGCONT.
        if (frames === 0) return new DeliveryStopped(syscall);
        stopped = true;
        break;
      }
      continue; // ignored (SIGCONT's work was done when it was sent)
    }
    trace?.signal?.(task, signo, infoCode(q.info), false);
    if (restart !== 0) {
      // Linux handle_signal: only ERESTARTSYS with SA_RESTART, and ERESTARTNOINTR, run the call again.
      if ((restart === ERESTARTSYS.code && (act.flags & SA_RESTART) !== 0) || restart === ERESTARTNOINTR.code) restartSyscall(mb);
      else mb.setReg(Reg.rax, -EINTR.code);
      restart = 0;
    }
    if (act.flags & SA_RESETHAND) sig.process.resetHandler(signo);
    const area = setupFrame(task, m, signo, act, q, frames === 0);
    if (area < 0) {
      // Linux force_sigsegv: a frame that cannot be written is a SIGSEGV, fatal if it was SIGSEGV's.
      const info = kernelInfo(Signal.SIGSEGV, SI_KERNEL);
      const detail = `cannot write the signal frame for ${signalName(signo)} (stack pointer 0x${mb.reg(Reg.rsp).toString(16)})`;
      if (signo === Signal.SIGSEGV) forceFatalSignal(task, info, detail);
      else forceSignal(task, info, detail);
      continue;
    }
    if (frames === 0) firstArea = area;
    frames++;
  }
  // No handler ran: the interrupted call starts again, or a sleep or timed poll goes on with the time
  // left through restart_syscall (the task's restartBlock), as Linux.
  if (restart === ERESTART_RESTARTBLOCK.code) continueThroughRestartSyscall(mb);
  else if (restart !== 0) restartSyscall(mb);
  if (sig.savedMask !== null) {
    sig.setMask(sig.savedMask);
    sig.savedMask = null;
  }
  arrangeHops(mb, m, firstArea, sig.fpuRestore);
  sig.fpuRestore = null;
  if (!sig.deliverable) withdrawInterrupt(task);
  // Never return to an address iretq would fault on inside the stub (rt_sigreturn checked rip already).
  if (!canonical(mb, Reg.rip)) return { status: null, signal: Signal.SIGSEGV, detail: 'return to a non-canonical address' };
  return stopped ? new DeliveryStopped(false) : null;
}

/**
 * Points the return at the stub's hops: sig_restore first if rt_sigreturn left an FPU state to load,
 * then sig_enter if a frame needs the FPU state saved; the registers stay as the destination needs them.
 */
function arrangeHops(mb: Mailbox, m: SignalMachine, saveArea: number, restore: FpuRestore | null): void {
  if (saveArea === 0 && restore === null) return;
  copyWord64(mb, regWord(Reg.rip), MailboxOffset.sigRip);
  copyWord64(mb, regWord(Reg.rax), MailboxOffset.sigRax);
  copyWord64(mb, regWord(Reg.rcx), MailboxOffset.sigRcx);
  copyWord64(mb, regWord(Reg.rdx), MailboxOffset.sigRdx);
  if (saveArea !== 0) {
    mb.setU64(MailboxOffset.sigSave, saveArea);
    mb.setU64(MailboxOffset.sigSaveMask, m.features);
  }
  if (restore !== null) {
    mb.setU64(MailboxOffset.sigLoad, restore.area);
    mb.setU64(MailboxOffset.sigLoadMask, restore.loadMask);
    mb.setU64(MailboxOffset.sigInitMask, restore.initMask);
    mb.setU64(MailboxOffset.sigNext, saveArea !== 0 ? m.enter : m.leave);
    mb.setReg(Reg.rip, restore.legacyOnly ? m.restoreFx : m.restore);
  } else {
    mb.setReg(Reg.rip, m.enter);
  }
  mb.set32(MailboxOffset.slowReturn, 1);
}

/**
 * Makes [start, end) of the stack writable as the program's own accesses would: a page below a
 * MAP_GROWSDOWN stack grows it (Linux takes that fault while writing the frame).
 */
function prepareStack(task: Task, start: number, end: number): boolean {
  if (!Number.isSafeInteger(start) || start < 0) return false;
  for (let page = start - (start % PAGE); page < end; page += PAGE) {
    if (task.mm.vmas.find(page) !== undefined) continue;
    if (!task.mm.handleFault(page, PF_WRITE | PF_USER).mapped) return false;
  }
  return true;
}

/**
 * Builds the frame of one signal and points the registers at its handler; returns the frame's XSAVE
 * area (live: the stub saves the current FPU state there; otherwise it holds the initial state, for a
 * frame stacked on a handler that has not run yet), or -1 if the frame cannot be written.
 */
function setupFrame(task: Task, m: SignalMachine, signo: number, act: SigAction, q: QueuedSignal, live: boolean): number {
  const mb = task.running.mailbox;
  const sig = task.signals;
  const sp0 = mb.reg(Reg.rsp);
  const nested = sig.onAltStack(sp0);
  let sp = sp0 - RED_ZONE;
  let entering = false;
  if ((act.flags & SA_ONSTACK) !== 0 && sig.altStackFlags(sp) === 0) {
    sp = sig.altStack.sp + sig.altStack.size;
    entering = true;
  }
  const mathSize = m.xsaveSize + FP_XSTATE_MAGIC2_SIZE;
  const area = Math.floor((sp - mathSize) / 64) * 64;
  const frame = Math.floor((area - FRAME_SIZE) / 16) * 16 - 8;
  // Past the end of the alternate stack: Linux gives up rather than overflow it.
  if ((nested || entering) && !sig.withinAltStack(frame)) return -1;
  if (!prepareStack(task, frame, area + mathSize)) return -1;

  const b = frameBytes;
  const v = frameView;
  b.fill(0);
  v.setBigUint64(FRAME_PRETCODE, BigInt(act.restorer), true);
  const uc = FRAME_UC;
  v.setBigUint64(uc + UC_FLAGS, BigInt(UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS), true);
  encodeStack(sig.altStack, b, uc + UC_STACK);
  const mc = uc + UC_MCONTEXT;
  for (const [r, off] of SC_REGS) {
    const w = regWord(r);
    v.setUint32(mc + off, mb.u32[w]!, true);
    v.setUint32(mc + off + 4, mb.u32[w + 1]!, true);
  }
  v.setUint16(mc + Sc.cs, USER_CS, true);
  v.setUint16(mc + Sc.ss, USER_SS, true);
  v.setBigUint64(mc + Sc.err, BigInt(sig.errorCode), true);
  v.setBigUint64(mc + Sc.trapno, BigInt(sig.trapNo), true);
  const saved = sig.savedMask ?? sig.mask;
  v.setBigUint64(mc + Sc.oldmask, saved, true);
  v.setBigUint64(mc + Sc.cr2, BigInt(sig.cr2), true);
  v.setBigUint64(mc + Sc.fpstate, BigInt(area), true);
  v.setBigUint64(uc + UC_SIGMASK, saved, true);
  // Linux writes siginfo only for SA_SIGINFO handlers; the bytes are left as they were otherwise.
  if (task.mm.copyOut(frame, b.subarray(0, FRAME_INFO)) !== FRAME_INFO) return -1;
  if ((act.flags & SA_SIGINFO) !== 0 && task.mm.copyOut(frame + FRAME_INFO, q.info) !== SIGINFO_SIZE) return -1;

  // The XSAVE area: the software bytes (_fpx_sw_bytes) and a zeroed header, which XSAVE does not fill
  // in whole; for a stacked frame the initial legacy state too. FP_XSTATE_MAGIC2 just past the area.
  const f = fpBytes;
  const fv = fpView;
  f.fill(0);
  if (!live) {
    fv.setUint16(FX_FCW, FCW_INIT, true);
    fv.setUint32(FX_MXCSR, MXCSR_INIT, true);
    fv.setUint32(FX_MXCSR_MASK, m.mxcsrMask, true);
  }
  fv.setUint32(FX_SW + SW_MAGIC1, FP_XSTATE_MAGIC1, true);
  fv.setUint32(FX_SW + SW_EXTENDED_SIZE, mathSize, true);
  fv.setBigUint64(FX_SW + SW_XFEATURES, BigInt(m.features), true);
  fv.setUint32(FX_SW + SW_XSTATE_SIZE, m.xsaveSize, true);
  const from = live ? FX_SW : 0;
  if (task.mm.copyOut(area + from, f.subarray(from)) !== XSAVE_MIN_SIZE - from) return -1;
  wordView.setUint32(0, FP_XSTATE_MAGIC2, true);
  if (task.mm.copyOut(area + m.xsaveSize, word) !== FP_XSTATE_MAGIC2_SIZE) return -1;
  // Every page the stub's XSAVE writes is present and writable before it runs.
  if (live && task.mm.forEachRange(area, m.xsaveSize, true, () => {}) !== null) return -1;

  // The handler's registers (Linux x64_setup_rt_frame): rax 0 for handlers declared without a
  // prototype; DF, TF and RF cleared.
  mb.setReg(Reg.rdi, signo);
  mb.setReg(Reg.rsi, frame + FRAME_INFO);
  mb.setReg(Reg.rdx, frame + FRAME_UC);
  mb.setReg(Reg.rax, 0);
  mb.setReg(Reg.rsp, frame);
  mb.setReg(Reg.rip, act.handler);
  const fw = regWord(Reg.rflags);
  mb.u32[fw] = (mb.u32[fw]! & ~(EFLAGS_DF | EFLAGS_TF | EFLAGS_RF)) >>> 0;

  // Linux signal_delivered: block the handler's mask and (unless SA_NODEFER) the signal itself.
  let blocked = sig.mask | act.mask;
  if ((act.flags & SA_NODEFER) === 0) blocked |= sigBit(signo);
  sig.savedMask = null;
  sig.setMask(blocked);
  if ((sig.altStack.flags & SS_AUTODISARM) !== 0) sig.disarmAltStack();
  return area;
}

/** rt_sigreturn could not use the frame: SIGSEGV, as Linux's signal_fault. */
function badFrame(task: Task, why: string): void {
  forceSignal(task, kernelInfo(Signal.SIGSEGV, SI_KERNEL), `rt_sigreturn: ${why}`);
}

/**
 * rt_sigreturn(2): the frame is at rsp - 8 (the handler's `ret` popped the restorer). Returns
 * RegistersRestored, or 0 when the frame was unusable (a SIGSEGV is then pending, as on Linux).
 */
export function sigreturn(task: Task): RegistersRestored | number {
  const mb = task.running.mailbox;
  const m = machineOf(task.running);
  const sig = task.signals;
  const handlerSp = mb.reg(Reg.rsp);
  const frame = handlerSp - 8;
  const b = frameBytes;
  const v = frameView;
  if (task.mm.copyIn(frame, b) !== FRAME_SIZE) {
    badFrame(task, `frame at 0x${frame.toString(16)} is not readable`);
    return 0;
  }
  const uc = FRAME_UC;
  const mc = uc + UC_MCONTEXT;
  sig.setMask(v.getBigUint64(uc + UC_SIGMASK, true));
  const ucFlags = v.getUint32(uc + UC_FLAGS, true);
  const fpstate = v.getBigUint64(mc + Sc.fpstate, true);
  const stack = decodeStack(b.subarray(uc + UC_STACK));
  const cs = v.getUint16(mc + Sc.cs, true) | 3;
  const ss = v.getUint16(mc + Sc.ss, true) | 3;

  const fw = regWord(Reg.rflags);
  const flags = mb.u32[fw]!;
  for (const [r, off] of SC_REGS) {
    const w = regWord(r);
    mb.u32[w] = v.getUint32(mc + off, true);
    mb.u32[w + 1] = v.getUint32(mc + off + 4, true);
  }
  mb.u32[fw] = ((flags & ~FIX_EFLAGS) | (mb.u32[fw]! & FIX_EFLAGS)) >>> 0;
  mb.u32[fw + 1] = 0;
  mb.set32(MailboxOffset.slowReturn, 1);

  const restore = checkFpstate(task, m, fpstate);
  if (restore === null) {
    // Linux resets the FPU state when the frame's is unusable, and the call returns 0.
    sig.fpuRestore = { area: m.fpuInit, loadMask: 0, initMask: m.features, legacyOnly: false };
    badFrame(task, `bad FPU state at 0x${fpstate.toString(16)}`);
    return 0;
  }
  sig.fpuRestore = restore;
  // Errors are ignored, as on Linux, which checks the stack pointer the handler returns from: a handler
  // that re-armed the alternate stack it runs on keeps that one (EPERM).
  sig.setAltStack(stack, handlerSp);
  // 64-bit code only: another code segment, a bad stack segment (when the frame asks for a strict
  // restore) or a non-canonical rip would make the return itself fault, which Linux turns into SIGSEGV.
  if (cs !== USER_CS) badFrame(task, `code segment 0x${cs.toString(16)}`);
  else if ((ucFlags & UC_STRICT_RESTORE_SS) !== 0 && ss !== USER_SS) badFrame(task, `stack segment 0x${ss.toString(16)}`);
  else if (!canonical(mb, Reg.rip)) badFrame(task, 'non-canonical rip');
  return RegistersRestored.instance;
}

/**
 * The FPU state rt_sigreturn is to load (Linux __fpu_restore_sig, check_xstate_in_sigframe): an XSAVE
 * area with both magic words, else the legacy FXSAVE region alone; null if loading it would fault
 * (misaligned, unreadable, reserved MXCSR bits, a header XRSTOR refuses).
 */
function checkFpstate(task: Task, m: SignalMachine, fpstate: bigint): FpuRestore | null {
  if (fpstate === 0n) return { area: m.fpuInit, loadMask: 0, initMask: m.features, legacyOnly: false };
  if (fpstate >= 1n << 47n) return null;
  const area = Number(fpstate);
  const f = fpBytes;
  const fv = fpView;
  if (task.mm.copyIn(area, f.subarray(0, FXSAVE_SIZE)) !== FXSAVE_SIZE) return null;
  if ((fv.getUint32(FX_MXCSR, true) & ~m.mxcsrMask) !== 0) return null;
  const size = fv.getUint32(FX_SW + SW_XSTATE_SIZE, true);
  let legacyOnly = fv.getUint32(FX_SW + SW_MAGIC1, true) !== FP_XSTATE_MAGIC1 || size < XSAVE_MIN_SIZE ||
    size > m.xsaveSize || size > fv.getUint32(FX_SW + SW_EXTENDED_SIZE, true);
  if (!legacyOnly) {
    if (task.mm.copyIn(area + size, word) !== FP_XSTATE_MAGIC2_SIZE) return null;
    legacyOnly = wordView.getUint32(0, true) !== FP_XSTATE_MAGIC2;
  }
  if (legacyOnly) {
    if (area % 16 !== 0) return null;
    return { area, loadMask: XFEATURE_FPSSE, initMask: (m.features & ~XFEATURE_FPSSE) >>> 0, legacyOnly: true };
  }
  if (area % 64 !== 0) return null;
  const header = f.subarray(XSAVE_HEADER, XSAVE_HEADER + XSAVE_HEADER_SIZE);
  if (task.mm.copyIn(area + XSAVE_HEADER, header) !== XSAVE_HEADER_SIZE) return null;
  // XRSTOR (standard form) faults on components XCR0 lacks and on a non-zero XCOMP_BV or reserved word.
  const xstateBv = fv.getBigUint64(XSAVE_HEADER + HDR_XSTATE_BV, true);
  if ((xstateBv & ~BigInt(m.features)) !== 0n) return null;
  if (fv.getBigUint64(XSAVE_HEADER + HDR_XCOMP_BV, true) !== 0n || fv.getBigUint64(XSAVE_HEADER + 16, true) !== 0n) return null;
  if (task.mm.forEachRange(area, size, false, () => {}) !== null) return null;
  const load = (Number(fv.getBigUint64(FX_SW + SW_XFEATURES, true) & 0xffff_ffffn) & m.features) >>> 0;
  return { area, loadMask: load, initMask: (m.features & ~load) >>> 0, legacyOnly: false };
}

/** A task ends: what it waited on is taken back (a sleep's timer would keep the Sentry alive), its timers go. */
export function releaseSignals(task: Task): void {
  const call = task.blocked;
  task.blocked = null;
  call?.abandon();
  task.signals.release();
}
