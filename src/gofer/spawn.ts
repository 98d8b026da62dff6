// Starting a Gofer process for one host directory: a SEQPACKET socketpair whose far end becomes fd 3 of
// `node dist/src/gofer/server.js ROOT [--ro]`. The Gofer runs in its own session, so a terminal's ^C
// reaches the program in the sandbox and not the Gofer, and it exits by itself when the Sentry's end
// of the socket closes (even if the Sentry is killed); close() also kills it, in case it is stuck.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { goferHostCalls } from '../platform/gofer-host.js';

const host = goferHostCalls();
const serverPath = fileURLToPath(new URL('./server.js', import.meta.url));

/** The Gofer could not be started at all: the message says why and what to check. */
export class GoferError extends Error {
  override readonly name = 'GoferError';
}

export class GoferProcess {
  private closed = false;

  private constructor(readonly socketFd: number, private readonly child: ChildProcess, readonly pid: number) {}

  /** Starts a Gofer serving hostRoot (an absolute host path). Throws GoferError if it cannot be started. */
  static spawn(hostRoot: string, readOnly: boolean): GoferProcess {
    if (!hostRoot.startsWith('/')) throw new GoferError(`gofer root must be an absolute path: ${hostRoot}`);
    const pair = new Int32Array(2);
    const r = host.socketPair(pair);
    if (r < 0) throw new GoferError(`cannot create the gofer socket (errno ${-r}): too many open files?`);
    const [mine, theirs] = [pair[0]!, pair[1]!];
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [serverPath, hostRoot, ...(readOnly ? ['--ro'] : [])], {
        // The Gofer's stdout is not the program's: only its error messages (stderr) are shown.
        stdio: ['ignore', 'ignore', 'inherit', theirs],
        detached: true,
        env: {},
      });
    } catch (err) {
      host.close(mine);
      throw new GoferError(`cannot start the gofer for ${hostRoot}: ${String(err)}`);
    } finally {
      host.close(theirs); // the child has its copy; ours would hide the Gofer's exit from us
    }
    // Failures after the fork arrive as events; the client notices them as a closed socket instead.
    child.on('error', () => {});
    child.unref();
    if (child.pid === undefined) {
      host.close(mine);
      throw new GoferError(`cannot start the gofer for ${hostRoot} (is ${process.execPath} runnable?)`);
    }
    return new GoferProcess(mine, child, child.pid);
  }

  /** Ends the Gofer: closes the socket (it exits at end of file) and kills it in case it is stuck. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    host.close(this.socketFd);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
