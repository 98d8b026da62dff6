// /proc: per-process directories (exe, cwd, root, fd/, fdinfo/, maps, status, stat, comm, mounts) for
// the processes the kernel registers, /proc/self, and the system files programs read at start-up
// (cpuinfo, meminfo, mounts, uptime, version, filesystems, sys/kernel). Contents are generated when a
// file is opened; what a process shows comes from the ProcessView the kernel implements.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { ENOENT, Errno } from '../abi/errno.js';
import { DT_DIR, DT_LNK, DT_REG, O_ACCMODE, O_RDONLY, O_WRONLY, PROC_SUPER_MAGIC, S_IFLNK } from '../abi/fcntl.js';
import { SynthDir, SynthFile, SynthLink, SynthNode, SyntheticFs } from './synthetic.js';
import { pathFrom, pathOf, resolve } from './walk.js';
import {
  Dentry, type FileDescription, type FileStat, type FsContext, type MemoryArea, type MountNamespace,
  type ProcessView,
} from './vfs.js';

/** What /proc reports about the machine. */
export interface ProcSystem {
  memoryBytes: number;
  committedBytes(): number;
}

const startNs = process.hrtime.bigint();

export class Procfs {
  readonly fs = new SyntheticFs('proc', PROC_SUPER_MAGIC);
  readonly root: SynthDir;
  private readonly processes = new Map<number, { view: ProcessView; dir: SynthDir }>();

  constructor(private readonly system: ProcSystem) {
    this.root = new SynthDir('/', null, this.fs, {
      list: () => [...this.processes.keys()].map((pid) => ({ name: String(pid), ino: this.processes.get(pid)!.dir.ino, type: DT_DIR })),
      lookup: (name) => (/^[1-9]\d*$/.test(name) ? this.processes.get(Number(name))?.dir ?? null : null),
    });
    const root = this.root;
    root.symlinkNode('self', (caller) => (caller.process === null ? ENOENT : String(caller.process.id.pid)));
    root.symlinkNode('mounts', () => 'self/mounts');
    root.fileNode('cpuinfo', () => hostFile('/proc/cpuinfo'));
    root.fileNode('meminfo', () => this.meminfo());
    root.fileNode('uptime', () => {
      const s = Number(process.hrtime.bigint() - startNs) / 1e9;
      return `${s.toFixed(2)} ${s.toFixed(2)}\n`;
    });
    root.fileNode('version', () => `Linux version ${release()} (tsvisor) #1 SMP\n`);
    root.fileNode('loadavg', () => `0.00 0.00 0.00 1/${this.processes.size} ${Math.max(0, ...this.processes.keys())}\n`);
    root.fileNode('filesystems', () => 'nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\toverlay\nnodev\t9p\n');
    const kernel = root.dirNode('sys').dirNode('kernel');
    kernel.fileNode('osrelease', () => `${release()}\n`);
    kernel.fileNode('ostype', () => 'Linux\n');
    kernel.fileNode('pid_max', () => '4194304\n');
    kernel.fileNode('ngroups_max', () => '65536\n');
    root.dirNode('sys').dirNode('vm').fileNode('overcommit_memory', () => '0\n');
  }

  register(view: ProcessView): void {
    this.processes.set(view.id.pid, { view, dir: this.processDir(view) });
  }

  unregister(pid: number): void {
    this.processes.delete(pid);
  }

  private meminfo(): string {
    const kb = (n: number): string => `${String(Math.floor(n / 1024)).padStart(8)} kB`;
    const total = this.system.memoryBytes;
    const free = Math.max(0, total - this.system.committedBytes());
    const rows: Array<[string, number]> = [
      ['MemTotal', total], ['MemFree', free], ['MemAvailable', free], ['Buffers', 0], ['Cached', 0],
      ['SwapCached', 0], ['Active', total - free], ['Inactive', 0], ['SwapTotal', 0], ['SwapFree', 0],
      ['Shmem', 0], ['Mapped', 0], ['CommitLimit', total], ['Committed_AS', total - free],
    ];
    return rows.map(([k, v]) => `${(k + ':').padEnd(16)}${kb(v)}\n`).join('');
  }

  private processDir(p: ProcessView): SynthDir {
    const dir = new SynthDir(String(p.id.pid), this.root, this.fs);
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
    dir.fileNode('status', () => status(p));
    dir.fileNode('stat', () => statLine(p));
    dir.fileNode('comm', () => `${p.comm}\n`, 0o644);
    dir.fileNode('mounts', (caller) => formatMounts(caller, p.fs.ns));
    return dir;
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

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** /proc/PID/maps lines, padded as Linux's show_map_vma does (name from column 73). */
export function formatMaps(areas: readonly MemoryArea[]): string {
  let out = '';
  for (const a of areas) {
    const perms = `${a.prot & 1 ? 'r' : '-'}${a.prot & 2 ? 'w' : '-'}${a.prot & 4 ? 'x' : '-'}${a.shared ? 's' : 'p'}`;
    const major = (a.dev >> 8) & 0xfff;
    const minor = (a.dev & 0xff) | ((a.dev >> 12) & 0xfff00);
    let line = `${hex(a.start, 8)}-${hex(a.end, 8)} ${perms} ${hex(a.offset, 8)} ${hex(major, 2)}:${hex(minor, 2)} ${a.ino} `;
    if (a.name !== '') line = line.padEnd(72) + ' ' + a.name;
    out += line + '\n';
  }
  return out;
}

function status(p: ProcessView): string {
  const vmSize = p.memoryMap().reduce((n, a) => n + (a.end - a.start), 0);
  const { pid, ppid, uid, gid } = p.id;
  return [
    `Name:\t${p.comm}`, `Umask:\t${p.fs.umask.toString(8).padStart(4, '0')}`, 'State:\tR (running)', `Tgid:\t${pid}`,
    'Ngid:\t0', `Pid:\t${pid}`, `PPid:\t${ppid}`, 'TracerPid:\t0', `Uid:\t${uid}\t${uid}\t${uid}\t${uid}`,
    `Gid:\t${gid}\t${gid}\t${gid}\t${gid}`, 'FDSize:\t64', 'Groups:\t', `VmSize:\t${String(vmSize / 1024).padStart(8)} kB`,
    'Threads:\t1', 'SigQ:\t0/63432', 'CapInh:\t0000000000000000', 'Seccomp:\t0', 'voluntary_ctxt_switches:\t0',
    'nonvoluntary_ctxt_switches:\t0',
  ].join('\n') + '\n';
}

/** /proc/PID/stat: the fields of proc(5) that the Sentry knows; the others are 0. */
function statLine(p: ProcessView): string {
  const fields = new Array<number | string>(52).fill(0);
  fields[0] = p.id.pid;
  fields[1] = `(${p.comm})`;
  fields[2] = 'R';
  fields[3] = p.id.ppid;
  fields[4] = p.id.pid;
  fields[5] = p.id.pid;
  fields[19] = 1;
  fields[22] = p.memoryMap().reduce((n, a) => n + (a.end - a.start), 0);
  return fields.join(' ') + '\n';
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
