// The sandbox's clocks: what clock_gettime, gettimeofday and time answer, in the Sentry (the syscalls)
// and in the guest (the vDSO, through the [vvar] page written here), from one set of parameters, as
// Linux's timekeeping core with its vdso_data and gVisor's kernel.Timekeeper do.
//
// Where the guest TSC is a clock (src/platform/tsc.ts), each clock is a linear function of it:
//     value(t) = base[clock] + (t - tscBase) * mult / 2^32   nanoseconds
// (the layout and the guest's side: guest/vvar.h, guest/vdso.c). The Sentry reads the same function
// with the host TSC plus the guest's offset, so a program sees one clock whichever way it asks. The
// parameters follow the host's own clocks: every REFRESH_MS the host TSC is sampled against them, the
// rate of each clock per cycle is measured over the interval, and the next interval's rate is that plus
// what brings the error back to zero by its end (at most MAX_SLEW, as NTP slews). A new base always
// starts where the old parameters were at that instant, so MONOTONIC never goes back; only a host
// clock that stepped (settimeofday, a suspend for BOOTTIME) makes ours step, and never MONOTONIC back.
// Between refreshes the guest extrapolates from the TSC alone, correct to the rate's error (parts per
// million at worst), however long the Sentry is away.
//
// Where the guest TSC is not a clock (an emulated host marks its TSC unstable) the page says
// CLOCK_NONE, the vDSO makes the syscalls, and the Sentry reads the host's clocks directly, as Linux's
// vDSO falls back when its clocksource cannot be read in user mode.
import { readFileSync } from 'node:fs';
import { log } from '../log/log.js';
import { type HostClockCalls, hostClock } from '../platform/clock.js';
import { vvarLayoutPath } from '../platform/guest-files.js';
import type { GuestTsc } from '../platform/tsc.js';

export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_MONOTONIC_RAW = 4;
export const CLOCK_REALTIME_COARSE = 5;
export const CLOCK_MONOTONIC_COARSE = 6;
export const CLOCK_BOOTTIME = 7;
export const CLOCK_TAI = 11;

/** How often the parameters are brought back to the host's clocks. */
const REFRESH_MS = 1000;
/** The largest rate correction, as NTP's (500 ppm). */
const MAX_SLEW_PPM = 500n;
/** A host clock this far from ours stepped: ours steps too (forward only, for MONOTONIC and RAW). */
const STEP_NS = 1_000_000n;
/** The host's REALTIME, BOOTTIME or TAI moved this far against its MONOTONIC: it was set, follow it. */
const OFFSET_STEP_NS = 20_000n;
/** A rate is measured over at least this long; a shorter interval keeps the previous one. */
const MIN_BASELINE_MS = 100;
const NS_PER_SEC = 1_000_000_000;
const SHIFT = 32n;
const ONE = 1n << SHIFT;

/** The clock_gettime ids the vDSO and the Sentry both answer here, and the base each reads. */
function baseOf(clock: number): number {
  switch (clock) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_BOOTTIME: case CLOCK_TAI:
      return clock;
    case CLOCK_REALTIME_COARSE:
      return CLOCK_REALTIME;
    case CLOCK_MONOTONIC_COARSE:
      return CLOCK_MONOTONIC;
    default:
      return -1;
  }
}

function isCoarse(clock: number): boolean {
  return clock === CLOCK_REALTIME_COARSE || clock === CLOCK_MONOTONIC_COARSE;
}

/** The clocks as the syscalls see them. */
export interface Clocks {
  /** The clock's value into out[0] (seconds) and out[1] (nanoseconds); false for a clock not kept here. */
  read(clock: number, out: Float64Array): boolean;
  /** clock_getres in nanoseconds, or -1 for a clock not kept here. */
  resolution(clock: number): number;
}

/** Offsets of struct vvar (guest/vvar.h), as guest/build.sh wrote them. */
interface VvarLayout {
  seq: number; clock_mode: number; getcpu_mode: number; tsc_base: number; mult: number; raw_mult: number;
  coarse_res: number; tz_minuteswest: number; tz_dsttime: number; base: number; base_size: number; bases: number;
  CLOCK_NONE: number; CLOCK_TSC: number; GETCPU_SYSCALL: number; GETCPU_RDTSCP: number;
}

/** One host sample, converted to guest TSC: [tsc, ns] per MONOTONIC, RAW, REALTIME, BOOTTIME, TAI. */
interface Sample {
  tsc: bigint[];
  ns: bigint[];
}
const S_MONO = 0, S_RAW = 1, S_REAL = 2, S_BOOT = 3, S_TAI = 4;

/** The host's clocks read directly: the Sentry's clocks where the TSC is not one. */
class HostClocks implements Clocks {
  constructor(private readonly host: HostClockCalls, private readonly coarseRes: number) {}
  read(clock: number, out: Float64Array): boolean {
    return baseOf(clock) >= 0 && this.host.now(clock, out) === 0;
  }
  resolution(clock: number): number {
    if (baseOf(clock) < 0) return -1;
    return isCoarse(clock) ? this.coarseRes : 1;
  }
}

let hostOnly: HostClocks | null = null;

/** The host's clocks, for a task the sandbox has not given its timekeeper. */
export function hostClocks(): Clocks {
  const host = hostClock();
  return (hostOnly ??= new HostClocks(host, coarseResolution(host)));
}

function coarseResolution(host: HostClockCalls): number {
  const res = host.resolution(CLOCK_MONOTONIC_COARSE);
  return res > 0 ? res : 4_000_000;
}

export class Timekeeper implements Clocks {
  /** Guest TSC readings tell the time (in the Sentry; the vDSO also needs tsc.guestUsable). */
  readonly tscMode: boolean;
  readonly coarseRes: number;
  private readonly host: HostClockCalls;
  private readonly hostClocks: HostClocks;
  private readonly view: DataView;
  private readonly layout: VvarLayout;
  private timer: NodeJS.Timeout | null = null;
  private readonly raw = new BigInt64Array(10);
  private readonly exact = new BigInt64Array(1);
  // The parameters, exactly (BigInt; used at refresh only): bases in nanoseconds << 32.
  private tscBase = 0n;
  private mult = 0n;
  private rawMult = 0n;
  private monoBase = 0n;
  private rawBase = 0n;
  /** The host's REALTIME, BOOTTIME and TAI minus its MONOTONIC, in nanoseconds. */
  private realOffset = 0n;
  private bootOffset = 0n;
  private taiOffset = 0n;
  /** The host's rates measured over the last interval, nanoseconds per cycle << 32. */
  private rate = 0n;
  private rawRate = 0n;
  private previous: Sample | null = null;
  // The same as numbers, for the Sentry's reads (no allocation): per base, seconds and nanoseconds.
  private tscBaseN = 0;
  private nsPerCycle = 0;
  private rawNsPerCycle = 0;
  private readonly secN = new Float64Array(12);
  private readonly nsecN = new Float64Array(12);

  constructor(memory: ArrayBuffer, vvarGpa: number, private readonly tsc: GuestTsc) {
    this.host = hostClock();
    this.coarseRes = coarseResolution(this.host);
    this.hostClocks = new HostClocks(this.host, this.coarseRes);
    this.layout = JSON.parse(readFileSync(vvarLayoutPath, 'utf8')) as VvarLayout;
    this.view = new DataView(memory, vvarGpa, 4096);
    this.tscMode = tsc.usable;
    const v = this.view;
    const L = this.layout;
    v.setUint32(L.getcpu_mode, tsc.perVcpuAux ? L.GETCPU_RDTSCP : L.GETCPU_SYSCALL, true);
    v.setBigInt64(L.coarse_res, BigInt(this.coarseRes), true);
    v.setInt32(L.tz_minuteswest, 0, true);
    v.setInt32(L.tz_dsttime, 0, true);
    if (this.tscMode) this.start();
    v.setUint32(L.clock_mode, this.tscMode && tsc.guestUsable ? L.CLOCK_TSC : L.CLOCK_NONE, true);
    tsc.onUnsynced(() => this.update(() => v.setUint32(L.clock_mode, L.CLOCK_NONE, true)));
  }

  /** How the guest reads the clocks, for --stats. */
  get guestMode(): string {
    const view = this.view.getUint32(this.layout.clock_mode, true) === this.layout.CLOCK_TSC ? 'tsc' : 'syscall';
    const cpu = this.view.getUint32(this.layout.getcpu_mode, true) === this.layout.GETCPU_RDTSCP ? 'rdtscp' : 'syscall';
    return `${view} (getcpu: ${cpu})`;
  }

  read(clock: number, out: Float64Array): boolean {
    if (!this.tscMode) return this.hostClocks.read(clock, out);
    const b = baseOf(clock);
    if (b < 0) return false;
    const delta = Math.max(0, this.host.readTsc() + this.tsc.offset - this.tscBaseN);
    let ns = this.nsecN[b]! + delta * (b === CLOCK_MONOTONIC_RAW ? this.rawNsPerCycle : this.nsPerCycle);
    const carry = Math.floor(ns / NS_PER_SEC);
    ns = Math.floor(ns - carry * NS_PER_SEC);
    if (isCoarse(clock)) ns -= ns % this.coarseRes;
    out[0] = this.secN[b]! + carry;
    out[1] = ns;
    return true;
  }

  resolution(clock: number): number {
    return this.hostClocks.resolution(clock);
  }

  /** Stops the refreshes (the sandbox is done). */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private start(): void {
    const s = this.sample();
    if (s === null) throw new Error('cannot read the host clocks');
    const khz = BigInt(this.tsc.khz);
    this.rate = this.rawRate = (1_000_000n << SHIFT) / khz;
    this.mult = this.rawMult = this.rate;
    const t = s.tsc[S_MONO]!;
    this.tscBase = t;
    this.monoBase = s.ns[S_MONO]! << SHIFT;
    this.rawBase = (s.ns[S_RAW]! << SHIFT) + (t - s.tsc[S_RAW]!) * this.rawMult;
    this.realOffset = this.offsetAt(s, S_REAL);
    this.bootOffset = this.offsetAt(s, S_BOOT);
    this.taiOffset = this.offsetAt(s, S_TAI);
    this.previous = s;
    this.update(() => this.writeParameters());
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  /** The host's clocks against the host TSC, in guest TSC cycles. */
  private sample(): Sample | null {
    if (this.host.sample(this.raw) < 0) return null;
    const offset = this.tsc.offsetExact;
    const tsc: bigint[] = [];
    const ns: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      tsc.push(this.raw[2 * i]! + offset);
      ns.push(this.raw[2 * i + 1]!);
    }
    return { tsc, ns };
  }

  /** A host clock minus the host's MONOTONIC at the same instant, in nanoseconds. */
  private offsetAt(s: Sample, which: number): bigint {
    return s.ns[which]! - s.ns[S_MONO]! - (((s.tsc[which]! - s.tsc[S_MONO]!) * this.rate) >> SHIFT);
  }

  /** Brings the parameters back to the host's clocks now (see the top of the file); a timer calls it. */
  refresh(): void {
    if (!this.tscMode) return;
    const s = this.sample();
    const prev = this.previous;
    if (s === null || prev === null) return;
    const khz = BigInt(this.tsc.khz);
    const cycles = s.tsc[S_MONO]! - prev.tsc[S_MONO]!;
    if (cycles >= khz * BigInt(MIN_BASELINE_MS)) {
      this.rate = ((s.ns[S_MONO]! - prev.ns[S_MONO]!) << SHIFT) / cycles;
      this.rawRate = ((s.ns[S_RAW]! - prev.ns[S_RAW]!) << SHIFT) / (s.tsc[S_RAW]! - prev.tsc[S_RAW]!);
      this.previous = s;
    }
    const interval = khz * BigInt(REFRESH_MS);
    const mono = this.steer(s.ns[S_MONO]! << SHIFT, this.valueAt(this.monoBase, this.mult, s.tsc[S_MONO]!), this.rate, interval);
    const raw = this.steer(s.ns[S_RAW]! << SHIFT, this.valueAt(this.rawBase, this.rawMult, s.tsc[S_RAW]!), this.rawRate, interval);
    // REALTIME, BOOTTIME, TAI move with MONOTONIC; only a host that set them moves them apart.
    const real = this.offsetAt(s, S_REAL);
    const boot = this.offsetAt(s, S_BOOT);
    const tai = this.offsetAt(s, S_TAI);
    const moved = (a: bigint, b: bigint): boolean => (a > b ? a - b : b - a) > OFFSET_STEP_NS;
    if (moved(real, this.realOffset)) this.realOffset = real;
    if (boot - this.bootOffset > OFFSET_STEP_NS) this.bootOffset = boot;
    if (moved(tai, this.taiOffset)) this.taiOffset = tai;
    this.update(() => {
      // The new base is where the old parameters are now, read after the sequence count went odd: any
      // reader that finished with the old ones read an earlier TSC, so nobody sees time go back.
      this.host.readTsc(this.exact);
      const t = this.exact[0]! + this.tsc.offsetExact;
      this.monoBase = this.valueAt(this.monoBase, this.mult, t) + mono.step;
      this.rawBase = this.valueAt(this.rawBase, this.rawMult, t) + raw.step;
      this.tscBase = t;
      this.mult = mono.mult;
      this.rawMult = raw.mult;
      this.writeParameters();
    });
  }

  /**
   * The rate for the next interval: the host's, corrected so that our error (host minus ours, in
   * nanoseconds << 32) is gone by its end, at most MAX_SLEW; an error past STEP_NS behind the host is
   * stepped over at once instead.
   */
  private steer(hostValue: bigint, ours: bigint, rate: bigint, interval: bigint): { mult: bigint; step: bigint } {
    const error = hostValue - ours;
    if (error > STEP_NS << SHIFT) {
      log.info(`timekeeper: the host clock is ${error >> SHIFT} ns ahead; stepping`);
      return { mult: rate, step: error };
    }
    const limit = (rate * MAX_SLEW_PPM) / 1_000_000n;
    let correction = error / interval;
    if (correction > limit) correction = limit;
    if (correction < -limit) correction = -limit;
    return { mult: rate + correction, step: 0n };
  }

  private valueAt(base: bigint, mult: bigint, t: bigint): bigint {
    const delta = t > this.tscBase ? t - this.tscBase : 0n;
    return base + delta * mult;
  }

  /** Runs fn with the sequence count odd, so that no reader uses a half-written page. */
  private update(fn: () => void): void {
    const seq = this.view.getUint32(this.layout.seq, true);
    this.view.setUint32(this.layout.seq, (seq + 1) | 1, true);
    fn();
    this.view.setUint32(this.layout.seq, ((seq + 1) | 1) + 1, true);
  }

  private writeParameters(): void {
    const v = this.view;
    const L = this.layout;
    v.setBigUint64(L.tsc_base, BigInt.asUintN(64, this.tscBase), true);
    v.setBigUint64(L.mult, this.mult, true);
    v.setBigUint64(L.raw_mult, this.rawMult, true);
    const bases: Array<[number, bigint]> = [
      [CLOCK_MONOTONIC, this.monoBase],
      [CLOCK_MONOTONIC_RAW, this.rawBase],
      [CLOCK_REALTIME, this.monoBase + (this.realOffset << SHIFT)],
      [CLOCK_BOOTTIME, this.monoBase + (this.bootOffset << SHIFT)],
      [CLOCK_TAI, this.monoBase + (this.taiOffset << SHIFT)],
    ];
    const perSec = BigInt(NS_PER_SEC) << SHIFT;
    for (const [clock, base] of bases) {
      const sec = base / perSec;
      const nsec = base - sec * perSec;
      v.setBigInt64(L.base + clock * L.base_size, sec, true);
      v.setBigUint64(L.base + clock * L.base_size + 8, nsec, true);
      this.secN[clock] = Number(sec);
      this.nsecN[clock] = Number(nsec) / Number(ONE);
    }
    this.tscBaseN = Number(this.tscBase);
    this.nsPerCycle = Number(this.mult) / Number(ONE);
    this.rawNsPerCycle = Number(this.rawMult) / Number(ONE);
  }
}
