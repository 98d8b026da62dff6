// File syscalls compared with the host kernel: each fs_*.c program runs natively on a scratch
// directory and in the sandbox on each kind of filesystem (a tmpfs at /tmp, a host directory through
// the Gofer with --mount, a new directory on the overlay root), in both platform modes, and must print
// the same lines. Writes through the overlay must leave the host untouched.
import test from 'ava';
import { existsSync, utimesSync, mkdirSync, readFileSync, readdirSync, rmSync, lstatSync, readlinkSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { guestProgram } from './helpers/guest-programs.js';
import { compareWithNative } from './helpers/signal-cases.js';
import { everyPlace, type Place, type PlaceOptions, runInPlace, scratch } from './helpers/places.js';
import { startSandbox, waitForOutput } from './helpers/spawned.js';
import { kvmSkipReason, overlayScratchBase, platforms, runNative, runSandbox } from './helpers/run.js';

const skip = kvmSkipReason();
const everywhere = everyPlace;
// A shared mapping of a host file is written back only at msync/munmap (src/mm's documented limit),
// so fs_mmap's coherence checks run where files have pages of their own.
//
// fs_xattr runs natively on /dev/shm, a tmpfs, since tmpfs is what keeps the sandbox's attributes: the
// host's temporary directory may be another filesystem with other limits (ext4 refuses a 64 KiB value
// with ENOSPC). On the Gofer place only the checks made before the filesystem is asked are compared
// (`generic`): the sandbox's --mount directories keep no attributes (EOPNOTSUPP, as a filesystem
// without them), where the host's would; the test after this loop checks those answers.
//
// fs_tmpfile likewise runs natively on /dev/shm: Linux's tmpfs makes an O_TMPFILE file even in a
// removed directory (`removed`, compared on tmpfs and on the overlay, whose upper layer makes it),
// where ext4 refuses with EPERM. The Gofer
// place compares what is checked before the filesystem is asked (`generic`: the flags, the walk, and
// linkat(AT_EMPTY_PATH) of named files): --mount directories make no O_TMPFILE files (EOPNOTSUPP),
// which a test below checks.
const programs: Array<[string, Place[], ((place: Place) => PlaceOptions)?]> = [
  ['fs_open', everywhere], ['fs_dir', everywhere], ['fs_stat', everywhere], ['fs_misc', everywhere],
  ['fs_mmap', ['tmpfs', 'overlay']], ['fs_pagecache', everywhere], ['fs_fifo', everywhere], ['fs_splice', everywhere],
  ['fs_xattr', everywhere, (place) => ({ nativeBase: '/dev/shm', args: place === 'gofer' ? ['generic'] : [] })],
  ['fs_resolve', everywhere], ['fs_tmpfile', everywhere, (place) => ({ nativeBase: '/dev/shm', args: [place === 'gofer' ? 'generic' : 'removed'] })],
];


for (const [name, places, options] of programs) {
  for (const place of places) {
    for (const platform of platforms) {
      const title = `${name} on ${place} [${platform}]`;
      if (skip) {
        test.skip(`${title} (skipped: ${skip})`, () => {});
        continue;
      }
      test(title, async (t) => {
        const program = await guestProgram(name);
        const { native, boxed, dir, hostDir } = runInPlace(program, place, platform, `fs-${name}`, options?.(place));
        t.is(native.status, 0, native.stderr);
        t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
        t.is(boxed.status, 0);
        if (place === 'overlay') t.false(existsSync(dir), 'an overlay write reached the host');
        if (hostDir !== null) {
          t.true(existsSync(join(hostDir, 'work')), 'a --mount write did not reach the host');
          rmSync(hostDir, { recursive: true, force: true });
        }
      });
    }
  }
}

// A --mount directory keeps no extended attributes: every call answers as on a filesystem without
// them (EOPNOTSUPP, an empty list), and a read-only one refuses changes first (EROFS).
for (const platform of platforms) {
  for (const readOnly of [false, true]) {
    const title = `fs_xattr: a ${readOnly ? 'read-only' : 'read-write'} --mount keeps no extended attributes [${platform}]`;
    if (skip) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, async (t) => {
      const program = await guestProgram('fs_xattr');
      const hostDir = scratch('xattr-gofer');
      try {
        writeFileSync(join(hostDir, 'f'), 'f');
        const boxed = runSandbox(program, ['/mnt/tsvisor-xattr', 'gofer'], {
          platform, extraCliArgs: ['--mount', `${hostDir}:/mnt/tsvisor-xattr${readOnly ? ':ro' : ''}`],
        });
        t.is(boxed.status, 0, boxed.stderr);
        const change = readOnly ? 'EROFS' : 'EOPNOTSUPP';
        t.is(boxed.stdout, [
          `setxattr("f", "user.a", "1", 1, 0) = -1 ${change}`,
          'getxattr("f", "user.a", buf, sizeof buf) = -1 EOPNOTSUPP',
          'listxattr("f", buf, sizeof buf) = 0:',
          `removexattr("f", "user.a") = -1 ${change}`,
          `lsetxattr("f", "trusted.t", "1", 1, 0) = -1 ${change}`,
          'getxattr("f", "foo.bar", buf, sizeof buf) = -1 EOPNOTSUPP',
          'open("f", O_RDONLY) = 3',
          `fsetxattr(fd, "user.a", "1", 1, 0) = -1 ${change}`,
          'fgetxattr(fd, "user.a", buf, sizeof buf) = -1 EOPNOTSUPP',
          'flistxattr(fd, buf, sizeof buf) = 0:',
          `fremovexattr(fd, "user.a") = -1 ${change}`,
          'close(fd) = 0',
          '',
        ].join('\n'));
      } finally {
        rmSync(hostDir, { recursive: true, force: true });
      }
    });
  }
}

// O_TMPFILE on a --mount directory: EOPNOTSUPP, as a filesystem without it (the Gofer makes none);
// EROFS first on a read-only one, as Linux's mount check comes before the filesystem's.
for (const platform of platforms) {
  for (const readOnly of [false, true]) {
    const title = `fs_tmpfile: a ${readOnly ? 'read-only' : 'read-write'} --mount makes no O_TMPFILE files [${platform}]`;
    if (skip) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, async (t) => {
      const program = await guestProgram('fs_tmpfile');
      const hostDir = scratch('tmpfile-gofer');
      try {
        const boxed = runSandbox(program, ['/mnt/tsvisor-tmpfile', 'gofer'], {
          platform, extraCliArgs: ['--mount', `${hostDir}:/mnt/tsvisor-tmpfile${readOnly ? ':ro' : ''}`],
        });
        t.is(boxed.status, 0, boxed.stderr);
        const answer = readOnly ? 'EROFS' : 'EOPNOTSUPP';
        t.is(boxed.stdout, [
          `open(".", O_TMPFILE | O_RDWR, 0600) = -1 ${answer}`,
          `open(".", O_TMPFILE | O_WRONLY | O_EXCL, 0600) = -1 ${answer}`,
          '',
        ].join('\n'));
        t.deepEqual(readdirSync(hostDir), []);
      } finally {
        rmSync(hostDir, { recursive: true, force: true });
      }
    });
  }
}

// Programs that need no directory: pipes (and F_SETPIPE_SZ), memfd_create and seals.
compareWithNative([{ name: 'fs_pipe', status: 0 }, { name: 'fs_memfd', status: 0 }]);

/** The lower tree of fs_overlay.c. */
function lowerTree(dir: string): void {
  mkdirSync(join(dir, 'd'), { recursive: true });
  mkdirSync(join(dir, 'e'));
  writeFileSync(join(dir, 'a'), 'lower-a\n');
  writeFileSync(join(dir, 'b'), 'bbbb');
  chmodSync(join(dir, 'b'), 0o600);
  writeFileSync(join(dir, 'd', 'x'), 'x\n');
  writeFileSync(join(dir, 'd', 'y'), 'y\n');
  writeFileSync(join(dir, 'e', 'f'), 'f\n');
  symlinkSync('a', join(dir, 's'));
}

/** Names, modes, sizes, times and contents of a tree: what must not change. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const s = lstatSync(p);
      out.push(`${p} ${s.mode.toString(8)} ${s.size} ${s.mtimeMs}`);
      if (s.isDirectory()) walk(p);
      else if (s.isSymbolicLink()) out.push(readlinkSync(p));
      else out.push(readFileSync(p, 'latin1'));
    }
  };
  walk(dir);
  return out.join('\n');
}

for (const platform of platforms) {
  const title = `fs_overlay: changes to existing host files stay in the sandbox [${platform}]`;
  if (skip) {
    test.skip(`${title} (skipped: ${skip})`, () => {});
    continue;
  }
  test(title, async (t) => {
    const program = await guestProgram('fs_overlay');
    const nativeDir = scratch('lower-native');
    lowerTree(nativeDir);
    const native = runNative(program, [nativeDir]);
    rmSync(nativeDir, { recursive: true, force: true });
    t.is(native.status, 0, native.stderr);
    const lower = join(overlayScratchBase, `fs-lower-${process.pid}-${platform}`);
    rmSync(lower, { recursive: true, force: true });
    lowerTree(lower);
    const before = snapshot(lower);
    const boxed = runSandbox(program, [lower], { platform });
    t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
    t.is(snapshot(lower), before, 'the host tree changed');
    rmSync(lower, { recursive: true, force: true });
  });
}

// The page cache of a --mount file notices a change made on the host (by its size and times) at the
// next mapping.
for (const platform of platforms) {
  const title = `fs_pagecache_host: a file changed on the host is mapped as it is now [${platform}]`;
  if (skip) {
    test.skip(`${title} (skipped: ${skip})`, () => {});
    continue;
  }
  // Serial: the other tests of this file run their programs with spawnSync, which holds this worker's
  // event loop for as long, and the program here waits for our write after its "waiting" line.
  test.serial(title, async (t) => {
    const program = await guestProgram('fs_pagecache_host');
    const hostDir = scratch('pagecache');
    try {
      writeFileSync(join(hostDir, 'f'), 'original');
      const run = startSandbox(program, ['/mnt/tsvisor-pc'], platform, ['--mount', `${hostDir}:/mnt/tsvisor-pc`]);
      // Its start may take long while the rest of the suite loads both cores.
      await waitForOutput(run, 'waiting\n', 90_000);
      writeFileSync(join(hostDir, 'f'), 'replaced');
      // The same size: only the times tell the change, and the host's file clock is coarse.
      utimesSync(join(hostDir, 'f'), new Date(Date.now() + 5000), new Date(Date.now() + 5000));
      writeFileSync(join(hostDir, 'go'), '');
      t.is(await run.exit, 0, run.stderr);
      t.is(run.stdout, 'before: original\nwaiting\nafter: replaced\n');
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });
}
