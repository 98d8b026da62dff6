// npm test ends with a count of passed, failed and skipped tests (scripts/test-summary.ts), taken from
// ava's reporter lines, colours or not.
import test from 'ava';
import { countLine, emptyCounts, formatCounts } from '../scripts/test-counts.js';

test('counts passed, failed, skipped and todo tests, and errors outside tests', (t) => {
  const counts = emptyCounts();
  for (const line of [
    '  ✔ hello [kvm] (1.2s)',
    '  \x1b[32m✔\x1b[39m cli › check reports the host flavour (4.8s)',
    '  ✘ [fail]: without access to /dev/kvm: status 125 and what to do tsvisor check ended with status 1',
    '  - [skip] exitless tests skipped',
    '  - [todo] poll',
    '  ✘ Timed out while running tests',
    '  Difference (- actual, + expected):',
    '  - 1',
    '  ─',
    '  2 tests failed',
  ]) countLine(counts, line);
  t.deepEqual(counts, { passed: 2, failed: 1, skipped: 1, todo: 1, errors: 1 });
  t.is(formatCounts(counts), 'tests: 2 passed, 1 failed, 1 skipped, 1 todo, 1 error outside tests');
  t.is(formatCounts(emptyCounts()), 'tests: 0 passed, 0 failed, 0 skipped');
});
