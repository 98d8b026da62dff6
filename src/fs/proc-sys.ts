// /proc/sys: the kernel parameters programs read at start-up (sysctl(8) names), with the values this
// sandbox has. Read-only, as a sandbox cannot tune the kernel it runs on, but for the sysctls of its
// own network namespace (net.ipv4.ip_local_port_range, ip_unprivileged_port_start), which root may set.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { PIPE_MAX_SIZE } from './pipe.js';
import type { ProcSystem } from './proc-system.js';
import type { SynthDir } from './synthetic.js';

function hostValue(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return fallback;
  }
}

export function buildProcSys(sys: SynthDir, system: ProcSystem): void {
  const kernel = sys.dirNode('kernel');
  kernel.fileNode('osrelease', () => `${release()}\n`);
  kernel.fileNode('ostype', () => 'Linux\n');
  // uname(2)'s version field says the same.
  kernel.fileNode('version', () => '#1 SMP tsvisor\n');
  kernel.fileNode('hostname', () => `${system.hostname}\n`);
  kernel.fileNode('domainname', () => '(none)\n');
  kernel.fileNode('pid_max', () => '4194304\n');
  kernel.fileNode('threads-max', () => `${Math.max(20, Math.floor(system.memoryBytes / (8 * 16384)))}\n`);
  kernel.fileNode('ngroups_max', () => '65536\n');
  // The last capability this kernel knows, as the host's: libcap and capsh read it.
  kernel.fileNode('cap_last_cap', () => hostValue('/proc/sys/kernel/cap_last_cap', '40\n'));
  kernel.fileNode('overflowuid', () => '65534\n');
  kernel.fileNode('overflowgid', () => '65534\n');
  // 2 (full randomisation) unless the reader's own address space was laid out without ASLR.
  kernel.fileNode('randomize_va_space', (caller) => (caller.process?.mm.layout.randomize === false ? '0\n' : '2\n'));
  kernel.fileNode('tainted', () => '0\n');
  const bootId = randomUUID();
  const random = kernel.dirNode('random');
  random.fileNode('boot_id', () => `${bootId}\n`);
  random.fileNode('uuid', () => `${randomUUID()}\n`);
  // getrandom(2) never blocks here: the host's pool is always ready.
  random.fileNode('entropy_avail', () => '256\n');
  random.fileNode('poolsize', () => '256\n');

  const vm = sys.dirNode('vm');
  // Heuristic overcommit: mmap reserves address space, and memory is committed only when touched.
  vm.fileNode('overcommit_memory', () => '0\n');
  vm.fileNode('overcommit_ratio', () => '50\n');
  // mmap refuses addresses below this without MAP_FIXED privileges (src/mm MMAP_MIN_ADDR).
  vm.fileNode('mmap_min_addr', () => '65536\n');
  // memfd_create's files may be executable unless MFD_NOEXEC_SEAL asks otherwise.
  vm.fileNode('memfd_noexec', () => '0\n');

  const fs = sys.dirNode('fs');
  // F_SETPIPE_SZ grows a pipe past this only with CAP_SYS_RESOURCE.
  fs.fileNode('pipe-max-size', () => `${PIPE_MAX_SIZE}\n`);

  const net = system.net;
  const ipv4 = sys.dirNode('net').dirNode('ipv4');
  // A write of one value sets the low end only, as proc_dointvec leaves the rest.
  ipv4.sysctlNode('ip_local_port_range', 2, () => net.localPortRange(), (v) => {
    const [low, high] = net.localPortRange();
    return net.setLocalPortRange(v[0] ?? low, v[1] ?? high);
  });
  ipv4.sysctlNode('ip_unprivileged_port_start', 1, () => [net.unprivilegedPortStart], (v) => net.setUnprivilegedPortStart(v[0]!));
}
