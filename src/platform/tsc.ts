// The guest's TSC as a clock. KVM runs each vCPU's TSC at the host TSC plus an offset (and at the host's
// rate: tsvisor never asks KVM to scale it), read when the vCPU is created and has not run
// (kvm/tsc.cc). The guest can tell the time with rdtsc alone (the vDSO) when
//   - the host's TSC is one clock: the host kernel uses it as its clocksource, which Linux does only
//     for a TSC that is synchronised across CPUs and runs at a constant rate (not so on an emulated
//     host, where Linux marks it unstable and picks another clocksource), and
//   - every vCPU has the same offset: KVM gives a new vCPU the others' TSC, and where KVM has the
//     KVM_VCPU_TSC_OFFSET attribute a vCPU that differs gets the first one's offset set exactly.
// Should a later vCPU still differ, guestSynced turns false and the listeners hear of it: the guest's
// rdtsc is then no clock, while the Sentry's own readings (host TSC plus the first offset) still are.
import { readFileSync } from 'node:fs';
import type { NativeTscInfo, NativeVcpu } from './addon.js';

const CLOCKSOURCE = '/sys/devices/system/clocksource/clocksource0/current_clocksource';

/** The host kernel's clocksource ("tsc", "kvm-clock", "hpet", ...), or "" if it does not say. */
export function hostClocksource(): string {
  try {
    return readFileSync(CLOCKSOURCE, 'utf8').trim();
  } catch {
    return '';
  }
}

export class GuestTsc {
  /** guest TSC = host TSC + offset, in cycles: the first vCPU's offset. */
  offset = 0;
  offsetExact = 0n;
  /** The TSC's frequency (KVM_GET_TSC_KHZ). */
  khz = 0;
  /** rdtscp in the guest gives the vCPU id on every vCPU (TSC_AUX is set). */
  perVcpuAux = true;
  /** Every vCPU's TSC is at the first one's offset. */
  guestSynced = true;
  private offsetError = -1;
  private vcpus = 0;
  private readonly listeners: Array<() => void> = [];

  constructor(
    /** The host's clocksource is its TSC. */
    readonly hostStable: boolean,
  ) {}

  /** The Sentry can turn host TSC readings into guest TSC readings: the host TSC is a clock and the offset known. */
  get usable(): boolean {
    return this.hostStable && this.khz > 0 && this.offsetError >= 0;
  }

  /** Guest rdtsc is one clock on every vCPU. */
  get guestUsable(): boolean {
    return this.usable && this.guestSynced;
  }

  /** A new vCPU, before it first runs. */
  add(vcpu: NativeVcpu): void {
    const info = vcpu.tscInfo();
    this.perVcpuAux &&= info.tscAux;
    if (this.vcpus++ === 0) {
      this.khz = info.khz;
      this.offsetExact = info.offset;
      this.offset = Number(info.offset);
      this.offsetError = info.offsetError;
      return;
    }
    if (info.offset === this.offsetExact || this.matches(info) || vcpu.setTscOffset(this.offsetExact)) return;
    if (this.guestSynced) {
      this.guestSynced = false;
      for (const fn of this.listeners) fn();
    }
  }

  /** Called when guestUsable turns false. */
  onUnsynced(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** Offsets measured through KVM_GET_MSRS agree within what each measurement allows. */
  private matches(info: NativeTscInfo): boolean {
    if (info.offsetError <= 0 || this.offsetError < 0) return false;
    const diff = info.offset - this.offsetExact;
    return (diff < 0n ? -diff : diff) <= BigInt(info.offsetError + this.offsetError);
  }
}
