// /sys, minimal: what libc and runtimes read to size themselves (the CPU lists that get_nprocs and
// sysconf(_SC_NPROCESSORS_*) parse), and the empty directories programs probe.
import { cpus } from 'node:os';
import { SYSFS_MAGIC } from '../abi/fcntl.js';
import { SynthDir, SyntheticFs } from './synthetic.js';

export function buildSysfs(): { fs: SyntheticFs; root: SynthDir } {
  const fs = new SyntheticFs('sysfs', SYSFS_MAGIC);
  const root = new SynthDir('/', null, fs);
  const count = Math.max(1, cpus().length);
  const range = count === 1 ? '0\n' : `0-${count - 1}\n`;
  const cpu = root.dirNode('devices').dirNode('system').dirNode('cpu');
  for (const name of ['online', 'possible', 'present']) cpu.fileNode(name, () => range);
  for (let i = 0; i < count; i++) cpu.dirNode(`cpu${i}`);
  root.dirNode('fs');
  root.dirNode('kernel');
  root.dirNode('class');
  root.dirNode('bus');
  return { fs, root };
}
