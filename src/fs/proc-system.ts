// The machine as /proc and /sys describe it. The kernel's Machine (src/kernel/machine.ts) implements it;
// fs only reads it, but for the network sysctls that root may write.
import type { Errno } from '../abi/errno.js';

/** net.ipv4's writable sysctls (src/net's netSysctl): the checks are the setters'. */
export interface NetSysctl {
  localPortRange(): [number, number];
  setLocalPortRange(low: number, high: number): Errno | null;
  readonly unprivilegedPortStart: number;
  setUnprivilegedPortStart(port: number): Errno | null;
}

/** What /proc and /sys report about the machine (the kernel's Machine: --cpus, --memory). */
export interface ProcSystem {
  /** CPUs 0 .. cpus-1 are online. */
  readonly cpus: number;
  readonly memoryBytes: number;
  /** Whether --cpus was given: cpu.max then shows it as a limit. */
  readonly cpusLimited: boolean;
  /** The sandbox's host name (uname's nodename). */
  readonly hostname: string;
  /** Monotonic nanoseconds (process.hrtime) when the sandbox booted. */
  readonly bootNs: bigint;
  /** /proc/sys/net/ipv4's ip_local_port_range and ip_unprivileged_port_start. */
  readonly net: NetSysctl;
  committedBytes(): number;
  uptimeNs(): bigint;
}
