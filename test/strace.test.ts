// --strace as people read it: the same calls, in the same order and with the same decoded arguments
// as Debian's strace -f shows for the same static program natively; its JSON events; and the decoders
// on their own (no /dev/kvm needed).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mapFlags, openFlags, OUTPUT_KINDS, protFlags, quoteBytes } from '../src/kernel/strace-args.js';
import { buildSyscallTable } from '../src/syscalls/table.js';
import { guestProgram, projectRoot } from './helpers/guest-programs.js';
import { kvmSkipReason, runSandbox } from './helpers/run.js';

const needsKvm = kvmSkipReason() === null ? test : test.skip;
const straceInstalled = spawnSync('strace', ['-V']).status === 0;
const needsStrace = kvmSkipReason() === null && straceInstalled ? test : test.skip;

/** Every kind strace-args.ts decodes (its doc comment lists them). */
const KINDS = new Set([...'iuzlxpos', ...'BbedfcPmMAFwakngrtTSvV', ...'QXUCEYWDGHI', ...'hqKjJ']);

test('every argument format in the syscall table uses known kinds', (t) => {
  for (const entry of buildSyscallTable()) {
    if (entry?.args === undefined) continue;
    for (const kind of entry.args) t.true(KINDS.has(kind), `${entry.name}: '${kind}' in '${entry.args}'`);
    t.true(entry.args.length <= 6, entry.name);
  }
  for (const kind of OUTPUT_KINDS) t.true(KINDS.has(kind));
});

test('flags by name as strace prints them', (t) => {
  t.is(openFlags(0o2000000), 'O_RDONLY|O_CLOEXEC');
  t.is(openFlags(0o1 | 0o100 | 0o1000), 'O_WRONLY|O_CREAT|O_TRUNC');
  t.is(openFlags(0o2 | 0o4010000), 'O_RDWR|O_SYNC');
  t.is(openFlags(0o20200000), 'O_RDONLY|O_TMPFILE');
  t.is(openFlags(0o200000), 'O_RDONLY|O_DIRECTORY');
  t.is(openFlags(0x80000000), 'O_RDONLY|0x80000000');
  t.is(protFlags(0), 'PROT_NONE');
  t.is(protFlags(3), 'PROT_READ|PROT_WRITE');
  t.is(protFlags(5 | 0x40), 'PROT_READ|PROT_EXEC|0x40');
  t.is(mapFlags(0x22), 'MAP_PRIVATE|MAP_ANONYMOUS');
  t.is(mapFlags(0x812), 'MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE');
  t.is(mapFlags(0x1), 'MAP_SHARED');
});

test('strings and buffers escaped as strace does', (t) => {
  const bytes = (s: string | number[]): Uint8Array => (typeof s === 'string' ? Buffer.from(s, 'latin1') : new Uint8Array(s));
  t.is(quoteBytes(bytes('hi\n'), false), '"hi\\n"');
  t.is(quoteBytes(bytes('a"b\\c\t\r\v\f'), false), '"a\\"b\\\\c\\t\\r\\v\\f"');
  // Octal as short as it can be, three digits before a digit that would join it.
  t.is(quoteBytes(bytes([0x7f, 0x45, 0x4c, 0x46, 2, 1, 0, 0x31]), true), '"\\177ELF\\2\\1\\0001"...');
  t.is(quoteBytes(bytes([0xff, 0x38]), false), '"\\3778"');
});

/** `name(args) = result` split into the name, the top-level arguments and the result. */
function parseCall(text: string): { name: string; args: string[]; result: string } | null {
  const open = text.indexOf('(');
  if (open < 0) return null;
  const args: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = open + 1;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    } else if (c === ')' && depth === 0) {
      const last = text.slice(start, i).trim();
      if (last !== '' || args.length > 0) args.push(last);
      const result = /^\) = (\S+)/.exec(text.slice(i));
      return { name: text.slice(0, open), args, result: result?.[1] ?? '' };
    }
  }
  return null;
}

/** What one side shows that the other cannot be expected to: an address, or strace's own comment on a number it does not know. */
function undecoded(arg: string): boolean {
  return /^0x[0-9a-f]+$/.test(arg) || arg.includes('/*');
}

needsStrace('--strace shows the calls, order and decoded arguments that strace -f shows natively', async (t) => {
  const program = await guestProgram('strace_calls');
  const dir = mkdtempSync(join(projectRoot, 'build', 'strace-'));
  const nativeTrace = join(dir, 'native');
  const native = spawnSync('strace', ['-f', '-o', nativeTrace, program], { encoding: 'utf8' });
  t.is(native.status, 0, native.stderr);
  const sandbox = runSandbox(program, [], { extraCliArgs: ['--strace-file', join(dir, 'sandbox')] });
  t.is(sandbox.status, 0, sandbox.stderr);
  t.is(sandbox.stdout, native.stdout);
  // strace -o: "PID call"; the sandbox: "[pid N] call <duration>". strace also shows the execve that
  // started the program, which happens before the sandbox's first instruction, and the exit line.
  const nativeCalls = readFileSync(nativeTrace, 'utf8').trim().split('\n')
    .map((l) => l.replace(/^\d+ +/, '')).filter((l) => !l.startsWith('+++') && !l.startsWith('execve('))
    .map((l) => parseCall(l)!);
  const sandboxCalls = readFileSync(join(dir, 'sandbox'), 'utf8').trim().split('\n')
    .map((l) => parseCall(l.replace(/^\[pid \d+\] /, ''))!);
  t.deepEqual(sandboxCalls.map((c) => c.name), nativeCalls.map((c) => c.name));
  let compared = 0;
  sandboxCalls.forEach((call, i) => {
    const theirs = nativeCalls[i]!;
    // getrandom's bytes are random on each side.
    if (call.name === 'getrandom') return;
    for (let a = 0; a < Math.min(call.args.length, theirs.args.length); a++) {
      if (undecoded(call.args[a]!) || undecoded(theirs.args[a]!)) continue;
      t.is(call.args[a], theirs.args[a], `call ${i} ${call.name}, argument ${a}`);
      compared++;
    }
  });
  // The program's own calls, decoded alike on both sides.
  const shown = (name: string): string[] => sandboxCalls.filter((c) => c.name === name).map((c) => c.args.join(', '));
  t.true(shown('openat').includes('AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC'));
  t.true(shown('openat').includes('AT_FDCWD, "/dev/null", O_WRONLY|O_CREAT|O_APPEND, 0640'));
  t.true(shown('mmap').includes('NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0'));
  t.true(shown('write').includes('1, "hello\\tstrace\\n", 13'));
  t.true(shown('writev').includes('1, [{iov_base="ab", iov_len=2}, {iov_base="c\\n", iov_len=2}], 2'));
  t.true(shown('newfstatat').some((a) => /^\d+, "", \{st_mode=S_IFCHR\|0666, st_rdev=makedev\(0x1, 0x3\), \.\.\.\}, AT_EMPTY_PATH$/.test(a)));
  t.true(shown('newfstatat').some((a) => /^AT_FDCWD, "\/etc", \{st_mode=S_IFDIR\|0\d{3}, st_size=\d+, \.\.\.\}, 0$/.test(a)));
  t.true(shown('lseek').some((a) => a.endsWith(', 0, SEEK_SET')));
  t.true(shown('clock_getres').some((a) => /^CLOCK_MONOTONIC, \{tv_sec=0, tv_nsec=\d+\}$/.test(a)));
  t.true(shown('arch_prctl').some((a) => a.startsWith('ARCH_SET_FS, 0x')));
  const failed = sandboxCalls.find((c) => c.args[1] === '"/nonexistent/strace-test"');
  t.is(failed?.result, '-1');
  t.regex(readFileSync(join(dir, 'sandbox'), 'utf8'), /"\/nonexistent\/strace-test", O_RDONLY\) = -1 ENOENT \(No such file or directory\) <\d+\.\d{6}>\n/);
  t.true(compared >= 40, `only ${compared} arguments compared`);
});

needsKvm('--strace-format json: one event per syscall with task, name, decoded arguments, result and duration', async (t) => {
  const program = await guestProgram('strace_calls');
  const r = runSandbox(program, [], { extraCliArgs: ['--strace-format', 'json'] });
  t.is(r.status, 0);
  const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as {
    task: { pid: number; tid: number }; name: string; args: string[]; result: number | null; errno: string | null; duration_us: number;
  });
  for (const e of events) {
    t.deepEqual(Object.keys(e), ['task', 'name', 'args', 'result', 'errno', 'duration_us']);
    t.deepEqual(e.task, { pid: 1, tid: 1 });
    t.true(e.duration_us >= 0 || e.result === null);
  }
  const failed = events.find((e) => e.name === 'openat' && e.args[1] === '"/nonexistent/strace-test"');
  t.deepEqual(failed && { args: failed.args, result: failed.result, errno: failed.errno },
    { args: ['AT_FDCWD', '"/nonexistent/strace-test"', 'O_RDONLY'], result: -2, errno: 'ENOENT' });
  const write = events.find((e) => e.name === 'write');
  t.deepEqual(write && { args: write.args, result: write.result, errno: write.errno }, { args: ['1', '"hello\\tstrace\\n"', '13'], result: 13, errno: null });
  t.deepEqual(events.at(-1), { ...events.at(-1)!, name: 'exit_group', args: ['0'], result: null, errno: null });
});

needsKvm('--strace never faults the Sentry on bad pointers: they are shown as numbers', async (t) => {
  const program = await guestProgram('strace_bad_pointers');
  const r = runSandbox(program, [], { extraCliArgs: ['--strace'] });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /openat\(AT_FDCWD, 0x1, O_RDONLY\) = -1 EFAULT \(Bad address\)/);
  t.regex(r.stderr, /write\(1, 0xdead0000, 10\) = -1 EFAULT \(Bad address\)/);
  t.regex(r.stderr, /writev\(1, 0x10, 2\) = -1 EFAULT \(Bad address\)/);
  t.regex(r.stderr, /fstat\(0, 0xdead0000\) = -1 EFAULT \(Bad address\)/);
  t.regex(r.stderr, /write\(1, 0xffffffffffffffff, 1\) = -1 EFAULT \(Bad address\)/);
});
