// --stats: what the sandbox cost, printed to stderr at exit, as lines for people or (--stats=json) one
// JSON object with per-syscall counts and latency histograms and the start-up phases.
import type { SyscallStats } from '../kernel/syscall-stats.js';
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

/** Milliseconds of each start-up phase and of the run, as the CLI saw them. */
export interface RunPhases {
  /** From the process's start to the sandbox being asked for (Node.js, module loading, option checks). */
  cliMs: number;
  /** From there to the program's first syscall (Gofer, VM, loader, vDSO). */
  sandboxSetupMs: number | null;
  /** From the first syscall to the program's end. */
  programMs: number | null;
  /** From the program's end to the result (tearing down the VM and the Gofer). */
  teardownMs: number;
}

/** --stats=json: one JSON object on stderr, for scripts. */
export function printStatsJson(result: SandboxResult, mode: string, syscalls: SyscallStats, phases: RunPhases): void {
  const round = (ms: number | null): number | null => (ms === null ? null : Math.round(ms * 1000) / 1000);
  const report = {
    flavour: result.flavour,
    mode,
    vdso: result.vdso,
    exit: result.exit,
    syscalls: { total: result.kernel.syscalls, by_name: syscalls.figures() },
    syscall_sites_patched: result.kernel.syscallSitesPatched,
    page_faults: { served: result.kernel.faults, on_pages_already_mapped: result.paging.spuriousFaults },
    page_tables: {
      updates: result.kernel.pageTableUpdates, entries_written: result.paging.tableWrites, replayed_by_guest: result.paging.replayed,
      tables_replaced: result.paging.replacements, huge_pages_mapped: result.paging.hugePages, slots_collapsed: result.paging.collapses,
    },
    memory: {
      guest_peak_bytes: result.memory.peakCommittedBytes, guest_at_exit_bytes: result.memory.committedBytes,
      returned_to_host_bytes: result.memory.returnedBytes, sentry_rss_bytes: process.memoryUsage.rss(),
    },
    tasks: { created: result.kernel.tasksCreated, vcpu_contexts: result.kernel.contexts },
    phases_ms: {
      cli: round(phases.cliMs), sandbox_setup: round(phases.sandboxSetupMs), program: round(phases.programMs), teardown: round(phases.teardownMs),
    },
  };
  stderrSink.write(`${JSON.stringify(report)}\n`);
}
