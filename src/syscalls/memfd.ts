// memfd_create(2): a regular file in no directory, in the kernel's internal tmpfs (Linux's shm_mnt), so
// it reads, writes, truncates and maps as any tmpfs file, and takes seals (fs/seals.ts). The checks
// follow mm/memfd.c in its order: flags, then the name.
import { EINVAL, Errno } from '../abi/errno.js';
import { F_SEAL_EXEC, F_SEAL_SEAL, NAME_MAX, O_LARGEFILE, O_RDWR } from '../abi/fcntl.js';
import type { SyscallArgs } from '../kernel/syscall-args.js';
import type { SyscallEntry } from '../kernel/syscall-table.js';
import type { Task } from '../kernel/task.js';
import { partial } from './define.js';
import { install } from './open.js';

const MFD_CLOEXEC = 0x1;
const MFD_ALLOW_SEALING = 0x2;
const MFD_HUGETLB = 0x4;
const MFD_NOEXEC_SEAL = 0x8;
const MFD_EXEC = 0x10;
const MFD_ALL_FLAGS = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
const NAME_PREFIX = 'memfd:';
/** The name and its prefix make one file name (NAME_MAX). */
const NAME_MAX_LENGTH = NAME_MAX - NAME_PREFIX.length;

function memfdCreate(task: Task, a: SyscallArgs): number | Errno {
  const flags = a.uint(1);
  // MFD_HUGETLB wants a hugetlbfs file, which the sandbox has none of: refused as by a kernel without it.
  if ((flags & ~MFD_ALL_FLAGS) !== 0 || (flags & MFD_HUGETLB) !== 0) return EINVAL;
  if ((flags & MFD_EXEC) !== 0 && (flags & MFD_NOEXEC_SEAL) !== 0) return EINVAL;
  const name = task.mm.readString(a.ptr(0), NAME_MAX_LENGTH, EINVAL);
  if (name instanceof Errno) return name;
  // vm.memfd_noexec is 0 here: without MFD_NOEXEC_SEAL the file is executable (0777, as shmem makes it).
  const noExec = (flags & MFD_NOEXEC_SEAL) !== 0;
  // MFD_NOEXEC_SEAL allows sealing too, and seals the execute bits off for good.
  const seals = noExec ? F_SEAL_EXEC : (flags & MFD_ALLOW_SEALING) !== 0 ? 0 : F_SEAL_SEAL;
  const file = task.kernel.memfds.createFile(NAME_PREFIX + name, noExec ? 0o666 : 0o777, task.fs.creds, O_RDWR | O_LARGEFILE, seals);
  return install(task, file, (flags & MFD_CLOEXEC) !== 0);
}

export const memfdSyscalls: SyscallEntry[] = [
  partial('memfd_create', memfdCreate, 'MFD_HUGETLB is refused (EINVAL: no hugetlbfs)', 'sx'),
];
