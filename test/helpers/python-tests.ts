// Python's own test suite (Debian's libpython3.X-testsuite) as an outside judge: one module at a
// time through `python3 -m test -v MODULE`, natively or in the sandbox, with unittest's counts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { checkoutMount, cliPath, type Platform } from './run.js';

export const PYTHON = '/usr/bin/python3';

/** Modules quick enough for npm test (a few seconds each in the sandbox). */
export const quickPythonModules = ['test_bisect', 'test_string'];

export interface ModuleCounts {
  ran: number;
  failures: number;
  errors: number;
  skipped: number;
  /** unittest's verdict line: OK, FAILED, or what went wrong before it (a crash, a timeout). */
  verdict: string;
}

export interface PythonTestRun {
  counts: Record<string, ModuleCounts>;
  output: string;
}

/** Why Python's tests cannot run here, or null. */
export function pythonTestSkipReason(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} is missing`;
  const r = spawnSync(PYTHON, ['-c', 'import test.support, test.libregrtest'], { encoding: 'utf8' });
  if (r.status !== 0) return "Python's test package is missing (npm install as root installs libpython3.X-testsuite)";
  return null;
}

/** unittest's summary of one module: "Ran N tests" and "OK (skipped=K)" or "FAILED (failures=F, errors=E)". */
export function parseModule(output: string, status: number | null): ModuleCounts {
  const ran = /^Ran (\d+) tests? in /m.exec(output);
  const verdict = /^(OK|FAILED)(?: \((.*)\))?$/m.exec(output);
  const field = (name: string): number => Number(new RegExp(`\\b${name}=(\\d+)`).exec(verdict?.[2] ?? '')?.[1] ?? 0);
  return {
    ran: Number(ran?.[1] ?? 0),
    failures: field('failures'),
    errors: field('errors'),
    skipped: field('skipped'),
    verdict: verdict?.[1] ?? (status === null ? 'timeout' : `no summary (status ${status})`),
  };
}

/** Runs each module natively (platform null) or in the sandbox; `timeoutMs` bounds each module. */
export function runPythonTests(modules: readonly string[], platform: Platform | null, timeoutMs = 300_000): PythonTestRun {
  const counts: Record<string, ModuleCounts> = {};
  let output = '';
  for (const module of modules) {
    const args = ['-m', 'test', '-v', module];
    const [file, argv] = platform === null
      ? [PYTHON, args]
      : [process.execPath, [cliPath, 'run', '--platform', platform, ...checkoutMount, '--', PYTHON, ...args]];
    // -v prints each test's name and result on stderr; the summary comes last there too.
    const r = spawnSync(file, argv, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20, cwd: '/tmp' });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    counts[module] = parseModule(text, r.signal !== null ? null : r.status);
    output += `==== ${module}\n${text}`;
  }
  return { counts, output };
}
