// --stats: what the sandbox cost, printed to stderr at exit, as lines for people or (--stats=json) one
// JSON object with per-syscall counts and latency histograms and the start-up phases.
import { readFileSync } from 'node:fs';
import type { SyscallStats } from '../kernel/syscall-stats.js';
import { stderrSink } from '../log/stderr.js';
import type { SandboxResult, StartupTimes } from '../sandbox/sandbox.js';

const MIB = 1024 * 1024;

export function printStats(result: SandboxResult): void {
  const mib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`;
  const lines = [
    `host flavour            ${result.flavour}`,
    `platform                ${platformLine(result.platform)}`,
    `syscalls                ${result.kernel.syscalls}`,
    `vDSO clocks             ${result.vdso}`,
    `syscall sites patched   ${result.kernel.syscallSitesPatched}`,
    `page faults served      ${result.kernel.faults}${result.paging.spuriousFaults > 0 ? ` (${result.paging.spuriousFaults} on pages already mapped)` : ''}`,
    `page-table updates      ${result.kernel.pageTableUpdates} (${result.paging.replayed} replayed by the guest at CPL 0)`,
    `2 MiB pages mapped      ${result.paging.hugePages} (and ${result.paging.collapses} slots of 4 KiB pages collapsed)`,
    `TLB shootdowns          ${result.flavour === 'pvm' ? 'none needed (KVM\'s shadow page tables)' : `${result.kernel.tlbShootdowns} (${result.kernel.tlbShootdownsWaited} waited for a vCPU in user code)`}`,
    `guest memory peak       ${mib(result.memory.peakCommittedBytes)}`,
    `guest memory at exit    ${mib(result.memory.committedBytes)}`,
    `returned to the host    ${mib(result.memory.returnedBytes)}`,
    `page cache at exit      ${mib(result.pageCache.pages * 4096)} (${result.pageCache.reads} pages read, ${result.pageCache.evicted} evicted; dropped before the line above)`,
    `Sentry RSS              ${sentryRss(mib)}`,
    ...startupLines(result.startup),
  ];
  stderrSink.write(lines.map((l) => `tsvisor stats: ${l}\n`).join(''));
}

function platformLine(p: SandboxResult['platform']): string {
  if (p.mode === 'kvm-exit') return `kvm-exit (${p.exitEvents} events, each a VM exit)`;
  if (p.exitlessSince < 0) return `kvm, with VM exits to the end (${p.exitEvents} events; see --exitless-after)`;
  return `kvm, exitless from ${p.exitlessSince.toFixed(1)} ms (after ${p.exitEvents} events with VM exits)`;
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
    platform: { exit_events: result.platform.exitEvents, exitless_since_ms: result.platform.exitlessSince < 0 ? null : Math.round(result.platform.exitlessSince * 1000) / 1000 },
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
      page_cache: { at_exit_bytes: result.pageCache.pages * 4096, pages_read: result.pageCache.reads, pages_evicted: result.pageCache.evicted },
    },
    tasks: { created: result.kernel.tasksCreated, vcpu_contexts: result.kernel.contexts },
    tlb_shootdowns: { total: result.kernel.tlbShootdowns, waited: result.kernel.tlbShootdownsWaited },
    phases_ms: {
      cli: round(phases.cliMs), sandbox_setup: round(phases.sandboxSetupMs), program: round(phases.programMs), teardown: round(phases.teardownMs),
    },
    // Each start-up step's end, in milliseconds since the process started (the text form's "start:" lines).
    startup_ms: Object.fromEntries(Object.entries(result.startup).map(([step, ms]) => [step.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), round(ms)])),
  };
  stderrSink.write(`${JSON.stringify(report)}\n`);
}

/**
 * The Sentry's resident memory, and how much of it is guest memory (the memfd's pages, RssShmem) and
 * how much its own (RssAnon: the V8 heap, the addon's and Node.js's allocations; RssFile: the node
 * binary and libraries, shared with every other Node.js process).
 */
function sentryRss(mib: (n: number) => string): string {
  const total = process.memoryUsage.rss();
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return mib(total);
  }
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return `${mib(total)} (guest memory ${mib(kib('RssShmem'))}, its own ${mib(kib('RssAnon'))}, code and files ${mib(kib('RssFile'))})`;
}

/**
 * The start, as milliseconds since the process started: each step's end, and what it took after the
 * step before (the VM's creation and the Gofer's start overlap: their own durations are given).
 */
function startupLines(t: StartupTimes): string[] {
  const ms = (n: number): string => `${n.toFixed(1)} ms`;
  const step = (name: string, at: number, before: number, note = ''): string =>
    `${`start: ${name}`.padEnd(24)}${ms(at)} (+${ms(Math.max(0, at - before))}${note})`;
  return [
    step('Node.js ready', t.nodeReady, 0),
    step('modules loaded', t.modulesLoaded, t.nodeReady),
    step('VM created', t.vmCreated, t.modulesLoaded, `; creating it ${ms(t.vmCreateMs)}`),
    step('Gofer ready', t.goferReady, t.vmCreated, `; waited for it ${ms(t.goferWaitMs)}`),
    step('program loaded', t.programLoaded, t.goferReady),
    ...(t.firstSyscall > 0 ? [step('first syscall', t.firstSyscall, t.programLoaded)] : []),
    step('exit', t.exited, t.firstSyscall > 0 ? t.firstSyscall : t.programLoaded),
  ];
}
