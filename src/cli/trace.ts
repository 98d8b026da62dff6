// tsvisor trace PID on|off: switches --strace on or off in a running `tsvisor run` by a signal to it,
// SIGUSR1 for on and SIGUSR2 for off (the run listens for both; Node.js's own use of SIGUSR1, starting
// the inspector, gives way to the listener). The run says `tsvisor: tracing on` on its stderr when it
// took the signal; the trace goes where its --strace output goes (stderr, or --strace-file).
import { readFileSync } from 'node:fs';
import { ExitStatus } from './exit-status.js';
import { UsageError } from './options.js';

export const TRACE_ON_SIGNAL = 'SIGUSR1';
export const TRACE_OFF_SIGNAL = 'SIGUSR2';

/** Whether process `pid` is a `tsvisor run`: its command line runs this CLI with `run`. */
function isTsvisorRun(pid: number): boolean {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    throw new UsageError(`trace ${pid}: no such process`);
  }
  const cli = argv.findIndex((a) => /(^|\/)(tsvisor|main\.js)$/.test(a));
  return cli >= 0 && argv.slice(cli + 1).includes('run');
}

export function traceCommand(pidText: string, state: 'on' | 'off'): number {
  const pid = /^[1-9]\d{0,9}$/.test(pidText) ? Number(pidText) : NaN;
  if (!Number.isSafeInteger(pid)) throw new UsageError(`trace ${pidText}: expected the process id of a tsvisor run, e.g. tsvisor trace 4242 on`);
  if (!isTsvisorRun(pid)) throw new UsageError(`trace ${pid}: not a tsvisor run`);
  try {
    process.kill(pid, state === 'on' ? TRACE_ON_SIGNAL : TRACE_OFF_SIGNAL);
  } catch (err) {
    throw new UsageError(`trace ${pid}: cannot signal it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return ExitStatus.Ok;
}
