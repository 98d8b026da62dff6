// The syscall table: every x86-64 Linux syscall number, what tsvisor does with it, and why. Pure data,
// assembled from the families; the README's table is generated from it (npm run syscall-table).
import { SYSCALL_NAMES } from '../abi/syscall-names.js';
import { type SyscallEntry, Support, type SyscallTable } from '../kernel/syscall-table.js';
import { archSyscalls } from './arch.js';
import { attrSyscalls } from './attr.js';
import { dirSyscalls } from './dir.js';
import { fadviseSyscalls } from './fadvise.js';
import { fdSyscalls } from './fd.js';
import { futexSyscalls } from './futex.js';
import { ioctlSyscalls } from './ioctl.js';
import { linkSyscalls } from './link.js';
import { lockSyscalls } from './lock.js';
import { memfdSyscalls } from './memfd.js';
import { mmSyscalls } from './mm.js';
import { openSyscalls } from './open.js';
import { pathSyscalls } from './path.js';
import { pipeSyscalls } from './pipe.js';
import { processSyscalls } from './process.js';
import { randomSyscalls } from './random.js';
import { readWriteSyscalls } from './read-write.js';
import { schedSyscalls } from './sched.js';
import { sendfileSyscalls } from './sendfile.js';
import { signalSyscalls } from './signal.js';
import { spliceSyscalls } from './splice.js';
import { pidfdSyscalls } from './pidfd.js';
import { socketSyscalls } from './socket.js';
import { signalfdSyscalls } from './signalfd.js';
import { statSyscalls } from './stat.js';
import { threadSyscalls } from './thread.js';
import { sysinfoSyscalls } from './sysinfo.js';
import { timeSyscalls } from './time.js';
import { xattrSyscalls } from './xattr.js';
import { usageSyscalls } from './usage.js';
import { timerSyscalls } from './timer.js';
import { pollSyscalls } from './poll.js';
import { epollSyscalls } from './epoll.js';
import { eventfdSyscalls } from './eventfd.js';
import { timerfdSyscalls } from './timerfd.js';

export const FAMILIES: ReadonlyArray<readonly SyscallEntry[]> = [
  readWriteSyscalls, statSyscalls, ioctlSyscalls, fdSyscalls, pathSyscalls, mmSyscalls, processSyscalls,
  archSyscalls, timeSyscalls, timerSyscalls, randomSyscalls, signalSyscalls,
  openSyscalls, dirSyscalls, linkSyscalls, attrSyscalls, pipeSyscalls, sendfileSyscalls, spliceSyscalls, lockSyscalls,
  memfdSyscalls, threadSyscalls, futexSyscalls, xattrSyscalls, schedSyscalls, sysinfoSyscalls, fadviseSyscalls,
  usageSyscalls, pollSyscalls, epollSyscalls, eventfdSyscalls, timerfdSyscalls,
  signalfdSyscalls,
  pidfdSyscalls,
  socketSyscalls,
];

const NOT_YET = 'not implemented yet';

export function buildSyscallTable(): SyscallTable {
  const table: Array<SyscallEntry | undefined> = [];
  for (const family of FAMILIES) {
    for (const entry of family) {
      if (table[entry.nr] !== undefined) throw new Error(`syscall ${entry.name} (${entry.nr}) defined twice`);
      table[entry.nr] = entry;
    }
  }
  SYSCALL_NAMES.forEach((name, nr) => {
    if (name !== undefined && table[nr] === undefined) table[nr] = { nr, name, support: Support.None, note: NOT_YET };
  });
  return table;
}
