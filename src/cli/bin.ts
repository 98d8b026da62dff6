#!/usr/bin/env node
// The tsvisor command as installed, bundled by scripts/bundle.ts into dist/bundle/cli/tsvisor.cjs:
// CommonJS, whose require of Node.js's own modules costs nothing at start (they are loaded already),
// where an ES module's import of them costs tens of milliseconds.
// `--version` and `--help` (also `run --help`, `check --help`) are answered from usage.json, which the
// build writes beside the bundle by running this very command through yargs, so that they cost no
// more than starting Node.js: loading yargs alone takes tens of milliseconds. Everything else goes to
// main.ts, and `run` starts the sandbox's Gofer first (src/sandbox/early-gofer.ts). The saved text
// is what yargs prints wherever its output does not depend on the terminal: main.ts wraps at 120
// columns or the terminal's width if narrower, and yargs not at all when YARGS_DISABLE_WRAP is set.
import { readFileSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { SAVED_USAGE } from './saved-usage.js';

const YARGS_WRAP = 120;

function savedUsage(args: readonly string[]): string | null {
  const key = args.join(' ');
  if (!SAVED_USAGE.includes(key) || process.env.YARGS_DISABLE_WRAP !== undefined) return null;
  if (isatty(1) && (process.stdout.columns ?? YARGS_WRAP) < YARGS_WRAP) return null;
  try {
    const saved = JSON.parse(readFileSync(new URL('./usage.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const text = saved[key];
    return typeof text === 'string' ? text : null;
  } catch {
    return null; // not built beside this file (a run from dist/src): yargs answers
  }
}

async function start(): Promise<void> {
  // A run needs the Gofer: start it now, so that it is up by the time the Sentry has loaded.
  if (process.argv[2] === 'run') (await import('../sandbox/early-gofer.js')).startGoferEarly();
  await import('./main.js');
}

const usage = savedUsage(process.argv.slice(2));
if (usage !== null) writeSync(1, usage);
else void start();
