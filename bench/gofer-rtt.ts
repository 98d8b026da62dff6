// bench/gofer-rtt: the cost of one Gofer round trip, beside the same host call made directly by Node.
//   stat        GoferClient.stat of a file one level below the root, vs fs.lstatSync
//   open+close  GoferClient.open (the fd comes back over SCM_RIGHTS) and fs.closeSync, vs fs.openSync+closeSync
// measureGoferRtt() is exported for bench/files, which reports the gofer tier of the VFS.
// Run: node dist/bench/gofer-rtt.js   (BENCH_GOFER_CALLS, BENCH_REPEATS)
import { closeSync, lstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Errno } from '../src/abi/errno.js';
import { GoferClient } from '../src/gofer/client.js';
import { O_RDONLY } from '../src/gofer/protocol.js';
import { median, printTable } from './common.js';

export interface GoferRtt {
  /** One stat round trip through the Gofer, µs. */
  statUs: number;
  /** fs.lstatSync of the same file, µs. */
  nativeLstatUs: number;
  /** Open through the Gofer (fd passed back) plus closing the fd, µs. */
  openCloseUs: number;
  /** fs.openSync + fs.closeSync of the same file, µs. */
  nativeOpenCloseUs: number;
}

/** Median over `repeats` runs of `calls` calls each; the Gofer serves a scratch directory. */
export function measureGoferRtt(calls = 20_000, repeats = 5): GoferRtt {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tsvisor-gofer-rtt-'));
  const file = path.join(root, 'file');
  writeFileSync(file, 'x');
  const gofer = GoferClient.start(root, { readOnly: true });
  try {
    if (gofer.ready() !== null) throw new Error('the gofer did not start');
    const usPerCall = (fn: () => void): number => {
      for (let i = 0; i < Math.min(calls, 1000); i++) fn(); // warm up
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) fn();
      return Number(process.hrtime.bigint() - t0) / calls / 1000;
    };
    const figures = { stat: [] as number[], lstat: [] as number[], open: [] as number[], nativeOpen: [] as number[] };
    for (let r = 0; r < repeats; r++) {
      figures.stat.push(usPerCall(() => {
        if (gofer.stat(['file']) instanceof Errno) throw new Error('gofer stat failed');
      }));
      figures.lstat.push(usPerCall(() => lstatSync(file)));
      figures.open.push(usPerCall(() => {
        const o = gofer.open(['file'], O_RDONLY, 0);
        if (o instanceof Errno) throw new Error(`gofer open failed: ${o.name}`);
        closeSync(o.fd);
      }));
      figures.nativeOpen.push(usPerCall(() => closeSync(openSync(file, 'r'))));
    }
    return {
      statUs: median(figures.stat), nativeLstatUs: median(figures.lstat),
      openCloseUs: median(figures.open), nativeOpenCloseUs: median(figures.nativeOpen),
    };
  } finally {
    gofer.close();
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rtt = measureGoferRtt(Number(process.env.BENCH_GOFER_CALLS ?? 20_000), Number(process.env.BENCH_REPEATS ?? 5));
  const f = (us: number): string => us.toFixed(2);
  printTable(['', 'gofer µs', 'native µs', 'ratio'], [
    ['stat', f(rtt.statUs), f(rtt.nativeLstatUs), `${(rtt.statUs / rtt.nativeLstatUs).toFixed(1)}x`],
    ['open+close', f(rtt.openCloseUs), f(rtt.nativeOpenCloseUs), `${(rtt.openCloseUs / rtt.nativeOpenCloseUs).toFixed(1)}x`],
  ]);
}
