// bench/syscall: the cost of one trapped syscall (getpid), natively and in the sandbox, in one run; and
// of clock_gettime, which the vDSO answers in the guest without a syscall.
//   native      the host kernel
//   kvm-exit    one VM exit per syscall, answered by the TypeScript Sentry
//   kvm         exitless: the stub hands the syscall to the Sentry through the mailbox; the program's
//               call site is rewritten after its first trap to call the stub without trapping
//   kvm, trapped  the same with --no-syscall-patching: every call traps with `syscall`
//   floors      the same two paths answered by the addon in C++ with no TypeScript at all, and the exit
//               path answered by a bare JS loop (the cost of crossing back into JS after an exit)
// The Sentry's own share is each mode minus its floor, measured back to back in each repeat (the host's
// speed drifts by tens of percent within a minute here); every figure is the median over the repeats.
import { readFileSync } from 'node:fs';
import { AddressSpace } from '../src/mm/address-space.js';
import { PageAllocator } from '../src/mm/physical.js';
import { defaultMmapBase, execFileOf, hostAuxv, loadProgram } from '../src/loader/load.js';
import { EventKind, Reg } from '../src/platform/mailbox.js';
import { type Context, KvmPlatform } from '../src/platform/platform.js';
import { benchProgram, median, printTable, runNative, runSandboxed } from './common.js';

const N = Number(process.env.BENCH_SYSCALLS ?? 100_000);
const CLOCK_CALLS = Number(process.env.BENCH_CLOCK_CALLS ?? 1_000_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 9);

function nsPerCall(stdout: string): number {
  const m = /([\d.]+) ns\/call/.exec(stdout);
  if (m === null) throw new Error(`unexpected benchmark output: ${stdout}`);
  return Number(m[1]);
}

/**
 * The platform floor: a libc-free loop of getpid answered by the addon alone, in either mode; or, with
 * `crossing`, answered by the least JavaScript there can be (exit mode), so the cost of returning to
 * JS at all after an exit is told apart from the Sentry's own work.
 */
function floorNs(program: string, mode: 'kvm' | 'kvm-exit', crossing = false): number {
  const memoryBytes = 256 * 1024 * 1024;
  const platform = new KvmPlatform({ memoryBytes, mode, exitlessAfter: 0 });
  try {
    const mm = new AddressSpace(platform.memory, new PageAllocator(platform, platform.reservedBytes, memoryBytes), platform.rootEntries, { mmapBase: defaultMmapBase() });
    const loaded = loadProgram(mm, { execfn: program, file: execFileOf(readFileSync(program), { path: program, dev: 0, ino: 0 }), argv: [program], envp: [], hostAuxv: hostAuxv(), ids: { uid: 0, euid: 0, gid: 0, egid: 0 } });
    const ctx = platform.createContext({ cr3: mm.tables.root, rip: loaded.entry, rsp: loaded.sp, fsBase: 0 });
    const t0 = process.hrtime.bigint();
    const answered = crossing ? answerInJs(ctx, N) : platform.runBare(ctx, N);
    const ns = Number(process.hrtime.bigint() - t0);
    if (answered !== N) throw new Error(`${mode} floor answered ${answered} of ${N} syscalls`);
    return ns / N;
  } finally {
    platform.close();
  }
}

function answerInJs(ctx: Context, limit: number): number {
  let answered = 0;
  while (answered < limit) {
    ctx.vcpu.run();
    const kind = ctx.mailbox.kind;
    if (kind === EventKind.Interrupted) continue;
    if (kind !== EventKind.Syscall) break;
    ctx.mailbox.setReg(Reg.rax, 0);
    answered++;
  }
  return answered;
}

const getpid = benchProgram('getpid');
const loop = benchProgram('getpid-loop', ['-nostdlib']);
const clock = benchProgram('clock_gettime');
const figures = {
  native: [] as number[], exit: [] as number[], exitless: [] as number[], floor: [] as number[], exitlessFloor: [] as number[],
  crossing: [] as number[], trapped: [] as number[], clockNative: [] as number[], clockExitless: [] as number[], clockExit: [] as number[],
  clockNativeSyscall: [] as number[], clockSyscall: [] as number[],
};
for (let i = 0; i < REPEATS; i++) {
  figures.native.push(nsPerCall(runNative(getpid, [String(N)]).stdout));
  figures.exit.push(nsPerCall(runSandboxed(getpid, [String(N)], 'kvm-exit').stdout));
  figures.floor.push(floorNs(loop, 'kvm-exit'));
  figures.crossing.push(floorNs(loop, 'kvm-exit', true));
  figures.exitless.push(nsPerCall(runSandboxed(getpid, [String(N)], 'kvm').stdout));
  figures.trapped.push(nsPerCall(runSandboxed(getpid, [String(N)], 'kvm', ['--no-syscall-patching']).stdout));
  figures.exitlessFloor.push(floorNs(loop, 'kvm'));
  figures.clockNative.push(nsPerCall(runNative(clock, [String(CLOCK_CALLS)]).stdout));
  figures.clockExitless.push(nsPerCall(runSandboxed(clock, [String(CLOCK_CALLS)], 'kvm').stdout));
  figures.clockExit.push(nsPerCall(runSandboxed(clock, [String(CLOCK_CALLS)], 'kvm-exit').stdout));
  figures.clockNativeSyscall.push(nsPerCall(runNative(clock, [String(CLOCK_CALLS / 10), 'syscall']).stdout));
  figures.clockSyscall.push(nsPerCall(runSandboxed(clock, [String(CLOCK_CALLS / 10), 'syscall'], 'kvm').stdout));
}
const share = (sandbox: number[], floor: number[]): number => median(sandbox.map((ns, i) => ns - floor[i]!));
const native = median(figures.native);
const us = (ns: number): string => (ns / 1000).toFixed(2);
const rows: Array<[string, number]> = [
  ['native getpid', native],
  ['sandbox, exitless (kvm)', median(figures.exitless)],
  ['sandbox, exitless, trapped', median(figures.trapped)],
  ['sandbox, VM exit (kvm-exit)', median(figures.exit)],
  ['exit floor (addon only)', median(figures.floor)],
  ['exit floor + bare JS answer', median(figures.crossing)],
  ['exitless floor (addon only)', median(figures.exitlessFloor)],
];
console.log(`bench/syscall: ${N} getpid calls, median of ${REPEATS} runs`);
printTable(['path', 'us/call', 'x native'], rows.map(([name, ns]) => [name, us(ns), (ns / native).toFixed(1)]));
const clockNative = median(figures.clockNative);
const clockRows: Array<[string, number]> = [
  ['native clock_gettime (host vDSO)', clockNative],
  ['sandbox clock_gettime (vDSO), kvm', median(figures.clockExitless)],
  ['sandbox clock_gettime (vDSO), kvm-exit', median(figures.clockExit)],
  ['native, as a syscall', median(figures.clockNativeSyscall)],
  ['sandbox, as a syscall (kvm, trapped)', median(figures.clockSyscall)],
];
console.log(`\nbench/syscall: ${CLOCK_CALLS} clock_gettime(CLOCK_MONOTONIC) calls, median of ${REPEATS} runs`);
printTable(['path', 'ns/call', 'x native'], clockRows.map(([name, ns]) => [name, ns.toFixed(1), (ns / clockNative).toFixed(2)]));
console.log('');
console.log(`Returning to JavaScript after an exit, with no Sentry work: ${us(share(figures.crossing, figures.floor))} us`);
console.log(`Sentry share: exit path ${us(share(figures.exit, figures.floor))} us, exitless ${us(share(figures.trapped, figures.exitlessFloor))} us (sandbox minus the floor of the same mode, median of the per-run differences; the floors trap)`);
