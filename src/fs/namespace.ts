// The sandbox's mount table: the root filesystem (the host directory through a Gofer, under a tmpfs
// overlay unless it is writable), /dev, /dev/shm, /proc, /sys, and the user's extra mounts (--mount
// host directories, --tmpfs fresh ones). /tmp is the root's own, as under runsc: the host's /tmp, read
// through the overlay like the rest of the root, with the program's writes kept in the sandbox. Only
// where the root's /tmp is missing or empty, and the user mounted nothing there, does the sandbox
// mount a fresh tmpfs at /tmp (nothing is hidden by it then).
import { Errno } from '../abi/errno.js';
import type { GoferClient } from '../gofer/client.js';
import { type ConsoleTerminal, Devices, buildDevfs } from './dev.js';
import type { PageCache } from '../mm/page-cache.js';
import type { PageStore } from './file-data.js';
import { GoferFs } from './gofer-fs.js';
import { mkdirAt } from './ops.js';
import { OverlayFs } from './overlay.js';
import { Procfs, type ProcSystem } from './proc.js';
import { buildCgroupFs } from './cgroup.js';
import { buildSysfs } from './sys.js';
import { InternalTmpfs, Tmpfs } from './tmpfs.js';
import { resolve } from './walk.js';
import { type Creds, type FileSystem, FsContext, MountNamespace, type VirtualDentry, type Dentry } from './vfs.js';


/** Where the sandbox always mounts filesystems of its own over the root, in mount order. */
export const STANDARD_MOUNT_POINTS = ['/dev', '/dev/shm', '/proc', '/sys', '/sys/fs/cgroup'] as const;
type StandardMountPoint = (typeof STANDARD_MOUNT_POINTS)[number];
/** Mounted as a fresh tmpfs when the root's own is missing or empty (runsc's rule). */
export const TMP = '/tmp';

/**
 * Which of the sandbox's own filesystems hides an absolute host path (with the host's / as the root):
 * /dev, /dev/shm, /proc, /sys, or a --tmpfs directory; null if the sandbox sees the host's file there.
 */
export function shadowingMount(hostPath: string, tmpfs: readonly string[] = []): string | null {
  let found: string | null = null;
  for (const p of [...STANDARD_MOUNT_POINTS, ...tmpfs]) {
    if ((hostPath === p || hostPath.startsWith(p === '/' ? '/' : `${p}/`)) && (found === null || p.length > found.length)) found = p;
  }
  return found;
}

/** Whether an absolute host path is hidden in the sandbox by one of its own filesystems (its /proc, say). */
export function shadowedBySandbox(hostPath: string, tmpfs: readonly string[] = []): boolean {
  return shadowingMount(hostPath, tmpfs) !== null;
}
export interface ExtraMount {
  client: GoferClient;
  /** Absolute path inside the sandbox. */
  guestPath: string;
  readOnly: boolean;
}

export interface FilesystemPlan {
  /** The Gofer serving the root directory (read-only unless writable). */
  rootfs: GoferClient;
  /** Writes go through to the host (--rootfs-rw) instead of an overlay that vanishes with the sandbox. */
  rootfsWritable: boolean;
  mounts: ExtraMount[];
  /** Absolute paths in the sandbox that get a fresh tmpfs (--tmpfs). */
  tmpfs?: readonly string[];
  store: PageStore;
  /** The page cache that private mappings of Gofer files share. */
  pageCache: PageCache | null;
  system: ProcSystem;
  /** Host fd of the sandbox's terminal for /dev/tty, or -1. */
  hostTty: number;
  /** `run -t`: the sandbox's own terminal, /dev/pts/N and /dev/tty. */
  console?: ConsoleTerminal | null;
}

export interface SandboxFilesystems {
  ns: MountNamespace;
  procfs: Procfs;
  /** The tmpfs, mounted nowhere, that holds memfd_create's files (Linux's internal shm_mnt). */
  memfds: InternalTmpfs;
  /** A task's filesystem context with the sandbox root, working directory cwd (or / if it is missing). */
  newContext(creds: Creds, cwd: string): FsContext;
  release(): void;
}

const ROOT_CREDS: Creds = { uid: 0, gid: 0 };

/** Builds the mount table; a Gofer that cannot serve its directory gives that error (EIO, ENOENT). */
export function buildFilesystems(plan: FilesystemPlan): SandboxFilesystems | { error: Errno; what: string } {
  const rootGofer = GoferFs.open(plan.rootfs, plan.pageCache, true);
  if (rootGofer instanceof Errno) return { error: rootGofer, what: 'the root filesystem' };
  let rootFs: FileSystem;
  let rootDentry: Dentry;
  if (plan.rootfsWritable) {
    rootFs = rootGofer;
    rootDentry = rootGofer.root;
  } else {
    const overlay = new OverlayFs(new Tmpfs(plan.store, null, 0o755), rootGofer.root);
    rootFs = overlay;
    rootDentry = overlay.root;
  }
  // Sources are not host paths: what the host calls its directories is none of the program's business.
  const ns = new MountNamespace(rootFs, rootDentry, false, plan.rootfsWritable ? 'none' : 'overlay');
  const rootVd: VirtualDentry = { mount: ns.root, dentry: rootDentry };
  const admin = new FsContext(ns, rootVd, rootVd, ROOT_CREDS);
  admin.umask = 0;

  const devices = new Devices(plan.store, plan.hostTty, plan.console ?? null);
  const procfs = new Procfs(plan.system);
  const sys = buildSysfs(plan.system);
  const cgroup = buildCgroupFs(plan.system, () => procfs.pids());
  const mountAt = (path: string, fs: FileSystem, root: Dentry, readOnly: boolean, source: string): Errno | null => {
    const at = ensureDir(admin, path);
    if (at instanceof Errno) return at;
    const m = ns.mount(at, fs, root, readOnly, source);
    return m instanceof Errno ? m : null;
  };
  const devfs = buildDevfs(plan.store, devices);
  const shm = new Tmpfs(plan.store, devices);
  const standard: Record<StandardMountPoint, [FileSystem, Dentry, string]> = {
    '/dev': [devfs, devfs.root, 'devtmpfs'],
    '/dev/shm': [shm, shm.root, 'shm'],
    '/proc': [procfs.fs, procfs.root, 'proc'],
    '/sys': [sys.fs, sys.root, 'sysfs'],
    '/sys/fs/cgroup': [cgroup.fs, cgroup.root, 'cgroup2'],
  };
  for (const path of STANDARD_MOUNT_POINTS) {
    const [fs, root, source] = standard[path];
    const r = mountAt(path, fs, root, false, source);
    if (r !== null) return { error: r, what: path };
  }
  const tmpfs = plan.tmpfs ?? [];
  const userPaths = [...plan.mounts.map((m) => m.guestPath), ...tmpfs].map(normalise);
  if (!userPaths.includes(TMP) && isEmptyDir(admin, TMP)) {
    const tmp = new Tmpfs(plan.store, devices);
    const r = mountAt(TMP, tmp, tmp.root, false, 'tmpfs');
    if (r !== null) return { error: r, what: TMP };
  }
  // The user's mounts, parents before what is mounted inside them.
  const extra: Array<{ path: string; open: () => GoferFs | Tmpfs | Errno; readOnly: boolean; what: string; source: string }> = [
    ...plan.mounts.map((m) => ({ path: m.guestPath, open: () => GoferFs.open(m.client, plan.pageCache), readOnly: m.readOnly, what: m.client.hostRoot, source: 'none' })),
    ...tmpfs.map((path) => ({ path, open: () => new Tmpfs(plan.store, devices), readOnly: false, what: path, source: 'tmpfs' })),
  ];
  const depth = (path: string): number => normalise(path).split('/').length;
  extra.sort((a, b) => depth(a.path) - depth(b.path));
  for (const m of extra) {
    const fs = m.open();
    if (fs instanceof Errno) return { error: fs, what: m.what };
    const r = mountAt(m.path, fs, fs.root, m.readOnly, m.source);
    if (r !== null) return { error: r, what: m.path };
  }

  return {
    ns,
    procfs,
    memfds: new InternalTmpfs(plan.store),
    newContext(creds: Creds, cwd: string): FsContext {
      const start = resolve(admin, rootVd, cwd, true);
      return new FsContext(ns, rootVd, start instanceof Errno ? rootVd : start, creds);
    },
    release(): void {
      ns.release();
    },
  };
}

function normalise(path: string): string {
  return '/' + path.split('/').filter((p) => p.length > 0).join('/');
}

/** Whether path in the root is missing, or a directory without entries. */
function isEmptyDir(ctx: FsContext, path: string): boolean {
  const vd = resolve(ctx, ctx.root, path, true);
  if (vd instanceof Errno) return true;
  const entries = vd.dentry.readdir(ctx);
  return !(entries instanceof Errno) && entries.every((e) => e.name === '.' || e.name === '..');
}

/** mkdir -p inside the sandbox (the overlay takes it when the root is read-only). */
function ensureDir(ctx: FsContext, path: string): VirtualDentry | Errno {
  let prefix = '';
  for (const part of path.split('/').filter((p) => p.length > 0)) {
    prefix += '/' + part;
    const r = mkdirAt(ctx, ctx.root, prefix, 0o755);
    if (r !== null && r.name !== 'EEXIST') return r;
  }
  return resolve(ctx, ctx.root, path, true);
}
