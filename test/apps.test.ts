// Debian's userland at work, unmodified, natively and in the sandbox on both platform modes: a bash
// script using most of the language, tar/gzip/find/xargs/cp -a over a tree on a --mount directory
// (the host then checks what was written) and over host files through the overlay, python3 spawning
// processes every way it can, gcc compiling and linking, make -j2 with its jobserver, and a few of
// Python's own test modules. What each prints must be the same, byte for byte.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestSourceDir } from './helpers/guest-programs.js';
import { kvmSkipReason, overlayScratchBase, type Platform, platforms, runNative, runSandbox, type RunResult } from './helpers/run.js';
import { quickPythonModules, pythonTestSkipReason, runPythonTests } from './helpers/python-tests.js';

const BASH = '/bin/bash';
const PYTHON = '/usr/bin/python3';
const GCC = '/usr/bin/gcc';
const MAKE = '/usr/bin/make';
const TAR = '/usr/bin/tar';

const kvm = kvmSkipReason();
const scripts = join(guestSourceDir, 'apps');
const bashScript = join(scripts, 'script.sh');
const tarScript = join(scripts, 'tar.sh');
const pythonScript = join(scripts, 'spawn.py');
const socketsScript = join(scripts, 'sockets.py');

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function hostDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `tsvisor-apps-${tag}-`));
}

function ok(t: ExecutionContext, r: RunResult, what: string): void {
  t.is(r.status, 0, `${what}: status ${r.status}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
}



function makeTree(root: string): void {
  mkdirSync(join(root, 'src', 'a', 'b'), { recursive: true });
  mkdirSync(join(root, 'src', 'c'));
  for (let i = 1; i <= 25; i++) writeFileSync(join(root, 'src', 'a', `f${i}`), randomBytes(i * 997));
  writeFileSync(join(root, 'src', 'c', 'x.txt'), 'hi\n');
  symlinkSync('../../c/x.txt', join(root, 'src', 'a', 'b', 'link'));
  chmodSync(join(root, 'src', 'a', 'f3'), 0o600);
  utimesSync(join(root, 'src', 'c', 'x.txt'), new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
}


const helloC = '#include <stdio.h>\nint main(void) { printf("hello from gcc %d\\n", __GNUC__); return 0; }\n';
const projectFiles: Record<string, string> = {
  'main.c': '#include <stdio.h>\nint twice(int);\nint main(void) { printf("%d\\n", twice(21)); return 0; }\n',
  'twice.c': 'int twice(int x) { return 2 * x; }\n',
  Makefile: 'prog: main.o twice.o\n\t$(CC) -o $@ main.o twice.o\n%.o: %.c\n\t$(CC) -O2 -c $< -o $@\nclean:\n\trm -f *.o prog\n',
};

type Case = { name: string; needs: string[]; run: (t: ExecutionContext, platform: Platform) => void };

/** A Python script run natively and in the sandbox: the same output, status 0 in both. */
function pythonCase(name: string, script: string): Case {
  return {
    name, needs: [PYTHON],
    run: (t, p) => {
      const native = runNative(PYTHON, [script]);
      ok(t, native, 'native python3');
      const boxed = runSandbox(PYTHON, [script], { platform: p });
      t.is(boxed.stdout, native.stdout, boxed.stderr);
      t.is(boxed.status, 0);
    },
  };
}

const cases: Case[] = [
  {
    name: 'bash: functions, loops, substitutions, pipelines, redirections, here-docs, traps', needs: [BASH],
    run: (t, p) => {
      const native = runNative(BASH, [bashScript]);
      ok(t, native, 'native bash');
      const boxed = runSandbox(BASH, [bashScript], { platform: p });
      t.is(boxed.stdout, native.stdout, boxed.stderr);
      t.is(boxed.status, native.status);
    },
  },
  {
    name: 'tar czf and xzf, find -exec, xargs, cp -a and sha256sum on a --mount directory', needs: [BASH, TAR],
    run: (t, p) => {
      const native = hostDir('tar-native');
      const mounted = hostDir('tar-mount');
      makeTree(native);
      execFileSync('cp', ['-a', join(native, 'src'), mounted]);
      const expected = runNative(BASH, [tarScript, native]);
      ok(t, expected, 'native');
      const boxed = runSandbox(BASH, [tarScript, '/mnt/work'], { platform: p, extraCliArgs: ['--mount', `${mounted}:/mnt/work`] });
      t.is(boxed.stdout, expected.stdout, boxed.stderr);
      t.is(boxed.status, 0);
      // What the sandbox wrote is on the host, the same bytes as native's.
      t.deepEqual(readFileSync(join(mounted, 't.tgz')), readFileSync(join(native, 't.tgz')));
      const listing = (dir: string): string => execFileSync('find', ['.', '-printf', '%p %m %y %s %l %T@\n'], { cwd: dir, encoding: 'utf8' }).split('\n').sort().join('\n');
      t.is(listing(join(mounted, 'copy')), listing(join(native, 'copy')));
      rmSync(native, { recursive: true, force: true });
      rmSync(mounted, { recursive: true, force: true });
    },
  },
  {
    name: 'tar xzf over host files through the overlay replaces them; the host keeps its own', needs: [BASH, TAR],
    run: (t, p) => {
      const dir = join(overlayScratchBase, `apps-overlay-${process.pid}-${randomBytes(3).toString('hex')}`);
      mkdirSync(dir, { recursive: true });
      makeTree(dir);
      ok(t, runNative(BASH, [tarScript, dir]), 'native');
      const before = execFileSync('sha256sum', ['t.tgz', 'out/src/a/f1'], { cwd: dir, encoding: 'utf8' });
      // Every name exists on the host: tar unlinks each and makes it again (the symlink twice over).
      const again = 'set -e; cd "$1"; echo changed > out/src/a/f1; tar xzf t.tgz -C out; tar xzf t.tgz -C out; sha256sum out/src/a/f1; ls -l out/src/a/b | tail -1 | cut -c1-10';
      const boxed = runSandbox(BASH, ['-c', again, 'again', dir], { platform: p });
      const native = runNative(BASH, ['-c', again.replace('echo changed > out/src/a/f1; ', ''), 'again', dir]);
      t.is(boxed.stdout, native.stdout, boxed.stderr);
      t.is(boxed.status, 0);
      t.is(execFileSync('sha256sum', ['t.tgz', 'out/src/a/f1'], { cwd: dir, encoding: 'utf8' }), before);
      rmSync(dir, { recursive: true, force: true });
    },
  },
  pythonCase('python3: files in /tmp, subprocess.run, a Popen pipeline, fork and waitpid, a Pool of 2', pythonScript),
  pythonCase('python3: socket.socketpair, a duplex multiprocessing Pipe across fork, asyncio woken by another thread', socketsScript),
  {
    name: 'gcc -O2 hello.c and make -j2 of two files on a --mount directory; the host runs the results', needs: [GCC, MAKE],
    run: (t, p) => {
      const dir = hostDir('gcc');
      writeFileSync(join(dir, 'hello.c'), helloC);
      for (const [name, text] of Object.entries(projectFiles)) writeFileSync(join(dir, name), text);
      const script = 'set -e; gcc -O2 hello.c -o hello; ./hello; make -s -j2; ./prog';
      const boxed = runSandbox(BASH, ['-c', script], { platform: p, extraCliArgs: ['--mount', `${dir}:/mnt/src`, '--cwd', '/mnt/src'] });
      ok(t, boxed, 'sandbox');
      t.is(boxed.stdout, `hello from gcc ${/^(\d+)/.exec(execFileSync(GCC, ['-dumpversion'], { encoding: 'utf8' }))![1]}\n42\n`);
      t.is(execFileSync(join(dir, 'hello'), { encoding: 'utf8' }), boxed.stdout.split('\n')[0] + '\n');
      t.is(execFileSync(join(dir, 'prog'), { encoding: 'utf8' }), '42\n');
      rmSync(dir, { recursive: true, force: true });
    },
  },
];

for (const c of cases) {
  for (const platform of platforms) {
    const title = `${c.name} [${platform}]`;
    const missing = c.needs.filter((path) => !existsSync(path));
    const skip = kvm ?? (missing.length > 0 ? `${missing.join(', ')} missing (npm install as root installs them)` : null);
    if (skip !== null) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    // Serial, each after a turn of the event loop: the runs are synchronous, and ava must hear of each
    // test's end before the next begins, or it takes the silence for a timeout.
    test.serial(title, async (t) => {
      await yieldToEventLoop();
      t.timeout(240_000);
      c.run(t, platform);
    });
  }
}

// A few quick modules of Python's own test suite (all of them: npm run test:python).
const pythonSkip = kvm ?? pythonTestSkipReason();
for (const platform of platforms) {
  const title = `python3 -m test ${quickPythonModules.join(' ')} passes as natively [${platform}]`;
  if (pythonSkip !== null) {
    test.skip(`${title} (skipped: ${pythonSkip})`, () => {});
    continue;
  }
  test.serial(title, async (t) => {
    await yieldToEventLoop();
    t.timeout(240_000);
    const native = runPythonTests(quickPythonModules, null);
    const boxed = runPythonTests(quickPythonModules, platform);
    t.log(`native ${JSON.stringify(native.counts)}, sandbox ${JSON.stringify(boxed.counts)}`);
    t.deepEqual(boxed.counts, native.counts, boxed.output.slice(-3000));
  });
}

