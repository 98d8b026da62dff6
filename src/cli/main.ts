#!/usr/bin/env node
// tsvisor command line: run a program in the sandbox, or check that this host can.
import { closeSync, openSync, writeSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { signalName } from '../abi/signal.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel, log, setLogFormat, setLogLevel } from '../log/log.js';
import { stderrSink } from '../log/stderr.js';
import type { StraceFormat } from '../kernel/strace.js';
import { EXITLESS_AFTER_EVENTS } from '../platform/exitless-after.js';
import type { PlatformMode } from '../platform/platform.js';
import { noteProgramRan } from './code-cache.js';
import { TRACE_OFF_SIGNAL, TRACE_ON_SIGNAL, traceCommand } from './trace.js';
import { ExitStatus } from './exit-status.js';
import {
  parseCpus, parseCwd, parseEnv, parseExitlessAfter, parseHostname, parseMemory, parseMount, parseStats, parseStraceFile, parseTimeout, parseTmpfs, parseUser,
  UsageError,
} from './options.js';
// The sandbox (kernel, file systems, platform, addon) is imported by the commands that need it, not
// here: --help and bad usage are answered without loading it.

function fail(message: string, status: number): never {
  stderrSink.write(`tsvisor: ${message}\n`);
  process.exit(status);
}

interface RunArgs {
  command: string[]; platform: PlatformMode; strace: boolean; straceFormat: StraceFormat | undefined; straceFile: string | undefined;
  memory: string; cpus: number | undefined; stats: string | undefined; rootfs: string; rootfsRw: boolean; mount: string[]; tmpfs: string[];
  aslr: boolean; syscallPatching: boolean; exitlessAfter: number; timeout: string | undefined; env: string[]; clearEnv: boolean; cwd: string | undefined;
  user: string | undefined; hostname: string | undefined; reportUnsupported: boolean; tty: boolean;
}

/** Where --strace lines go: stderr (through the sink that never blocks), or the --strace-file. */
function straceSink(file: string | undefined): { write: (text: string) => void; close: () => void } {
  if (file === undefined) return { write: (text) => stderrSink.write(text), close: () => {} };
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (err) {
    throw new UsageError(`--strace-file ${file}: cannot create it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return { write: (text) => writeSync(fd, text), close: () => closeSync(fd) };
}

async function run(argv: RunArgs): Promise<number> {
  const [program, ...args] = argv.command;
  if (program === undefined) throw new UsageError('run needs a program: tsvisor run -- PROGRAM [ARGS...]');
  const memoryBytes = parseMemory(String(argv.memory));
  const [{ Machine }, { Strace, TracerGroup }, { SyscallStats }, { hostCalls }, { PlatformError }, sandbox, { printStats, printStatsJson }, { UnsupportedReport }] =
    await Promise.all([
      import('../kernel/machine.js'), import('../kernel/strace.js'), import('../kernel/syscall-stats.js'), import('../platform/host.js'),
      import('../platform/platform.js'), import('../sandbox/sandbox.js'), import('./stats.js'), import('./unsupported.js'),
    ]);
  const { LoaderError, runSandbox, SandboxSetupError, SandboxUsageError } = sandbox;
  const cpus = parseCpus(argv.cpus, Machine.hostCpus());
  const exitlessAfter = parseExitlessAfter(argv.exitlessAfter);
  const timeoutMs = parseTimeout(argv.timeout);
  const env = parseEnv(argv.env, argv.clearEnv ? {} : process.env);
  const cwd = parseCwd(argv.cwd);
  const ids = parseUser(argv.user);
  const hostname = parseHostname(argv.hostname);
  const straceFile = parseStraceFile(argv.straceFile);
  const mounts = argv.mount.map(parseMount);
  const tmpfs = argv.tmpfs.map(parseTmpfs);
  const stats = parseStats(argv.stats);
  const syscallStats = stats === 'json' ? new SyscallStats() : null;
  const unsupported = argv.reportUnsupported ? new UnsupportedReport() : null;
  const tracing = argv.strace || argv.straceFormat !== undefined || straceFile !== undefined;
  // Always there, so that `tsvisor trace PID on` can start it mid-run; when off, each syscall costs one test.
  const sink = straceSink(straceFile);
  const strace = new Strace(argv.straceFormat ?? 'text', sink.write);
  strace.enabled = tracing;
  const switchTracing = (on: boolean) => (): void => {
    strace.enabled = on;
    stderrSink.write(`tsvisor: tracing ${on ? 'on' : 'off'}\n`);
  };
  const traceOn = switchTracing(true);
  const traceOff = switchTracing(false);
  process.on(TRACE_ON_SIGNAL, traceOn);
  process.on(TRACE_OFF_SIGNAL, traceOff);
  const deadline = new AbortController();
  const timer = timeoutMs === undefined ? null : setTimeout(() => deadline.abort(), timeoutMs);
  const askedNs = process.hrtime.bigint();
  const cliMs = performance.now();
  stderrSink.useFlags(hostCalls());
  try {
    const result = await runSandbox({
      program, args, env, mode: argv.platform, memoryBytes, cpus,
      strace: syscallStats === null && unsupported === null ? strace
        : new TracerGroup([strace, ...(syscallStats === null ? [] : [syscallStats]), ...(unsupported === null ? [] : [unsupported])]),
      rootfs: argv.rootfs, rootfsWritable: argv.rootfsRw, mounts, tmpfs, aslr: argv.aslr,
      patchSyscalls: argv.syscallPatching, exitlessAfter, cwd, ids, hostname, stop: deadline.signal, tty: argv.tty,
    });
    noteProgramRan();
    if (stats === 'text') printStats(result);
    if (unsupported !== null) stderrSink.write(unsupported.lines().map((l) => `${l}\n`).join(''));
    if (syscallStats !== null) {
      const endedNs = syscallStats.lastEndNs ?? process.hrtime.bigint();
      const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6;
      const first = syscallStats.firstSyscallNs;
      printStatsJson(result, argv.platform, syscallStats, {
        cliMs, sandboxSetupMs: first === null ? null : ms(askedNs, first), programMs: first === null ? null : ms(first, endedNs),
        teardownMs: ms(endedNs, process.hrtime.bigint()),
      });
    }
    const { exit } = result;
    if (deadline.signal.aborted) {
      stderrSink.write(`tsvisor: ${program} timed out after ${argv.timeout} s and was killed\n`);
      return ExitStatus.TimedOut;
    }
    if (exit.signal !== null) {
      stderrSink.write(`tsvisor: ${program} killed by ${signalName(exit.signal)} (${exit.detail})\n`);
      return 128 + exit.signal;
    }
    return exit.status;
  } catch (err) {
    if (err instanceof LoaderError) fail(err.message, err.exitStatus);
    if (err instanceof PlatformError) fail(err.message, ExitStatus.SandboxFailure);
    if (err instanceof SandboxSetupError) fail(err.message, ExitStatus.SandboxFailure);
    if (err instanceof SandboxUsageError) fail(err.message, ExitStatus.Usage);
    throw err;
  } finally {
    if (timer !== null) clearTimeout(timer);
    process.off(TRACE_ON_SIGNAL, traceOn);
    process.off(TRACE_OFF_SIGNAL, traceOff);
    sink.close();
  }
}

/**
 * yargs' message on one line, each unknown option named once as it was typed: yargs lists both the
 * dashed and the camel-case form ("such-opt, suchOpt") and strips a "no-" it took for a negation.
 */
function usageMessage(message: string): string {
  const oneLine = message.replace(/\s*\n\s*/g, ' ').trim();
  const unknown = /^Unknown arguments?: (.*)$/.exec(oneLine);
  if (unknown === null) return oneLine;
  const typed = process.argv.slice(2);
  const names = unknown[1]!.split(', ').filter((n) => !/[A-Z]/.test(n) || !unknown[1]!.split(', ').includes(n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)));
  const shown = names.map((n) => {
    if (typed.some((a) => a === `--no-${n}` || a.startsWith(`--no-${n}=`))) return `--no-${n}`;
    return typed.some((a) => a === `--${n}` || a.startsWith(`--${n}=`) || a === `-${n}`) ? `--${n}`.replace(/^--(.)$/, '-$1') : n;
  });
  return `unknown ${shown.length === 1 ? 'option or command' : 'options or commands'}: ${shown.join(', ')}`;
}

const RUN_EXAMPLES: Array<[string, string]> = [
  ['tsvisor run -- ./hello', 'run a program from here'],
  ['tsvisor run --timeout 10 -- ./server', 'kill it after 10 s (exit status 124)'],
  ['tsvisor run --clear-env --env PATH=/usr/bin --env LANG=C.UTF-8 -- /usr/bin/env', 'only the environment given'],
  ['tsvisor run --cwd /tmp --user 1000:1000 --hostname box -- /bin/sh -c \'id; hostname; pwd\'', 'where, as whom and on what host it runs'],
  ['tsvisor run --strace-format json --strace-file trace.json -- ./hello', 'one JSON event per syscall, to a file'],
  ['tsvisor run --mount "$PWD/data:/data:ro" --tmpfs /tmp -- /bin/ls /data', 'a host directory read-only, a fresh /tmp'],
  ['tsvisor run -it -- /bin/bash', 'an interactive shell on a terminal of the sandbox\'s own (/dev/pts/0)'],
  ['tsvisor check', 'is this host ready'],
];

// Not awaited: the command is also one CommonJS bundle (scripts/bundle.ts), which has no top-level await;
// every error reaches .fail() below, and the process lives until the command's handler is done.
void yargs(hideBin(process.argv))
  .scriptName('tsvisor')
  .strict()
  .option('log-level', { choices: LOG_LEVELS, default: 'warn' as LogLevel, describe: 'Sentry log level (to stderr)' })
  .option('log-format', { choices: LOG_FORMATS, default: 'text' as LogFormat, describe: 'Sentry log lines: text, or json (one object a line)' })
  .middleware((a) => {
    setLogLevel(a['log-level'] as LogLevel);
    setLogFormat(a['log-format'] as LogFormat);
  })
  .command(
    'run [command..]',
    'Run an x86-64 Linux program (static or dynamically linked) in the sandbox',
    (y) => y
      .positional('command', { type: 'string', array: true, default: [] as string[], describe: 'PROGRAM ARGS... (after --)' })
      .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'give the program a terminal of the sandbox\'s own (/dev/pts/0), joined to yours (stdin must be a terminal; yours is raw until the end)' })
      .option('interactive', { alias: 'i', type: 'boolean', default: false, describe: 'keep stdin open (as docker -i; stdin always is the program\'s, so -it is the same as -t)' })
      .option('platform', { choices: ['kvm', 'kvm-exit'] as const, default: 'kvm' as const, describe: 'kvm: exitless syscalls (after a start with exits, see --exitless-after); kvm-exit: one VM exit per syscall' })
      .option('exitless-after', { type: 'number', default: EXITLESS_AFTER_EVENTS, describe: 'kvm: EVENTS (syscalls and faults) that run with VM exits before the sandbox turns exitless (sooner when a computing thread keeps another from running); 0: exitless from the start' })
      .option('timeout', { type: 'string', describe: 'SECONDS: kill the program after this long (exit status 124)' })
      .option('env', { type: 'string', array: true, default: [] as string[], describe: 'NAME=VALUE in the program\'s environment (repeatable)' })
      .option('clear-env', { type: 'boolean', default: false, describe: 'start from an empty environment instead of tsvisor\'s own (then --env)' })
      .option('cwd', { type: 'string', describe: 'DIR: the working directory in the sandbox (default: the caller\'s)' })
      .option('user', { type: 'string', describe: 'UID:GID: the ids the program runs as and sees (default: the caller\'s)' })
      .option('hostname', { type: 'string', describe: 'NAME: the host name uname(2) and /proc/sys/kernel/hostname show' })
      .option('strace', { type: 'boolean', default: false, describe: 'print every syscall with decoded arguments, result and time, as strace -f -T' })
      .option('strace-format', { choices: ['text', 'json'] as const, describe: 'text (strace\'s) or json: one event per syscall (implies --strace)' })
      .option('strace-file', { type: 'string', describe: 'FILE: write the strace there instead of stderr (implies --strace)' })
      .option('memory', { type: 'string', default: '4096', describe: 'guest memory: MiB, or SIZE with K/M/G (committed only when used); /proc/meminfo, sysinfo and memory.max show it' })
      .option('cpus', { type: 'number', describe: 'CPUs the program sees (default: the host\'s): sched_getaffinity, /proc/cpuinfo, /sys/devices/system/cpu, cpu.max' })
      .option('report-unsupported', { type: 'boolean', default: false, describe: 'at exit, list every syscall, ioctl, /proc or /sys file and socket option the program used that tsvisor lacks, with counts' })
      .option('stats', { type: 'string', describe: 'print memory and event counts at exit; --stats=json: one JSON object with per-syscall counts and latency histograms and the start-up phases' })
      .option('aslr', { type: 'boolean', default: true, describe: 'randomise the address-space layout as Linux does (--no-aslr: Linux\'s fixed layout)' })
      .option('syscall-patching', { type: 'boolean', default: true, describe: 'kvm: rewrite each `mov $nr,%eax; syscall` site after its first trap to call the guest stub directly (--no-syscall-patching: every call traps)' })
      .option('rootfs', { type: 'string', default: '/', describe: 'host directory that is the sandbox\'s root (read-only; writes go to a tmpfs overlay)' })
      .option('rootfs-rw', { type: 'boolean', default: false, describe: 'write through to the root directory on the host instead of the overlay' })
      .option('mount', { type: 'string', array: true, default: [] as string[], describe: 'HOST:GUEST[:ro] another host directory in the sandbox (repeatable)' })
      .option('tmpfs', { type: 'string', array: true, default: [] as string[], describe: 'PATH a fresh, empty tmpfs at PATH in the sandbox, e.g. /tmp (repeatable)' })
      .example(RUN_EXAMPLES.slice(0, -1))
      .epilog('Exit status: the program\'s own; 128+N when signal N killed it; 124 when --timeout killed it; 125 when the sandbox '
        + 'failed (no usable /dev/kvm); 126 when the file is not a runnable x86-64 ELF; 127 when the program does not exist; 2 for bad usage.')
      .parserConfiguration({ 'populate--': true, 'unknown-options-as-args': false }),
    async (a) => {
      const rest = (a['--'] as string[] | undefined) ?? [];
      const strings = (v: unknown): string[] => (v as unknown[]).map(String);
      const optional = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));
      process.exitCode = await run({
        command: strings([...(a.command as string[]), ...rest]), platform: a.platform, strace: a.strace,
        straceFormat: a['strace-format'], straceFile: optional(a['strace-file']),
        memory: a.memory, cpus: a.cpus, stats: optional(a.stats), rootfs: a.rootfs, rootfsRw: a['rootfs-rw'], mount: strings(a.mount),
        tmpfs: strings(a.tmpfs), aslr: a.aslr, syscallPatching: a['syscall-patching'], exitlessAfter: a['exitless-after'],
        timeout: optional(a.timeout), env: strings(a.env), clearEnv: a['clear-env'], cwd: optional(a.cwd), user: optional(a.user),
        hostname: optional(a.hostname), reportUnsupported: a['report-unsupported'], tty: a.tty,
      });
      // The sandbox is over: end now, dropping what a stderr nobody reads never took (log/stderr.ts).
      process.exit();
    },
  )
  .command(
    'check',
    'Check that this host can run sandboxes: /dev/kvm, the host flavour, vCPUs, round trips, the Gofer',
    (y) => y.example([['tsvisor check', 'exit status 0 when `tsvisor run` will work']]),
    async () => {
      process.exitCode = await (await import('./check.js')).check();
    },
  )
  .command(
    'trace <pid> <state>',
    'Switch --strace on or off in a running `tsvisor run` (its pid; or send it SIGUSR1 to switch on, SIGUSR2 off)',
    (y) => y
      .positional('pid', { type: 'string', describe: 'the process id of the tsvisor run' })
      .positional('state', { choices: ['on', 'off'] as const, describe: 'on or off' })
      .example([['tsvisor trace 4242 on', 'show the syscalls of sandbox 4242 from now on, where its --strace output goes']]),
    // async, as the other handlers: yargs hands a rejected handler's error to .fail() below.
    async (a) => {
      process.exitCode = traceCommand(String(a.pid), a.state as 'on' | 'off');
    },
  )
  .example(RUN_EXAMPLES)
  .demandCommand(1, 'name a command: run, check or trace')
  // One line, never the help: the bundle's yargs keeps no help of the command it ran (scripts/bundle.ts),
  // so neither this nor a handler may call showHelp() or getHelp().
  .fail((message, error) => {
    if (error instanceof UsageError) fail(error.message, ExitStatus.Usage);
    if (error !== undefined && !(error instanceof Error && error.name === 'YError')) {
      log.error(error.stack ?? String(error));
      process.exit(ExitStatus.SandboxFailure);
    }
    fail(`${usageMessage(message ?? error?.message ?? 'bad usage')} (see tsvisor --help)`, ExitStatus.Usage);
  })
  .help()
  .wrap(Math.min(120, process.stdout.columns ?? 120))
  .parseAsync();
