// Runs inside the emulated AMD SVM host (scripts/test-svm.sh boots it): the foundation's guest
// programs, natively and in the sandbox on both platform modes, compared by stdout and status.
// Plain JS on purpose: it must not depend on a TypeScript build of the tests. The programs in
// build/test-guest/ are compiled on the real host before boot (the emulated CPU is slow).
// Starting a sandbox costs about a minute of emulated CPU (Node.js twice, the Sentry's modules), so
// every case runs in one busybox sh per platform mode, inside the sandbox as natively: each program
// then also goes through fork, exec and wait at real CPL 0. Markers between the cases split stdout
// and carry each status, and the cases are compared one by one.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { shadowedBySandbox } from '../../dist/src/fs/namespace.js';

// The installed command (the esbuild bundle): one file to load where the emulated CPU makes each costly.
const cli = 'dist/bundle/cli/tsvisor.cjs';
// The sandbox has its own /dev, /proc, /sys: a checkout below them is mounted at its own path.
const checkout = process.cwd();
const checkoutMount = shadowedBySandbox(checkout) ? ['--mount', `${checkout}:${checkout}:ro`] : [];
const guest = (name) => `build/test-guest/${name}`;
const cases = [
  { title: 'hello', program: guest('hello'), args: [] },
  { title: 'args', program: guest('args'), args: ['one', 'two words', ''], env: { TSVISOR_TEST_A: 'alpha' } },
  { title: 'segv', program: guest('segv'), args: [] },
  { title: 'ud2', program: guest('ud2'), args: [] },
  { title: 'div0', program: guest('div0'), args: [] },
  { title: 'malloc100', program: guest('malloc100'), args: [] },
  { title: 'many_syscalls', program: guest('many_syscalls'), args: ['20000'] },
  { title: 'enosys', program: guest('enosys'), args: [] },
  { title: 'exit42', program: guest('exit42'), args: [] },
  { title: 'syscall_sites', program: guest('syscall_sites'), args: [] },
  // The clocks through the vDSO (it falls back to syscalls where the host's TSC is not its clocksource,
  // as on this emulated host); fewer calls than the 10^6 of the PVM tests, the CPU being emulated.
  { title: 'vdso_clocks', program: guest('vdso_clocks'), args: ['check', '2000'] },
  // Signals at real CPL 0 (each takes about a minute per mode here): the stub's FPU/AVX hops from the
  // syscall return, and the NMI that interrupts a program computing without syscalls (its hops run
  // from the exception return).
  { title: 'sig_fpu', program: guest('sig_fpu'), args: [] },
  { title: 'sig_async', program: guest('sig_async'), args: [] },
  // A blocked pipe write whose reader goes: its own SIGPIPE comes on its way back, never as an interruption.
  { title: 'sig_pipe blocked', program: guest('sig_pipe'), args: ['blocked'] },
  { title: 'busybox echo', program: '/bin/busybox', args: ['echo', 'hello', 'world'] },
  { title: 'busybox true', program: '/bin/busybox', args: ['true'] },
  { title: 'busybox false', program: '/bin/busybox', args: ['false'] },
  // Processes and threads: fork, exec, pipes and wait through a shell; threads, futexes, clear_child_tid.
  { title: 'busybox sh pipeline', program: '/bin/busybox', args: ['sh', '-c', 'echo $(/bin/busybox echo hi | /bin/busybox tr a-z A-Z); (exit 3); echo $?'] },
  { title: 'proc_threads', program: guest('proc_threads'), args: [] },
  { title: 'futex', program: guest('futex'), args: [] },
  // A thread spinning on a page while another's mprotect or fork takes its write right away: nested
  // paging has no shadow to keep the vCPUs' TLBs coherent, as PVM's does.
  { title: 'mem_tlb', program: guest('mem_tlb'), args: [] },
  // I/O into and out of a slot of 4 KiB pages that a fault in the middle of the copy collapses.
  { title: 'mem_collapse_io', program: guest('mem_collapse_io'), args: [] },
  // (Not proc_self: it compares the sandbox's /proc and /sys with the host's, and this emulated host
  // has neither cgroup2 nor a /sys of its own; the ava tests compare them on the real host.)
  // Dynamically linked: the dynamic linker, libc and the libraries come from the host's root.
  { title: 'ls -la (dynamic)', program: '/bin/ls', args: ['-la', '/usr/share/doc/coreutils'] },
  { title: 'ld.so /bin/true', program: '/lib64/ld-linux-x86-64.so.2', args: ['/bin/true'] },
  { title: 'TLS, dlopen, LD_PRELOAD', program: guest('dyn/dyn_main'), args: [],
    env: { LD_LIBRARY_PATH: `${checkout}/build/test-guest/dyn`, LD_PRELOAD: `${checkout}/build/test-guest/dyn/libdyn_preload.so` } },
  { title: 'busybox ls', program: '/bin/busybox', args: ['ls', '/usr'] },
  { title: 'struct_sizes', program: guest('struct_sizes'), args: [] },
];
// Then with stdin, stdout and stderr on a pseudo-terminal (`script -qec`), where glibc asks the
// terminal for its attributes (a 60-byte copy of termios once smashed tcgetattr's stack here): a
// printf program, busybox ls (which also asks for the window size) and every struct copy-out. Not
// programs that end by a signal, whose report would share the terminal with their output; and the
// sandbox logs errors only, so that its warnings stay out of it too.
const ttyCases = cases.filter((c) => ['hello', 'malloc100', 'busybox ls', 'struct_sizes'].includes(c.title));
const script = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));
const quote = (w) => `'${w.replace(/'/g, `'\\''`)}'`;
const MARK = '@@@svm-case';
// The same title on stderr, so that a failing case shows the whole of what it and the Sentry logged.
const ERR_MARK = '@@@svm-stderr';

/** One sh script that runs the cases in turn, each preceded by its title and followed by its status. */
function caseScript(list) {
  return list.map((c) => {
    const env = Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${quote(v)} `).join('');
    return `echo ${quote(`${MARK} ${c.title}`)}; echo ${quote(`${ERR_MARK} ${c.title}`)} >&2; ${env}${[c.program, ...c.args].map(quote).join(' ')}; echo "${MARK} status $?"`;
  }).join('\n');
}

/** Each case's stdout and status, from a run of caseScript (a terminal's \r\n read as \n). */
function splitCases(stdout) {
  const results = new Map();
  // On a terminal stderr shares stdout: its markers are dropped there.
  const text = stdout.replace(/\r\n/g, '\n').split('\n').filter((l) => !l.startsWith(ERR_MARK)).join('\n');
  const parts = text.split(`${MARK} `);
  for (const part of parts.slice(1)) {
    const status = /^status (\d+)\n/.exec(part);
    if (status !== null) {
      const last = [...results.values()].at(-1);
      if (last !== undefined) last.status = Number(status[1]);
      continue;
    }
    const nl = part.indexOf('\n');
    results.set(part.slice(0, nl), { stdout: part.slice(nl + 1), status: null });
  }
  return results;
}

// How long one run (every case in one sh) may take: ~45 s here normally, the emulated CPU being slow.
const RUN_LIMIT_MS = 600_000;

/** What each process of a hung run and each of its threads waits on, read from /proc (we are root). */
function hangReport(pids) {
  const read = (f) => { try { return readFileSync(f, 'utf8').trim(); } catch { return '?'; } };
  const lines = [];
  for (const pid of pids) {
    lines.push(`    pid ${pid}: ${read(`/proc/${pid}/cmdline`).replace(/\0/g, ' ').slice(0, 160)}`);
    let tids = [];
    try { tids = readdirSync(`/proc/${pid}/task`); } catch { /* gone */ }
    for (const tid of tids) {
      const stat = read(`/proc/${pid}/task/${tid}/stat`);
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      const stack = read(`/proc/${pid}/task/${tid}/stack`).split('\n').slice(0, 4).map((l) => l.replace(/^\[<[0-9a-f]+>\] /, '')).join(' < ');
      lines.push(`      ${tid} ${read(`/proc/${pid}/task/${tid}/comm`)} ${state} ${read(`/proc/${pid}/task/${tid}/wchan`)}: ${stack}`);
    }
  }
  return lines.join('\n');
}

/** The process and every descendant (script(1) starts its child in a session of its own). */
function descendants(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${name}/stat`, 'utf8'); } catch { continue; }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const all = [];
  for (const queue = [root]; queue.length > 0;) {
    const pid = queue.shift();
    all.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return all;
}

// Like test/helpers/run.ts: death by signal is reported as 128 + signal, as by a shell. A run that
// outlives RUN_LIMIT_MS is reported with what its processes wait on, and killed with all they started.
function run(file, args) {
  const env = { ...process.env };
  delete env.TSVISOR_TEST_B;
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end();
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    let hang = '';
    let closed = false;
    const timer = setTimeout(() => {
      const pids = descendants(child.pid);
      hang = `hung for ${RUN_LIMIT_MS / 1000} s; its processes:\n${hangReport(pids)}\n`;
      // SIGQUIT first: a sandbox whose Sentry still runs reports each task and vCPU, then ends.
      for (const pid of pids) {
        try {
          if (/tsvisor\.cjs\0run/.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1'))) process.kill(pid, 'SIGQUIT');
        } catch { /* gone */ }
      }
      setTimeout(() => {
        if (closed) return;
        for (const pid of descendants(child.pid)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      }, 5000);
    }, RUN_LIMIT_MS);
    child.on('error', (e) => { hang += `${e.message}\n`; });
    child.on('close', (code, signal) => {
      closed = true;
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ stdout, stderr, hang, status: hang !== '' ? -1 : code ?? 128 + constants.signals[signal] });
    });
  });
}
const sh = (text) => ['/bin/busybox', 'sh', '-c', text];
const sandboxArgs = (platform, extra, argv) => [cli, 'run', '--platform', platform, ...checkoutMount, ...extra, '--', ...argv];
const onTty = (argv) => ['-qec', argv.map(quote).join(' '), '/dev/null'];
const clip = (s) => JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}...` : s);
function firstDifference(got, want) {
  const a = got.split('\n');
  const b = want.split('\n');
  const i = a.findIndex((line, k) => line !== b[k]);
  const at = i < 0 ? a.length : i;
  return `line ${at + 1}: ${clip(a[at] ?? '(end)')}, native ${clip(b[at] ?? '(end)')}`;
}
const quoted = (lines) => lines.map((l) => `    | ${l}`).join('\n');
const tail = (s) => quoted(s.trim().split('\n').slice(-5));
/** What was written to stderr while one case ran (its first 60 lines), or the run's last lines. */
function stderrOf(stderr, title) {
  const lines = stderr.replace(/\r\n/g, '\n').split('\n');
  const start = lines.indexOf(`${ERR_MARK} ${title}`);
  if (start < 0) return tail(stderr);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith(`${ERR_MARK} `));
  const own = (end < 0 ? rest : rest.slice(0, end)).filter((l) => l !== '');
  return own.length === 0 ? '    (nothing on stderr)' : quoted(own.slice(0, 60));
}

let passed = 0;
let failed = 0;

/** Runs the cases natively and in the sandbox on both modes and compares them case by case. */
async function compareAll(list, label, wrap, extra) {
  const text = caseScript(list);
  const native = splitCases((await run(...wrap(sh(text)))).stdout);
  for (const platform of ['kvm-exit', 'kvm']) {
    const started = Date.now();
    const argv = wrap([process.execPath, ...sandboxArgs(platform, extra(platform), sh(text))]);
    const boxed = await run(...argv);
    const results = splitCases(boxed.stdout);
    if (boxed.hang !== '') {
      const state = `${boxed.stderr}\n${boxed.stdout}`.split(/\r?\n/).filter((l) => l.startsWith('tsvisor state:'));
      console.log(`FAIL the sandbox [${platform}]${label} ${boxed.hang}${state.map((l) => `    ${l}\n`).join('')}${tail(boxed.stderr)}`);
    }
    if (platform === 'kvm-exit' && label === '') {
      // Which host variant the sandbox chose (SVM is expected here); printed for the log only.
      console.log(boxed.stderr.split('\n').find((l) => /flavour/i.test(l)) ?? 'flavour: (not reported by the sandbox)');
    }
    for (const c of list) {
      const title = `${c.title}${label} [${platform}]`;
      const want = native.get(c.title);
      const got = results.get(c.title);
      const problems = [];
      if (want === undefined) problems.push('no native result');
      else if (got === undefined || got.status === null) problems.push(`the sandbox did not finish it (sh status ${boxed.status})`);
      else {
        if (got.status !== want.status) problems.push(`status ${got.status}, native ${want.status}`);
        if (got.stdout !== want.stdout) problems.push(`stdout differs: ${firstDifference(got.stdout, want.stdout)}`);
      }
      if (problems.length === 0) {
        console.log(`ok   ${title}`);
        passed++;
      } else {
        console.log(`FAIL ${title}: ${problems.join('; ')}\n${stderrOf(boxed.stderr, c.title)}`);
        failed++;
      }
    }
    console.log(`     (${list.length} cases${label} in one sandbox [${platform}]: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

const present = cases.filter((c) => {
  if (existsSync(c.program)) return true;
  console.log(`FAIL ${c.title}: ${c.program} is missing (run node dist/test/helpers/build-all.js)`);
  failed++;
  return false;
});
await compareAll(present, '', (argv) => [argv[0], argv.slice(1)], (platform) => (platform === 'kvm-exit' ? ['--log-level', 'info'] : []));

const ptyWorks = script !== undefined && (await run(script, onTty(['/bin/busybox', 'true']))).status === 0;
if (!ptyWorks) {
  console.log(`FAIL on a terminal: ${script === undefined ? 'script(1) is not installed' : 'no pseudo-terminal (is devpts mounted?)'}`);
  failed++;
} else {
  await compareAll(ttyCases.filter((c) => present.includes(c)), ' on a terminal', (argv) => [script, onTty(argv)], () => ['--log-level', 'error']);
}
console.log(`svm: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
