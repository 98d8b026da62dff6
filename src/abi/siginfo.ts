// siginfo_t on x86-64 (include/uapi/asm-generic/siginfo.h): 128 bytes, si_signo, si_errno and si_code
// as ints at 0, 4 and 8, then a union at 16 whose arm depends on how the signal was sent:
//   kill, tkill          si_pid (int) at 16, si_uid (uint) at 20
//   sigqueue (rt)        si_pid, si_uid, si_value (8 bytes) at 24
//   POSIX timers         si_tid (int) at 16, si_overrun (int) at 20, si_value at 24
//   SIGCHLD              si_pid, si_uid, si_status (int) at 24, si_utime, si_stime (long) at 32, 40
//   faults               si_addr (pointer) at 16
// The Sentry keeps a queued signal's siginfo as these 128 bytes, so what rt_sigqueueinfo hands in goes
// back out unchanged.

export const SIGINFO_SIZE = 128;

const SIGNO = 0;
const ERRNO = 4;
const CODE = 8;
const PID = 16;
const UID = 20;
const VALUE = 24;
const ADDR = 16;

export type SigInfo = Uint8Array;

function blank(signo: number, code: number): { info: SigInfo; view: DataView } {
  const info = new Uint8Array(SIGINFO_SIZE);
  const view = new DataView(info.buffer);
  view.setInt32(SIGNO, signo, true);
  view.setInt32(CODE, code, true);
  return { info, view };
}

/** From kill(2), tkill(2), tgkill(2) or the kernel on behalf of a process (SIGPIPE): who sent it. */
export function senderInfo(signo: number, code: number, pid: number, uid: number): SigInfo {
  const { info, view } = blank(signo, code);
  view.setInt32(PID, pid, true);
  view.setUint32(UID, uid, true);
  return info;
}

/** SIGCHLD: which child changed state, how (si_code CLD_*), and its status or signal (si_status). */
export function childInfo(signo: number, code: number, pid: number, uid: number, status: number): SigInfo {
  const info = senderInfo(signo, code, pid, uid);
  new DataView(info.buffer).setInt32(VALUE, status, true);
  return info;
}

/** A fault: the address that faulted (si_addr). */
export function faultInfo(signo: number, code: number, addr: number): SigInfo {
  const { info, view } = blank(signo, code);
  view.setBigUint64(ADDR, BigInt(addr), true);
  return info;
}

/** Sent by the kernel with no more to say (SI_KERNEL, e.g. ITIMER_REAL's SIGALRM, #GP's SIGSEGV). */
export function kernelInfo(signo: number, code: number): SigInfo {
  return blank(signo, code).info;
}

/** The siginfo a program passed to rt_sigqueueinfo, with si_signo set to the signal sent, as Linux does. */
export function programInfo(raw: Uint8Array, signo: number): SigInfo {
  const info = new Uint8Array(SIGINFO_SIZE);
  info.set(raw.subarray(0, SIGINFO_SIZE));
  new DataView(info.buffer).setInt32(SIGNO, signo, true);
  return info;
}

export function infoSigno(info: SigInfo): number {
  return new DataView(info.buffer, info.byteOffset).getInt32(SIGNO, true);
}
export function infoCode(info: SigInfo): number {
  return new DataView(info.buffer, info.byteOffset).getInt32(CODE, true);
}
export function infoErrno(info: SigInfo): number {
  return new DataView(info.buffer, info.byteOffset).getInt32(ERRNO, true);
}
export function infoPid(info: SigInfo): number {
  return new DataView(info.buffer, info.byteOffset).getInt32(PID, true);
}
export function infoAddr(info: SigInfo): number {
  return Number(new DataView(info.buffer, info.byteOffset).getBigUint64(ADDR, true));
}
export function infoValue(info: SigInfo): bigint {
  return new DataView(info.buffer, info.byteOffset).getBigUint64(VALUE, true);
}
