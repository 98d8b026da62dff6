// Running the bundled command (dist/bundle/cli/command.cjs, one CommonJS file) with V8's code cache:
// compiling its ~700 KB takes V8 some 40-50 ms at every start, and the functions it compiles lazily
// as the run goes on as much again; with the code V8 compiled in an earlier run handed back, neither
// happens. Node.js 20 has no compile cache of its own for ES modules or CommonJS
// (module.enableCompileCache came in 22.1), so the command is compiled here through vm.Script with
// its `cachedData`, as Node.js's own CommonJS loader would compile it without.
//
// The cache is the user's own: $XDG_CACHE_HOME/tsvisor (or ~/.cache/tsvisor), one file per build of
// the bundle and V8 version, named after the bundle's content hash (V8 checks only the source's
// length). It is written when there was none or V8 rejected it (another Node.js, other V8 flags), at
// the exit of a `run` whose program ran (main.ts calls noteProgramRan), so that it holds the code of a
// whole run, not of `run --help` or of bad usage; a file
// that is not the user's own, or that others may write, is not used. Any failure to read or write it
// only costs the compilation: the command runs the same.
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * Where noteProgramRan leaves its mark: bin.ts's bundle and command.cjs each hold a copy of this
 * module, and the global symbol registry is what they share.
 */
const PROGRAM_RAN = Symbol.for('tsvisor.codeCache.programRan');
const PREFIX = 'command-';
const SUFFIX = '.v8cache';

/** The directory of the user's caches of the command, or null when there is no home to put it in. */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'tsvisor');
  const home = env.HOME;
  return home !== undefined && isAbsolute(home) ? join(home, '.cache', 'tsvisor') : null;
}

/** The cache file of the bundle whose content hash is bundleHash, for this V8 and CPU. */
export function codeCacheFile(dir: string, bundleHash: string): string {
  return join(dir, `${PREFIX}${bundleHash}-v8-${process.versions.v8}-${process.arch}${SUFFIX}`);
}

/** Says that the sandbox ran a program in this process: its exit is the time to save the code cache. */
export function noteProgramRan(): void {
  (globalThis as Record<symbol, unknown>)[PROGRAM_RAN] = true;
}

/** The file's bytes if it is the user's own and only the user may write it; otherwise undefined. */
function readOwnFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || (process.getuid !== undefined && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Writes data as path (a new file renamed over it: a run reading it meanwhile sees one or the other), dropping older caches. */
function writeCache(path: string, data: Buffer): void {
  try {
    const dir = dirname(path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, data, { mode: 0o600 });
    renameSync(temp, path);
    const name = path.slice(dir.length + 1);
    for (const other of readdirSync(dir)) {
      if (other !== name && other.startsWith(PREFIX) && other.endsWith(SUFFIX)) rmSync(join(dir, other), { force: true });
    }
  } catch {
    // Not writable (a read-only home, a full disk): the next run compiles the command again.
  }
}

/**
 * Runs the CommonJS file `file` (a bundle needing only Node.js's own modules and files it finds
 * from its own path) as Node.js's require would, with the code cache of bundleHash. False when the
 * file cannot be read (nothing ran).
 */
export function runWithCodeCache(file: string, bundleHash: string, require: NodeJS.Require): boolean {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  const dir = codeCacheDir();
  const cacheFile = dir === null ? null : codeCacheFile(dir, bundleHash);
  const cachedData = cacheFile === null ? undefined : readOwnFile(cacheFile);
  // Node.js's own wrapper, on the first line: line numbers in stack traces stay the file's.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, { filename: file, cachedData });
  if (cacheFile !== null && (cachedData === undefined || script.cachedDataRejected === true)) {
    process.once('exit', () => {
      if ((globalThis as Record<symbol, unknown>)[PROGRAM_RAN] === true) writeCache(cacheFile, script.createCachedData());
    });
  }
  const wrapper = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  const module = { exports: {} };
  wrapper.call(module.exports, module.exports, require, module, file, dirname(file));
  return true;
}
