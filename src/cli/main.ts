#!/usr/bin/env node
// tsvisor command line: run a program in the sandbox, or check that this host can.
import { writeSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { signalName } from '../abi/signal.js';
import { LOG_LEVELS, type LogLevel, log, setLogLevel } from '../log/log.js';
import { stderrSink } from '../log/stderr.js';
import type { PlatformMode } from '../platform/platform.js';
import type { HostMount } from '../sandbox/sandbox.js';
import { ExitStatus } from './exit-status.js';
// The sandbox (kernel, file systems, platform, addon) is imported by the commands that need it, not
// here: --help and bad usage are answered without loading it.

const MIB = 1024 * 1024;

function fail(message: string, status: number): never {
  stderrSink.write(`tsvisor: ${message}\n`);
  process.exit(status);
}

/** --mount host:guest[:ro]: both absolute paths (the host one may be relative to the working directory). */
function parseMount(spec: string): HostMount {
  const parts = spec.split(':');
  const readOnly = parts.length === 3 && parts[2] === 'ro';
  if (parts.length < 2 || parts.length > 3 || (parts.length === 3 && !readOnly && parts[2] !== 'rw') || parts[0] === '' || !parts[1]!.startsWith('/')) {
    fail(`--mount ${spec}: expected HOST:GUEST[:ro] with an absolute GUEST path`, ExitStatus.Usage);
  }
  return { host: parts[0]!, guest: parts[1]!, readOnly };
}

/**
 * --memory SIZE: MiB when a plain number (as before), or with a K, M or G suffix (binary units, as
 * Docker's); the guest needs an even number of MiB between 64 MiB and 4 GiB.
 */
function parseMemory(spec: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)(?:i?b)?$/i.exec(spec.trim());
  if (m === null) return null;
  const unit = { '': MIB, k: 1024, m: MIB, g: 1024 * MIB }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const bytes = Number(m[1]) * unit;
  if (!Number.isInteger(bytes) || bytes % (2 * MIB) !== 0 || bytes < 64 * MIB || bytes > 4096 * MIB) return null;
  return bytes;
}

/** --tmpfs PATH: an absolute path inside the sandbox. */
function parseTmpfs(path: string): string {
  if (!path.startsWith('/')) fail(`--tmpfs ${path}: expected an absolute path inside the sandbox`, ExitStatus.Usage);
  return path;
}

async function run(argv: {
  command: string[]; platform: PlatformMode; strace: boolean; memory: string; cpus: number | undefined; stats: boolean;
  rootfs: string; rootfsRw: boolean; mount: string[]; tmpfs: string[]; aslr: boolean; syscallPatching: boolean;
}): Promise<number> {
  const [program, ...args] = argv.command;
  if (program === undefined) fail('run needs a program: tsvisor run -- PROGRAM [ARGS...]', ExitStatus.Usage);
  const memoryBytes = parseMemory(String(argv.memory));
  if (memoryBytes === null) {
    fail('--memory must be an even number of MiB between 64 and 4096 (a plain number is MiB; 512M, 2G also work)', ExitStatus.Usage);
  }
  const [{ Machine }, { PlatformError }, { LoaderError, runSandbox, SandboxSetupError }, { printStats }] = await Promise.all([
    import('../kernel/machine.js'), import('../platform/platform.js'), import('../sandbox/sandbox.js'), import('./stats.js'),
  ]);
  const hostCpus = Machine.hostCpus();
  if (argv.cpus !== undefined && (!Number.isInteger(argv.cpus) || argv.cpus < 1 || argv.cpus > hostCpus)) {
    fail(`--cpus must be a whole number from 1 to ${hostCpus} (the CPUs this host gives tsvisor)`, ExitStatus.Usage);
  }
  try {
    const result = await runSandbox({
      program, args, env: process.env, mode: argv.platform, memoryBytes, cpus: argv.cpus,
      strace: argv.strace ? (line) => stderrSink.write(line) : null,
      rootfs: argv.rootfs, rootfsWritable: argv.rootfsRw, mounts: argv.mount.map(parseMount), tmpfs: argv.tmpfs.map(parseTmpfs), aslr: argv.aslr,
      patchSyscalls: argv.syscallPatching,
    });
    if (argv.stats) printStats(result);
    const { exit } = result;
    if (exit.signal !== null) {
      stderrSink.write(`tsvisor: ${program} killed by ${signalName(exit.signal)} (${exit.detail})\n`);
      return 128 + exit.signal;
    }
    return exit.status;
  } catch (err) {
    if (err instanceof LoaderError) fail(err.message, err.exitStatus);
    if (err instanceof PlatformError) fail(err.message, ExitStatus.SandboxFailure);
    if (err instanceof SandboxSetupError) fail(err.message, ExitStatus.SandboxFailure);
    throw err;
  }
}

async function check(): Promise<number> {
  const { KvmPlatform, PlatformError } = await import('../platform/platform.js');
  try {
    const platform = new KvmPlatform({ memoryBytes: 64 * MIB, mode: 'kvm' });
    writeSync(1, `KVM: available; host flavour: ${platform.flavour}\n`);
    platform.close();
    return 0;
  } catch (err) {
    if (err instanceof PlatformError) fail(err.message, ExitStatus.SandboxFailure);
    throw err;
  }
}

await yargs(hideBin(process.argv))
  .scriptName('tsvisor')
  .strict()
  .option('log-level', { choices: LOG_LEVELS, default: 'warn' as LogLevel, describe: 'Sentry log level (to stderr)' })
  .middleware((a) => setLogLevel(a['log-level'] as LogLevel))
  .command(
    'run [command..]',
    'Run an x86-64 Linux program (static or dynamically linked) in the sandbox',
    (y) => y
      .positional('command', { type: 'string', array: true, default: [] as string[], describe: 'PROGRAM ARGS... (after --)' })
      .option('platform', { choices: ['kvm', 'kvm-exit'] as const, default: 'kvm' as const, describe: 'kvm: exitless syscalls; kvm-exit: one VM exit per syscall' })
      .option('strace', { type: 'boolean', default: false, describe: 'print every syscall with its result' })
      .option('memory', { type: 'string', default: '4096', describe: 'guest memory: MiB, or SIZE with K/M/G (committed only when used); /proc/meminfo, sysinfo and memory.max show it' })
      .option('cpus', { type: 'number', describe: 'CPUs the program sees (default: the host\'s): sched_getaffinity, /proc/cpuinfo, /sys/devices/system/cpu, cpu.max' })
      .option('stats', { type: 'boolean', default: false, describe: 'print memory and event counts at exit' })
      .option('aslr', { type: 'boolean', default: true, describe: 'randomise the address-space layout as Linux does (--no-aslr: Linux\'s fixed layout)' })
      .option('syscall-patching', { type: 'boolean', default: true, describe: 'kvm: rewrite each `mov $nr,%eax; syscall` site after its first trap to call the guest stub directly (--no-syscall-patching: every call traps)' })
      .option('rootfs', { type: 'string', default: '/', describe: 'host directory that is the sandbox\'s root (read-only; writes go to a tmpfs overlay)' })
      .option('rootfs-rw', { type: 'boolean', default: false, describe: 'write through to the root directory on the host instead of the overlay' })
      .option('mount', { type: 'string', array: true, default: [] as string[], describe: 'HOST:GUEST[:ro] another host directory in the sandbox (repeatable)' })
      .option('tmpfs', { type: 'string', array: true, default: [] as string[], describe: 'PATH a fresh, empty tmpfs at PATH in the sandbox, e.g. /tmp (repeatable)' })
      .parserConfiguration({ 'populate--': true, 'unknown-options-as-args': false }),
    async (a) => {
      const rest = (a['--'] as string[] | undefined) ?? [];
      process.exitCode = await run({
        command: [...(a.command as string[]), ...rest].map(String), platform: a.platform, strace: a.strace,
        memory: a.memory, cpus: a.cpus, stats: a.stats, rootfs: a.rootfs, rootfsRw: a['rootfs-rw'], mount: (a.mount as string[]).map(String),
        tmpfs: (a.tmpfs as string[]).map(String),
        aslr: a.aslr, syscallPatching: a['syscall-patching'],
      });
    },
  )
  .command('check', 'Check that /dev/kvm works and report the host flavour', () => {}, async () => {
    process.exitCode = await check();
  })
  .demandCommand(1, 'name a command: run or check')
  .fail((message, error) => {
    if (error !== undefined && !(error instanceof Error && error.name === 'YError')) {
      log.error(error.stack ?? String(error));
      process.exit(ExitStatus.SandboxFailure);
    }
    fail(`${message ?? error?.message} (see tsvisor --help)`, ExitStatus.Usage);
  })
  .help()
  .parseAsync();
