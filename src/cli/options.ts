// The values of tsvisor's options, checked before anything starts: each bad value gets one line
// naming the option, what it expects and an example, and exit status 2.
import { resolve as resolveHostPath } from 'node:path';
import type { HostMount } from '../sandbox/sandbox.js';
import { ExitStatus } from './exit-status.js';

const MIB = 1024 * 1024;
/** The longest a Node.js timer waits (2^31 - 1 ms); a longer --timeout would fire at once. */
const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
/** uname's fields hold 64 bytes and a NUL (__NEW_UTS_LEN). */
const MAX_HOSTNAME = 64;
/** uid_t is 32 bits and (uid_t)-1 means "no change" to setuid(2) and chown(2). */
const MAX_ID = 0xffff_fffe;

/** A bad option value: the CLI prints the message on one line and exits with status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitStatus = ExitStatus.Usage;
}

/** --mount host:guest[:ro]: both absolute paths (the host one may be relative to the working directory). */
export function parseMount(spec: string): HostMount {
  const parts = spec.split(':');
  const readOnly = parts.length === 3 && parts[2] === 'ro';
  if (parts.length < 2 || parts.length > 3 || (parts.length === 3 && !readOnly && parts[2] !== 'rw') || parts[0] === '' || !parts[1]!.startsWith('/')) {
    throw new UsageError(`--mount ${spec}: expected HOST:GUEST[:ro] with an absolute GUEST path`);
  }
  return { host: parts[0]!, guest: parts[1]!, readOnly };
}

/**
 * --memory SIZE: MiB when a plain number (as before), or with a K, M or G suffix (binary units, as
 * Docker's); the guest needs an even number of MiB between 64 MiB and 4 GiB.
 */
export function parseMemory(spec: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)(?:i?b)?$/i.exec(spec.trim());
  const unit = m === null ? 0 : { '': MIB, k: 1024, m: MIB, g: 1024 * MIB }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const bytes = m === null ? NaN : Number(m[1]) * unit;
  if (!Number.isInteger(bytes) || bytes % (2 * MIB) !== 0 || bytes < 64 * MIB || bytes > 4096 * MIB) {
    throw new UsageError('--memory must be an even number of MiB between 64 and 4096 (a plain number is MiB; 512M, 2G also work)');
  }
  return bytes;
}

/** --cpus N: 1 up to the CPUs the host gives tsvisor. */
export function parseCpus(value: number | undefined, hostCpus: number): number | undefined {
  if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > hostCpus)) {
    throw new UsageError(`--cpus must be a whole number from 1 to ${hostCpus} (the CPUs this host gives tsvisor)`);
  }
  return value;
}

/** --exitless-after EVENTS: a whole number of guest events, 0 or more. */
export function parseExitlessAfter(value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new UsageError('--exitless-after must be a whole number of events, 0 or more (0: exitless from the start)');
  }
  return value;
}

/** --tmpfs PATH: an absolute path inside the sandbox. */
export function parseTmpfs(path: string): string {
  if (!path.startsWith('/')) throw new UsageError(`--tmpfs ${path}: expected an absolute path inside the sandbox`);
  return path;
}

/** --timeout SECONDS: a positive number of seconds, fractions allowed; the result is in milliseconds. */
export function parseTimeout(spec: string | undefined): number | undefined {
  if (spec === undefined) return undefined;
  const seconds = /^\d+(\.\d+)?$|^\.\d+$/.test(spec.trim()) ? Number(spec) : NaN;
  if (!(seconds > 0) || seconds > MAX_TIMEOUT_SECONDS) {
    throw new UsageError(`--timeout ${spec}: expected a number of seconds above 0 and up to ${MAX_TIMEOUT_SECONDS}, e.g. --timeout 30 or --timeout 0.5`);
  }
  return Math.max(1, Math.round(seconds * 1000));
}

/** --env NAME=VALUE (repeatable): NAME is not empty and has no '='; VALUE may be empty. */
export function parseEnv(specs: readonly string[], base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || spec.includes('\0')) throw new UsageError(`--env ${spec}: expected NAME=VALUE, e.g. --env LANG=C.UTF-8`);
    env[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  return env;
}

/** --cwd DIR: an absolute path inside the sandbox (whether it is a directory there is the sandbox's to say). */
export function parseCwd(dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  if (!dir.startsWith('/')) throw new UsageError(`--cwd ${dir}: expected an absolute path inside the sandbox, e.g. --cwd /tmp`);
  return dir;
}

/** --user UID:GID: two numeric ids, as runsc and docker take them. */
export function parseUser(spec: string | undefined): { uid: number; gid: number } | undefined {
  if (spec === undefined) return undefined;
  const m = /^(\d+):(\d+)$/.exec(spec);
  const uid = m === null ? NaN : Number(m[1]);
  const gid = m === null ? NaN : Number(m[2]);
  if (!(uid <= MAX_ID && gid <= MAX_ID)) {
    throw new UsageError(`--user ${spec}: expected UID:GID, two numbers from 0 to ${MAX_ID}, e.g. --user 1000:1000`);
  }
  return { uid, gid };
}

/** --hostname NAME: what uname(2) shows, at most 64 letters, digits, '-' and '.' (RFC 1123). */
export function parseHostname(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name) || name.length > MAX_HOSTNAME) {
    throw new UsageError(`--hostname ${name}: expected up to ${MAX_HOSTNAME} letters, digits, '-' and '.', e.g. --hostname sandbox`);
  }
  return name;
}

/** --strace-file FILE: where the trace goes (created or truncated); a host path, relative to here. */
export function parseStraceFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  if (file === '') throw new UsageError('--strace-file needs a file name, e.g. --strace-file trace.txt');
  return resolveHostPath(file);
}

/** --stats (text) or --stats=json; absent: none. */
export function parseStats(value: string | undefined): 'text' | 'json' | null {
  if (value === undefined) return null;
  if (value === '' || value === 'text' || value === 'true') return 'text';
  if (value === 'json') return 'json';
  throw new UsageError(`--stats=${value}: expected --stats (lines) or --stats=json`);
}
