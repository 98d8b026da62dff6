// The files of /proc/PID that describe a process rather than its files: status, stat, statm, auxv,
// cmdline, environ, cgroup, mountinfo and maps, in Linux's formats (fs/proc/array.c, task_mmu.c,
// base.c, proc_namespace.c). Memory figures come from the address space (mm/usage.ts), the arguments,
// environment and auxiliary vector from what exec left there, CPUs from the machine.
import { readFileSync } from 'node:fs';
import { Errno } from '../abi/errno.js';
import { memoryUsage } from '../mm/usage.js';
import type { ProcSystem } from './proc-system.js';
import { pathOf } from './walk.js';
import type { FsContext, MemoryArea, MountNamespace, ProcessView } from './vfs.js';

const PAGE = 4096;
/** Clock ticks per second of /proc/PID/stat's times (USER_HZ). */
const USER_HZ = 100n;
/** Linux reads at most this much of a process's arguments or environment in one go; enough here. */
const MAX_STRINGS = 2 * 1024 * 1024;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
const kb = (bytes: number): string => `${String(Math.floor(bytes / 1024)).padStart(8)} kB`;

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

/** The CPUs a process may run on, as a mask. */
function allowedCpus(p: ProcessView, system: ProcSystem): bigint {
  return p.cpuAffinity ?? (1n << BigInt(system.cpus)) - 1n;
}

/** A CPU list as Linux prints one ("0-3,6"). */
export function cpuList(mask: bigint): string {
  const parts: string[] = [];
  for (let cpu = 0; mask >> BigInt(cpu) !== 0n;) {
    if (((mask >> BigInt(cpu)) & 1n) === 0n) { cpu++; continue; }
    let last = cpu;
    while (((mask >> BigInt(last + 1)) & 1n) !== 0n) last++;
    parts.push(last === cpu ? String(cpu) : `${cpu}-${last}`);
    cpu = last + 1;
  }
  return parts.join(',');
}

/**
 * A bitmap of nbits as Linux's "%*pb" prints it: 32-bit chunks in hex, highest first, comma separated;
 * the highest chunk has only the digits its bits need.
 */
export function bitmapHex(mask: bigint, nbits: number): string {
  const chunks = Math.max(1, Math.ceil(nbits / 32));
  const words: string[] = [];
  for (let i = chunks - 1; i >= 0; i--) {
    const bits = i === chunks - 1 ? nbits - 32 * i : 32;
    words.push(((mask >> BigInt(32 * i)) & 0xffff_ffffn).toString(16).padStart(Math.ceil(bits / 4), '0'));
  }
  return words.join(',');
}

/** MAX_NUMNODES of Debian's kernels (NODES_SHIFT 10): the width of Mems_allowed. */
const MAX_NUMNODES = 1024;

/** Every capability, as a capability set in /proc/PID/status. */
function allCapabilities(): string {
  const last = Number(readHostText('/proc/sys/kernel/cap_last_cap', '40').trim());
  return hex(2 ** (last + 1) - 1, 16);
}

const NO_CAPABILITIES = '0000000000000000';

function readHostText(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return fallback;
  }
}

/** /proc/PID/status (fs/proc/array.c proc_pid_status), the fields the Sentry knows. */
export function status(p: ProcessView, system: ProcSystem): string {
  const { pid, ppid, uid, gid, euid, suid, egid, sgid } = p.id;
  const u = memoryUsage(p.mm);
  // The sandbox's root may do anything inside; leaving uid 0 drops the capabilities as Linux's
  // cap_emulate_setxuid does (effective with euid, permitted once no id is 0); the bound stays.
  const all = allCapabilities();
  const permitted = uid === 0 || euid === 0 || suid === 0 ? all : NO_CAPABILITIES;
  const effective = euid === 0 ? all : NO_CAPABILITIES;
  const allowed = allowedCpus(p, system);
  const lines = [
    `Name:\t${p.comm}`, `Umask:\t${p.fs.umask.toString(8).padStart(4, '0')}`, `State:\t${p.zombie ? 'Z (zombie)' : p.stopped ? 'T (stopped)' : p.sleeping ? 'S (sleeping)' : 'R (running)'}`, `Tgid:\t${pid}`,
    'Ngid:\t0', `Pid:\t${p.id.tid}`, `PPid:\t${ppid}`, 'TracerPid:\t0', `Uid:\t${uid}\t${euid}\t${suid}\t${euid}`,
    `Gid:\t${gid}\t${egid}\t${sgid}\t${egid}`, 'FDSize:\t64', `Groups:\t${p.groups.join(' ')} `, `NStgid:\t${pid}`, `NSpid:\t${p.id.tid}`,
    `NSpgid:\t${p.pgid}`, `NSsid:\t${p.sid}`, 'Kthread:\t0',
    `VmPeak:\t${kb(u.peak)}`, `VmSize:\t${kb(u.size)}`, `VmLck:\t${kb(0)}`, `VmPin:\t${kb(0)}`,
    `VmRSS:\t${kb(u.rss)}`, `RssAnon:\t${kb(u.rssAnon)}`, `RssFile:\t${kb(u.rssFile)}`,
    `RssShmem:\t${kb(u.rssShmem)}`, `VmData:\t${kb(u.data)}`, `VmStk:\t${kb(u.stack)}`, `VmExe:\t${kb(u.exe)}`,
    `VmLib:\t${kb(u.lib)}`, `VmSwap:\t${kb(0)}`, `HugetlbPages:\t${kb(0)}`, 'CoreDumping:\t0', 'THP_enabled:\t1',
    'untag_mask:\t0xffffffffffffffff', `Threads:\t${p.threads}`, 'SigQ:\t0/63432',
    `CapInh:\t0000000000000000`, `CapPrm:\t${permitted}`, `CapEff:\t${effective}`, `CapBnd:\t${all}`, 'CapAmb:\t0000000000000000',
    'NoNewPrivs:\t0', 'Seccomp:\t0', 'Seccomp_filters:\t0',
    `Cpus_allowed:\t${bitmapHex(allowed, system.cpus)}`, `Cpus_allowed_list:\t${cpuList(allowed)}`,
    `Mems_allowed:\t${bitmapHex(1n, MAX_NUMNODES)}`, 'Mems_allowed_list:\t0',
    'voluntary_ctxt_switches:\t0', 'nonvoluntary_ctxt_switches:\t0',
  ];
  return lines.join('\n') + '\n';
}

/**
 * /proc/PID/stat (or, thread, /proc/PID/task/TID/stat): proc(5)'s 52 fields; what the Sentry does not
 * track (the children's faults, among others) is 0.
 */
export function statLine(p: ProcessView, system: ProcSystem, startedNs: bigint, thread: boolean): string {
  const u = memoryUsage(p.mm);
  const exec = p.mm.exec;
  const fields: Array<number | string | bigint> = new Array<number | string | bigint>(52).fill(0);
  fields[0] = p.id.tid;
  fields[1] = `(${p.comm})`;
  fields[2] = p.zombie ? 'Z' : p.stopped ? 'T' : p.sleeping ? 'S' : 'R';
  fields[3] = p.id.ppid;
  fields[4] = p.pgid;
  fields[5] = p.sid;
  fields[7] = -1; // tpgid: no controlling terminal's foreground group
  fields[8] = p.mm.layout.randomize === true ? 0x400000 : 0; // PF_RANDOMIZE
  fields[9] = p.mm.faults; // minflt
  // utime, stime, cutime, cstime in clock ticks.
  p.cpuTimes(thread).forEach((ns, i) => { fields[13 + i] = ns * USER_HZ / 1_000_000_000n; });
  fields[17] = 20; // priority
  fields[19] = p.threads;
  // starttime: clock ticks from the sandbox's boot to the process's start.
  fields[21] = (startedNs - system.bootNs) * USER_HZ / 1_000_000_000n;
  fields[22] = u.size; // vsize
  fields[23] = u.rss / PAGE; // rss
  fields[24] = '18446744073709551615'; // rsslim: RLIM_INFINITY
  if (exec !== null) {
    fields[25] = exec.startCode;
    fields[26] = exec.endCode;
    fields[27] = exec.startStack;
    fields[44] = exec.startData;
    fields[45] = exec.endData;
    fields[46] = p.mm.brkStart;
    fields[47] = exec.argStart;
    fields[48] = exec.argEnd;
    fields[49] = exec.envStart;
    fields[50] = exec.envEnd;
  }
  fields[37] = 17; // exit_signal: SIGCHLD
  return fields.join(' ') + '\n';
}

/** /proc/PID/statm: sizes in pages (size resident shared text lib data dt). */
export function statm(p: ProcessView): string {
  const u = memoryUsage(p.mm);
  const pages = (n: number): number => Math.floor(n / PAGE);
  return `${pages(u.size)} ${pages(u.rss)} ${pages(u.rssFile + u.rssShmem)} ${pages(u.exe)} 0 ${pages(u.data + u.stack)} 0\n`;
}

/** /proc/PID/auxv: the auxiliary vector exec gave the program, AT_NULL included, as 64-bit pairs. */
export function auxv(p: ProcessView): Uint8Array {
  const pairs = p.mm.exec?.auxv ?? [];
  const out = new Uint8Array(pairs.length * 16);
  const v = new DataView(out.buffer);
  pairs.forEach(([type, value], i) => {
    v.setBigUint64(i * 16, BigInt(type), true);
    v.setBigUint64(i * 16 + 8, BigInt(value), true);
  });
  return out;
}

/** /proc/PID/cmdline and environ: the strings as they are now in the process's memory. */
export function strings(p: ProcessView, which: 'args' | 'env'): Uint8Array | Errno {
  const exec = p.mm.exec;
  if (exec === null) return new Uint8Array(0);
  const [start, end] = which === 'args' ? [exec.argStart, exec.argEnd] : [exec.envStart, exec.envEnd];
  const out = new Uint8Array(Math.min(MAX_STRINGS, Math.max(0, end - start)));
  const n = p.mm.copyIn(start, out);
  return n instanceof Errno ? new Uint8Array(0) : out.subarray(0, n);
}

/** /proc/PID/cgroup: cgroup v2 only, and the sandbox is the root of its cgroup namespace. */
export function cgroup(): string {
  return '0::/\n';
}

/** /proc/PID/mountinfo (proc_namespace.c show_mountinfo): ids, device, root, mount point, options. */
export function mountinfo(caller: FsContext, ns: MountNamespace): string {
  const ids = new Map(ns.mounts.map((m, i) => [m, i + 1]));
  let out = '';
  for (const m of ns.mounts) {
    let where: string | null = '/';
    if (m.parent !== null && m.mountpoint !== null) where = pathOf(caller, { mount: m.parent, dentry: m.mountpoint });
    if (where === null) continue;
    const dev = m.fs.dev;
    const major = (dev >> 8) & 0xfff;
    const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    const parent = m.parent === null ? ids.get(m)! : ids.get(m.parent) ?? 0;
    const rw = m.readOnly ? 'ro' : 'rw';
    out += `${ids.get(m)} ${parent} ${major}:${minor} / ${escapeMountPath(where)} ${rw},relatime - ${m.fs.type} ${m.source} ${rw}\n`;
  }
  return out;
}

/** Spaces, tabs, newlines and backslashes in mount paths are octal escapes, as seq_path_root makes them. */
function escapeMountPath(path: string): string {
  return path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}
