// Starting the sandbox's Gofer process, one for every host directory the sandbox exposes: a SEQPACKET
// socketpair whose far end becomes fd 3 of the native `tsvisor-gofer ROOT [--ro] [ROOT [--ro]]...`
// (kvm/gofer/, built with the addon), or of `tsvisor-gofer --attach` when it is started before the
// directories are known (they follow as the first message).
// The Gofer runs in its own session, so a terminal's ^C reaches the program in the sandbox and not the
// Gofer, and it exits by itself when the Sentry's end of the socket closes (even if the Sentry is
// killed); close() also kills it, in case it is stuck.
import { type ChildProcess, spawn } from 'node:child_process';
import { goferExecutablePath, goferHostCalls } from '../platform/gofer-host.js';
import { encodeAttach, MAX_ROOTS, Writer } from './protocol.js';

const host = goferHostCalls();

/** A host directory the Gofer serves: absolute, and read-only (every change EROFS) or not. */
export interface GoferRoot {
  hostRoot: string;
  readOnly: boolean;
}

/** The Gofer could not be started at all: the message says why and what to check. */
export class GoferError extends Error {
  override readonly name = 'GoferError';
}

function checkRoots(roots: readonly GoferRoot[]): void {
  if (roots.length === 0 || roots.length > MAX_ROOTS) throw new GoferError(`a gofer serves 1 to ${MAX_ROOTS} directories, not ${roots.length}`);
  for (const r of roots) if (!r.hostRoot.startsWith('/')) throw new GoferError(`gofer root must be an absolute path: ${r.hostRoot}`);
}

export class GoferProcess {
  private closed = false;

  private constructor(readonly socketFd: number, private readonly child: ChildProcess, readonly pid: number) {}

  /** Starts a Gofer serving hostRoot (an absolute host path). Throws GoferError if it cannot be started. */
  static spawn(hostRoot: string, readOnly: boolean): GoferProcess {
    return GoferProcess.spawnServing([{ hostRoot, readOnly }]);
  }

  /** Starts one Gofer serving every root, named by their index in requests. Throws GoferError if it cannot be started. */
  static spawnServing(roots: readonly GoferRoot[]): GoferProcess {
    checkRoots(roots);
    return GoferProcess.launch(roots.flatMap((r) => [r.hostRoot, ...(r.readOnly ? ['--ro'] : [])]), roots.map((r) => r.hostRoot).join(', '));
  }

  /**
   * Starts a Gofer before the sandbox's directories are known (while the Sentry is still loading and
   * reading its command line): it waits for attach(). Throws GoferError if it cannot be started.
   */
  static spawnUnattached(): GoferProcess {
    const proc = GoferProcess.launch(['--attach'], 'the sandbox');
    proc.attached = false;
    return proc;
  }

  private attached = true;

  /** Names the directories an unattached Gofer serves; it then greets as one started with them. */
  attach(roots: readonly GoferRoot[]): void {
    if (this.attached) throw new GoferError('this gofer already serves its directories');
    checkRoots(roots);
    this.attached = true;
    const w = new Writer();
    encodeAttach(w, roots.map((r) => ({ path: r.hostRoot, readOnly: r.readOnly })));
    if (w.overflow) throw new GoferError(`${roots.length} directories do not fit in one message to the gofer: fewer or shorter --mount paths`);
    // A Gofer that died meanwhile shows as a closed socket when its greeting is awaited.
    host.sendMsg(this.socketFd, w.bytes, w.pos, new Int32Array(0));
  }

  private static launch(args: string[], what: string): GoferProcess {
    const pair = new Int32Array(2);
    const r = host.socketPair(pair);
    if (r < 0) throw new GoferError(`cannot create the gofer socket (errno ${-r}): too many open files?`);
    const [mine, theirs] = [pair[0]!, pair[1]!];
    let child: ChildProcess;
    try {
      child = spawn(goferExecutablePath, args, {
        // The Gofer's stdout is not the program's: only its error messages (stderr) are shown.
        stdio: ['ignore', 'ignore', 'inherit', theirs],
        detached: true,
        env: {},
      });
    } catch (err) {
      host.close(mine);
      throw new GoferError(`cannot start the gofer for ${what}: ${String(err)}`);
    } finally {
      host.close(theirs); // the child has its copy; ours would hide the Gofer's exit from us
    }
    // Failures after the fork arrive as events; the client notices them as a closed socket instead.
    child.on('error', () => {});
    child.unref();
    if (child.pid === undefined) {
      host.close(mine);
      throw new GoferError(`cannot start the gofer for ${what} (is ${goferExecutablePath} built? npm install builds it)`);
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
