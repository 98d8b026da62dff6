// Memory behaviour against the host kernel: each test/guest/mem_*.c program runs natively and in the
// sandbox, on both platform modes, and must print the same and end the same. Where a program prints an
// address (random with ASLR), the sandbox's one-line signal report must name the address it printed.
// Also: the sandbox's host RSS after 256 MiB is freed, the layout with and without ASLR, and --stats.
import test from 'ava';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { guestBuildDir, guestProgram, guestSourceDir } from './helpers/guest-programs.js';
import { kvmSkipReason, platforms, runNative, runSandbox, sandboxCommandLine } from './helpers/run.js';

const MIB = 1024 * 1024;

interface Case {
  name: string;
  args?: string[];
  status: number;
  /** The program prints "touching 0x..." before the access that kills it. */
  address?: boolean;
}

const cases: Case[] = [
  { name: 'mem_munmap_partial', status: 139, address: true },
  { name: 'mem_mprotect', status: 139, address: true },
  { name: 'mem_mremap', status: 0 },
  { name: 'mem_fixed', status: 0 },
  { name: 'mem_brk', status: 0 },
  { name: 'mem_big', status: 0 },
  { name: 'mem_madvise', status: 0 },
  { name: 'mem_stack', status: 0 },
  { name: 'mem_stack', args: ['12288'], status: 139 },
  { name: 'mem_shared', status: 0 },
  { name: 'mem_growsdown', status: 0 },
  { name: 'mem_errors', status: 0 },
  { name: 'mem_file', status: 0 },
  { name: 'mem_threads', status: 0 },
  { name: 'mem_tlb', status: 0 },
  { name: 'mem_collapse_io', status: 0 },
  // The same with the file on a --mount (the checkout is one): host I/O straight into guest memory.
  { name: 'mem_collapse_io', args: [guestBuildDir], status: 0 },
];

const skip = kvmSkipReason();
const touching = /^touching (0x[0-9a-f]+)$/m;

function withoutAddress(stdout: string): string {
  return stdout.replace(touching, 'touching <address>');
}

for (const c of cases) {
  for (const platform of platforms) {
    const title = `${c.name}${c.args ? ' ' + c.args.join(' ') : ''} [${platform}]`;
    if (skip) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, async (t) => {
      const program = await guestProgram(c.name);
      const native = runNative(program, c.args);
      t.is(native.status, c.status, `native run: ${native.stderr}`);
      const boxed = runSandbox(program, c.args, { platform });
      t.is(withoutAddress(boxed.stdout), withoutAddress(native.stdout), `sandbox stderr:\n${boxed.stderr}`);
      t.is(boxed.status, native.status, `sandbox stderr:\n${boxed.stderr}`);
      if (c.address === true) {
        const address = touching.exec(boxed.stdout)?.[1];
        t.truthy(address, 'the program says where it touches');
        t.regex(boxed.stderr, new RegExp(`killed by SIGSEGV \\(SEGV_(MAP|ACC)ERR at address ${address}\\b`));
      }
    });
  }
}

for (const platform of platforms) {
  test(`mem_file past the end of a mapped file: SIGBUS, as natively [${platform}]`, async (t) => {
    if (skip) return t.pass(`skipped: ${skip}`);
    const program = await guestProgram('mem_file');
    const native = runNative(program, ['x']);
    t.is(native.status, 135);
    const boxed = runSandbox(program, ['x'], { platform });
    t.is(boxed.stdout, native.stdout);
    t.is(boxed.status, 135, boxed.stderr);
    t.regex(boxed.stderr, /killed by SIGBUS \(BUS_ADRERR at address 0x[0-9a-f]+/);
  });
}

test(`MAP_FIXED into the sandbox's reserved range is refused with the Linux errno`, async (t) => {
  if (skip) return t.pass(`skipped: ${skip}`);
  const program = await guestProgram('mem_errors');
  // Natively the range is ordinary user space; in the sandbox it holds the stub and the physical map.
  const boxed = runSandbox(program, ['reserved']);
  t.is(boxed.status, 0, boxed.stderr);
  t.regex(boxed.stdout, /fixed into 0x400000001000\s+ENOMEM/);
  t.regex(boxed.stdout, /noreplace into 0x408000000000\s+EEXIST/);
  t.regex(boxed.stdout, /write\(\) from 0x408000000000\s+EFAULT/);
});

/** A field of /proc/PID/status (VmRSS, RssShmem: the guest memory file's pages), in bytes. */
function memoryStatus(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no ${field} for ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * Runs the mem_rss program (a line on stdin moves it to its next phase) and samples the RSS of `pid`
 * (the process itself, or the sandbox's node process) at each phase.
 */
async function rssPhases(command: string, args: string[]): Promise<Record<string, number>> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const samples: Record<string, number> = {};
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? 1 : 0))));
  for await (const line of lines) {
    // The program waits on stdin from here on: whatever the Sentry does at this point is done.
    await new Promise((r) => setTimeout(r, 200));
    samples[line] = memoryStatus(child.pid!, 'VmRSS');
    samples[`${line} shmem`] = memoryStatus(child.pid!, 'RssShmem');
    child.stdin.write('\n');
  }
  samples.status = await exited;
  return samples;
}

for (const platform of platforms) {
  test(`host RSS of the sandbox falls back after 256 MiB is touched and freed [${platform}]`, async (t) => {
    if (skip) return t.pass(`skipped: ${skip}`);
    const program = await guestProgram('mem_rss');
    const native = await rssPhases(program, []);
    const [node, ...cli] = sandboxCommandLine(program, [], { platform });
    const boxed = await rssPhases(node!, cli);
    const mib = (n: number | undefined): string => `${((n ?? 0) / MIB).toFixed(1)} MiB`;
    t.log(`native program: ready ${mib(native.ready)}, touched ${mib(native.touched)}, freed ${mib(native.freed)}`);
    t.log(`sandbox process: ready ${mib(boxed.ready)}, touched ${mib(boxed.touched)}, freed ${mib(boxed.freed)}`);
    t.is(boxed.status, 0);
    t.true(boxed.touched! - boxed.ready! > 240 * MIB, 'touching 256 MiB shows in the sandbox\'s RSS');
    t.true(boxed.freed! <= boxed.ready! * 1.1, `RSS falls back within 10 % of where it started (${mib(boxed.ready)} -> ${mib(boxed.freed)})`);
    // The guest memory file's pages in particular are all given back; what remains is the Sentry's heap.
    t.log(`guest memory in the sandbox's RSS: ready ${mib(boxed['ready shmem'])}, touched ${mib(boxed['touched shmem'])}, freed ${mib(boxed['freed shmem'])}`);
    t.true(boxed['freed shmem']! <= boxed['ready shmem']! + 1 * MIB);
  });
}

/** The layout program built as a static PIE too (the helper builds with -static only). */
async function layoutPrograms(): Promise<{ exec: string; pie: string }> {
  const exec = await guestProgram('mem_layout');
  const pie = join(guestBuildDir, 'mem_layout-pie');
  const source = join(guestSourceDir, 'mem_layout.c');
  if (!existsSync(pie) || statSync(pie).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(guestBuildDir, { recursive: true });
    const temp = `${pie}.tmp-${process.pid}`;
    await promisify(execFile)('gcc', ['-static-pie', '-O2', '-o', temp, source]);
    await promisify(execFile)('mv', [temp, pie]);
  }
  return { exec, pie };
}

function layout(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

test('ASLR: the layout changes from run to run, and --no-aslr gives Linux\'s fixed layout', async (t) => {
  if (skip) return t.pass(`skipped: ${skip}`);
  const { exec, pie } = await layoutPrograms();
  for (const program of [exec, pie]) {
    const first = layout(runSandbox(program).stdout);
    const second = layout(runSandbox(program).stdout);
    for (const what of ['brk', 'mmap', 'stack']) t.not(first[what], second[what], `${what} is randomised`);
    if (program === pie) t.not(first.image, second.image, 'a static PIE is placed at random');
    else t.is(first.image, second.image);
    const fixed = runSandbox(program, [], { extraCliArgs: ['--no-aslr'] }).stdout;
    t.is(runSandbox(program, [], { extraCliArgs: ['--no-aslr'] }).stdout, fixed, 'without ASLR two runs agree');
    const setarch = spawnSync('setarch', ['-R', program], { encoding: 'utf8' });
    if (setarch.status === 0) {
      const native = layout(setarch.stdout);
      const ours = layout(fixed);
      // The vDSO (which the sandbox does not have) takes room in the mmap area and the stack differs by
      // the auxiliary vector; the program and the break are where Linux puts them.
      t.is(ours.image, native.image, 'the program is where Linux puts it');
      t.is(ours.brk, native.brk, 'the break starts where Linux starts it');
    }
  }
});

// Page-table entries that become present are written host-side only (no replay at CPL 0): if the host
// ever kept a stale view, the program would fault on a page the tables map, and --stats would say so.
for (const platform of platforms) {
  test(`no fault on a page the tables already map [${platform}]`, async (t) => {
    if (skip) return t.pass(`skipped: ${skip}`);
    for (const name of ['mem_mremap', 'mem_madvise', 'mem_brk', 'mem_stack', 'mem_file']) {
      const r = runSandbox(await guestProgram(name), [], { platform, extraCliArgs: ['--stats'] });
      t.is(r.status, 0, r.stderr);
      t.regex(r.stderr, /page faults served\s+\d+\n/, `${name}: ${r.stderr}`);
    }
  });
}

test('--stats reports guest memory returned to the host', async (t) => {
  if (skip) return t.pass(`skipped: ${skip}`);
  const program = await guestProgram('mem_big');
  const r = runSandbox(program, [], { extraCliArgs: ['--stats'] });
  t.is(r.status, 0, r.stderr);
  const stat = (name: string): number => Number(new RegExp(`tsvisor stats: ${name}\\s+([\\d.]+)`).exec(r.stderr)?.[1]);
  t.true(stat('guest memory peak') >= 512, r.stderr);
  t.is(stat('guest memory at exit'), 0);
  t.true(stat('returned to the host') >= 3 * 512, 'each of the three 512 MiB rounds went back');
  // malloc adds a header page, so each 512 MiB mapping fills 255 whole 2 MiB slots.
  t.true(stat('2 MiB pages mapped') >= 3 * 255, 'anonymous memory is mapped with 2 MiB pages');
});
