// clone(2) flags, wait(2) options and idtypes, futex(2) operations (include/uapi/linux/sched.h,
// wait.h, futex.h).
export const CSIGNAL = 0x0000_00ff;
export const CLONE_VM = 0x0000_0100;
export const CLONE_FS = 0x0000_0200;
export const CLONE_FILES = 0x0000_0400;
export const CLONE_SIGHAND = 0x0000_0800;
export const CLONE_PIDFD = 0x0000_1000;
export const CLONE_PTRACE = 0x0000_2000;
export const CLONE_VFORK = 0x0000_4000;
export const CLONE_PARENT = 0x0000_8000;
export const CLONE_THREAD = 0x0001_0000;
export const CLONE_NEWNS = 0x0002_0000;
export const CLONE_SYSVSEM = 0x0004_0000;
export const CLONE_SETTLS = 0x0008_0000;
export const CLONE_PARENT_SETTID = 0x0010_0000;
export const CLONE_CHILD_CLEARTID = 0x0020_0000;
export const CLONE_DETACHED = 0x0040_0000;
export const CLONE_UNTRACED = 0x0080_0000;
export const CLONE_CHILD_SETTID = 0x0100_0000;
/** CLONE_NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | IO: namespaces tsvisor does not make. */
export const CLONE_NAMESPACES = 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000 | 0x8000_0000;

export const WNOHANG = 0x1;
export const WUNTRACED = 0x2;
export const WSTOPPED = 0x2;
export const WEXITED = 0x4;
export const WCONTINUED = 0x8;
export const WNOWAIT = 0x0100_0000;
export const __WNOTHREAD = 0x2000_0000;
export const __WALL = 0x4000_0000;
export const __WCLONE = 0x8000_0000;

export const P_ALL = 0;
export const P_PID = 1;
export const P_PGID = 2;
export const P_PIDFD = 3;

export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;

export const FUTEX_WAIT = 0;
export const FUTEX_WAKE = 1;
export const FUTEX_FD = 2;
export const FUTEX_REQUEUE = 3;
export const FUTEX_CMP_REQUEUE = 4;
export const FUTEX_WAKE_OP = 5;
export const FUTEX_LOCK_PI = 6;
export const FUTEX_UNLOCK_PI = 7;
export const FUTEX_TRYLOCK_PI = 8;
export const FUTEX_WAIT_BITSET = 9;
export const FUTEX_WAKE_BITSET = 10;
export const FUTEX_WAIT_REQUEUE_PI = 11;
export const FUTEX_CMP_REQUEUE_PI = 12;
export const FUTEX_LOCK_PI2 = 13;
export const FUTEX_PRIVATE_FLAG = 128;
export const FUTEX_CLOCK_REALTIME = 256;
export const FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
