// The kinds of filesystem a file test runs on (a tmpfs at /tmp, a host directory through the Gofer with
// --mount, a new directory on the overlay root), and one run of a program natively on a scratch
// directory and in the sandbox on a fresh directory of one of them, for the caller to compare.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkoutMountUnder, overlayScratchBase, type Platform, type RunResult, runNative, runSandbox } from './run.js';

export type Place = 'tmpfs' | 'gofer' | 'overlay';
export const everyPlace: Place[] = ['tmpfs', 'gofer', 'overlay'];

export function scratch(tag: string, base = tmpdir()): string {
  return mkdtempSync(join(base, `tsvisor-${tag}-`));
}

export interface PlaceOptions {
  /** More arguments after the directory, for both runs. */
  args?: string[];
  /** Where the native run's scratch directory goes (the host's temporary directory by default). */
  nativeBase?: string;
}

export interface PlacedRuns {
  native: RunResult;
  boxed: RunResult;
  /** The directory the sandboxed run was given (inside the sandbox). */
  dir: string;
  /** For the Gofer place: the host directory mounted (the caller checks and removes it). */
  hostDir: string | null;
}

/** `program DIR` natively on a scratch directory, then in the sandbox on place (tag names the directories). */
export function runInPlace(program: string, place: Place, platform: Platform, tag: string, opts: PlaceOptions = {}): PlacedRuns {
  const args = opts.args ?? [];
  const nativeDir = scratch('native', opts.nativeBase);
  const native = runNative(program, [join(nativeDir, 'work'), ...args]);
  rmSync(nativeDir, { recursive: true, force: true });
  let dir: string;
  const extra: string[] = [];
  let hostDir: string | null = null;
  if (place === 'tmpfs') {
    // The sandbox's /tmp is the host's through the overlay; --tmpfs gives it a tmpfs of its own.
    extra.push('--tmpfs', '/tmp', ...checkoutMountUnder(['/tmp']));
    dir = `/tmp/${tag}-work`;
  } else if (place === 'gofer') {
    hostDir = scratch('gofer');
    extra.push('--mount', `${hostDir}:/mnt/tsvisor-${tag}`);
    dir = `/mnt/tsvisor-${tag}/work`;
  } else {
    dir = join(overlayScratchBase, `${tag}-overlay-${process.pid}-${platform}`);
  }
  const boxed = runSandbox(program, [dir, ...args], { platform, extraCliArgs: extra, withoutCheckout: place === 'tmpfs' });
  return { native, boxed, dir, hostDir };
}
