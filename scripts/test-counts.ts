// Counting the tests of an ava run from its default reporter's lines: a test that passed is "✔ ...",
// one that failed "✘ [fail]: ...", skipped and todo tests "- [skip] ..." and "- [todo] ...". Other "✘"
// lines are errors outside any test (a timeout, an uncaught exception in a file).

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  errors: number;
}

const ANSI = /\x1b\[[0-9;]*m/g;

export function emptyCounts(): TestCounts {
  return { passed: 0, failed: 0, skipped: 0, todo: 0, errors: 0 };
}

/** Adds what one line of ava's output reports to counts. */
export function countLine(counts: TestCounts, line: string): void {
  const l = line.replace(ANSI, '').trimStart();
  if (l.startsWith('✔ ')) counts.passed++;
  else if (l.startsWith('✘ [fail]')) counts.failed++;
  else if (l.startsWith('✘ ')) counts.errors++;
  else if (l.startsWith('- [skip]')) counts.skipped++;
  else if (l.startsWith('- [todo]')) counts.todo++;
}

export function formatCounts(c: TestCounts): string {
  const parts = [`${c.passed} passed`, `${c.failed} failed`, `${c.skipped} skipped`];
  if (c.todo > 0) parts.push(`${c.todo} todo`);
  if (c.errors > 0) parts.push(`${c.errors} ${c.errors === 1 ? 'error' : 'errors'} outside tests`);
  return `tests: ${parts.join(', ')}`;
}
