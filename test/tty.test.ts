// The behaviour programs with stdout on a pseudo-terminal (`script -qec`), natively and in the
// sandbox: what glibc does on a terminal (line buffering, tcgetattr on stdout, busybox ls asking for
// the window size) must work as on the host. Programs that end by a signal are left out: the sandbox
// reports the signal on stderr, which shares the terminal here; and the sandbox logs errors only, so
// that its warnings (an unimplemented syscall) stay out of the terminal too.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestProgram, projectRoot } from './helpers/guest-programs.js';
import { compareWithNative } from './helpers/signal-cases.js';
import { busyboxPath, kvmSkipReason, platforms, runNative, runNativeOnTty, runSandbox, runSandboxOnTty, sandboxCommandLine, scriptPath, type RunOptions } from './helpers/run.js';

const skip = kvmSkipReason() ?? (scriptPath === null ? 'script(1) is not installed' : null);
const busybox = busyboxPath();

interface Case {
  title: string;
  /** A test/guest program, or an absolute path. */
  program: string;
  args?: string[];
  opts?: RunOptions;
  status: number;
}

const cases: Case[] = [
  { title: 'hello', program: 'hello', status: 0 },
  { title: 'args', program: 'args', args: ['one', 'two words', ''], opts: { env: { TSVISOR_TEST_A: 'alpha', TSVISOR_TEST_B: undefined } }, status: 7 },
  { title: 'malloc100', program: 'malloc100', status: 0 },
  { title: 'exit42', program: 'exit42', status: 42 },
  { title: 'syscall_sites', program: 'syscall_sites', status: 0 },
  { title: 'enosys', program: 'enosys', status: 0 },
];
if (/\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) cases.push({ title: 'avx', program: 'avx', status: 0 });
if (busybox !== null) {
  cases.push({ title: 'busybox ls', program: busybox, args: ['ls', '/usr'], status: 0 });
  cases.push({ title: 'busybox ls -l', program: busybox, args: ['ls', '-ld', '/usr', '/etc'], status: 0 });
}

for (const c of cases) {
  for (const platform of platforms) {
    const title = `${c.title} on a terminal [${platform}]`;
    if (skip !== null) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, async (t) => {
      const program = c.program.startsWith('/') ? c.program : await guestProgram(c.program);
      const native = runNativeOnTty(program, c.args, c.opts);
      t.is(native.status, c.status, `native run: ${native.stdout}`);
      const boxed = runSandboxOnTty(program, c.args, { ...c.opts, platform, extraCliArgs: ['--log-level', 'error'] });
      t.is(boxed.stdout, native.stdout);
      t.is(boxed.status, native.status, boxed.stdout);
    });
  }
}

// Terminal calls (test/guest/tty_ioctl.c): on the host's terminal without -t, every answer as natively;
// on the sandbox's own terminal (-t), the same apart from the terminal's settings ("portable").
const ttyCases: Array<{ title: string; args: string[]; cli: string[] }> = [
  { title: 'tty_ioctl on the host terminal', args: [], cli: [] },
  { title: 'tty_ioctl on the sandbox terminal (-t)', args: ['portable'], cli: ['-t'] },
];
for (const c of ttyCases) {
  if (skip !== null) {
    test.skip(`${c.title} (skipped: ${skip})`, () => {});
    continue;
  }
  test(c.title, async (t) => {
    const program = await guestProgram('tty_ioctl');
    const native = runNativeOnTty(program, c.args);
    t.is(native.status, 0, native.stdout);
    const boxed = runSandboxOnTty(program, c.args, { extraCliArgs: ['--log-level', 'error', ...c.cli] });
    // At its stdin's end script(1) types a NUL for EOF, which the sandbox's terminal echoes as ^@ when it
    // comes before the program changes the mode; natively it comes later.
    t.is(boxed.stdout.replace(/^\^@/, ''), native.stdout);
    t.is(boxed.status, 0, boxed.stdout);
  });
}

// A program's own pseudo-terminals through /dev/ptmx (test/guest/pty_open.c), and Python's pty module
// (openpty, and pty.fork with a child on the slave), with stdout a pipe: as natively.
const PTY_PYTHON = `import os, pty
m, s = os.openpty()
os.write(m, b'hi\\n')
print(os.read(s, 10), os.ttyname(s).startswith('/dev/pts/'))
pid, fd = pty.fork()
if pid == 0:
    print('child on a terminal:', os.isatty(0), os.ttyname(0).startswith('/dev/pts/'), flush=True)
    os._exit(3)
out = b''
while True:
    try:
        d = os.read(fd, 100)
    except OSError:
        break
    if not d:
        break
    out += d
print(out.replace(b'\\r', b''), os.waitpid(pid, 0)[1] >> 8)
`;
const ptyCases: Array<{ title: string; program: () => Promise<string> | string; args: string[] }> = [
  { title: 'pty_open: /dev/ptmx, the slave, the child on it', program: () => guestProgram('pty_open'), args: [] },
];
if (existsSync('/usr/bin/python3')) ptyCases.push({ title: 'python3 pty.fork and os.openpty', program: () => '/usr/bin/python3', args: ['-c', PTY_PYTHON] });
for (const c of ptyCases) {
  for (const platform of platforms) {
    const title = `${c.title} [${platform}]`;
    if (kvmSkipReason() !== null) {
      test.skip(`${title} (skipped: ${kvmSkipReason()})`, () => {});
      continue;
    }
    test(title, async (t) => {
      const program = await c.program();
      const native = runNative(program, c.args);
      t.is(native.status, 0, native.stderr);
      const boxed = runSandbox(program, c.args, { platform });
      t.is(boxed.stdout, native.stdout, boxed.stderr);
      t.is(boxed.status, 0, boxed.stderr);
    });
  }
}

// Packet mode on a /dev/ptmx master (test/guest/pty_pkt.c: the status bytes of flushes, stops, starts and
// IXON changes, POLLPRI, TIOCGPKT, TIOCGPTLCK), and the slave's non-canonical reads by VMIN and VTIME
// with a child typing at timed moments and signals in the middle (test/guest/pty_vtime.c): as natively.
compareWithNative([{ name: 'pty_pkt', status: 0 }, { name: 'pty_vtime', status: 0 }]);

// A host terminal as stdin, without -t (test/guest/tty_host_vtime.c): the Sentry reads the host fd
// without blocking, so VMIN and VTIME are its own to keep. test/helpers/tty_typist.py holds the
// terminal's other end and types on cue: as natively.
const typist = join(projectRoot, 'test', 'helpers', 'tty_typist.py');
const python = '/usr/bin/python3';
for (const platform of platforms) {
  const title = `tty_host_vtime: VMIN and VTIME on a host terminal [${platform}]`;
  const why = kvmSkipReason() ?? (existsSync(python) ? null : 'python3 is not installed');
  if (why !== null) {
    test.skip(`${title} (skipped: ${why})`, () => {});
    continue;
  }
  test(title, async (t) => {
    const program = await guestProgram('tty_host_vtime');
    const native = runNative(python, [typist, program]);
    t.is(native.status, 0, native.stdout);
    const boxed = runNative(python, [typist, ...sandboxCommandLine(program, [], { platform, extraCliArgs: ['--log-level', 'error'] })], { cwd: projectRoot });
    t.is(boxed.stdout, native.stdout);
    t.is(boxed.status, 0, boxed.stdout);
  });
}
