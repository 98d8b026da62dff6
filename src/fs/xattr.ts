// Extended attributes: what the VFS checks before a filesystem is asked (fs/xattr.c's xattr_permission
// and the capability hooks of security/commoncap.c), the names a filesystem with attributes accepts
// (tmpfs's handlers: user.*, trusted.*, security.*), and XattrStore, where a tmpfs keeps them.
//
// Filesystems without attributes (the Gofer's, /proc, /sys, pipes) answer as Linux's do: EOPNOTSUPP
// to get, set and remove, and an empty list (what listxattr gives when neither the filesystem nor a
// security module lists anything).
import { EACCES, EEXIST, EINVAL, ENODATA, ENOSPC, EOPNOTSUPP, EPERM, EROFS, Errno } from '../abi/errno.js';
import { R_OK, S_IFDIR, S_IFMT, S_IFREG, S_ISVTX, W_OK } from '../abi/fcntl.js';
import { PAGE_SIZE } from '../platform/layout.js';
import type { PageStore } from './file-data.js';
import { type Creds, type Dentry, mayAccess } from './vfs.js';

export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;
/** XATTR_NAME_MAX, XATTR_SIZE_MAX and XATTR_LIST_MAX (include/uapi/linux/limits.h). */
export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 65536;
export const XATTR_LIST_MAX = 65536;

const USER = 'user.';
const TRUSTED = 'trusted.';
const SECURITY = 'security.';
const SYSTEM = 'system.';

/** The namespaces a tmpfs keeps. */
const PREFIXES = [USER, TRUSTED, SECURITY];

/**
 * xattr_resolve_name for a filesystem with tmpfs's handlers: EOPNOTSUPP for a name in no namespace it
 * knows (system.* among them: no POSIX ACLs here), EINVAL for a bare prefix ("user."), else null.
 */
export function checkXattrName(name: string): Errno | null {
  for (const p of PREFIXES) if (name.startsWith(p)) return name.length === p.length ? EINVAL : null;
  return EOPNOTSUPP;
}

/** What the checks look at: the inode (its type, owner, mode) and the filesystem that answers. */
export interface XattrTarget {
  mode: number;
  uid: number;
  gid: number;
  /** null for files in no directory (pipes, sockets): they keep no attributes. */
  dentry: Dentry | null;
  readOnly: boolean;
}

/** capable(CAP_SYS_ADMIN): the sandbox's root has every capability. */
function admin(creds: Creds): boolean {
  return creds.uid === 0;
}

/** xattr_permission: write is set and remove, otherwise get. */
function permission(creds: Creds, t: XattrTarget, name: string, write: boolean): Errno | null {
  // security.* and system.* are left to the filesystem and the security hooks.
  if (name.startsWith(SECURITY) || name.startsWith(SYSTEM)) return null;
  if (name.startsWith(TRUSTED)) return admin(creds) ? null : write ? EPERM : ENODATA;
  if (name.startsWith(USER)) {
    const type = t.mode & S_IFMT;
    // Only regular files and directories have user.* attributes...
    if (type !== S_IFREG && type !== S_IFDIR) return write ? EPERM : ENODATA;
    // ... and in a sticky directory only its owner (or root) may change them.
    if (write && type === S_IFDIR && (t.mode & S_ISVTX) !== 0 && creds.uid !== t.uid && !admin(creds)) return EPERM;
  }
  return mayAccess(t.mode, t.uid, t.gid, creds, write ? W_OK : R_OK) ? null : EACCES;
}

/** cap_inode_setxattr and cap_inode_removexattr: security.* is changed by root only. */
function securityHook(creds: Creds, name: string): Errno | null {
  return name.startsWith(SECURITY) && !admin(creds) ? EPERM : null;
}

export function getXattr(creds: Creds, t: XattrTarget, name: string): Uint8Array | Errno {
  const denied = permission(creds, t, name, false);
  if (denied !== null) return denied;
  return t.dentry === null ? EOPNOTSUPP : t.dentry.getxattr(name);
}

/** The names, trusted.* only for root (as Linux's filesystems list them). */
export function listXattr(creds: Creds, t: XattrTarget): string[] | Errno {
  if (t.dentry === null) return [];
  const names = t.dentry.listxattr();
  if (names instanceof Errno || admin(creds)) return names;
  return names.filter((n) => !n.startsWith(TRUSTED));
}

/** value null: removexattr. */
export function changeXattr(creds: Creds, t: XattrTarget, name: string, value: Uint8Array | null, flags: number): Errno | null {
  if (t.readOnly) return EROFS;
  const denied = permission(creds, t, name, true) ?? securityHook(creds, name);
  if (denied !== null) return denied;
  if (t.dentry === null) return EOPNOTSUPP;
  return value === null ? t.dentry.removexattr(name) : t.dentry.setxattr(name, value, flags);
}

/** Linux's simple_xattr_space: the entry (about 40 bytes), the name with its NUL, the value. */
function space(name: string, size: number): number {
  return 40 + Buffer.byteLength(name) + 1 + size;
}

/**
 * The bytes the attributes of one tmpfs take, charged to guest memory: the values live in the Sentry,
 * and it holds guest pages for as many bytes (allocated and never touched, so the host commits
 * nothing for them), so that attributes count in what the sandbox's memory limit, statfs,
 * memory.current and /proc/meminfo see, and run out (ENOSPC) when memory does.
 */
export class XattrSpace {
  bytes = 0;
  private readonly pages: number[] = [];

  constructor(private readonly store: PageStore) {}

  /** delta more bytes (fewer if negative): ENOSPC when guest memory has no page for them. */
  charge(delta: number): Errno | null {
    const needed = Math.ceil((this.bytes + delta) / PAGE_SIZE);
    const held = this.pages.length;
    while (this.pages.length < needed) {
      const gpa = this.store.allocator.allocPage();
      if (gpa < 0) {
        while (this.pages.length > held) this.store.allocator.freePage(this.pages.pop()!);
        return ENOSPC;
      }
      this.pages.push(gpa);
    }
    while (this.pages.length > needed) this.store.allocator.freePage(this.pages.pop()!);
    this.bytes += delta;
    return null;
  }
}

/** The attributes of one tmpfs inode, kept in name order (as Linux's rbtree of simple_xattrs). */
export class XattrStore {
  private readonly values = new Map<string, Uint8Array>();

  constructor(private readonly space: XattrSpace) {}

  get(name: string): Uint8Array | Errno {
    const bad = checkXattrName(name);
    if (bad !== null) return bad;
    return this.values.get(name) ?? ENODATA;
  }

  list(): string[] {
    return [...this.values.keys()].sort();
  }

  /** XATTR_CREATE: EEXIST if it is there; XATTR_REPLACE: ENODATA if not. value is kept, not copied. */
  set(name: string, value: Uint8Array, flags: number): Errno | null {
    const bad = checkXattrName(name);
    if (bad !== null) return bad;
    const old = this.values.get(name);
    if (old !== undefined && (flags & XATTR_CREATE) !== 0) return EEXIST;
    if (old === undefined && (flags & XATTR_REPLACE) !== 0) return ENODATA;
    const charged = this.space.charge(space(name, value.length) - (old === undefined ? 0 : space(name, old.length)));
    if (charged !== null) return charged;
    this.values.set(name, value);
    return null;
  }

  remove(name: string): Errno | null {
    const bad = checkXattrName(name);
    if (bad !== null) return bad;
    const old = this.values.get(name);
    if (old === undefined) return ENODATA;
    this.values.delete(name);
    this.space.charge(-space(name, old.length));
    return null;
  }

  get empty(): boolean {
    return this.values.size === 0;
  }

  /** The inode goes: its attributes' bytes are given back. */
  release(): void {
    let total = 0;
    for (const [name, v] of this.values) total += space(name, v.length);
    this.values.clear();
    this.space.charge(-total);
  }
}
