// Waiting on many files, compared with the host kernel: poll, select and epoll over pipes, eventfds,
// timerfds and epolls (test/guest/poll_files.c), with signals and masks (poll_signals.c), and on stdin
// when it is a host pipe, with data and without (poll_stdin.c, fed as it waits); python3's selectors
// and subprocess.run(capture_output=True), which wait with epoll and poll; --strace's decoding.
// Each runs natively and in the sandbox on both platform modes and must print the same.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestProgram, projectRoot } from './helpers/guest-programs.js';
import { kvmSkipReason, type Platform, platforms, runNative, runSandbox, sandboxCommandLine } from './helpers/run.js';

const skip = kvmSkipReason();
const PYTHON = '/usr/bin/python3';

function each(title: string, body: (platform: Platform) => (t: import('ava').ExecutionContext) => Promise<void> | void): void {
  for (const platform of platforms) {
    const name = `${title} [${platform}]`;
    if (skip) test.skip(`${name} (skipped: ${skip})`, () => {});
    // One at a time: the programs time their waits, and a loaded machine makes them late.
    else test.serial(name, body(platform));
  }
}

for (const name of ['poll_files', 'poll_signals']) {
  each(name, (platform) => async (t) => {
    const program = await guestProgram(name);
    const native = runNative(program);
    t.is(native.status, 0, native.stderr);
    const boxed = runSandbox(program, [], { platform });
    t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
    t.is(boxed.status, 0, boxed.stderr);
  });
}

/**
 * The command with stdin a pipe that already holds its data and whose writer is gone (spawnSync's
 * input would be a socket, written while the program may already look).
 */
const WITH_DATA = `printf 'hello\\nworld\\n' | { sleep 0.3; exec "$@"; }`;

each('poll_stdin data: stdin a host pipe with data', (platform) => async (t) => {
  const program = await guestProgram('poll_stdin');
  const native = runNative('sh', ['-c', WITH_DATA, 'sh', program, 'data']);
  t.is(native.status, 0, native.stderr);
  const boxed = runNative('sh', ['-c', WITH_DATA, 'sh', ...sandboxCommandLine(program, ['data'], { platform })], { cwd: projectRoot });
  t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
  t.is(boxed.status, 0, boxed.stderr);
});

/**
 * Runs file with stdin a FIFO that stays open (a pipe: Node.js would give its children a socket, and
 * half-closes that before it closes it): each time the program says it waits, the next line is
 * written, or, after the last, the FIFO is closed. Resolves with stdout and the status.
 */
async function fedAsItWaits(file: string, args: string[], lines: string[]): Promise<{ stdout: string; stderr: string; status: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-poll-'));
  const fifo = join(dir, 'stdin');
  execFileSync('mkfifo', [fifo]);
  const child = spawn('sh', ['-c', 'exec "$0" "$@" < "$STDIN_FIFO"', file, ...args], {
    cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STDIN_FIFO: fifo },
  });
  const writer = await open(fifo, 'w');
  let stdout = '';
  let stderr = '';
  let seen = 0;
  let next = 0;
  let feeding = Promise.resolve();
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    const waits = stdout.split('\n').filter((l) => l.startsWith('waiting')).length;
    for (; seen < waits; seen++) {
      const line = next < lines.length ? lines[next++]! : null;
      feeding = feeding.then(() => (line === null ? writer.close() : writer.write(line).then(() => {})));
    }
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const status = await new Promise<number>((resolve) => child.on('close', (code, signal) => {
    resolve(code ?? 128 + (signal === null ? 0 : osConstants.signals[signal]));
  }));
  clearTimeout(timer);
  await feeding.catch(() => {});
  await writer.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
  return { stdout, stderr, status };
}

each('poll_stdin wait: stdin a host pipe, empty and then fed', (platform) => async (t) => {
  const program = await guestProgram('poll_stdin');
  const lines = ['late\n', 'later\n'];
  const native = await fedAsItWaits(program, ['wait'], lines);
  t.is(native.status, 0, native.stderr);
  const [node, ...cli] = sandboxCommandLine(program, ['wait'], { platform });
  const boxed = await fedAsItWaits(node!, cli, lines);
  t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
  t.is(boxed.status, 0, boxed.stderr);
});

const PYTHON_SELECTORS = `
import os, selectors, subprocess
r = subprocess.run(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], capture_output=True)
print(r.returncode, r.stdout, r.stderr)
sel = selectors.DefaultSelector()
print(type(sel).__name__)
a, b = os.pipe()
sel.register(a, selectors.EVENT_READ, 'pipe')
print(sel.select(0))
os.write(b, b'x')
print([(k.data, ev) for k, ev in sel.select(1)])
os.close(b)
print([(k.data, ev) for k, ev in sel.select(1)])
p = selectors.PollSelector()
p.register(a, selectors.EVENT_READ, 'polled')
print([(k.data, ev) for k, ev in p.select(1)])
`;

each('python3 selectors and subprocess.run(capture_output=True)', (platform) => (t) => {
  if (!existsSync(PYTHON)) {
    t.pass('python3 is not installed');
    return;
  }
  const native = runNative(PYTHON, ['-c', PYTHON_SELECTORS]);
  t.is(native.status, 0, native.stderr);
  const boxed = runSandbox(PYTHON, ['-c', PYTHON_SELECTORS], { platform });
  t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
  t.is(boxed.status, 0);
});

if (skip) {
  test.skip(`--strace decodes poll, select, epoll, eventfd and timerfd arguments (skipped: ${skip})`, () => {});
} else {
  test.serial('--strace decodes poll, select, epoll, eventfd and timerfd arguments', async (t) => {
    const program = await guestProgram('poll_files');
    const boxed = runSandbox(program, [], { extraCliArgs: ['--strace'] });
    t.is(boxed.status, 0, boxed.stderr);
    const trace = boxed.stderr;
    for (const line of [
      /poll\(\[\{fd=\d+, events=POLLIN\|POLLOUT\}\], 1, 0\) = 1/,
      /poll\(\[\{fd=999, events=POLLIN\}, \{fd=\d+, events=POLLOUT\}\], 2, 0\) = 1/,
      /pselect6\(5, \[3\], \[3 4\], NULL, \{tv_sec=0, tv_nsec=0\}, NULL\) = 2/,
      /epoll_create1\(EPOLL_CLOEXEC\) = 3/,
      /epoll_ctl\(3, EPOLL_CTL_ADD, \d+, \{events=EPOLLIN, data=\{u32=100, u64=100\}\}\) = 0/,
      /epoll_ctl\(3, EPOLL_CTL_MOD, \d+, \{events=EPOLLIN\|EPOLLET, data=\{u32=101, u64=101\}\}\) = 0/,
      /epoll_wait\(3, \[\{events=EPOLLIN, data=\{u32=100, u64=100\}\}\], 8, 0\) = 1/,
      /eventfd2\(2, EFD_SEMAPHORE\|EFD_NONBLOCK\|EFD_CLOEXEC\) = 3/,
      /timerfd_create\(CLOCK_MONOTONIC, TFD_NONBLOCK\|TFD_CLOEXEC\) = 3/,
      /timerfd_settime\(3, 0, \{it_interval=\{tv_sec=0, tv_nsec=20000000\}, it_value=\{tv_sec=0, tv_nsec=20000000\}\}, 0x[0-9a-f]+\) = 0/,
      /timerfd_settime\(3, TFD_TIMER_ABSTIME, \{it_interval=/,
    ]) t.regex(trace, line);
  });
}
