// execve(2): the calling task gets a fresh address space holding the new program, in place of its old
// one (gVisor's kernel/task_exec.go): the other threads of the process end first, close-on-exec fds
// close, caught signals go back to their default, and the pid stays. `#!` scripts run their
// interpreter (one level of nesting, as BINPRM_BUF_SIZE and Linux's recursion allow for a script
// naming a script is refused with ELOOP beyond that).
import { E2BIG, ELOOP, ENOENT, ENOEXEC, Errno } from '../abi/errno.js';
import { executableAt, findExecutable, openInterpreter, openProgramFile, type ProgramFile } from '../fs/exec.js';
import type { VirtualDentry } from '../fs/vfs.js';
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
  let { path, argv } = req;
  let start = req.start;
  let program: ProgramFile;
  let exePath = path;
  for (let depth = 0; ; depth++) {
    const found = depth === 0 && req.file !== undefined ? executableAt(task.fs, req.file.vd, path) : findExecutable(task.fs, start, path, depth > 0 || req.noFollow !== true);
    if (found instanceof Errno) return found;
    const file = openProgramFile(task.fs, found.vd);
    if (file instanceof Errno) return file;
    exePath = found.path;
    const head = file.head;
    if (head[0] !== 0x23 || head[1] !== 0x21) {
      program = file;
      break;
    }
    file.close();
    if (depth >= MAX_INTERPRETER_DEPTH) return ELOOP;
    if (depth === 0 && req.file?.closeOnExec === true) return ENOENT;
    const script = parseScriptLine(head);
    if (script === null) return ENOEXEC;
    // The interpreter gets: its name, the optional argument, the script's path, the script's arguments.
    argv = [script.interpreter, ...(script.arg !== null ? [script.arg] : []), path, ...argv.slice(1)];
    path = script.interpreter;
    start = task.fs.cwd;
  }
  try {
    return execProgram(kernel, task, req, program, argv, exePath);
  } finally {
    program.close();
  }
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
