// Host calls for the Gofer process and the Sentry's Gofer client (socketpairs, SCM_RIGHTS messages, *at
// calls on one path component), from the addon. Only src/gofer uses them.
import { type GoferHostCalls, loadAddon } from './addon.js';

export type { GoferHostCalls };

export function goferHostCalls(): GoferHostCalls {
  return loadAddon().goferHost;
}
