// One sandbox: a KVM machine, the kernel, and the program loaded into it, run to completion.
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter } from 'node:path';
import { FdTable } from '../fs/fd-table.js';
import { HostFile } from '../fs/file.js';
import { Kernel, type KernelStats } from '../kernel/kernel.js';
import { Task, type TaskExit } from '../kernel/task.js';
import { LoaderError } from '../loader/elf.js';
import { defaultMmapBase, hostAuxv, loadProgram, readProgram } from '../loader/load.js';
import { log } from '../log/log.js';
import { AddressSpace } from '../mm/address-space.js';
import { type AllocatorStats, PageAllocator } from '../mm/physical.js';
import { type HostFlavour, KvmPlatform, type PlatformMode } from '../platform/platform.js';
import type { SyscallTable } from '../kernel/syscall-table.js';
import { buildSyscallTable } from '../syscalls/table.js';

const osSignals = osConstants.signals;

export interface SandboxOptions {
  /** The program as the user named it: a path, or a command looked up in PATH. */
  program: string;
  /** argv[1..]. */
  args: string[];
  env: NodeJS.ProcessEnv;
  mode: PlatformMode;
  memoryBytes: number;
  strace: ((line: string) => void) | null;
  /** Host fds that become the program's stdin, stdout and stderr (default 0, 1, 2). */
  stdio?: readonly [number, number, number];
  /** Replaces the syscall table: for tests that inject failures into the Sentry. */
  syscallTable?: SyscallTable;
}

export interface SandboxResult {
  exit: TaskExit;
  flavour: HostFlavour;
  kernel: KernelStats;
  memory: AllocatorStats;
}

export { LoaderError };

/** Finds the program like execvp: a name without a slash is searched in PATH. */
export function resolveProgram(program: string, env: NodeJS.ProcessEnv): string {
  if (program.includes('/')) return program;
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const candidate = `${dir === '' ? '.' : dir}/${program}`;
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new LoaderError(`${program}: command not found`, 127);
}

export async function runSandbox(options: SandboxOptions): Promise<SandboxResult> {
  const path = resolveProgram(options.program, options.env);
  const file = readProgram(path);
  const platform = new KvmPlatform({ memoryBytes: options.memoryBytes, mode: options.mode });
  try {
    log.info(`host KVM flavour: ${platform.flavour}; platform mode: ${options.mode}`);
    const allocator = new PageAllocator(platform, platform.reservedBytes, options.memoryBytes);
    const mm = new AddressSpace(platform.memory, allocator, platform.rootEntries, { mmapBase: defaultMmapBase() });
    const ids = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    const loaded = loadProgram(mm, {
      execfn: path,
      file,
      argv: [options.program, ...options.args],
      envp: Object.entries(options.env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`),
      hostAuxv: hostAuxv(),
      ids: { uid: ids.uid, euid: process.geteuid?.() ?? ids.uid, gid: ids.gid, egid: process.getegid?.() ?? ids.gid },
    });
    const ctx = platform.createContext({ cr3: mm.tables.root, rip: loaded.entry, rsp: loaded.sp, fsBase: 0 });
    const fds = new FdTable();
    const [stdin, stdout, stderr] = options.stdio ?? [0, 1, 2];
    fds.set(0, new HostFile(stdin, true, false));
    fds.set(1, new HostFile(stdout, false, true));
    fds.set(2, new HostFile(stderr, false, true));
    const kernel = new Kernel(platform, allocator, options.syscallTable ?? buildSyscallTable(), { strace: options.strace });
    const task = new Task({ pid: 1, tid: 1, ppid: 0, uid: ids.uid, gid: ids.gid }, mm, ctx, fds, realpathSync(path));
    kernel.addTask(task);
    // SIGINT or SIGTERM to tsvisor ends the program with that signal, as it would end a native one.
    const stop = (signal: NodeJS.Signals): void => kernel.killAll(osSignals[signal], 'the sandbox was told to stop');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    try {
      const exit = await kernel.run();
      return { exit, flavour: platform.flavour, kernel: kernel.stats, memory: allocator.stats };
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  } finally {
    platform.close();
  }
}
