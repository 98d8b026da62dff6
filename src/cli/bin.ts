#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS TSVISOR_NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node
// The tsvisor command as installed, bundled by scripts/bundle.ts into dist/bundle/cli/tsvisor.cjs:
// CommonJS, whose require of Node.js's own modules costs nothing at start (they are loaded already),
// where an ES module's import of them costs tens of milliseconds.
// `--version` and `--help` (also `run --help`, `check --help`) are answered from usage.json, which the
// build writes beside the bundle by running this very command through yargs, so that they cost no
// more than starting Node.js: loading yargs alone takes tens of milliseconds. Everything else is
// command.ts, which starts the sandbox's Gofer for `run` (src/sandbox/early-gofer.ts) and then the
// command line (main.ts): bundled, the one file command.cjs beside this one, compiled with V8's code
// cache (code-cache.ts). The saved text is what yargs prints wherever its output does not depend on
// the terminal: main.ts wraps at 120 columns or the terminal's width if narrower, and yargs not at all
// when YARGS_DISABLE_WRAP is set.
// The first line starts Node.js without NODE_EXTRA_CA_CERTS: Node.js reads and parses that file of
// certificates as it starts, before any script (some 55 ms for Debian's ca-certificates.crt), and the
// Sentry makes no TLS connection. The value rides along in TSVISOR_NODE_EXTRA_CA_CERTS and is put
// back before anything reads the environment, so the program in the sandbox gets it as the user set
// it. (GNU env's -S cannot tell an unset variable from an empty one: an empty value, which Node.js
// ignores too, is not put back.)
import { readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { runWithCodeCache } from './code-cache.js';
import { SAVED_USAGE } from './saved-usage.js';

/** The content hash of command.cjs, which scripts/bundle.ts defines when it bundles this file; not there in dist/src. */
declare const COMMAND_BUNDLE_HASH: string | undefined;

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
  const bundled = typeof COMMAND_BUNDLE_HASH === 'string'
    && runWithCodeCache(fileURLToPath(new URL('./command.cjs', import.meta.url)), COMMAND_BUNDLE_HASH, createRequire(import.meta.url));
  if (!bundled) await import('./command.js'); // the modules of dist/src
}

/** Puts back the variable the first line carried past Node.js's start. */
function restoreCarriedEnv(): void {
  const carried = process.env.TSVISOR_NODE_EXTRA_CA_CERTS;
  if (carried === undefined) return;
  delete process.env.TSVISOR_NODE_EXTRA_CA_CERTS;
  if (carried !== '') process.env.NODE_EXTRA_CA_CERTS = carried;
}

restoreCarriedEnv();
const usage = savedUsage(process.argv.slice(2));
if (usage !== null) writeSync(1, usage);
else void start();
