// Host system calls that Node.js lacks, from the addon. Each returns a value >= 0 or -errno.
import { loadAddon } from './addon.js';

export interface HostCalls {
  lseek(fd: number, offset: number, whence: number): number;
  /** TCGETS or TIOCGWINSZ into out. */
  ioctlRead(fd: number, request: number, out: Uint8Array): number;
  getFlags(fd: number): number;
  readonly TCGETS: number;
  readonly TIOCGWINSZ: number;
}

export function hostCalls(): HostCalls {
  return loadAddon().host;
}
