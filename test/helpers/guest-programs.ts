// Builds the C programs of test/guest/ with `gcc -static -O2`, once, into build/test-guest/ (and, for
// the dynamic-linking tests, dynamically linked programs and shared libraries from test/guest/dyn/).
// ava runs test files in several worker processes at once, so a program is compiled to a
// temporary name and renamed into place: rename is atomic, nobody ever executes half a file.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
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
  return compile(join(guestBuildDir, name + suffix), [source], ['-static', ...flags]);
}

/** gcc -O2 -Wall of sources into output, unless output is newer than every source. */
async function compile(output: string, sources: string[], flags: string[]): Promise<string> {
  let newest = 0;
  for (const source of sources) {
    const t = await mtimeMs(source);
    if (t === null) throw new Error(`no guest program ${source}`);
    newest = Math.max(newest, t);
  }
  const outputTime = await mtimeMs(output);
  if (outputTime !== null && outputTime >= newest) return output;

  await mkdir(dirname(output), { recursive: true });
  const temp = `${output}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await run('gcc', ['-O2', '-Wall', '-o', temp, ...sources, ...flags]);
    await rename(temp, output);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return output;
}

/** Where the dynamic-linking test programs and their libraries are built. */
export const dynamicBuildDir = join(guestBuildDir, 'dyn');

/**
 * The dynamic-linking test set from test/guest/dyn/: libdyn_a.so, libdyn_b.so, libdyn_plugin.so and
 * libdyn_preload.so, the program dyn_main linked against the first two, and dyn_layout (a PIE that
 * prints where it and its interpreter are). Returns the directory.
 */
export async function dynamicGuestPrograms(): Promise<string> {
  const key = '\0dyn';
  let p = builds.get(key);
  if (!p) {
    const src = (name: string): string => join(guestSourceDir, 'dyn', `${name}.c`);
    const lib = (name: string, source: string): Promise<string> =>
      compile(join(dynamicBuildDir, `libdyn_${name}.so`), [src(source)], ['-fPIC', '-shared', `-Wl,-soname,libdyn_${name}.so`]);
    p = (async () => {
      await Promise.all([
        lib('a', 'liba'), lib('b', 'libb'), lib('plugin', 'plugin'), lib('preload', 'preload'),
        compile(join(dynamicBuildDir, 'dyn_layout'), [src('layout')], ['-pie', '-fPIE']),
      ]);
      // The libraries are inputs too: relink when one changed.
      await compile(join(dynamicBuildDir, 'dyn_main'), [src('main'), join(dynamicBuildDir, 'libdyn_a.so'), join(dynamicBuildDir, 'libdyn_b.so')], ['-ldl']);
      return dynamicBuildDir;
    })();
    builds.set(key, p);
    p.catch(() => builds.delete(key));
  }
  return p;
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
