// Path walking (fs/namei.c in spirit): components are looked up one at a time from the root or a
// starting directory, mounts are crossed, symlinks are followed (ELOOP after 40), and `..` never goes
// above the task's root: the sandbox root is the top of every walk, whatever the path or the links say.
// openat2's RESOLVE_* flags restrict a walk further (WalkState.resolve), as Linux's LOOKUP_NO_XDEV,
// LOOKUP_NO_SYMLINKS, LOOKUP_NO_MAGICLINKS, LOOKUP_BENEATH and LOOKUP_IN_ROOT do.
import { EACCES, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EXDEV, Errno } from '../abi/errno.js';
import {
  MAX_SYMLINKS, NAME_MAX, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV, X_OK,
  isDir, isSymlink,
} from '../abi/fcntl.js';
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
  /** openat2's RESOLVE_* restrictions; 0 or absent for every other walk. */
  resolve?: number;
  /** With RESOLVE_BENEATH or RESOLVE_IN_ROOT: the starting directory, which the walk may not leave. */
  scope?: VirtualDentry;
}

const SCOPED = RESOLVE_BENEATH | RESOLVE_IN_ROOT;

/** A new walk of the same operation (a second pass over the path): the same restrictions, no links counted. */
export function restartWalk(state: WalkState): WalkState {
  return state.resolve === undefined ? { links: 0 } : { links: 0, resolve: state.resolve, scope: state.scope };
}

/**
 * Where an absolute path or symlink starts (Linux's nd_jump_root): the task's root, or the scope under
 * RESOLVE_IN_ROOT; EXDEV under RESOLVE_BENEATH, and under RESOLVE_NO_XDEV when from (the walk's place,
 * null at its start) is on another mount than that root.
 */
export function jumpRoot(ctx: FsContext, from: VirtualDentry | null, state: WalkState): VirtualDentry | Errno {
  const flags = state.resolve ?? 0;
  if (flags === 0) return ctx.root;
  if ((flags & RESOLVE_BENEATH) !== 0) return EXDEV;
  const root = (flags & RESOLVE_IN_ROOT) !== 0 ? state.scope! : ctx.root;
  if ((flags & RESOLVE_NO_XDEV) !== 0 && from !== null && from.mount !== root.mount) return EXDEV;
  return root;
}

/**
 * step() under the walk's restrictions: `..` at the scope's top is EXDEV (RESOLVE_BENEATH) or stays
 * there (RESOLVE_IN_ROOT), and RESOLVE_NO_XDEV refuses any step onto another mount, down or up.
 */
export function stepWithin(ctx: FsContext, dir: VirtualDentry, name: string, state: WalkState): VirtualDentry | Errno {
  const flags = state.resolve ?? 0;
  if (flags === 0) return step(ctx, dir, name);
  if (name === '..' && state.scope !== undefined && sameVd(dir, state.scope)) {
    // The directory's own checks (a directory, search permission) come first, as may_lookup's.
    const here = step(ctx, dir, '.');
    if (here instanceof Errno) return here;
    return (flags & RESOLVE_BENEATH) !== 0 ? EXDEV : dir;
  }
  const next = step(ctx, dir, name);
  if (next instanceof Errno) return next;
  if ((flags & RESOLVE_NO_XDEV) !== 0 && next.mount !== dir.mount) return EXDEV;
  return next;
}

/** What following a symlink gives: the place a magic link leads to, or a target path to walk from a place. */
export type LinkStep = VirtualDentry | { from: VirtualDentry; target: string };

/**
 * Follows the symlink link, found in dir (Linux's pick_link and nd_jump_link): ELOOP past 40 links or
 * under RESOLVE_NO_SYMLINKS; a magic link (/proc/PID/fd/N, exe, cwd, root) is ELOOP under
 * RESOLVE_NO_MAGICLINKS, EXDEV under RESOLVE_NO_XDEV if it leads to another mount (or to a file of
 * none, a pipe's) and under RESOLVE_BENEATH or RESOLVE_IN_ROOT always; an absolute target starts at
 * jumpRoot.
 */
export function followLink(ctx: FsContext, dir: VirtualDentry, link: VirtualDentry, state: WalkState): LinkStep | Errno {
  const flags = state.resolve ?? 0;
  if ((flags & RESOLVE_NO_SYMLINKS) !== 0) return ELOOP;
  if (++state.links > MAX_SYMLINKS) return ELOOP;
  const magic = link.dentry.magicLink(ctx, link);
  if (magic instanceof Errno) return magic;
  if (magic !== null) {
    if ((flags & RESOLVE_NO_MAGICLINKS) !== 0) return ELOOP;
    if ((flags & RESOLVE_NO_XDEV) !== 0 && (magic.mount !== dir.mount || magic.dentry.anonymous)) return EXDEV;
    if ((flags & SCOPED) !== 0) return EXDEV;
    return magic;
  }
  const target = link.dentry.readlink(ctx);
  if (target instanceof Errno) return target;
  if (target.length === 0) return ENOENT;
  if (!target.startsWith('/')) return { from: dir, target };
  const root = jumpRoot(ctx, dir, state);
  return root instanceof Errno ? root : { from: root, target };
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
  let cur = start;
  if (path.startsWith('/')) {
    const root = jumpRoot(ctx, null, state);
    if (root instanceof Errno) return root;
    cur = root;
  }
  const stack = components(path);
  if (stack.length === 0) return parentOnly ? { dir: cur, name: '', trailingSlash } : cur;
  while (stack.length > 0) {
    const name = stack.pop()!;
    const last = stack.length === 0;
    if (last && parentOnly) {
      if (!isDir(cur.dentry.mode)) return ENOTDIR;
      return { dir: cur, name, trailingSlash };
    }
    const next = stepWithin(ctx, cur, name, state);
    if (next instanceof Errno) return next;
    if (isSymlink(next.dentry.mode) && (!last || follow || trailingSlash)) {
      const link = followLink(ctx, cur, next, state);
      if (link instanceof Errno) return link;
      if (!('target' in link)) {
        cur = link;
        continue;
      }
      // The target's components are walked before the rest of the path, from the link's directory.
      cur = link.from;
      stack.push(...components(link.target));
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
