// The native KVM addon (kvm/). Only src/platform loads it; everything above talks to the Platform.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeMachine {
  readonly memory: ArrayBuffer;
  readonly flavour: 'pvm' | 'vmx' | 'svm' | 'unknown';
  readonly memfd: number;
  /** KVM's limit on vCPUs per VM (KVM_CAP_MAX_VCPUS). */
  readonly maxVcpus: number;
  punchHole(gpa: number, length: number): void;
  createVcpu(config: NativeVcpuConfig): NativeVcpu;
  close(): void;
}

export interface NativeVcpuConfig {
  id: number;
  mailboxGpa: number;
  stubVa: number;
  gsBase: number;
  physBase: number;
  cr3: number;
  gdtBase: number; gdtLimit: number;
  idtBase: number; idtLimit: number;
  tssBase: number; tssLimit: number; tssSelector: number;
  fsBase: number;
  rip: number;
  rsp: number;
  /** Set TSC_AUX to the vCPU id where the CPU has rdtscp (VMX/SVM: the guest's rdtscp then reads it). */
  tscAux?: boolean;
}

/** The guest TSC of a vCPU, read at its creation (kvm/tsc.h). */
export interface NativeTscInfo {
  /** KVM_GET_TSC_KHZ; 0 if KVM does not say. */
  khz: number;
  /** guest TSC - host TSC, in cycles. */
  offset: bigint;
  /** How far off `offset` may be, in cycles: 0 when KVM reported it exactly, -1 when it could not be read. */
  offsetError: number;
  /** The guest's CPUID has rdtscp. */
  rdtscp: boolean;
  /** TSC_AUX holds the vCPU id. */
  tscAux: boolean;
}

export interface NativeVcpu {
  /** Exit mode: runs until the next guest event; its kind and details are in the mailbox. */
  run(): void;
  /** Exit mode: interrupt the guest every `ms` (EventKind.Interrupted) so the event loop gets turns; 0 = never. */
  setTimeSlice(ms: number): void;
  /** Benchmark floor: answers up to `limit` syscalls in C++ with rax = 0; returns how many. */
  runBare(limit: number): number;
  /** Benchmark floor, exitless: a C++ thread answers up to `limit` mailbox syscalls with rax = 0. */
  runBareExitless(limit: number): number;
  /** Exitless mode: runs on a native thread; onEvent fires on the JS thread when the vCPU waits. */
  start(onEvent: () => void): void;
  wake(): void;
  stop(): void;
  close(): void;
  /** Registers and control state, for reports when a guest stops unexpectedly. */
  debugState(): Record<string, string>;
  tscInfo(): NativeTscInfo;
  /** Before the first run: give this vCPU's TSC that offset (KVM_VCPU_TSC_OFFSET); false if KVM cannot. */
  setTscOffset(offset: bigint): boolean;
  /** Exitless mode: the vCPU thread leaves KVM_RUN once (and injects a requested interrupt). */
  kick(): void;
  /** The guest's extended state: XCR0, the size of its XSAVE area, the MXCSR bits the CPU accepts. */
  extendedState(): { features: number; size: number; mxcsrMask: number };
}

/**
 * Readiness of a host fd from the event loop (kvm/fd_watch.cc): a libuv poll handle on a private dup
 * of the fd; start(events) arms it for POLLIN and/or POLLOUT, and the callback runs once with the
 * events that came (POLLIN, POLLOUT, POLLHUP, or POLLERR for an error on the fd), after which it is
 * stopped. While armed it keeps the event loop alive.
 */
export interface NativeFdWatch {
  /** 0, or -errno when the fd cannot be watched (-EPERM: a regular file, which is always ready). */
  readonly error: number;
  start(events: number): number;
  stop(): void;
  close(): void;
}

interface Addon {
  Machine: new (memoryBytes: number) => NativeMachine;
  FdWatch: new (fd: number, callback: (events: number) => void) => NativeFdWatch;
  host: HostCalls;
  goferHost: GoferHostCalls;
  clock: HostClockCalls;
}

/** The host's TSC and clocks (kvm/clock.cc). Results are >= 0 or -errno. */
export interface HostClockCalls {
  /** The host TSC once every earlier store is visible (mfence; lfence; rdtsc); exactly into out[0] if given. */
  readTsc(out?: BigInt64Array): number;
  /**
   * MONOTONIC, MONOTONIC_RAW, REALTIME, BOOTTIME, TAI, each as (host TSC, nanoseconds) read together,
   * into out[0..9]; returns the widest rdtsc window of the five, in cycles.
   */
  sample(out: BigInt64Array): number;
  /** clock_gettime(clock) into out[0] (seconds) and out[1] (nanoseconds). */
  now(clock: number, out: Float64Array): number;
  /** clock_getres(clock) in nanoseconds. */
  resolution(clock: number): number;
}

/**
 * Host calls for the Sentry's end of the Gofer's socket (kvm/gofer_host.cc). Each returns a value >= 0
 * or -errno. The Gofer itself is a native executable (kvm/gofer/, goferExecutablePath).
 */
export interface GoferHostCalls {
  /** An AF_UNIX SOCK_SEQPACKET pair, both ends close-on-exec, into out[0] and out[1]. */
  socketPair(out: Int32Array): number;
  /** One message of data[0, length) carrying fds (SCM_RIGHTS); MSG_NOSIGNAL. */
  sendMsg(fd: number, data: Uint8Array, length: number, fds: Int32Array): number;
  /** One message into buf; fdsOut gets the fds then -1s; 0 = peer closed; timeoutMs < 0 waits forever. */
  recvMsg(fd: number, buf: Uint8Array, fdsOut: Int32Array, timeoutMs: number): number;
  close(fd: number): number;
}

/** Host system calls that Node.js lacks. Each returns a value >= 0 or -errno. */
export interface HostCalls {
  lseek(fd: number, offset: number, whence: number): number;
  /**
   * TCGETS, TCGETS2, TIOCGWINSZ, FIONREAD or TIOCOUTQ into out, which must be exactly the kernel's
   * struct (termios 36 bytes, termios2 44, winsize 8, an int 4; else -EINVAL).
   */
  ioctlRead(fd: number, request: number, out: Uint8Array): number;
  /** TCSETS, TCSETS2 or TIOCSWINSZ from in, exactly the kernel's struct (else -EINVAL). */
  ioctlWrite(fd: number, request: number, input: Uint8Array): number;
  /** TCFLSH or TCXONC with an int argument (else -EINVAL). */
  ioctlValue(fd: number, request: number, value: number): number;
  /** fcntl(F_GETFL) and fcntl(F_SETFL). */
  getFlags(fd: number): number;
  setFlags(fd: number, flags: number): number;
  /** poll(2) of one fd with timeout 0: its revents now, or -errno (-EBADF for a closed fd). */
  pollNow(fd: number, events: number): number;
  /**
   * One preadv(2) (pwritev(2)) at offset between fd and count runs of memory, ranges holding (offset in
   * memory, length) pairs; -EFAULT if a run is outside memory or count is not 1 to IOV_MAX.
   */
  preadv(fd: number, memory: Uint8Array, ranges: Float64Array, count: number, offset: number): number;
  pwritev(fd: number, memory: Uint8Array, ranges: Float64Array, count: number, offset: number): number;
  /** Collects V8's garbage and shrinks its heap, then malloc_trim: for an idle Sentry. */
  trimMemory(): void;
}

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
let addon: Addon | null = null;

export function loadAddon(): Addon {
  if (addon === null) {
    const require = createRequire(import.meta.url);
    addon = require(`${projectRoot}build/Release/tsvisor_kvm.node`) as Addon;
  }
  return addon;
}

/** The Gofer process's executable, built beside the addon (binding.gyp). */
export const goferExecutablePath = `${projectRoot}build/Release/tsvisor-gofer`;
export const stubBinaryPath = `${projectRoot}build/guest/stub.bin`;
export const stubSymbolsPath = `${projectRoot}build/guest/stub.syms.json`;
