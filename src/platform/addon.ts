// The native KVM addon (kvm/). Only src/platform loads it; everything above talks to the Platform.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeMachine {
  readonly memory: ArrayBuffer;
  readonly flavour: 'pvm' | 'vmx' | 'svm' | 'unknown';
  readonly memfd: number;
  punchHole(gpa: number, length: number): void;
  createVcpu(config: NativeVcpuConfig): NativeVcpu;
  close(): void;
}

export interface NativeVcpuConfig {
  id: number;
  mailboxGpa: number;
  stubVa: number;
  physBase: number;
  cr3: number;
  gdtBase: number; gdtLimit: number;
  idtBase: number; idtLimit: number;
  tssBase: number; tssLimit: number; tssSelector: number;
  fsBase: number;
  rip: number;
  rsp: number;
}

export interface NativeVcpu {
  /** Exit mode: runs until the next guest event and returns its kind (details in the mailbox). */
  run(sliceMs?: number): number;
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
}

interface Addon {
  Machine: new (memoryBytes: number) => NativeMachine;
  host: HostCalls;
}

/** Host system calls that Node.js lacks. Each returns a value >= 0 or -errno. */
export interface HostCalls {
  lseek(fd: number, offset: number, whence: number): number;
  /** TCGETS or TIOCGWINSZ into out. */
  ioctlRead(fd: number, request: number, out: Uint8Array): number;
  getFlags(fd: number): number;
  readonly TCGETS: number;
  readonly TIOCGWINSZ: number;
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

export const stubBinaryPath = `${projectRoot}build/guest/stub.bin`;
export const stubSymbolsPath = `${projectRoot}build/guest/stub.syms.json`;
