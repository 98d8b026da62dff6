// Path walking (fs/namei.c in spirit): components are looked up one at a time from the root or a
// starting directory, mounts are crossed, symlinks are followed (ELOOP after 40), and `..` never goes
// above the task's root: the sandbox root is the top of every walk, whatever the path or the links say.
import { EACCES, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, Errno } from '../abi/errno.js';
import { MAX_SYMLINKS, NAME_MAX, X_OK, isDir, isSymlink } from '../abi/fcntl.js';
import { type FsContext, type MountNamespace, type VirtualDentry, mayAccess } from './vfs.js';

export function sameVd(a: VirtualDentry, b: VirtualDentry): boolean {
  return a.mount === b.mount && a.dentry === b.dentry;
}

/** Follows mounts stacked on vd's dentry down to the topmost root. */
export function crossMounts(ns: MountNamespace, vd: VirtualDentry): VirtualDentry {
  let cur = vd;
  while (cur.dentry.mountedOn) {
    const m = ns.mountedAt(cur.dentry);
    if (m === null) break;
    cur = { mount: m, dentry: m.root };
  }
  return cur;
}

/** `..` of vd: stays at the task's root, climbs out of mounts, then to the parent directory. */
export function parentOf(ctx: FsContext, vd: VirtualDentry): VirtualDentry {
  let cur = vd;
  for (;;) {
    if (sameVd(cur, ctx.root)) return cur;
    if (cur.dentry !== cur.mount.root) break;
    const up = cur.mount.parent;
    if (up === null || cur.mount.mountpoint === null) return cur;
    cur = { mount: up, dentry: cur.mount.mountpoint };
  }
  const parent = cur.dentry.parent;
  if (parent === null) return cur;
  return crossMounts(ctx.ns, { mount: cur.mount, dentry: parent });
}

/** One component from a directory: search permission, '.', '..', lookup, mounts. */
export function step(ctx: FsContext, dir: VirtualDentry, name: string): VirtualDentry | Errno {
  const d = dir.dentry;
  if (!isDir(d.mode)) return ENOTDIR;
  if (!mayAccess(d.mode, d.uid, d.gid, ctx.creds, X_OK)) return EACCES;
  if (name === '.') return dir;
  if (name === '..') return parentOf(ctx, dir);
  if (name.length > NAME_MAX / 4 && Buffer.byteLength(name) > NAME_MAX) return ENAMETOOLONG;
  const child = d.child(name, ctx);
  if (child instanceof Errno) return child;
  return crossMounts(ctx.ns, { mount: dir.mount, dentry: child });
}

export interface WalkState {
  /** Symlinks followed so far in this operation (shared when an operation walks twice). */
  links: number;
}

export interface ParentResult {
  dir: VirtualDentry;
  /** The last component: '' when the path names the root itself ("/"), or '.' / '..'. */
  name: string;
  trailingSlash: boolean;
}

/**
 * Walks path from start (the root if absolute). With parentOnly, stops before the last component and
 * returns its directory and name; otherwise returns the last component itself, following it if it
 * is a symlink and `follow` (or the path ends in a slash).
 */
function walk(ctx: FsContext, start: VirtualDentry, path: string, follow: boolean, parentOnly: boolean, state: WalkState): VirtualDentry | ParentResult | Errno {
  if (path.length === 0) return ENOENT;
  const trailingSlash = path.endsWith('/');
  let cur = path.startsWith('/') ? ctx.root : start;
  const stack = components(path);
  if (stack.length === 0) return parentOnly ? { dir: cur, name: '', trailingSlash } : cur;
  while (stack.length > 0) {
    const name = stack.pop()!;
    const last = stack.length === 0;
    if (last && parentOnly) {
      if (!isDir(cur.dentry.mode)) return ENOTDIR;
      return { dir: cur, name, trailingSlash };
    }
    const next = step(ctx, cur, name);
    if (next instanceof Errno) return next;
    if (isSymlink(next.dentry.mode) && (!last || follow || trailingSlash)) {
      if (++state.links > MAX_SYMLINKS) return ELOOP;
      const magic = next.dentry.magicLink(ctx, next);
      if (magic instanceof Errno) return magic;
      if (magic !== null) {
        cur = magic;
        continue;
      }
      const target = next.dentry.readlink(ctx);
      if (target instanceof Errno) return target;
      if (target.length === 0) return ENOENT;
      if (target.startsWith('/')) cur = ctx.root;
      // The target's components are walked before the rest of the path, from the link's directory.
      stack.push(...components(target));
      continue;
    }
    cur = next;
  }
  if (trailingSlash && !parentOnly && !isDir(cur.dentry.mode)) return ENOTDIR;
  return cur;
}

/** Components in reverse order (a stack: pop gives the next one); empty ones dropped. */
function components(path: string): string[] {
  const out: string[] = [];
  let end = path.length;
  for (let i = path.length - 1; i >= -1; i--) {
    if (i === -1 || path.charCodeAt(i) === 47 /* '/' */) {
      if (end > i + 1) out.push(path.slice(i + 1, end));
      end = i;
    }
  }
  return out;
}

export function resolve(ctx: FsContext, start: VirtualDentry, path: string, follow: boolean, state: WalkState = { links: 0 }): VirtualDentry | Errno {
  return walk(ctx, start, path, follow, false, state) as VirtualDentry | Errno;
}

export function resolveParent(ctx: FsContext, start: VirtualDentry, path: string, state: WalkState = { links: 0 }): ParentResult | Errno {
  return walk(ctx, start, path, false, true, state) as ParentResult | Errno;
}

/** The path of vd as the task sees it (from its root); null if vd is not under the root. */
export function pathOf(ctx: FsContext, vd: VirtualDentry): string | null {
  return pathFrom(ctx.root, vd);
}

/**
 * The path of vd from root, or from the namespace root when root is null (for names that do not
 * depend on a task: /proc/PID/maps, /proc/mounts); null if vd is not under root.
 */
export function pathFrom(root: VirtualDentry | null, vd: VirtualDentry): string | null {
  const parts: string[] = [];
  let cur = vd;
  for (;;) {
    if (root !== null && sameVd(cur, root)) break;
    if (cur.dentry === cur.mount.root) {
      if (cur.mount.parent === null || cur.mount.mountpoint === null) {
        if (root === null) break;
        return null;
      }
      cur = { mount: cur.mount.parent, dentry: cur.mount.mountpoint };
      continue;
    }
    parts.push(cur.dentry.name);
    const parent = cur.dentry.parent;
    if (parent === null) return null;
    cur = { mount: cur.mount, dentry: parent };
  }
  return '/' + parts.reverse().join('/');
}
