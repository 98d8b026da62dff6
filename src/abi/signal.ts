// Linux x86-64 signal numbers and si_code values used by the Sentry.
export const Signal = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGCHLD: 17, SIGSYS: 31,
} as const;

export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;
/** SIGBUS for an access past the end of a mapped file. */
export const BUS_ADRERR = 2;

/** si_code names for reports, by signal. */
export function signalCodeName(signo: number, code: number): string {
  if (signo === Signal.SIGSEGV) return code === SEGV_MAPERR ? 'SEGV_MAPERR' : code === SEGV_ACCERR ? 'SEGV_ACCERR' : `code ${code}`;
  if (signo === Signal.SIGBUS) return code === BUS_ADRERR ? 'BUS_ADRERR' : `code ${code}`;
  return `code ${code}`;
}

const names = new Map<number, string>(Object.entries(Signal).map(([name, n]) => [n, name]));
export function signalName(signo: number): string {
  return names.get(signo) ?? `signal ${signo}`;
}
