// Signals that reach tsvisor while it starts (a profiler's SIGPROF, SIGWINCH from a resized terminal,
// SIGCHLD from a Gofer) interrupt its host calls with EINTR; none of them may fail the sandbox. Every
// KVM ioctl and host call in kvm/ is retried on EINTR (KVM_RUN excepted: there EINTR is the kick).
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestProgram, projectRoot } from './helpers/guest-programs.js';
import { kvmSkipReason, type Platform, platforms, sandboxCommandLine } from './helpers/run.js';

const skip = kvmSkipReason();
const RUNS = 8;

interface Outcome { status: number | null; stdout: string; stderr: string }

/** One `tsvisor run` under `node --cpu-prof` (SIGPROF every 50 us), with SIGWINCH and SIGCHLD sent at it too. */
function runUnderSignals(program: string, platform: Platform, profDir: string): Promise<Outcome> {
  const args = ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '50', ...sandboxCommandLine(program, [], { platform }).slice(1)];
  const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const pelt = setInterval(() => {
    child.kill('SIGWINCH');
    child.kill('SIGCHLD');
  }, 1);
  return new Promise((resolve) => child.on('close', (status) => {
    clearInterval(pelt);
    resolve({ status, stdout, stderr });
  }));
}

for (const platform of platforms) {
  const title = `signals during start-up never fail the sandbox (${RUNS} runs) [${platform}]`;
  if (skip !== null) {
    test.skip(`${title} (skipped: ${skip})`, () => {});
    continue;
  }
  test.serial(title, async (t) => {
    const hello = await guestProgram('hello');
    const profDir = mkdtempSync(join(tmpdir(), 'tsvisor-eintr-'));
    try {
      for (let i = 0; i < RUNS; i++) {
        const r = await runUnderSignals(hello, platform, profDir);
        t.is(r.status, 0, `run ${i + 1}: ${r.stderr}`);
        t.is(r.stdout, 'hello, world\n', `run ${i + 1}: ${r.stderr}`);
      }
    } finally {
      rmSync(profDir, { recursive: true, force: true });
    }
  });
}
