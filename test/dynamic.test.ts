// Dynamically linked programs, unmodified from Debian: coreutils, perl, awk, sed, grep, python3 (with
// C extension modules loaded by dlopen) and sqlite3, each run natively and in the sandbox on both
// platform modes and compared byte for byte. Then the loader's own cases (the dynamic linker run
// directly, TLS in many modules, dlopen, LD_LIBRARY_PATH, LD_PRELOAD), what a process reads about
// itself and its machine (/proc/self, sysinfo, the CPU count, --cpus and --memory), and the calls
// they need (futex, fadvise, xattrs, affinity), compared with the host kernel.
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dynamicGuestPrograms, guestProgram } from './helpers/guest-programs.js';
import { kvmSkipReason, overlayScratchBase, type Platform, platforms, type RunOptions, runNative, runSandbox, type SandboxOptions } from './helpers/run.js';

const PYTHON = '/usr/bin/python3';
const SQLITE = '/usr/bin/sqlite3';
const PERL = '/usr/bin/perl';
const GAWK = '/usr/bin/gawk';

const kvm = kvmSkipReason();

/** A directory the sandbox sees at the same path through its overlay root. */
function scratch(tag: string): string {
  const dir = join(overlayScratchBase, `dyn-${tag}-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The program's stdout and status, natively and in the sandbox, must be the same. */
function same(t: ExecutionContext, platform: Platform, program: string, args: string[], opts: RunOptions & SandboxOptions = {}): string {
  const native = runNative(program, args, opts);
  t.is(native.status, 0, `native ${program} ${args.join(' ')}: ${native.stderr}`);
  const boxed = runSandbox(program, args, { ...opts, platform });
  t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
  t.is(boxed.status, native.status, `sandbox stderr:\n${boxed.stderr}`);
  return native.stdout;
}

type Case = { name: string; needs?: string[]; run: (t: ExecutionContext, platform: Platform) => Promise<void> | void };

const text = Array.from({ length: 3000 }, (_, i) => `${(i * 7919) % 3001} line ${i} ${['alpha', 'beta', 'gamma', 'GNU', 'delta'][i % 5]}`).join('\n') + '\n';

const cases: Case[] = [
  { name: 'ls -la /usr/share/doc/coreutils', run: (t, p) => { same(t, p, '/bin/ls', ['-la', '/usr/share/doc/coreutils']); } },
  {
    name: 'sort, sort -n and sha256sum of host files', run: (t, p) => {
      const dir = scratch('sort');
      writeFileSync(join(dir, 'in.txt'), text);
      same(t, p, '/usr/bin/sort', [join(dir, 'in.txt')], { env: { LC_ALL: 'C' } });
      same(t, p, '/usr/bin/sort', ['-n', '-k1,1', '-s', join(dir, 'in.txt')]);
      same(t, p, '/usr/bin/sha256sum', ['/usr/bin/ls', '/usr/bin/sort', join(dir, 'in.txt')]);
      rmSync(dir, { recursive: true, force: true });
    },
  },
  {
    name: 'perl -e', needs: [PERL], run: (t, p) => {
      same(t, p, PERL, ['-e', 'my %h = map { $_ => $_ ** 2 } 1 .. 20; print join(",", map { "$_=$h{$_}" } sort { $a <=> $b } keys %h), "\\n"; ' +
        'printf("%.10f %s\\n", atan2(1, 1) * 4, scalar reverse "dynamic"); my $s = "a1b22c333"; my @n = $s =~ /(\\d+)/g; print "@n\\n";']);
    },
  },
  {
    name: 'awk (mawk and gawk) and sed', run: (t, p) => {
      const dir = scratch('awk');
      const file = join(dir, 'in.txt');
      writeFileSync(file, text);
      same(t, p, '/usr/bin/awk', ['{ s += $1; n[$4]++ } END { print s; for (k in n) c++; print c }', file]);
      if (existsSync(GAWK)) same(t, p, GAWK, ['{ s += $1; n[$4]++ } END { PROCINFO["sorted_in"] = "@ind_str_asc"; for (k in n) print k, n[k]; printf "%.3f\\n", s / NR }', file]);
      same(t, p, '/usr/bin/sed', ['-n', '-e', 's/^\\([0-9]*\\) line \\([0-9]*5\\) .*/\\2:\\1/p', file]);
      rmSync(dir, { recursive: true, force: true });
    },
  },
  {
    name: 'grep -r over a tree', run: (t, p) => {
      const dir = scratch('grep');
      for (let i = 0; i < 20; i++) {
        mkdirSync(join(dir, `d${i % 4}`, `e${i % 3}`), { recursive: true });
        writeFileSync(join(dir, `d${i % 4}`, `e${i % 3}`, `f${i}.txt`), text.split('\n').slice(i * 50, i * 50 + 80).join('\n'));
      }
      // Directory order is the filesystem's: sort the lines, as the order is not grep's to choose.
      const native = runNative('/usr/bin/grep', ['-rn', 'GNU', dir]);
      const boxed = runSandbox('/usr/bin/grep', ['-rn', 'GNU', dir], { platform: p });
      t.is(boxed.status, 0, boxed.stderr);
      const sorted = (s: string): string => s.split('\n').sort().join('\n');
      t.is(sorted(boxed.stdout), sorted(native.stdout));
      same(t, p, '/usr/bin/grep', ['-c', 'alpha', join(dir, 'd0', 'e0', 'f0.txt')]);
      rmSync(dir, { recursive: true, force: true });
    },
  },
  {
    name: 'the dynamic linker run directly', run: (t, p) => {
      same(t, p, '/lib64/ld-linux-x86-64.so.2', ['/bin/ls', '-la', '/usr/share/doc/coreutils']);
      same(t, p, '/lib64/ld-linux-x86-64.so.2', ['/bin/true']);
    },
  },
  {
    name: 'python3: json, sqlite3, hashlib, re, decimal, ctypes loading C code', needs: [PYTHON], run: (t, p) => {
      const script = [
        'import json, sqlite3, hashlib, re, decimal, ctypes, os, sys',
        'print(json.dumps({"a": [1, 2.5, None, True], "b": {"c": "d"}}, sort_keys=True))',
        'print(hashlib.sha256(b"tsvisor").hexdigest(), hashlib.md5(b"x" * 1000).hexdigest(), hashlib.blake2b(b"y").hexdigest()[:16])',
        'print(re.sub(r"(\\w+)@(\\w+)", r"\\2 at \\1", "user@example and root@host"))',
        'decimal.getcontext().prec = 40; print(decimal.Decimal(1) / decimal.Decimal(7))',
        'libm = ctypes.CDLL("libm.so.6"); libm.cbrt.restype = ctypes.c_double; libm.cbrt.argtypes = [ctypes.c_double]; print(libm.cbrt(27.0))',
        'libc = ctypes.CDLL(None); print(libc.strlen(b"hello"), libc.getpid() == os.getpid())',
        'c = sqlite3.connect(":memory:"); c.execute("create table t(x)"); c.executemany("insert into t values (?)", [(i,) for i in range(1000)])',
        'print(c.execute("select count(*), sum(x), max(x) from t").fetchone(), sqlite3.sqlite_version)',
        'print(os.path.realpath("/proc/self/exe"), sys.version_info[:2])',
      ].join('\n');
      same(t, p, PYTHON, ['-c', script]);
    },
  },
  {
    name: 'python3 writes and reads files in /tmp', needs: [PYTHON], run: (t, p) => {
      const script = [
        'import os, tempfile, shutil, glob',
        'd = tempfile.mkdtemp()',
        'for i in range(50):',
        '    open(os.path.join(d, f"f{i:02}.txt"), "w").write(str(i) * (i + 1))',
        'os.mkdir(os.path.join(d, "sub")); shutil.copy(os.path.join(d, "f07.txt"), os.path.join(d, "sub", "copy"))',
        'os.rename(os.path.join(d, "f00.txt"), os.path.join(d, "renamed"))',
        'print(sorted(os.path.basename(f) for f in glob.glob(os.path.join(d, "*")))[:5], len(os.listdir(d)))',
        'print(sum(len(open(f).read()) for f in glob.glob(os.path.join(d, "f*.txt"))), open(os.path.join(d, "sub", "copy")).read())',
        'shutil.rmtree(d); print(os.path.exists(d))',
      ].join('\n');
      same(t, p, PYTHON, ['-c', script]);
    },
  },
  {
    name: 'python3 -m timeit', needs: [PYTHON], run: (t, p) => {
      const r = runSandbox(PYTHON, ['-m', 'timeit', '-n', '200', '-r', '3', 'sum(range(100))'], { platform: p });
      t.is(r.status, 0, r.stderr);
      t.regex(r.stdout, /^200 loops, best of 3: [\d.]+ [nu]?sec per loop\n$/);
    },
  },
  {
    name: 'python3 maps its libraries and extensions as Linux does', needs: [PYTHON], run: (t, p) => {
      // Every file mapping: permissions, offset, device, inode and path (the addresses are ASLR's).
      const script = 'import _ctypes, _sqlite3, _decimal\n' +
        'for l in open("/proc/self/maps"):\n    f = l.split()\n    if len(f) == 6 and f[5].startswith("/"): print(*f[1:])';
      same(t, p, PYTHON, ['-c', script]);
    },
  },
  {
    name: 'sqlite3: a database in /tmp, 10 000 inserts in one transaction, a query and an index', needs: [SQLITE], run: (t, p) => {
      const dir = scratch('sqlite');
      const sql = join(dir, 'work.sql');
      writeFileSync(sql, sqlScript);
      const native = mkdtempSync(join(tmpdir(), 'tsvisor-sqlite-'));
      const expected = runNative(SQLITE, [join(native, 'n.db'), `.read ${sql}`]);
      t.is(expected.status, 0, expected.stderr);
      const boxed = runSandbox(SQLITE, ['/tmp/t.db', `.read ${sql}`, 'PRAGMA integrity_check;'], { platform: p });
      t.is(boxed.stdout, `${expected.stdout}ok\n`, boxed.stderr);
      t.is(boxed.status, 0);
      rmSync(native, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  },
  {
    name: 'sqlite3 on a --mount directory: the host has the same file bytes', needs: [SQLITE], run: (t, p) => {
      const dir = scratch('sqlite-mount');
      const sql = join(dir, 'work.sql');
      writeFileSync(sql, sqlScript);
      const host = mkdtempSync(join(tmpdir(), 'tsvisor-sqlite-'));
      const boxed = runSandbox(SQLITE, ['/mnt/db/t.db', `.read ${sql}`], { platform: p, extraCliArgs: ['--mount', `${host}:/mnt/db`] });
      t.is(boxed.status, 0, boxed.stderr);
      const native = runNative(SQLITE, [join(host, 'n.db'), `.read ${sql}`]);
      t.is(boxed.stdout, native.stdout);
      // SQLite writes the same bytes for the same statements: the sandbox's file is the native one.
      t.deepEqual(readFileSync(join(host, 't.db')), readFileSync(join(host, 'n.db')));
      const check = runNative(SQLITE, [join(host, 't.db'), 'PRAGMA integrity_check; SELECT count(*) FROM t WHERE v < 10;']);
      t.is(check.stdout, 'ok\n100\n');
      rmSync(host, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  },
  {
    name: 'TLS in many modules, dlopen, LD_LIBRARY_PATH and LD_PRELOAD', run: async (t, p) => {
      const dir = await dynamicGuestPrograms();
      const program = join(dir, 'dyn_main');
      const out = same(t, p, program, [], { env: { LD_LIBRARY_PATH: dir, LD_PRELOAD: undefined } });
      t.regex(out, /^hello from libdyn_a\n/);
      t.regex(out, /mapped rw-p 00003000 libdyn_a\.so/);
      const preloaded = same(t, p, program, [], { env: { LD_LIBRARY_PATH: dir, LD_PRELOAD: join(dir, 'libdyn_preload.so') } });
      t.regex(preloaded, /^hello from the preloaded library\n/);
      // Without the library path the libraries are not found: ld.so's error and status, as natively.
      const native = runNative(program, [], { env: { LD_LIBRARY_PATH: undefined, LD_PRELOAD: undefined } });
      const boxed = runSandbox(program, [], { platform: p, env: { LD_LIBRARY_PATH: undefined, LD_PRELOAD: undefined } });
      t.is(boxed.status, native.status);
      t.is(native.status, 127);
      t.regex(boxed.stderr, /libdyn_a\.so: cannot open shared object file/);
    },
  },
  {
    name: 'ASLR places a PIE and its interpreter at random; --no-aslr where Linux does', run: async (t, p) => {
      const program = join(await dynamicGuestPrograms(), 'dyn_layout');
      const fields = (stdout: string): Record<string, string> => Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
      const first = fields(runSandbox(program, [], { platform: p }).stdout);
      const second = fields(runSandbox(program, [], { platform: p }).stdout);
      for (const what of ['image', 'brk', 'interp']) t.not(first[what], second[what], `${what} is randomised`);
      const fixed = runSandbox(program, [], { platform: p, extraCliArgs: ['--no-aslr'] });
      t.is(fixed.status, 0, fixed.stderr);
      const native = spawnSync('setarch', ['-R', program], { encoding: 'utf8' });
      if (native.status !== 0) return;
      t.is(fixed.stdout, native.stdout, 'the program, its break and ld.so are where Linux puts them');
    },
  },
  {
    name: 'a process reads itself: auxv and /proc/self, sysinfo, the CPU count', run: async (t, p) => {
      const program = await guestProgram('proc_self');
      same(t, p, program, ['one', 'two words', '']);
      // Started through a symlink: comm is the link's name (cut to 15 bytes), exe the file's real path.
      const dir = scratch('comm');
      const link = join(dir, 'a-long-name-for-proc-self');
      symlinkSync(program, link);
      t.regex(same(t, p, link, []), /comm a-long-name-for, /);
      rmSync(dir, { recursive: true, force: true });
    },
  },
  {
    name: 'futex in one thread', run: async (t, p) => { same(t, p, await guestProgram('futex'), []); },
  },
  {
    name: 'fadvise, readahead, xattrs, sysinfo and affinity', run: async (t, p) => {
      same(t, p, await guestProgram('misc_calls'), ['/etc/os-release']);
    },
  },
  {
    name: '--cpus and --memory are what the program sees', run: async (t, p) => {
      const r = runSandbox(await guestProgram('proc_self'), ['values'], { platform: p, extraCliArgs: ['--cpus', '1', '--memory', '256M'] });
      t.is(r.status, 0, r.stderr);
      t.is(r.stdout, [
        'sched_getaffinity: 1', 'nprocs: 1 1', 'online: 1 cpuinfo: 1', 'sysinfo totalram: 256 MiB', 'MemTotal: 256 MiB',
        'memory.max: 268435456', 'cpu.max: 100000 100000', 'cpuset.cpus.effective: 0', 'Cpus_allowed_list:\t0', '',
      ].join('\n'));
      if (!existsSync(PYTHON)) return;
      const py = runSandbox(PYTHON, ['-c', 'import os; print(os.cpu_count(), len(os.sched_getaffinity(0)), os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") >> 20)'],
        { platform: p, extraCliArgs: ['--cpus', '1', '--memory', '512'] });
      t.is(py.stdout, '1 1 512\n', py.stderr);
    },
  },
];

const sqlScript = `CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v INTEGER);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000)
  INSERT INTO t(name, v) SELECT 'name' || x, x * 7 % 1000 FROM c;
COMMIT;
SELECT count(*), sum(v), min(name), max(name) FROM t;
CREATE INDEX t_v ON t(v);
SELECT count(*) FROM t WHERE v = 42;
SELECT v, count(*) FROM t WHERE v BETWEEN 10 AND 12 GROUP BY v;
EXPLAIN QUERY PLAN SELECT * FROM t WHERE v = 7;
`;

for (const c of cases) {
  for (const platform of platforms) {
    const title = `${c.name} [${platform}]`;
    const missing = (c.needs ?? []).filter((path) => !existsSync(path));
    const skip = kvm ?? (missing.length > 0 ? `${missing.join(', ')} missing (npm install as root installs them)` : null);
    if (skip !== null) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, (t) => c.run(t, platform));
  }
}

test('the test programs are what they say: dynamically linked', (t) => {
  const file = execFileSync('readelf', ['-lW', '/bin/ls'], { encoding: 'utf8' });
  t.regex(file, /Requesting program interpreter: \/lib64\/ld-linux-x86-64\.so\.2/);
});
