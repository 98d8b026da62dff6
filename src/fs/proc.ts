// /proc: per-process directories (exe, cwd, root, fd/, fdinfo/, maps, status, stat, comm, mounts) for
// the processes the kernel registers, /proc/self, and the system files programs read at start-up
// (cpuinfo, meminfo, mounts, uptime, version, filesystems, sys/kernel). Contents are generated when a
// file is opened; what a process shows comes from the ProcessView the kernel implements.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { ENOENT, Errno } from '../abi/errno.js';
import { DT_DIR, DT_LNK, DT_REG, O_ACCMODE, O_RDONLY, O_WRONLY, PROC_SUPER_MAGIC, S_IFLNK } from '../abi/fcntl.js';
import { auxv, cgroup, formatMaps, mountinfo, statLine, statm, status, strings } from './proc-process.js';
import { buildProcSys } from './proc-sys.js';
import type { ProcSystem } from './proc-system.js';
import { SynthDir, SynthFile, SynthLink, SynthNode, SyntheticFs } from './synthetic.js';
import { pathFrom, pathOf, resolve } from './walk.js';
import {
  Dentry, type FileDescription, type FileStat, type FsContext, type MountNamespace, type ProcessView,
} from './vfs.js';

export { formatMaps };

export type { ProcSystem };

export class Procfs {
  readonly fs = new SyntheticFs('proc', PROC_SUPER_MAGIC);
  readonly root: SynthDir;
  private readonly processes = new Map<number, { view: ProcessView; dir: SynthDir; startNs: bigint }>();
  /** Each /proc/PID directory's process, kept while an open directory holds it (pidfd_send_signal). */
  private readonly processOfDir = new WeakMap<Dentry, ProcessView>();

  constructor(private readonly system: ProcSystem) {
    this.root = new SynthDir('/', null, this.fs, {
      list: () => [...this.processes.keys()].map((pid) => ({ name: String(pid), ino: this.processes.get(pid)!.dir.ino, type: DT_DIR })),
      lookup: (name) => (/^[1-9]\d*$/.test(name) ? this.processes.get(Number(name))?.dir ?? null : null),
    });
    const root = this.root;
    root.symlinkNode('self', (caller) => (caller.process === null ? ENOENT : String(caller.process.id.pid)));
    root.symlinkNode('mounts', () => 'self/mounts');
    root.fileNode('cpuinfo', () => cpuinfo(hostFile('/proc/cpuinfo'), system.cpus));
    root.fileNode('meminfo', () => this.meminfo());
    root.fileNode('uptime', () => {
      const s = Number(system.uptimeNs()) / 1e9;
      // The second figure is idle time summed over the CPUs; the Sentry does not measure it.
      return `${s.toFixed(2)} 0.00\n`;
    });
    root.fileNode('version', () => `Linux version ${release()} (tsvisor) #1 SMP\n`);
    root.fileNode('loadavg', () => `0.00 0.00 0.00 1/${this.processes.size} ${Math.max(0, ...this.processes.keys())}\n`);
    root.fileNode('filesystems', () => 'nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tcgroup2\nnodev\toverlay\nnodev\t9p\n');
    buildProcSys(root.dirNode('sys'), system);
  }

  register(view: ProcessView): void {
    this.processes.set(view.id.pid, { view, dir: this.processDir(view), startNs: process.hrtime.bigint() });
  }

  unregister(pid: number): void {
    this.processes.delete(pid);
  }

  get processCount(): number {
    return this.processes.size;
  }

  /**
   * The process whose /proc/PID directory this is (its leader's view), even once it has gone; null for
   * any other directory, /proc/PID/task/TID too (Linux's tgid_pidfd_to_pid).
   */
  processOfDirectory(dir: Dentry): ProcessView | null {
    return this.processOfDir.get(dir) ?? null;
  }

  /** The pids of the sandbox's processes, in ascending order (cgroup.procs). */
  pids(): number[] {
    return [...this.processes.keys()].sort((a, b) => a - b);
  }

  private meminfo(): string {
    const total = this.system.memoryBytes;
    const free = Math.max(0, total - this.system.committedBytes());
    const rows: Array<[string, number]> = [
      ['MemTotal', total], ['MemFree', free], ['MemAvailable', free], ['Buffers', 0], ['Cached', 0],
      ['SwapCached', 0], ['Active', total - free], ['Inactive', 0], ['SwapTotal', 0], ['SwapFree', 0],
      ['Shmem', 0], ['Mapped', 0], ['CommitLimit', total], ['Committed_AS', total - free],
      ['HugePages_Total', -1], ['HugePages_Free', -1], ['Hugepagesize', 2 * 1024 * 1024],
    ];
    return rows.map(([k, v]) => `${(k + ':').padEnd(16)}${v < 0 ? String(0).padStart(8) : kb(v)}\n`).join('');
  }

  private processDir(p: ProcessView): SynthDir {
    const dir = new SynthDir(String(p.id.pid), this.root, this.fs);
    this.fillProcessDir(dir, p, false);
    this.processOfDir.set(dir, p);
    // /proc/PID/task/TID: each thread, with the files of its process as that thread sees them. A
    // thread's directory is made when first asked for and kept while the thread lives (a stable inode).
    const threadDirs = new Map<ProcessView, SynthDir>();
    const threadDir = (thread: ProcessView, taskDir: SynthDir): SynthDir => {
      let d = threadDirs.get(thread);
      if (d === undefined) {
        d = new SynthDir(String(thread.id.tid), taskDir, this.fs);
        this.fillProcessDir(d, thread, true);
        threadDirs.set(thread, d);
      }
      return d;
    };
    const live = (): readonly ProcessView[] => {
      const threads = p.threadViews();
      for (const t of threadDirs.keys()) if (!threads.includes(t)) threadDirs.delete(t);
      return threads;
    };
    const taskDir = dir.dirNode('task', {
      list: () => live().map((t) => ({ name: String(t.id.tid), ino: threadDir(t, taskDir).ino, type: DT_DIR })),
      lookup: (name) => {
        const thread = live().find((t) => String(t.id.tid) === name);
        return thread === undefined ? null : threadDir(thread, taskDir);
      },
    });
    return dir;
  }

  private fillProcessDir(dir: SynthDir, p: ProcessView, thread: boolean): void {
    const startNs = (): bigint => this.processes.get(p.id.pid)?.startNs ?? this.system.bootNs;
    dir.symlinkNode('exe', () => p.exePath, (caller) => resolve(caller, caller.root, p.exePath, true));
    dir.symlinkNode('cwd', (caller) => pathOf(caller, p.fs.cwd) ?? ENOENT, () => p.fs.cwd);
    dir.symlinkNode('root', (caller) => pathOf(caller, p.fs.root) ?? ENOENT, () => p.fs.root);
    dir.dirNode('fd', {
      list: () => p.fds.openFds().map((fd) => ({ name: String(fd), ino: fdIno(p, fd), type: DT_LNK })),
      lookup: (name, _caller, fdDir) => this.fdLink(p, name, fdDir),
    }, 0o500);
    dir.dirNode('fdinfo', {
      list: () => p.fds.openFds().map((fd) => ({ name: String(fd), ino: fdIno(p, fd) + 0x8000, type: DT_REG })),
      lookup: (name, _caller, infoDir) => {
        const file = fileOf(p, name);
        if (file === null) return null;
        const info = (): string => `pos:\t${file.offset}\nflags:\t0${file.statusFlags().toString(8).padStart(7, '0')}\nmnt_id:\t0\n`;
        return new SynthFile(name, infoDir, this.fs, info, 0o444, fdIno(p, Number(name)) + 0x8000);
      },
    }, 0o500);
    dir.fileNode('maps', () => formatMaps(p.memoryMap()));
    dir.fileNode('status', () => status(p, this.system));
    dir.fileNode('stat', () => statLine(p, this.system, startNs(), thread));
    dir.fileNode('statm', () => statm(p));
    dir.fileNode('auxv', () => auxv(p), 0o400);
    dir.fileNode('cmdline', () => strings(p, 'args'));
    dir.fileNode('environ', () => strings(p, 'env'), 0o400);
    dir.fileNode('cgroup', () => cgroup());
    dir.fileNode('comm', () => `${p.comm}\n`, 0o644);
    dir.fileNode('mounts', (caller) => formatMounts(caller, p.fs.ns));
    dir.fileNode('mountinfo', (caller) => mountinfo(caller, p.fs.ns));
  }

  /** /proc/PID/fd/N: a magic link to wherever the file was opened, or to the pipe or host fd itself. */
  private fdLink(p: ProcessView, name: string, fdDir: SynthDir): SynthNode | null {
    const file = fileOf(p, name);
    if (file === null) return null;
    const access = file.flags & O_ACCMODE;
    const mode = (access === O_RDONLY ? 0o500 : access === O_WRONLY ? 0o300 : 0o700);
    return new SynthLink(name, fdDir, this.fs, (caller) => {
      const where = file.location;
      if (where === null) return file.describe();
      const path = pathOf(caller, where) ?? pathFrom(null, where) ?? where.dentry.name;
      return where.dentry.deleted ? `${path} (deleted)` : path;
    }, (_caller, self) => {
      // A deleted file cannot be found by its name any more: the open reopens the description itself.
      const where = file.location;
      if (where !== null && !where.dentry.deleted) return where;
      return { mount: self.mount, dentry: new AnonFileNode(self.dentry, this.fs, file) };
    }, fdIno(p, Number(name)), mode);
  }
}

function fileOf(p: ProcessView, name: string): FileDescription | null {
  if (!/^(0|[1-9]\d*)$/.test(name)) return null;
  const file = p.fds.get(Number(name));
  return file instanceof Errno ? null : file;
}

function fdIno(p: ProcessView, fd: number): number {
  return 0x1_0000_0000 + p.id.pid * 0x10000 + fd;
}

/** Where a magic link to a pipe, a host fd or a deleted file leads: the file itself, reopened when opened. */
class AnonFileNode extends SynthNode {
  constructor(parent: Dentry, fs: SyntheticFs, private readonly file: FileDescription) {
    const s = file.stat();
    super(file.describe(), parent, fs, s instanceof Errno ? S_IFLNK : s.mode);
  }
  override stat(): FileStat | Errno {
    return this.file.stat();
  }
  override get anonymous(): boolean {
    return true;
  }
  override get standsFor(): FileDescription {
    return this.file;
  }
  override open(flags: number): FileDescription | Errno {
    return this.file.reopen(flags);
  }
}

function hostFile(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

const kb = (n: number): string => `${String(Math.floor(n / 1024)).padStart(8)} kB`;

/**
 * The host's /proc/cpuinfo cut to the machine's first `cpus` processors, each saying how many the
 * package has now (siblings, cpu cores), as gVisor shows its application cores.
 */
export function cpuinfo(host: string, cpus: number): string {
  const blocks = host.split(/\n\n+/).filter((b) => b.trim() !== '');
  if (blocks.length === 0) return '';
  const kept = blocks.slice(0, Math.min(cpus, blocks.length));
  return kept.map((block) => {
    const field = (name: string): number => Number(new RegExp(`^${name}\\s*: (\\d+)$`, 'm').exec(block)?.[1] ?? 'NaN');
    const siblings = field('siblings');
    const cores = field('cpu cores');
    const perCore = Number.isFinite(siblings) && Number.isFinite(cores) && cores > 0 ? Math.max(1, Math.round(siblings / cores)) : 1;
    return block
      .replace(/^(siblings\s*: )\d+$/m, `$1${kept.length}`)
      .replace(/^(cpu cores\s*: )\d+$/m, `$1${Math.max(1, Math.floor(kept.length / perCore))}`);
  }).join('\n\n') + '\n\n';
}

function formatMounts(caller: FsContext, ns: MountNamespace): string {
  let out = '';
  for (const m of ns.mounts) {
    let where: string | null = '/';
    if (m.parent !== null && m.mountpoint !== null) where = pathOf(caller, { mount: m.parent, dentry: m.mountpoint });
    if (where === null) continue;
    out += `${m.source} ${where} ${m.fs.type} ${m.readOnly ? 'ro' : 'rw'},relatime 0 0\n`;
  }
  return out;
}
