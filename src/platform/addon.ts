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
  /** Exitless mode: the vCPU thread leaves KVM_RUN once (and injects a requested interrupt). */
  kick(): void;
  /** The guest's extended state: XCR0, the size of its XSAVE area, the MXCSR bits the CPU accepts. */
  extendedState(): { features: number; size: number; mxcsrMask: number };
}

interface Addon {
  Machine: new (memoryBytes: number) => NativeMachine;
  host: HostCalls;
  goferHost: GoferHostCalls;
}

/**
 * Host calls for the Gofer and its client (kvm/gofer_host.cc). Each returns a value >= 0 or -errno.
 * A name is one path component relative to dirfd ('/', NUL, '.', '..' give -EINVAL; '' is dirfd
 * itself where noted) and a symlink in it is never followed.
 */
export interface GoferHostCalls {
  /** An AF_UNIX SOCK_SEQPACKET pair, both ends close-on-exec, into out[0] and out[1]. */
  socketPair(out: Int32Array): number;
  /** One message of data[0, length) carrying fds (SCM_RIGHTS); MSG_NOSIGNAL. */
  sendMsg(fd: number, data: Uint8Array, length: number, fds: Int32Array): number;
  /** One message into buf; fdsOut gets the fds then -1s; 0 = peer closed; timeoutMs < 0 waits forever. */
  recvMsg(fd: number, buf: Uint8Array, fdsOut: Int32Array, timeoutMs: number): number;
  /** O_PATH|O_DIRECTORY fd of an absolute host path (the Gofer's root). */
  openRoot(path: string): number;
  /** O_NOFOLLOW|O_CLOEXEC are added. */
  openat(dirfd: number, name: string, flags: number, mode: number): number;
  /**
   * Opens the inode of an O_PATH fd (of dirfd/name) again with flags, through /proc/self/fd, or where
   * /proc is missing by name, keeping it only if it is the same inode (never creates).
   */
  reopen(pathFd: number, flags: number, dirfd: number, name: string): number;
  /** lstat semantics into out (struct stat, 144 bytes); '' is dirfd itself. */
  fstatat(dirfd: number, name: string, out: Uint8Array): number;
  fstat(fd: number, out: Uint8Array): number;
  getdents64(fd: number, buf: Uint8Array): number;
  mkdirat(dirfd: number, name: string, mode: number): number;
  /** flags: 0 or AT_REMOVEDIR. */
  unlinkat(dirfd: number, name: string, flags: number): number;
  renameat2(oldDirfd: number, oldName: string, newDirfd: number, newName: string, flags: number): number;
  symlinkat(target: string, dirfd: number, name: string): number;
  linkat(oldDirfd: number, oldName: string, newDirfd: number, newName: string): number;
  /** '' is dirfd itself (an O_PATH fd of a symlink). */
  readlinkat(dirfd: number, name: string, buf: Uint8Array): number;
  /** chmod of the inode of an O_PATH fd; the caller makes sure it is not a symlink. */
  chmodFd(pathFd: number, mode: number): number;
  /** lchown semantics; -1 keeps an id; '' is dirfd itself. */
  fchownat(dirfd: number, name: string, uid: number, gid: number): number;
  ftruncate(fd: number, length: number): number;
  /** Nanoseconds may be UTIME_OMIT/UTIME_NOW; does not follow; '' is dirfd itself. */
  utimensat(dirfd: number, name: string, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): number;
  /** struct statfs (120 bytes) into out. */
  fstatfs(fd: number, out: Uint8Array): number;
  close(fd: number): number;
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
