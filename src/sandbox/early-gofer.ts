// The Gofer started first thing by the `run` command, before its modules are loaded and its command
// line is read, so that its start (a millisecond or two, more on a busy machine) overlaps the Sentry's
// instead of the Sentry waiting for the Gofer's greeting. The Gofer waits unattached
// until runSandbox names the directories (GoferProcess.attach); a run that ends earlier (bad usage)
// closes the socket by exiting, and the Gofer exits with it.
import { GoferProcess } from '../gofer/client.js';

let early: GoferProcess | null = null;

/** Starts the Gofer now, if it can be started (if not, runSandbox starts one and reports why it cannot). */
export function startGoferEarly(): void {
  try {
    early ??= GoferProcess.spawnUnattached();
  } catch {
    early = null;
  }
}

/** The Gofer startGoferEarly started, once; null if there is none. */
export function takeEarlyGofer(): GoferProcess | null {
  const proc = early;
  early = null;
  return proc;
}
