// The sandbox's mount table: the root filesystem (the host directory through a Gofer, under a tmpfs
// overlay unless it is writable), /dev, /dev/shm, /proc, /sys, /tmp, and the user's extra mounts.
import { Errno } from '../abi/errno.js';
import type { GoferClient } from '../gofer/client.js';
import { Devices, buildDevfs } from './dev.js';
import type { PageStore } from './file-data.js';
import { GoferFs } from './gofer-fs.js';
import { mkdirAt } from './ops.js';
import { OverlayFs } from './overlay.js';
import { Procfs, type ProcSystem } from './proc.js';
import { buildCgroupFs } from './cgroup.js';
import { buildSysfs } from './sys.js';
import { Tmpfs } from './tmpfs.js';
import { resolve } from './walk.js';
import { type Creds, type FileSystem, FsContext, MountNamespace, type VirtualDentry, type Dentry } from './vfs.js';


/** Where the sandbox mounts filesystems of its own over the root, in mount order. */
export const STANDARD_MOUNT_POINTS = ['/dev', '/dev/shm', '/proc', '/sys', '/sys/fs/cgroup', '/tmp'] as const;
type StandardMountPoint = (typeof STANDARD_MOUNT_POINTS)[number];

/** Whether an absolute host path is hidden in the sandbox by one of its own filesystems (its /tmp, say). */
export function shadowedBySandbox(hostPath: string): boolean {
  return STANDARD_MOUNT_POINTS.some((p) => hostPath === p || hostPath.startsWith(`${p}/`));
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
  store: PageStore;
  system: ProcSystem;
  /** Host fd of the sandbox's terminal for /dev/tty, or -1. */
  hostTty: number;
}

export interface SandboxFilesystems {
  ns: MountNamespace;
  procfs: Procfs;
  /** A task's filesystem context with the sandbox root, working directory cwd (or / if it is missing). */
  newContext(creds: Creds, cwd: string): FsContext;
  release(): void;
}

const ROOT_CREDS: Creds = { uid: 0, gid: 0 };

/** Builds the mount table; a Gofer that cannot serve its directory gives that error (EIO, ENOENT). */
export function buildFilesystems(plan: FilesystemPlan): SandboxFilesystems | { error: Errno; what: string } {
  const rootGofer = GoferFs.open(plan.rootfs);
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

  const devices = new Devices(plan.store, plan.hostTty);
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
  const tmp = new Tmpfs(plan.store, devices);
  const standard: Record<StandardMountPoint, [FileSystem, Dentry, string]> = {
    '/dev': [devfs, devfs.root, 'devtmpfs'],
    '/dev/shm': [shm, shm.root, 'shm'],
    '/proc': [procfs.fs, procfs.root, 'proc'],
    '/sys': [sys.fs, sys.root, 'sysfs'],
    '/sys/fs/cgroup': [cgroup.fs, cgroup.root, 'cgroup2'],
    '/tmp': [tmp, tmp.root, 'tmpfs'],
  };
  for (const path of STANDARD_MOUNT_POINTS) {
    const [fs, root, source] = standard[path];
    const r = mountAt(path, fs, root, false, source);
    if (r !== null) return { error: r, what: path };
  }
  for (const m of plan.mounts) {
    const fs = GoferFs.open(m.client);
    if (fs instanceof Errno) return { error: fs, what: m.client.hostRoot };
    const r = mountAt(m.guestPath, fs, fs.root, m.readOnly, 'none');
    if (r !== null) return { error: r, what: m.guestPath };
  }

  return {
    ns,
    procfs,
    newContext(creds: Creds, cwd: string): FsContext {
      const start = resolve(admin, rootVd, cwd, true);
      return new FsContext(ns, rootVd, start instanceof Errno ? rootVd : start, creds);
    },
    release(): void {
      ns.release();
    },
  };
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
