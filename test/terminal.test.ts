// `run -t` driven through a real terminal emulator: tmux (its own server socket) runs bash, which runs
// tsvisor with busybox sh on the sandbox's terminal; keys are typed with send-keys and the screen is
// read with capture-pane. The same steps run natively (busybox sh straight on tmux's terminal), and
// what each step showed must be the same. Every wait polls the screen up to a deadline, never a fixed
// sleep, so that a loaded machine only makes it slower.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxPath, checkoutMount, cliPath, kvmSkipReason } from './helpers/run.js';
import { projectRoot } from './helpers/guest-programs.js';

const tmuxPath = ['/usr/bin/tmux', '/bin/tmux'].find((p) => existsSync(p)) ?? null;
const busybox = busyboxPath();
const skip = kvmSkipReason() ?? (tmuxPath === null ? 'tmux is not installed' : busybox === null ? 'busybox is not installed' : null);
const DEADLINE_MS = 60_000;

/** One tmux server of our own (-L), one window of 80x24 running bash without startup files. */
class Tmux {
  private readonly socket = `tsvisor-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor() {
    this.tmux('new-session', '-d', '-x', '80', '-y', '24', 'env', 'PS1=host$ ', 'bash', '--norc', '--noprofile');
  }

  tmux(...args: string[]): string {
    const r = spawnSync(tmuxPath!, ['-L', this.socket, ...args], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** Types text (literally) and, unless told otherwise, Enter. */
  type(text: string, enter = true): void {
    this.tmux('send-keys', '-l', text);
    if (enter) this.tmux('send-keys', 'Enter');
  }

  key(name: string): void {
    this.tmux('send-keys', name);
  }

  /** The whole pane with its history, wrapped lines joined. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-1000');
  }

  /** Waits until the screen shows what matches, counting from the occurrence after `after` ones. */
  async waitFor(pattern: RegExp, after = 0): Promise<RegExpMatchArray> {
    const end = Date.now() + DEADLINE_MS;
    for (;;) {
      const all = [...this.screen().matchAll(new RegExp(pattern.source, 'gm'))];
      if (all.length > after) return all[after]!;
      if (Date.now() > end) throw new Error(`timed out waiting for ${pattern} on the screen:\n${this.screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  count(pattern: RegExp): number {
    return [...this.screen().matchAll(new RegExp(pattern.source, 'gm'))].length;
  }

  kill(): void {
    spawnSync(tmuxPath!, ['-L', this.socket, 'kill-server'], { timeout: 10_000 });
  }
}

const shellQuote = (w: string): string => `'${w.replace(/'/g, `'\\''`)}'`;

interface Seen {
  tty: string;
  greeting: string;
  sizeBefore: string;
  sizeAfter: string;
  winch: string;
  interrupted: string;
  modeRestored: boolean;
}

/**
 * The steps: a command and its output, the window size before and after a resize, SIGWINCH to a
 * foreground job, `sleep 100` (once it runs) stopped by ^C, `exit`; and the pane's terminal mode before and after.
 */
async function session(command: string[]): Promise<Seen> {
  const tmux = new Tmux();
  const modes = join(tmpdir(), `tsvisor-stty-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    await tmux.waitFor(/^host\$ $/);
    tmux.type(`cd ${shellQuote(projectRoot)}; stty -g > ${modes}.before; ${command.map(shellQuote).join(' ')}; stty -g > ${modes}.after; echo back-$?`);
    await tmux.waitFor(/^box> /);
    tmux.type('tty | sed s/^/tty:/');
    const tty = (await tmux.waitFor(/^tty:(.*)$/))[1]!;
    tmux.type('echo hello-$((6*7))');
    const greeting = (await tmux.waitFor(/^hello-\d+$/))[0];
    tmux.type('echo size:$(stty size)');
    const sizeBefore = (await tmux.waitFor(/^size:(.*)$/))[1]!;
    // A foreground job that waits for SIGWINCH; the window then changes.
    tmux.type('sh -c \'trap "stty size | sed s/^/winch:/; exit" WINCH; echo waiting; while :; do sleep 0.1; done\'');
    await tmux.waitFor(/^waiting$/);
    tmux.tmux('resize-window', '-x', '100', '-y', '30');
    const winch = (await tmux.waitFor(/^winch:(.*)$/))[1]!;
    await tmux.waitFor(/^box> $/);
    tmux.type('echo size:$(stty size)');
    const sizeAfter = (await tmux.waitFor(/^size:(.*)$/, 1))[1]!;
    // The job says when it runs: by then the shell has made it the terminal's foreground process
    // group. A ^C sent on seeing the command line's echo alone can reach the shell before that (the
    // line editor's raw mode, or the fork not yet done) and be lost, natively as well as boxed.
    tmux.type('sh -c \'echo sleeping; exec sleep 100\'');
    await tmux.waitFor(/^sleeping$/);
    tmux.key('C-c');
    tmux.type('echo status:$?');
    const interrupted = (await tmux.waitFor(/^status:(\d+)$/))[1]!;
    tmux.type('exit');
    await tmux.waitFor(/^back-\d+$/);
    const modeRestored = readFileSync(`${modes}.before`, 'utf8') === readFileSync(`${modes}.after`, 'utf8');
    return { tty, greeting, sizeBefore, sizeAfter, winch, interrupted, modeRestored };
  } finally {
    tmux.kill();
    rmSync(`${modes}.before`, { force: true });
    rmSync(`${modes}.after`, { force: true });
  }
}

if (skip !== null) {
  test.skip(`run -t under tmux (skipped: ${skip})`, () => {});
} else {
  test('run -t under tmux: a shell on the sandbox\'s terminal, window changes, ^C, the mode restored, as natively', async (t) => {
    const native = await session(['env', 'PS1=box> ', busybox!, 'sh']);
    const boxed = await session([process.execPath, cliPath, 'run', '-t', ...checkoutMount, '--env', 'PS1=box> ', '--', busybox!, 'sh']);
    t.is(boxed.tty, '/dev/pts/0');
    t.regex(native.tty, /^\/dev\/pts\/\d+$/);
    t.is(boxed.greeting, 'hello-42');
    t.is(boxed.sizeBefore, '24 80');
    t.is(boxed.winch, '30 100');
    t.is(boxed.sizeAfter, '30 100');
    t.is(boxed.interrupted, '130');
    t.true(boxed.modeRestored, 'the terminal mode after tsvisor is the one before');
    const { tty: _n, ...nativeRest } = native;
    const { tty: _b, ...boxedRest } = boxed;
    t.deepEqual(boxedRest, nativeRest);
  });

  test('run -t without a terminal on stdin: one line and status 2', (t) => {
    const r = spawnSync(process.execPath, [cliPath, 'run', '-t', '--', busybox!, 'true'], { input: '', encoding: 'utf8', timeout: 60_000 });
    t.is(r.status, 2);
    t.is(r.stderr, 'tsvisor: --tty: the input is not a terminal (run without -t, or from a terminal)\n');
  });
}
