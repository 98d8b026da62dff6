// Writes to a host pipe or terminal whose reader is slow wait for it, as on Linux, and do not block the
// Sentry meanwhile. Node.js leaves its stdio pipes non-blocking, so a host write meets EAGAIN; a
// program that did not ask for O_NONBLOCK must not see it (glibc used to report ferror and 4 MiB
// written became 64 KiB). Each case runs natively and in the sandbox with the same reader.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestProgram, projectRoot } from './helpers/guest-programs.js';
import { busyboxPath, kvmSkipReason, type Platform, platforms, sandboxCommandLine, scriptPath } from './helpers/run.js';
import { delay } from './helpers/spawned.js';

const skip = kvmSkipReason();
// Serial: each case moves 4 MiB or more through a reader that sleeps, and they time each other out
// when they all run at once on a small machine.
/** How long the reader sleeps before it reads anything. */
const READER_SLEEPS_MS = 1500;

interface Outcome {
  /** Bytes that reached the slow reader. */
  bytes: number;
  /** The other stream (the program's report of a problem, tsvisor's messages). */
  other: string;
  status: number;
}

function sandboxed(platform: Platform, program: string, args: string[]): [string, string[]] {
  const [node, ...cli] = sandboxCommandLine(program, args, { platform });
  return [node!, cli];
}

/** Runs file with `slow` (stdout or stderr) read only after READER_SLEEPS_MS, and counts what arrives. */
function withSlowReader(file: string, args: string[], slow: 'stdout' | 'stderr'): Promise<Outcome> {
  const child = spawn(file, args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const slowStream = child[slow]!;
  const otherStream = slow === 'stdout' ? child.stderr! : child.stdout!;
  let bytes = 0;
  let other = '';
  otherStream.on('data', (c: Buffer) => (other += c.toString()));
  slowStream.pause();
  setTimeout(() => {
    slowStream.on('data', (c: Buffer) => (bytes += c.length));
    slowStream.resume();
  }, READER_SLEEPS_MS);
  return new Promise((resolve) => child.on('close', (code, signal) => {
    resolve({ bytes, other, status: code ?? 128 + (signal === null ? 0 : osConstants.signals[signal]) });
  }));
}

/** The same with the program's stdio on a pseudo-terminal (script -qec) whose output is read late. */
function onSlowTerminal(file: string, args: string[]): Promise<Outcome> {
  const command = [file, ...args].map((w) => `'${w}'`).join(' ');
  return withSlowReader(scriptPath!, ['-qec', command, '/dev/null'], 'stdout');
}

const MIB4 = 4 << 20;
const pipeCases: Array<[string, string[], 'stdout' | 'stderr']> = [
  ['stdio (fwrite) to stdout', ['stdio', '1'], 'stdout'],
  ['one write(2) of 4 MiB to stdout', ['write', '1'], 'stdout'],
  ['writev(2) of 4 MiB to stdout', ['writev', '1'], 'stdout'],
  ['one write(2) of 4 MiB to stderr', ['write', '2'], 'stderr'],
  ['stdio (fwrite) to stderr', ['stdio', '2'], 'stderr'],
];

for (const [what, args, slow] of pipeCases) {
  for (const platform of platforms) {
    const title = `${what}, a pipe read late: everything arrives [${platform}]`;
    if (skip !== null) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test.serial(title, async (t) => {
      const program = await guestProgram('big_write');
      const native = await withSlowReader(program, args, slow);
      t.deepEqual(native, { bytes: MIB4, other: '', status: 0 });
      const [file, cli] = sandboxed(platform, program, args);
      const boxed = await withSlowReader(file, cli, slow);
      t.deepEqual(boxed, native);
    });
  }
}

const bb = busyboxPath();
for (const platform of platforms) {
  const title = `busybox cat (sendfile) of 4 MiB to a pipe read late: everything arrives [${platform}]`;
  if (skip !== null || bb === null) {
    test.skip(`${title} (skipped: ${skip ?? 'no busybox'})`, () => {});
    continue;
  }
  test.serial(title, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-slow-'));
    try {
      const file = join(dir, 'big');
      writeFileSync(file, Buffer.alloc(MIB4, 'y'));
      const native = await withSlowReader(bb, ['cat', file], 'stdout');
      t.deepEqual(native, { bytes: MIB4, other: '', status: 0 });
      const [node, cli] = sandboxed(platform, bb, ['cat', file]);
      t.deepEqual(await withSlowReader(node, cli, 'stdout'), native);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

const ttyCases: Array<[string, string[]]> = [
  ['one write(2) of 4 MiB to stdout', ['write', '1']],
  ['stdio (fwrite) to stderr', ['stdio', '2']],
];
for (const [what, args] of ttyCases) {
  for (const platform of platforms) {
    const title = `${what}, a terminal read late: everything arrives [${platform}]`;
    if (skip !== null || scriptPath === null) {
      test.skip(`${title} (skipped: ${skip ?? 'no script(1)'})`, () => {});
      continue;
    }
    test.serial(title, async (t) => {
      const program = await guestProgram('big_write');
      const native = await onSlowTerminal(program, args);
      t.is(native.status, 0, native.other);
      t.is(native.bytes, MIB4);
      const [file, cli] = sandboxed(platform, program, args);
      t.deepEqual(await onSlowTerminal(file, cli), native);
    });
  }
}

// While a write waits, the Sentry goes on: here it must still see SIGTERM and end at once. A Sentry
// blocked in a host write would not get to it until the reader read.
const stuck: Array<[string, boolean, 1 | 2]> = [['a stdout pipe', false, 1], ['a stderr pipe', false, 2], ['a terminal', true, 1]];
for (const [where, tty, fd] of stuck) {
  for (const platform of platforms) {
    const title = `a write that waits for ${where} nobody reads does not block the Sentry [${platform}]`;
    if (skip !== null || (tty && scriptPath === null)) {
      test.skip(`${title} (skipped: ${skip ?? 'no script(1)'})`, () => {});
      continue;
    }
    test.serial(title, async (t) => {
      const program = await guestProgram('big_write');
      const dir = mkdtempSync(join(tmpdir(), 'tsvisor-stuck-'));
      const pidFile = join(dir, 'pid');
      try {
        const [node, cli] = sandboxed(platform, program, ['write', String(fd), String(64 << 20)]);
        const words = [node, ...cli].map((w) => `'${w}'`).join(' ') + (fd === 2 ? ' 2>&1 >/dev/null' : '');
        // The shell reports tsvisor's pid and then its status: the reader reads nothing meanwhile.
        const command = `${words} & echo $! > '${pidFile}'; wait $!; echo "status $?" >&2`;
        const child = tty
          ? spawn(scriptPath!, ['-qec', `{ ${command}; } 2>'${join(dir, 'err')}'`, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] })
          : spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout!.pause();
        let err = '';
        child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
        const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
        await delay(READER_SLEEPS_MS + 1000);
        const pid = Number(readFileSync(pidFile, 'utf8'));
        t.true(pid > 0);
        let alive = true;
        try {
          process.kill(pid, 0);
        } catch {
          alive = false;
        }
        t.true(alive, `tsvisor ended while its output was not read: ${err}`);
        const t0 = Date.now();
        process.kill(pid, 'SIGTERM');
        // tsvisor must be gone at once, though nobody ever reads what it wrote.
        let gone = false;
        while (!gone && Date.now() - t0 < 3000) {
          await delay(20);
          try {
            process.kill(pid, 0);
          } catch {
            gone = true;
          }
        }
        t.true(gone, `tsvisor still alive ${Date.now() - t0} ms after SIGTERM`);
        if (!gone) process.kill(pid, 'SIGKILL');
        child.stdout!.resume();
        await closed;
        const report = tty ? readFileSync(join(dir, 'err'), 'utf8') : err;
        t.regex(report, /status 143/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

// The read side: a read of a host pipe that has no data yet waits for it from the event loop too.
for (const platform of platforms) {
  const title = `a read of stdin whose writer is slow waits for it, and SIGTERM still ends it at once [${platform}]`;
  if (skip !== null) {
    test.skip(`${title} (skipped: ${skip})`, () => {});
    continue;
  }
  test.serial(title, async (t) => {
    const program = await guestProgram('stdin_echo');
    const feed = async (file: string, args: string[], end: boolean): Promise<{ out: string; status: number; took: number }> => {
      const child = spawn(file, args, { cwd: projectRoot, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      const done = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : osConstants.signals[signal]))));
      await delay(500);
      child.stdin!.write('hello\n');
      await delay(500);
      child.stdin!.write('world\n');
      // Then wait: everything written is echoed before the end (or SIGTERM) comes.
      for (let i = 0; i < 500 && !out.includes('world'); i++) await delay(20);
      await delay(200);
      const t0 = Date.now();
      if (end) child.stdin!.end();
      else child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const status = await done;
      clearTimeout(killer);
      if (!end) child.stdin!.destroy();
      return { out, status, took: Date.now() - t0 };
    };
    const [node, cli] = sandboxed(platform, program, []);
    const native = await feed(program, [], true);
    t.is(native.status, 0);
    const boxed = await feed(node, cli, true);
    t.is(boxed.out, native.out);
    t.is(boxed.status, 0);
    const stopped = await feed(node, cli, false);
    t.is(stopped.out, native.out);
    t.is(stopped.status, 128 + 15);
    t.true(stopped.took < 3000, `SIGTERM took ${stopped.took} ms`);
  });
}
