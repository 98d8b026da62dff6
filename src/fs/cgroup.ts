// /sys/fs/cgroup: the sandbox as the root of its own cgroup v2 namespace (as a container with a cgroup
// namespace sees itself), showing the limits it really has: the guest memory (memory.max), the CPUs
// of --cpus (cpu.max, cpuset.cpus.effective), and its processes. Runtimes that look for cgroup limits
// (the JVM, Go, Node.js's libuv, .NET) find them here through /proc/self/cgroup ("0::/") and
// /proc/self/mountinfo. Read-only: the sandbox cannot create child groups or change its limits.
import { CGROUP2_SUPER_MAGIC } from '../abi/fcntl.js';
import { cpuList } from './proc-process.js';
import type { ProcSystem } from './proc-system.js';
import { SynthDir, SyntheticFs } from './synthetic.js';

/** cpu.max's period, in microseconds (the kernel's default). */
const CPU_PERIOD_US = 100_000;

export function buildCgroupFs(system: ProcSystem, pids: () => number[]): { fs: SyntheticFs; root: SynthDir } {
  const fs = new SyntheticFs('cgroup2', CGROUP2_SUPER_MAGIC);
  const root = new SynthDir('/', null, fs);
  const procs = (): string => pids().map((pid) => `${pid}\n`).join('');
  const cpus = cpuList((1n << BigInt(system.cpus)) - 1n);
  root.fileNode('cgroup.controllers', () => 'cpuset cpu memory pids\n');
  root.fileNode('cgroup.subtree_control', () => '\n');
  root.fileNode('cgroup.type', () => 'domain\n');
  root.fileNode('cgroup.procs', procs);
  root.fileNode('cgroup.threads', procs);
  root.fileNode('cgroup.events', () => `populated ${pids().length > 0 ? 1 : 0}\nfrozen 0\n`);
  root.fileNode('cgroup.max.depth', () => 'max\n');
  root.fileNode('cgroup.max.descendants', () => 'max\n');
  root.fileNode('cpu.max', () => (system.cpusLimited ? `${system.cpus * CPU_PERIOD_US} ${CPU_PERIOD_US}\n` : `max ${CPU_PERIOD_US}\n`));
  root.fileNode('cpu.weight', () => '100\n');
  root.fileNode('cpuset.cpus.effective', () => `${cpus}\n`);
  root.fileNode('cpuset.mems.effective', () => '0\n');
  root.fileNode('memory.max', () => `${system.memoryBytes}\n`);
  root.fileNode('memory.current', () => `${system.committedBytes()}\n`);
  root.fileNode('memory.high', () => 'max\n');
  root.fileNode('memory.low', () => '0\n');
  root.fileNode('memory.min', () => '0\n');
  // No swap: nothing of the guest is ever swapped out.
  root.fileNode('memory.swap.max', () => '0\n');
  root.fileNode('memory.swap.current', () => '0\n');
  root.fileNode('pids.max', () => 'max\n');
  root.fileNode('pids.current', () => `${pids().length}\n`);
  return { fs, root };
}
