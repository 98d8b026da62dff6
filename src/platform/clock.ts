// The host's TSC and clocks, from the addon (kvm/clock.cc), for the Sentry's timekeeper.
import { type HostClockCalls, loadAddon } from './addon.js';

export type { HostClockCalls };

export function hostClock(): HostClockCalls {
  return loadAddon().clock;
}
