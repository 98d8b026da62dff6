// /sys, minimal: what libc and runtimes read to size themselves (the CPU lists that get_nprocs and
// sysconf(_SC_NPROCESSORS_*) parse, for the machine's CPUs), the empty directories programs probe, and
// /sys/fs/cgroup, a cgroup2 filesystem of its own (cgroup.ts) mounted there.
import { SYSFS_MAGIC } from '../abi/fcntl.js';
import type { ProcSystem } from './proc-system.js';
import { SynthDir, SyntheticFs } from './synthetic.js';

export function buildSysfs(system: ProcSystem): { fs: SyntheticFs; root: SynthDir } {
  const fs = new SyntheticFs('sysfs', SYSFS_MAGIC);
  const root = new SynthDir('/', null, fs);
  const count = system.cpus;
  const range = count === 1 ? '0\n' : `0-${count - 1}\n`;
  const cpu = root.dirNode('devices').dirNode('system').dirNode('cpu');
  for (const name of ['online', 'possible', 'present']) cpu.fileNode(name, () => range);
  cpu.fileNode('offline', () => '\n');
  for (let i = 0; i < count; i++) cpu.dirNode(`cpu${i}`);
  // The mount point of the cgroup filesystem.
  root.dirNode('fs').dirNode('cgroup');
  root.dirNode('kernel');
  root.dirNode('class');
  root.dirNode('bus');
  return { fs, root };
}
