// The syscall table's invariants (STYLE.md: the table is data, and a test keeps it honest).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SYSCALL_NAMES } from '../src/abi/syscall-names.js';
import { Support } from '../src/kernel/syscall-table.js';
import { buildSyscallTable } from '../src/syscalls/table.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('every x86-64 syscall number has exactly one entry, under its Linux name', (t) => {
  const table = buildSyscallTable();
  SYSCALL_NAMES.forEach((name, nr) => {
    if (name === undefined) return;
    t.is(table[nr]?.name, name, `entry ${nr}`);
    t.is(table[nr]?.nr, nr);
  });
});

test('supported and partial entries have handlers; partial and unsupported ones say why', (t) => {
  for (const entry of buildSyscallTable()) {
    if (entry === undefined) continue;
    if (entry.support === Support.None) {
      t.is(entry.handler, undefined, entry.name);
      t.truthy(entry.note, `${entry.name} needs a reason`);
    } else {
      t.is(typeof entry.handler, 'function', entry.name);
      if (entry.support === Support.Partial) t.truthy(entry.note, `${entry.name} needs a note`);
    }
  }
});

test('the README syscall table is generated from the current table', (t) => {
  execFileSync(process.execPath, [`${root}dist/scripts/syscall-table.js`, '--check'], { stdio: 'pipe' });
  t.pass();
});
