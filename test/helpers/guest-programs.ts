// Builds the C programs of test/guest/ with `gcc -static -O2`, once, into build/test-guest/.
// ava runs test files in several worker processes at once, so a program is compiled to a
// temporary name and renamed into place: rename is atomic, nobody ever executes half a file.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The project root, from dist/test/helpers/guest-programs.js. */
export const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const guestSourceDir = join(projectRoot, 'test', 'guest');
export const guestBuildDir = join(projectRoot, 'build', 'test-guest');

// One build per program and flag set per process; other processes are covered by the rename.
const builds = new Map<string, Promise<string>>();

async function mtimeMs(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
}

async function build(name: string, flags: string[]): Promise<string> {
  const source = join(guestSourceDir, `${name}.c`);
  // Different flags must not overwrite the default build of the same program.
  const suffix = flags.length ? '-' + createHash('sha256').update(flags.join('\0')).digest('hex').slice(0, 8) : '';
  const output = join(guestBuildDir, name + suffix);
  const sourceTime = await mtimeMs(source);
  if (sourceTime === null) throw new Error(`no guest program ${source}`);
  const outputTime = await mtimeMs(output);
  if (outputTime !== null && outputTime >= sourceTime) return output;

  await mkdir(guestBuildDir, { recursive: true });
  const temp = `${output}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await run('gcc', ['-static', '-O2', '-Wall', '-o', temp, source, ...flags]);
    await rename(temp, output);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return output;
}

/** Path of the compiled test/guest/NAME.c, compiling it if missing or older than its source. */
export async function guestProgram(name: string, extraFlags: string[] = []): Promise<string> {
  const key = [name, ...extraFlags].join('\0');
  let p = builds.get(key);
  if (!p) {
    p = build(name, extraFlags);
    builds.set(key, p);
    p.catch(() => builds.delete(key)); // a failed build may be retried
  }
  return p;
}
