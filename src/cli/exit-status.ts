// Exit statuses of the tsvisor command, besides the program's own (and 128+signal when a signal
// killed it). 125-127 follow the convention of shells and container runtimes.
export const enum ExitStatus {
  Ok = 0,
  Usage = 2,
  /** --timeout ran out and the sandbox was killed (as timeout(1)). */
  TimedOut = 124,
  /** The sandbox itself failed: no usable /dev/kvm, an internal error. */
  SandboxFailure = 125,
  /** The program exists but cannot run (not an x86-64 ELF executable). */
  CannotExecute = 126,
  NotFound = 127,
}
