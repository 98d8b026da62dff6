// The dentry cache of filesystems whose tree mirrors something else (the Gofer's host directories, the
// overlay's merge): children are cached as they are looked up, and when a filesystem holds more than
// its budget, unused leaves are dropped. A dentry in use (open, a working directory, a mount point)
// and its ancestors stay; a dropped one is simply looked up again.
import type { Dentry } from './vfs.js';

export interface CachingDentry extends Dentry {
  children: Map<string, CachingDentry> | null;
}

/** Dentries a caching filesystem keeps before it prunes (a Gofer dentry: ~200 bytes with name and map entry). */
export const DENTRY_BUDGET = 50_000;

/** Drops unused leaves below root until at most `keep` remain cached; returns how many remain. */
export function pruneCache(root: CachingDentry, keep: number): number {
  let remaining = 0;
  const visit = (d: CachingDentry): void => {
    const children = d.children;
    if (children === null) return;
    for (const [name, c] of children) {
      visit(c);
      const leaf = c.children === null || c.children.size === 0;
      if (leaf && c.refs === 0 && !c.mountedOn && remaining >= keep) children.delete(name);
      else remaining++;
    }
  };
  visit(root);
  return remaining;
}
