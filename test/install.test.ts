// The README's first command puts `tsvisor` on the PATH, so that it runs from any directory (npx
// outside the checkout asks the registry for a package of that name and fails), and CI runs exactly
// the README's first commands. The link is made here into a scratch npm prefix, not the machine's.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './helpers/guest-programs.js';
import { busyboxPath, kvmSkipReason } from './helpers/run.js';

/** The commands of the README's first sh block, comments dropped. */
function readmeFirstCommands(): string[] {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(readme);
  if (block === null) return [];
  return block[1]!.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l !== '');
}

test('the README\'s first command installs the tsvisor command on the PATH', (t) => {
  const commands = readmeFirstCommands();
  t.true(commands.length > 0, 'no sh block in README.md');
  t.regex(commands[0]!, /^npm install\b.*&&\s*npm (link|install -g)\b/, `the first command is ${commands[0]}`);
});

test('.ci/run runs the README\'s first commands, then the SVM run', (t) => {
  const ci = readFileSync(join(projectRoot, '.ci', 'run'), 'utf8').split('\n').map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('set ') && !l.startsWith('cd '));
  t.deepEqual(ci, [...readmeFirstCommands(), 'npm run test:svm']);
});

const skip = kvmSkipReason() ?? (busyboxPath() === null ? 'no busybox' : null);
(skip === null ? test : test.skip)('after the README\'s link command, tsvisor runs from under /tmp and under $HOME', (t) => {
  const link = readmeFirstCommands()[0]?.split('&&').map((c) => c.trim()).find((c) => /^npm (link|install -g)\b/.test(c));
  if (link === undefined) {
    t.fail('the README installs no command');
    return;
  }
  const prefix = mkdtempSync(join(tmpdir(), 'tsvisor-prefix-'));
  const places = [mkdtempSync(join(tmpdir(), 'tsvisor-anywhere-')), mkdtempSync(join(homedir(), 'tsvisor-anywhere-'))];
  try {
    // The same command, into a scratch global prefix, offline: it only links this checkout.
    const env = { ...process.env, npm_config_prefix: prefix, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };
    const linked = spawnSync('sh', ['-c', link], { cwd: projectRoot, env, encoding: 'utf8', timeout: 110_000 });
    t.is(linked.status, 0, `${link}: ${linked.stderr}`);
    const path = `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`;
    for (const cwd of places) {
      const r = spawnSync('tsvisor', ['run', '--', '/bin/busybox', 'true'], { cwd, env: { ...process.env, PATH: path }, encoding: 'utf8', timeout: 60_000 });
      t.is(r.error, undefined, `tsvisor from ${cwd}: ${String(r.error)}`);
      t.is(r.status, 0, `tsvisor from ${cwd}: ${r.stderr}`);
    }
  } finally {
    for (const dir of [prefix, ...places]) rmSync(dir, { recursive: true, force: true });
  }
});
