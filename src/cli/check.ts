// tsvisor check: whether `tsvisor run` will work on this host, and what it costs here. One line per
// finding on stdout; the first thing that fails is said on stderr with its fix, and the status is 125.
//   /dev/kvm      there, and openable for reading and writing by this user
//   host flavour  VMX, SVM, or PVM (a nested cloud VM), as the platform detects it
//   vCPUs         how many tasks may run at once: tsvisor's layout and KVM's own limit
//   round trips   a tiny static program (build/guest/probe: getpid in a loop) run in the sandbox in
//                 both platform modes, its calls timed by the Sentry between the first and the last
//   Gofer         started for the root filesystem and served the probe program to the sandbox
import { constants as fsConstants, closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SyscallTracer } from '../kernel/strace.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import { KvmPlatform, PlatformError, type PlatformMode } from '../platform/platform.js';
import { LoaderError, runSandbox, SandboxSetupError, shadowedBySandbox } from '../sandbox/sandbox.js';
import { ExitStatus } from './exit-status.js';
import { stderrSink } from '../log/stderr.js';

const KVM_DEVICE = '/dev/kvm';
const MIB = 1024 * 1024;
const GETPID = 39;
const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
const probePath = `${projectRoot}build/guest/probe`;

const FLAVOURS: Record<string, string> = {
  vmx: 'VMX (Intel VT-x)',
  svm: 'SVM (AMD-V)',
  pvm: 'PVM (a nested VM\'s hypervisor: the stub runs at CPL 3)',
  unknown: 'unknown (KVM works, but neither VMX, SVM nor PVM was recognised)',
};

class CheckFailed extends Error {}

function report(what: string, finding: string): void {
  process.stdout.write(`${what.padEnd(20)}${finding}\n`);
}

/** The group's name in /etc/group, or its number. */
function groupName(gid: number): string {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name !== undefined && Number(id) === gid) return name;
    }
  } catch {
    // no /etc/group: the number says it
  }
  return String(gid);
}

/** Whether this process can open /dev/kvm read-write; if not, what is in the way and the fix. */
function checkDevice(): string {
  if (!existsSync(KVM_DEVICE)) {
    throw new CheckFailed(`${KVM_DEVICE} does not exist: no KVM on this host (load kvm_intel or kvm_amd, or enable nested virtualization for this VM)`);
  }
  const st = statSync(KVM_DEVICE);
  const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
  const group = groupName(st.gid);
  const owner = `mode ${mode}, group ${group}`;
  try {
    closeSync(openSync(KVM_DEVICE, fsConstants.O_RDWR));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    if (code !== 'EACCES' && code !== 'EPERM') throw new CheckFailed(`${KVM_DEVICE}: cannot open it (${code})`);
    const groups = process.getgroups?.() ?? [];
    const inGroup = groups.includes(st.gid) || process.getegid?.() === st.gid;
    const groupCanUse = (st.mode & 0o060) === 0o060;
    const fix = process.geteuid?.() === 0 || (inGroup && groupCanUse)
      ? `its filesystem is mounted nodev or a security policy denies it; the kvm group and root can use it only on a mount that allows devices`
      : !groupCanUse
        ? `only its owner may open it: chgrp kvm ${KVM_DEVICE} && chmod 660 ${KVM_DEVICE} (as udev sets it up), then add your user to the kvm group; or run as root`
        : `add your user to the ${group} group (usermod -aG ${group} $USER, then log in again), or run as root`;
    throw new CheckFailed(`${KVM_DEVICE} (${owner}) is not usable by this user (${code}): ${fix}`);
  }
  return `usable (${owner})`;
}

/** Times the probe's getpid calls inside the Sentry: from the first call's entry to the last one's. */
class RoundTripClock implements SyscallTracer {
  calls = 0;
  private first = 0n;
  private last = 0n;

  enter(_task: unknown, _entry: SyscallEntry | undefined, nr: number): void {
    if (nr !== GETPID) return;
    const now = process.hrtime.bigint();
    if (this.calls === 0) this.first = now;
    this.last = now;
    this.calls++;
  }
  exit(): void {}
  blocked(): void {}
  resumed(): void {}
  ended(): void {}

  get microsecondsPerCall(): number {
    return this.calls < 2 ? NaN : Number(this.last - this.first) / (this.calls - 1) / 1000;
  }
}

async function roundTrip(mode: PlatformMode, patchSyscalls: boolean): Promise<number> {
  const clock = new RoundTripClock();
  const probeDir = `${projectRoot}build/guest`;
  const result = await runSandbox({
    // Exitless from the first call: the probe is short, and each mode's own round trip is what is measured.
    program: probePath, args: [], env: {}, mode, exitlessAfter: 0, memoryBytes: 64 * MIB, strace: clock, patchSyscalls,
    mounts: shadowedBySandbox(probeDir) ? [{ host: probeDir, guest: probeDir, readOnly: true }] : [],
  });
  if (result.exit.status !== 0 || clock.calls < 2) {
    throw new CheckFailed(`the probe program did not run in the sandbox (${mode}): ${result.exit.signal !== null ? result.exit.detail : `status ${result.exit.status}`}`);
  }
  return clock.microsecondsPerCall;
}

const us = (n: number): string => `${n.toFixed(2)} us per syscall`;

export async function check(): Promise<number> {
  try {
    report('/dev/kvm', checkDevice());
    let platform: KvmPlatform;
    try {
      platform = new KvmPlatform({ memoryBytes: 64 * MIB, mode: 'kvm' });
    } catch (err) {
      if (err instanceof PlatformError) throw new CheckFailed(err.message);
      throw err;
    }
    const { flavour, vcpuLimit } = platform;
    platform.close();
    report('host flavour', FLAVOURS[flavour] ?? flavour);
    report('vCPUs', `${vcpuLimit.tsvisor} tasks at once (KVM allows ${vcpuLimit.kvm} per VM)`);
    if (!existsSync(probePath)) throw new CheckFailed(`${probePath} is missing: build the project (npm run build)`);
    let exit: number;
    try {
      exit = await roundTrip('kvm-exit', false);
    } catch (err) {
      if (err instanceof SandboxSetupError) {
        report('Gofer', 'failed');
        throw new CheckFailed(`the Gofer did not start: ${err.message}`);
      }
      throw err;
    }
    report('Gofer', 'starts, and served the probe program to the sandbox');
    report('exit round trip', `${us(exit)} (kvm-exit: one VM exit per call)`);
    const exitless = await roundTrip('kvm', true);
    const trapped = await roundTrip('kvm', false);
    report('exitless round trip', `${us(exitless)} (kvm, rewritten call site); ${us(trapped)} trapped (--no-syscall-patching)`);
    process.stdout.write('ready: tsvisor run will work on this host\n');
    return 0;
  } catch (err) {
    if (err instanceof CheckFailed || err instanceof PlatformError || err instanceof LoaderError || err instanceof SandboxSetupError) {
      stderrSink.write(`tsvisor: ${err.message}\n`);
      return ExitStatus.SandboxFailure;
    }
    throw err;
  }
}
