// execve(2): the calling task gets a fresh address space holding the new program, in place of its old
// one (gVisor's kernel/task_exec.go): the other threads of the process end first, close-on-exec fds
// close, caught signals go back to their default, and the pid stays. `#!` scripts run their
// interpreter (one level of nesting, as BINPRM_BUF_SIZE and Linux's recursion allow for a script
// naming a script is refused with ELOOP beyond that).
import { E2BIG, ELOOP, ENOENT, ENOEXEC, Errno } from '../abi/errno.js';
import { executableAt, findExecutable, openInterpreter, openProgramFile, type ProgramFile } from '../fs/exec.js';
import type { FsContext, VirtualDentry } from '../fs/vfs.js';
import { LoaderError } from '../loader/elf.js';
import { hostAuxv, loadProgram } from '../loader/load.js';
import { AddressSpace } from '../mm/address-space.js';
import { entryRegisters, type Kernel, memoryLimits } from './kernel.js';
import type { Task } from './task.js';

/** Linux's MAX_ARG_STRLEN: one argument or environment string. */
export const MAX_ARG_STRLEN = 32 * 4096;
/** Linux's limit on argv+envp: a quarter of RLIMIT_STACK (at least 128 KiB), pointers included. */
export function argLimit(task: Task): number {
  return Math.max(128 * 1024, Math.floor(Math.min(task.rlimits[3]![0], 6 * 1024 * 1024 * 4) / 4));
}
/** The first line of a script that Linux reads (BINPRM_BUF_SIZE). */
const SCRIPT_LINE = 256;
const MAX_INTERPRETER_DEPTH = 4;

export interface ExecRequest {
  start: VirtualDentry;
  path: string;
  argv: string[];
  envp: string[];
  /**
   * execveat(fd, "", AT_EMPTY_PATH): the program is this open file's, and `path` is /dev/fd/N; a
   * script is refused (ENOENT) when the fd closes on exec, since its interpreter could not open it.
   */
  file?: { vd: VirtualDentry; closeOnExec: boolean };
  /** execveat AT_SYMLINK_NOFOLLOW: the path's last component must not be a symlink. */
  noFollow?: boolean;
}

export function execTask(kernel: Kernel, task: Task, req: ExecRequest): number | Errno {
  const found = req.file !== undefined ? executableAt(task.fs, req.file.vd, req.path) : findExecutable(task.fs, req.start, req.path, req.noFollow !== true);
  if (found instanceof Errno) return found;
  const file = openProgramFile(task.fs, found.vd);
  if (file instanceof Errno) return file;
  if (req.file?.closeOnExec === true && isScript(file)) {
    file.close();
    return ENOENT;
  }
  const resolved = followInterpreters(task.fs, file, req.path, found.path, req.argv);
  if (resolved instanceof Errno) return resolved;
  try {
    return execProgram(kernel, task, req, resolved.program, resolved.argv, resolved.exePath);
  } finally {
    resolved.program.close();
  }
}

/** The program exec loads, past any `#!` lines: its file, its argv, and its path. */
export interface ResolvedProgram {
  program: ProgramFile;
  argv: string[];
  exePath: string;
}

function isScript(file: ProgramFile): boolean {
  return file.head[0] === 0x23 && file.head[1] === 0x21;
}

/**
 * Runs a `#!` script's interpreter in its place, as fs/binfmt_script.c, for as many levels as Linux
 * allows: file is the opened program (path as exec was given it, exePath where it was found), and is
 * closed if it is a script. Interpreters are looked up from the working directory.
 */
export function followInterpreters(fs: FsContext, file: ProgramFile, path: string, exePath: string, argv: string[]): ResolvedProgram | Errno {
  for (let depth = 0; isScript(file); depth++) {
    const head = file.head;
    file.close();
    if (depth >= MAX_INTERPRETER_DEPTH) return ELOOP;
    const script = parseScriptLine(head);
    if (script === null) return ENOEXEC;
    // The interpreter gets: its name, the optional argument, the script's path, the script's arguments.
    argv = [script.interpreter, ...(script.arg !== null ? [script.arg] : []), path, ...argv.slice(1)];
    path = script.interpreter;
    const found = findExecutable(fs, fs.cwd, path, true);
    if (found instanceof Errno) return found;
    const next = openProgramFile(fs, found.vd);
    if (next instanceof Errno) return next;
    file = next;
    exePath = found.path;
  }
  return { program: file, argv, exePath };
}

/** Past the `#!` lines: the new image from program, then what exec replaces. */
function execProgram(kernel: Kernel, task: Task, req: ExecRequest, program: ProgramFile, argv: string[], exePath: string): number | Errno {
  if (argv.reduce((n, s) => n + Buffer.byteLength(s) + 1 + 8, 0) + req.envp.reduce((n, s) => n + Buffer.byteLength(s) + 1 + 8, 0) > argLimit(task)) {
    return E2BIG;
  }

  const mm = new AddressSpace(kernel.platform.memory, kernel.allocator, kernel.platform.rootEntries, kernel.options.layout());
  mm.limits = memoryLimits(task.group);
  let loaded;
  try {
    loaded = loadProgram(mm, {
      execfn: req.path, file: program, argv, envp: req.envp, hostAuxv: hostAuxv(),
      ids: { uid: task.uid, euid: task.euid, gid: task.gid, egid: task.egid },
      openInterpreter: (interp) => openInterpreter(task.fs, interp),
      mapVdso: (m) => kernel.options.vdso?.mapOrNone(m) ?? null,
    });
  } catch (err) {
    mm.release();
    if (err instanceof LoaderError) return err.exitStatus === 127 ? ENOENT : ENOEXEC;
    throw err;
  }

  // The point of no return: end the other threads, then replace what exec replaces.
  const group = task.group;
  kernel.endOtherThreads(task);
  if (kernel.sharedBy(group.fds) > 1) {
    kernel.unshare(group.fds);
    group.fds = group.fds.fork();
    group.fds.lockOwner = group.pid;
    kernel.share(group.fds);
  }
  group.fds.closeOnExec();
  // Caught signals go back to the default action; ignored ones stay ignored. No alternate stack.
  group.signals.resetForExec();
  task.signals.disarmAltStack();
  group.exePath = exePath;
  task.comm = loaded.comm;
  task.clearChildTid = 0;
  task.robustList = 0;
  kernel.replaceAddressSpace(task, mm, entryRegisters(loaded.entry, loaded.sp));
  const vforkParent = group.vforkParent;
  group.vforkParent = null;
  if (vforkParent !== null) kernel.vforkDone(group, vforkParent);
  return 0;
}

/** `#!interpreter [one argument]`, as fs/binfmt_script.c splits it; null when there is no interpreter. */
function parseScriptLine(file: Uint8Array): { interpreter: string; arg: string | null } | null {
  const end = file.subarray(0, SCRIPT_LINE).indexOf(0x0a);
  const line = Buffer.from(file.subarray(2, end < 0 ? Math.min(file.length, SCRIPT_LINE) : end)).toString('latin1').trim();
  if (line === '') return null;
  const space = line.search(/[ \t]/);
  if (space < 0) return { interpreter: line, arg: null };
  const arg = line.slice(space).trim();
  return { interpreter: line.slice(0, space), arg: arg === '' ? null : arg };
}
