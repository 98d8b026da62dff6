// The machine as /proc and /sys describe it. The kernel's Machine (src/kernel/machine.ts) implements it;
// fs only reads it.

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
  committedBytes(): number;
  uptimeNs(): bigint;
}
