// npm test's last step: runs ava (with the arguments given), passes its output through, and ends with
// one line counting the tests that passed, failed and were skipped. ava's own summary names only the
// failures once a test fails, and a reader should see at a glance how much of the suite passed.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { countLine, emptyCounts, formatCounts } from './test-counts.js';

const ava = fileURLToPath(new URL('../../node_modules/ava/entrypoints/cli.mjs', import.meta.url));
const env = { ...process.env };
// ava writes to a pipe here: keep its colours when the user watches a terminal.
if (process.stdout.isTTY && env.FORCE_COLOR === undefined) env.FORCE_COLOR = '1';
const child = spawn(process.execPath, [ava, ...process.argv.slice(2)], { env, stdio: ['inherit', 'pipe', 'inherit'] });
const counts = emptyCounts();
const lines = createInterface({ input: child.stdout! });
lines.on('line', (line) => {
  countLine(counts, line);
  process.stdout.write(`${line}\n`);
});
const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
process.stdout.write(`\n${formatCounts(counts)}\n`);
process.exitCode = code ?? (signal !== null ? 1 : 0);
