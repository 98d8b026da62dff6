// --stats: what the sandbox cost, printed to stderr at exit.
import { stderrSink } from '../log/stderr.js';
import type { SandboxResult } from '../sandbox/sandbox.js';

const MIB = 1024 * 1024;

export function printStats(result: SandboxResult): void {
  const mib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`;
  const lines = [
    `host flavour            ${result.flavour}`,
    `syscalls                ${result.kernel.syscalls}`,
    `vDSO clocks             ${result.vdso}`,
    `syscall sites patched   ${result.kernel.syscallSitesPatched}`,
    `page faults served      ${result.kernel.faults}${result.paging.spuriousFaults > 0 ? ` (${result.paging.spuriousFaults} on pages already mapped)` : ''}`,
    `page-table updates      ${result.kernel.pageTableUpdates} (${result.paging.replayed} replayed by the guest at CPL 0)`,
    `2 MiB pages mapped      ${result.paging.hugePages} (and ${result.paging.collapses} slots of 4 KiB pages collapsed)`,
    `guest memory peak       ${mib(result.memory.peakCommittedBytes)}`,
    `guest memory at exit    ${mib(result.memory.committedBytes)}`,
    `returned to the host    ${mib(result.memory.returnedBytes)}`,
    `Sentry RSS              ${mib(process.memoryUsage.rss())}`,
  ];
  stderrSink.write(lines.map((l) => `tsvisor stats: ${l}\n`).join(''));
}
