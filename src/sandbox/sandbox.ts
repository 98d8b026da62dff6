// One sandbox: a KVM machine, the kernel, and the program loaded into it, run to completion.
import { existsSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { constants as osConstants } from 'node:os';
import { resolve as resolveHostPath } from 'node:path';
import { EACCES, EISDIR, ENOENT, Errno } from '../abi/errno.js';
import { findHostTty } from '../fs/dev.js';
import { findProgram, openInterpreter, openProgramFile, type ProgramFile } from '../fs/exec.js';
import { FdTable } from '../fs/fd-table.js';
import { LatePageStore } from '../fs/file-data.js';
import { PageCache, type PageCacheStats, pageCacheBudget } from '../mm/page-cache.js';
import { HostFile } from '../fs/file.js';
import { restoreHostTerminals } from '../fs/host-terminal.js';
import { PtySlave } from '../fs/pty.js';
import type { Terminal } from '../fs/terminal.js';
import { buildFilesystems, type SandboxFilesystems, shadowedBySandbox, shadowingMount } from '../fs/namespace.js';
import { type FsContext, mayAccess } from '../fs/vfs.js';
import { resolve } from '../fs/walk.js';
import { O_RDWR, X_OK, isDir } from '../abi/fcntl.js';
import { Signal } from '../abi/signal.js';
import { GoferClient, GoferError, type GoferRoot } from '../gofer/client.js';
import { followInterpreters } from '../kernel/exec.js';
import { Kernel, type KernelStats } from '../kernel/kernel.js';
import { attachTerminal } from '../kernel/terminal-control.js';
import type { TaskExit } from '../kernel/task.js';
import { Timekeeper } from '../kernel/timekeeper.js';
import { Machine } from '../kernel/machine.js';
import { LoaderError } from '../loader/elf.js';
import { chooseLayout, hostAuxv, loadProgram } from '../loader/load.js';
import { Vdso } from '../loader/vdso.js';
import { log } from '../log/log.js';
import { stderrSink } from '../log/stderr.js';
import { AddressSpace, type MemoryStats } from '../mm/address-space.js';
import { type AllocatorStats, PageAllocator } from '../mm/physical.js';
import { type HostFlavour, KvmPlatform, type PlatformMode } from '../platform/platform.js';
import type { SyscallTable } from '../kernel/syscall-table.js';
import type { SyscallTracer } from '../kernel/strace.js';
import { buildSyscallTable } from '../syscalls/table.js';
import { SandboxConsole } from './console.js';
import { takeEarlyGofer } from './early-gofer.js';
import { trimWhenIdle } from './idle-trim.js';

const osSignals = osConstants.signals;

export interface SandboxOptions {
  /** The program as the user named it: a path, or a command looked up in PATH. */
  program: string;
  /** argv[1..]. */
  args: string[];
  env: NodeJS.ProcessEnv;
  mode: PlatformMode;
  memoryBytes: number;
  /** CPUs the program sees (--cpus); default: the host's. */
  cpus?: number;
  /** --strace: told of every syscall. */
  strace: SyscallTracer | null;
  /** Host fds that become the program's stdin, stdout and stderr (default 0, 1, 2). */
  stdio?: readonly [number, number, number];
  /** Replaces the syscall table: for tests that inject failures into the Sentry. */
  syscallTable?: SyscallTable;
  /** Host directory that is the sandbox's root (default /), served read-only under a tmpfs overlay. */
  rootfs?: string;
  /** Writes to the root go through to the host (no overlay). */
  rootfsWritable?: boolean;
  /** Extra host directories: --mount host:guest[:ro]. */
  mounts?: HostMount[];
  /** Absolute paths in the sandbox that get a fresh tmpfs: --tmpfs PATH. */
  tmpfs?: string[];
  /** Address-space layout randomisation (default on); off gives Linux's fixed layout (--no-aslr). */
  aslr?: boolean;
  /** Exitless mode: rewrite syscall sites to skip the trap (default on; --no-syscall-patching). */
  patchSyscalls?: boolean;
  /** Mode kvm: guest events that run with VM exits before the platform turns exitless (--exitless-after). */
  exitlessAfter?: number;
  /** The working directory in the sandbox (--cwd); default: the caller's, as the sandbox sees it. */
  cwd?: string;
  /** The user and group ids the program runs as (--user); default: the caller's. */
  ids?: { uid: number; gid: number };
  /** uname's nodename (--hostname); default: the host's. */
  hostname?: string;
  /** When it aborts, the program is killed with SIGKILL (--timeout). */
  stop?: AbortSignal;
  /**
   * `run -t`: the program's stdio is a terminal of the sandbox's own (/dev/pts/0), joined to the user's
   * terminal on stdin (which must be one) and stdout, which is in raw mode while the sandbox runs.
   */
  tty?: boolean;
}

export interface HostMount {
  host: string;
  guest: string;
  readOnly: boolean;
}

/** The sandbox could not be set up (a Gofer that cannot serve its directory): exit status 125. */
export class SandboxSetupError extends Error {
  override readonly name = 'SandboxSetupError';
}

/** An option names something the sandbox does not have (a --cwd that is no directory there): exit status 2. */
export class SandboxUsageError extends Error {
  override readonly name = 'SandboxUsageError';
}

export interface SandboxResult {
  exit: TaskExit;
  flavour: HostFlavour;
  kernel: KernelStats;
  /** Guest memory, taken after the page cache was dropped: what is left at exit is what leaked. */
  memory: AllocatorStats;
  /** The page cache as the program left it (its pages then went back with the sandbox). */
  pageCache: PageCacheStats;
  /** Page tables and paging of the program's address space. */
  paging: MemoryStats;
  /** How the program's vDSO tells the time: "tsc" or "syscall", and getcpu's way. */
  vdso: string;
  /** When each step of the start happened (--stats). */
  startup: StartupTimes;
  /** How the platform ran: its mode, the events that ran with VM exits, when it turned exitless (-1: never). */
  platform: { mode: PlatformMode; exitEvents: number; exitlessSince: number };
}

/**
 * Milliseconds since this process started (performance.timeOrigin) at which each step of the sandbox's
 * start was done, and how long the steps that overlap others took.
 */
export interface StartupTimes {
  /** Node.js itself was up and began loading tsvisor's modules. */
  nodeReady: number;
  /** The modules were loaded and runSandbox was called. */
  modulesLoaded: number;
  /** The Gofer was spawned or, started early, attached (it then starts while the Sentry goes on). */
  goferSpawned: number;
  /** The VM existed (memory, the guest stub's structures), and how long creating it took. */
  vmCreated: number;
  vmCreateMs: number;
  /** The Gofer's greetings were in, and how long the Sentry waited for them (0: they were already there). */
  goferReady: number;
  goferWaitMs: number;
  /** The program (and its interpreter) was read and mapped, and its stack built. */
  programLoaded: number;
  /** The program's first system call reached the Sentry. */
  firstSyscall: number;
  /** The program's last thread exited. */
  exited: number;
}

export { LoaderError, shadowedBySandbox };

/** A host directory the user named: checked here so that a typo gives one clear line. */
function hostDirectory(what: string, path: string): string {
  const full = resolveHostPath(path);
  let ok = false;
  try {
    ok = statSync(full).isDirectory();
  } catch {
    // reported below
  }
  if (!ok) throw new SandboxSetupError(`${what} ${path}: not an existing directory`);
  return full;
}

/** The host directories the sandbox's Gofer serves: the root first, then each --mount (checked here). */
function goferRoots(options: SandboxOptions): { rootfs: string; roots: GoferRoot[] } {
  const rootfs = hostDirectory('--rootfs', options.rootfs ?? '/');
  const mounts = (options.mounts ?? []).map((m) => ({ hostRoot: hostDirectory('--mount', m.host), readOnly: m.readOnly }));
  return { rootfs, roots: [{ hostRoot: rootfs, readOnly: !(options.rootfsWritable ?? false) }, ...mounts] };
}

/**
 * Starts the sandbox's Gofer, one process for the root and every --mount (or attaches the one the
 * command started early); it greets when it is up.
 */
function startGofer(roots: readonly GoferRoot[]): GoferClient[] {
  try {
    return GoferClient.startAll(roots, {}, takeEarlyGofer());
  } catch (err) {
    if (err instanceof GoferError) throw new SandboxSetupError(err.message);
    throw err;
  }
}

/** Builds the mount table over the Gofer's clients (the root's first); waits for the Gofer to be up. */
function buildSandboxFilesystems(options: SandboxOptions, clients: readonly GoferClient[], store: LatePageStore, pageCache: PageCache,
  machine: Machine, ttyConsole: SandboxConsole | null): SandboxFilesystems {
  const mounts = (options.mounts ?? []).map((m, i) => ({ client: clients[i + 1]!, guestPath: m.guest, readOnly: m.readOnly }));
  const ids = sandboxIds(options);
  const fsys = buildFilesystems({
    rootfs: clients[0]!, rootfsWritable: options.rootfsWritable ?? false, mounts, tmpfs: options.tmpfs ?? [], store, pageCache,
    hostTty: findHostTty(), system: machine, console: ttyConsole === null ? null : { pty: ttyConsole.pty, uid: ids.uid, gid: ids.gid },
  });
  if ('error' in fsys) throw new SandboxSetupError(`cannot serve ${fsys.what} (${fsys.error.name}): is it an existing directory?`);
  return fsys;
}

/** The host working directory as a path in the sandbox, or / when it is outside what the sandbox sees. */
function guestCwd(rootfs: string, mounts: readonly HostMount[]): string {
  const cwd = process.cwd();
  const inside = (dir: string): string | null => (cwd === dir ? '' : dir === '/' ? cwd : cwd.startsWith(dir + '/') ? cwd.slice(dir.length) : null);
  for (const m of mounts) {
    const rest = inside(resolveHostPath(m.host));
    if (rest !== null) return m.guest + rest;
  }
  return inside(rootfs) || '/';
}

/** --cwd: an existing directory in the sandbox that its user may enter, checked as chdir(2) would. */
function enterCwd(ctx: FsContext, dir: string): void {
  const vd = resolve(ctx, ctx.root, dir, true);
  if (vd instanceof Errno) throw new SandboxUsageError(`--cwd ${dir}: no such directory in the sandbox`);
  const st = vd.dentry.stat();
  if (st instanceof Errno) throw new SandboxUsageError(`--cwd ${dir}: cannot read it (${st.name})`);
  if (!isDir(st.mode)) throw new SandboxUsageError(`--cwd ${dir}: not a directory`);
  if (!mayAccess(st.mode, st.uid, st.gid, ctx.creds, X_OK)) throw new SandboxUsageError(`--cwd ${dir}: permission denied`);
  ctx.cwd = vd;
}

/** The program, found and opened inside the sandbox as execvp would. */
function openExecutable(ctx: FsContext, options: SandboxOptions): { name: string; path: string; file: ProgramFile; argv: string[] } {
  const program = options.program;
  const found = findProgram(ctx, program, options.env.PATH ?? '/usr/local/bin:/usr/bin:/bin');
  if (found instanceof Errno) {
    if (found === ENOENT && program.includes('/')) {
      // A host file the sandbox hides under a filesystem of its own, named absolutely or from here.
      const onHost = resolveHostPath(program);
      const hiddenBy = (options.rootfs ?? '/') === '/' && existsSync(onHost) ? shadowingMount(onHost, options.tmpfs) : null;
      throw new LoaderError(`${program}: no such file${hiddenBy !== null ? ` in the sandbox (its ${hiddenBy} is the sandbox's own: --mount the directory)` : ''}`, 127);
    }
    if (found === ENOENT) throw new LoaderError(`${program}: command not found`, 127);
    if (found === EACCES) throw new LoaderError(`${program}: permission denied`, 126);
    if (found === EISDIR) throw new LoaderError(`${program}: is a directory`, 126);
    throw new LoaderError(`${program}: ${found.name}`, 126);
  }
  const opened = openProgramFile(ctx, found.vd);
  if (opened instanceof Errno) throw new LoaderError(`${program}: cannot read it (${opened.name})`, 126);
  // A `#!` script runs its interpreter, as execve does.
  const resolved = followInterpreters(ctx, opened, found.name, found.path, [program, ...options.args]);
  if (resolved instanceof Errno) {
    if (resolved === ENOENT) throw new LoaderError(`${program}: bad interpreter: no such file`, 127);
    throw new LoaderError(`${program}: cannot run its interpreter (${resolved.name})`, 126);
  }
  return { name: found.name, path: resolved.exePath, file: resolved.program, argv: resolved.argv };
}

/** A host terminal on stdio is the sandbox's /dev/pts/N of the same name (where ttyname(3) looks for it). */
function showHostTerminalAsNode(ctx: FsContext, fds: FdTable): void {
  for (const fd of [0, 1, 2]) {
    const file = fds.get(fd);
    if (file instanceof Errno || file.terminal === null) continue;
    const name = file.describe();
    if (!/^\/dev\/pts\/\d+$/.test(name)) continue;
    const node = resolve(ctx, ctx.root, name, true);
    if (node instanceof Errno) continue;
    const st = node.dentry.stat();
    const host = file.stat();
    if (!(st instanceof Errno) && !(host instanceof Errno) && st.rdev === host.rdev) file.setLocation(node);
  }
}

/** The first of stdin, stdout, stderr that is a terminal. */
function stdioTerminal(fds: FdTable): Terminal | null {
  for (const fd of [0, 1, 2]) {
    const file = fds.get(fd);
    if (!(file instanceof Errno) && file.terminal !== null) return file.terminal;
  }
  return null;
}

/** The ids the program runs as: --user's, or the caller's. */
function sandboxIds(options: SandboxOptions): { uid: number; gid: number } {
  return options.ids ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/** -t needs the user's terminal on stdin (docker's "the input device is not a TTY"). */
function openConsole(options: SandboxOptions): SandboxConsole | null {
  if (options.tty !== true) return null;
  const [stdin, stdout] = options.stdio ?? [0, 1, 2];
  const ttyConsole = SandboxConsole.open(stdin, stdout);
  if (ttyConsole instanceof Errno) throw new SandboxUsageError('--tty: the input is not a terminal (run without -t, or from a terminal)');
  return ttyConsole;
}

export async function runSandbox(options: SandboxOptions): Promise<SandboxResult> {
  const startup: StartupTimes = {
    nodeReady: performance.nodeTiming.bootstrapComplete, modulesLoaded: performance.now(), goferSpawned: 0, vmCreated: 0,
    vmCreateMs: 0, goferReady: 0, goferWaitMs: 0, programLoaded: 0, firstSyscall: 0, exited: 0,
  };
  const store = new LatePageStore();
  const pageCache = new PageCache(store, pageCacheBudget(options.memoryBytes));
  let procfs: SandboxFilesystems['procfs'] | null = null;
  const machine = new Machine({
    cpus: options.cpus ?? Machine.hostCpus(), cpusLimited: options.cpus !== undefined, memoryBytes: options.memoryBytes,
    committedBytes: () => store.allocator.stats.committedBytes, processes: () => procfs?.processCount ?? 0,
    hostname: options.hostname,
  });
  // The Gofer first, so that its start (a Node.js process) overlaps creating the VM here; then the
  // file systems, whose first request waits for its greeting.
  const { rootfs, roots } = goferRoots(options);
  const ttyConsole = openConsole(options);
  const clients = startGofer(roots);
  startup.goferSpawned = performance.now();
  let platform: KvmPlatform;
  try {
    platform = new KvmPlatform({ memoryBytes: options.memoryBytes, mode: options.mode, exitlessAfter: options.exitlessAfter });
  } catch (err) {
    for (const c of clients) c.close();
    throw err;
  }
  startup.vmCreated = performance.now();
  startup.vmCreateMs = startup.vmCreated - startup.goferSpawned;
  try {
    let fsys: SandboxFilesystems;
    try {
      fsys = buildSandboxFilesystems(options, clients, store, pageCache, machine, ttyConsole);
    } catch (err) {
      for (const c of clients) c.close();
      throw err;
    }
    startup.goferReady = performance.now();
    startup.goferWaitMs = clients[0]!.waitedMs;
    procfs = fsys.procfs;
    try {
      return await runInFilesystems(options, fsys, store, pageCache, rootfs, machine, platform, startup, ttyConsole);
    } finally {
      fsys.release();
    }
  } finally {
    ttyConsole?.finish();
    restoreHostTerminals();
    platform.close();
  }
}

async function runInFilesystems(
  options: SandboxOptions, fsys: SandboxFilesystems, store: LatePageStore, pageCache: PageCache, rootfs: string, machine: Machine,
  platform: KvmPlatform,
  startup: StartupTimes, ttyConsole: SandboxConsole | null,
): Promise<SandboxResult> {
  const ids = sandboxIds(options);
  const fsContext = fsys.newContext(ids, guestCwd(rootfs, options.mounts ?? []));
  if (options.cwd !== undefined) enterCwd(fsContext, options.cwd);
  const { name: path, path: exePath, file, argv } = openExecutable(fsContext, options);
  log.info(`host KVM flavour: ${platform.flavour}; platform mode: ${options.mode}`);
  const allocator = new PageAllocator(platform, platform.reservedBytes, options.memoryBytes);
  store.bind(new Uint8Array(platform.memory), allocator);
  allocator.reclaim = (pages) => pageCache.reclaim(pages);
  const vdso = Vdso.create(allocator, platform.memory);
  const layout = (): ReturnType<typeof chooseLayout> => chooseLayout(options.aslr ?? true);
  const mm = new AddressSpace(platform.memory, allocator, platform.rootEntries, layout());
  const fds = new FdTable();
  if (ttyConsole !== null) {
    // Opened as /dev/pts/0 is, so that ttyname(3) finds the node whose stat matches fstat.
    const node = resolve(fsContext, fsContext.root, ttyConsole.pty.name, true);
    for (const fd of [0, 1, 2]) {
      const slave = new PtySlave(ttyConsole.pty, O_RDWR);
      if (!(node instanceof Errno)) slave.setLocation(node);
      fds.set(fd, slave);
    }
  } else {
    const [stdin, stdout, stderr] = options.stdio ?? [0, 1, 2];
    fds.set(0, new HostFile(stdin, true, false));
    fds.set(1, new HostFile(stdout, false, true));
    fds.set(2, new HostFile(stderr, false, true));
    showHostTerminalAsNode(fsContext, fds);
  }
  const kernel = new Kernel(platform, allocator, options.syscallTable ?? buildSyscallTable(), {
    strace: options.strace, patchSyscalls: options.patchSyscalls ?? true, procfs: fsys.procfs,
    aslr: options.aslr ?? true, layout, vdso, machine, memfds: fsys.memfds,
  });
  let loaded;
  try {
    loaded = loadProgram(mm, {
      execfn: path,
      file,
      openInterpreter: (interp) => openInterpreter(fsContext, interp),
      argv,
      envp: Object.entries(options.env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`),
      hostAuxv: hostAuxv(),
      ids: options.ids !== undefined ? { ...ids, euid: ids.uid, egid: ids.gid } : { uid: ids.uid, euid: process.geteuid?.() ?? ids.uid, gid: ids.gid, egid: process.getegid?.() ?? ids.gid },
      mapVdso: (m) => vdso.mapOrNone(m),
    });
  } finally {
    file.close();
  }
  const init = kernel.createProcess({ mm, fds, fs: fsContext, exePath, entry: loaded.entry, sp: loaded.sp, ids, comm: loaded.comm });
  // The first process leads the sandbox's session; its terminal (the console, or a host terminal on
  // its stdio) is the session's controlling terminal, its group in the foreground.
  const controlling = ttyConsole?.pty ?? stdioTerminal(fds);
  if (controlling !== null) attachTerminal(kernel, init.group, controlling);
  startup.programLoaded = performance.now();
  // The timekeeper reads the guest TSC's offset from the first vCPU, which createProcess made.
  const timekeeper = new Timekeeper(platform.memory, vdso.vvarGpa, platform.tsc);
  kernel.clocks = timekeeper;
  // SIGINT or SIGTERM to tsvisor ends the program with that signal, as it would end a native one.
  const stop = (signal: NodeJS.Signals): void => kernel.killAll(osSignals[signal], 'the sandbox was told to stop');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // SIGQUIT too, after a report of every task and vCPU: what a sandbox that seems to hang waits on.
  const quit = (): void => {
    stderrSink.write(kernel.describeState().map((line) => `tsvisor state: ${line}\n`).join(''));
    stop('SIGQUIT');
  };
  process.on('SIGQUIT', quit);
  // With -t the user's terminal may close under tsvisor: the program is hung up, as a login's would be.
  if (ttyConsole !== null) process.on('SIGHUP', stop);
  const consoleError = ttyConsole?.start() ?? null;
  if (consoleError !== null) log.warn(`--tty: cannot put the terminal in raw mode (${consoleError.name})`);
  const timedOut = (): void => kernel.killAll(Signal.SIGKILL, 'timed out');
  options.stop?.addEventListener('abort', timedOut, { once: true });
  const stopTrimming = trimWhenIdle(() => kernel.stats.syscalls + kernel.stats.faults);
  try {
    const exit = await kernel.run();
    startup.exited = performance.now();
    startup.firstSyscall = kernel.stats.firstSyscallAt;
    const cacheAtExit = { ...pageCache.stats };
    pageCache.reclaim(Infinity);
    return {
      exit, flavour: platform.flavour, kernel: kernel.stats, memory: allocator.stats, pageCache: cacheAtExit, paging: mm.stats,
      vdso: timekeeper.guestMode, startup, platform: { mode: platform.mode, ...platform.exitStats },
    };
  } finally {
    stopTrimming();
    timekeeper.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.off('SIGQUIT', quit);
    process.off('SIGHUP', stop);
    options.stop?.removeEventListener('abort', timedOut);
  }
}
