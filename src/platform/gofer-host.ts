// The Sentry's end of the Gofer: the host calls of its socket (socketpairs, SCM_RIGHTS messages), from
// the addon, and where the Gofer's executable is. Only src/gofer uses them.
import { type GoferHostCalls, goferExecutablePath, loadAddon } from './addon.js';

export type { GoferHostCalls };
export { goferExecutablePath };

export function goferHostCalls(): GoferHostCalls {
  return loadAddon().goferHost;
}
