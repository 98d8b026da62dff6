// Linux x86-64 signal numbers, flags and si_code values (include/uapi/asm-generic/signal*.h,
// arch/x86/include/uapi/asm/signal.h, include/uapi/asm-generic/siginfo.h), and the kernel's sigset_t:
// 64 bits, bit n-1 for signal n.
export const Signal = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17,
  SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25,
  SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
} as const;

/** Signals are 1..NSIG; 32..64 are the real-time ones (glibc keeps 32 and 33 for itself). */
export const NSIG = 64;
export const SIGRTMIN = 32;

export { SIGSET_SIZE } from './structs.js';

export const SIG_DFL = 0;
export const SIG_IGN = 1;

/** rt_sigprocmask `how`. */
export const SIG_BLOCK = 0;
export const SIG_UNBLOCK = 1;
export const SIG_SETMASK = 2;

/** sa_flags. */
export const SA_NOCLDSTOP = 0x1;
export const SA_NOCLDWAIT = 0x2;
export const SA_SIGINFO = 0x4;
export const SA_EXPOSE_TAGBITS = 0x800;
export const SA_RESTORER = 0x0400_0000;
export const SA_ONSTACK = 0x0800_0000;
export const SA_RESTART = 0x1000_0000;
export const SA_NODEFER = 0x4000_0000;
export const SA_RESETHAND = 0x8000_0000;
/** The flags Linux keeps (UAPI_SA_FLAGS); others are cleared so programs can probe for support. */
export const SA_KNOWN = SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_EXPOSE_TAGBITS | SA_RESTORER | SA_ONSTACK |
  SA_RESTART | SA_NODEFER | SA_RESETHAND;

/** stack_t ss_flags. */
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;
export const SS_AUTODISARM = 0x8000_0000;
/** sigaltstack refuses smaller stacks with ENOMEM. */
export const MINSIGSTKSZ = 2048;

/** si_code: who sent the signal (negative: from user space, positive: from the kernel). */
export const SI_USER = 0;
export const SI_KERNEL = 0x80;
export const SI_QUEUE = -1;
export const SI_TIMER = -2;
export const SI_MESGQ = -3;
export const SI_ASYNCIO = -4;
export const SI_SIGIO = -5;
export const SI_TKILL = -6;

/** SIGCHLD's si_code: the child exited, was killed, was killed and dumped core, stopped, continued. */
export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;
export const CLD_STOPPED = 5;
export const CLD_CONTINUED = 6;

export const ILL_ILLOPN = 2;
export const FPE_INTDIV = 1;
export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;
export const BUS_ADRALN = 1;
/** SIGBUS for an access past the end of a mapped file. */
export const BUS_ADRERR = 2;
export const TRAP_BRKPT = 1;
export const TRAP_TRACE = 2;

/** Bit of signal n in a sigset_t. */
export function sigBit(signo: number): bigint {
  return 1n << BigInt(signo - 1);
}

/** SIGKILL and SIGSTOP can be neither caught, blocked nor ignored. */
export const UNBLOCKABLE = sigBit(Signal.SIGKILL) | sigBit(Signal.SIGSTOP);
export const ALL_SIGNALS = (1n << 64n) - 1n;

/** si_code names for reports, by signal. */
export function signalCodeName(signo: number, code: number): string {
  if (signo === Signal.SIGSEGV) return code === SEGV_MAPERR ? 'SEGV_MAPERR' : code === SEGV_ACCERR ? 'SEGV_ACCERR' : `code ${code}`;
  if (signo === Signal.SIGBUS) return code === BUS_ADRERR ? 'BUS_ADRERR' : code === BUS_ADRALN ? 'BUS_ADRALN' : `code ${code}`;
  return `code ${code}`;
}

const names = new Map<number, string>(Object.entries(Signal).map(([name, n]) => [n, name]));
export function signalName(signo: number): string {
  if (signo >= SIGRTMIN && signo <= NSIG) return signo === SIGRTMIN ? 'SIGRTMIN' : `SIGRTMIN+${signo - SIGRTMIN}`;
  return names.get(signo) ?? `signal ${signo}`;
}
