// Host system calls that Node.js lacks (lseek, terminal ioctls, fcntl flags), from the addon.
import { type HostCalls, loadAddon } from './addon.js';

export type { HostCalls };

export function hostCalls(): HostCalls {
  return loadAddon().host;
}
