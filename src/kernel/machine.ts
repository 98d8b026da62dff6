// The machine a sandbox shows its programs: as many CPUs as --cpus gives (the host's by default),
// the guest memory of --memory and the host name of --hostname. sysinfo(2), sched_getaffinity(2),
// uname(2), /proc/meminfo, /proc/cpuinfo,
// /sys/devices/system/cpu and the cgroup files all answer from here, so that runtimes that size
// thread pools and heaps from them (Python, the JVM, Node.js, Go) size them to the sandbox.
import { availableParallelism, hostname } from 'node:os';
import type { NetSysctl, ProcSystem } from '../fs/proc-system.js';
import { netSysctl } from '../net/inet-ports.js';

export class Machine implements ProcSystem {
  /** Monotonic nanoseconds at boot: the sandbox's uptime counts from here. */
  readonly bootNs = process.hrtime.bigint();

  /** CPUs 0 .. cpus-1 are online. */
  readonly cpus: number;
  /** Guest memory, in bytes: MemTotal, totalram, memory.max. */
  readonly memoryBytes: number;
  /** Whether --cpus was given: cpu.max then shows the limit (memory.max always shows the guest's size). */
  readonly cpusLimited: boolean;
  /** uname's nodename and /proc/sys/kernel/hostname (--hostname; the host's by default). */
  readonly hostname: string;
  /** The network sysctls of the sandbox's one network namespace. */
  readonly net: NetSysctl = netSysctl;
  private readonly committed: () => number;
  private readonly processes: () => number;

  constructor(spec: {
    cpus: number;
    memoryBytes: number;
    /** Guest memory in use now. */
    committedBytes: () => number;
    /** Processes in the sandbox now (sysinfo's procs). */
    processes: () => number;
    cpusLimited?: boolean;
    hostname?: string;
  }) {
    if (!Number.isInteger(spec.cpus) || spec.cpus < 1) throw new RangeError(`a machine needs at least one CPU, not ${spec.cpus}`);
    this.cpus = spec.cpus;
    this.memoryBytes = spec.memoryBytes;
    this.cpusLimited = spec.cpusLimited ?? false;
    this.hostname = spec.hostname ?? hostname();
    this.committed = spec.committedBytes;
    this.processes = spec.processes;
  }

  /** The CPUs this host lets the Sentry use: the most --cpus may ask for. */
  static hostCpus(): number {
    return Math.max(1, availableParallelism());
  }

  committedBytes(): number {
    return this.committed();
  }

  processCount(): number {
    return this.processes();
  }

  uptimeNs(): bigint {
    return process.hrtime.bigint() - this.bootNs;
  }

  /** All online CPUs as an affinity mask (bit n: CPU n). */
  get allCpus(): bigint {
    return (1n << BigInt(this.cpus)) - 1n;
  }

  /** Bytes of a cpumask as sched_getaffinity copies it: whole longs covering the CPU ids. */
  get cpumaskBytes(): number {
    return Math.ceil(this.cpus / 64) * 8;
  }
}
