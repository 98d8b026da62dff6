// How --strace shows each argument: flags and constants by name, strings and buffers escaped as
// strace(1) prints them, a few structs. Every read of guest memory goes through the address space's
// checked copies (copyIn, readString), so a bad pointer is shown as the number it is and never faults
// the Sentry; what is read is what the call itself reads (before it) or wrote (after it succeeded).
import { Errno, ENAMETOOLONG } from '../abi/errno.js';
import * as fcntl from '../abi/fcntl.js';
import * as mman from '../abi/mman.js';
import { signalName } from '../abi/signal.js';
import type { Task } from './task.js';

/**
 * One character per argument in a syscall table entry's `args` (src/kernel/syscall-table.ts):
 *   i int, u unsigned int, z size_t, l signed long, x hex number, p pointer (NULL or hex), o octal mode
 *   s path string (in full), B buffer written by the program (length: the next argument),
 *   b buffer the call fills (length: the result), e NULL-ended string array (execve's argv)
 *   d dirfd (AT_FDCWD), f open(2) flags, c open's mode (shown only with O_CREAT or O_TMPFILE)
 *   P mmap prot, m mmap flags, M madvise advice, A AT_* flags, F access(2) mode, w lseek whence
 *   a arch_prctl code, k clock id, g signal number, n fcntl command, r rlimit resource
 *   t struct timespec the program gives, T one the call fills
 *   S struct stat the call fills, v iovec array the program gives (count: the next argument),
 *   V iovec array the call fills (bytes: the result),
 *   Q pollfd array the program gives (count: the next argument), X fd_set the program gives (nfds:
 *   the first argument), U struct timeval the program gives, C epoll_create1 flags, E epoll_ctl op,
 *   Y struct epoll_event the program gives, W epoll_event array the call fills (count: the result),
 *   D eventfd2 flags, G timerfd_create flags, H timerfd_settime flags, I struct itimerspec given,
 *   h sigprocmask's how, q sigset_t the program gives, K one the call fills,
 *   j struct sigaction the program gives, J one the call fills
 */
export const OUTPUT_KINDS = new Set(['b', 'T', 'S', 'V', 'W', 'K', 'J']);

/** strace's default -s: strings and buffers beyond it are cut and marked with "...". */
const MAX_STRING = 32;
/** Array elements shown before "...", as strace does past its string limit. */
const MAX_ELEMENTS = 32;
const PATH_MAX = 4096;

type Names = ReadonlyArray<readonly [number, string]>;

const OPEN_FLAGS: Names = [
  [fcntl.O_CREAT, 'O_CREAT'], [fcntl.O_EXCL, 'O_EXCL'], [fcntl.O_NOCTTY, 'O_NOCTTY'], [fcntl.O_TRUNC, 'O_TRUNC'],
  [fcntl.O_APPEND, 'O_APPEND'], [fcntl.O_NONBLOCK, 'O_NONBLOCK'], [fcntl.O_SYNC, 'O_SYNC'], [fcntl.O_DSYNC, 'O_DSYNC'],
  [fcntl.O_ASYNC, 'O_ASYNC'], [fcntl.O_DIRECT, 'O_DIRECT'], [fcntl.O_LARGEFILE, 'O_LARGEFILE'],
  [fcntl.O_TMPFILE, 'O_TMPFILE'], [fcntl.O_DIRECTORY, 'O_DIRECTORY'], [fcntl.O_NOFOLLOW, 'O_NOFOLLOW'],
  [fcntl.O_NOATIME, 'O_NOATIME'], [fcntl.O_CLOEXEC, 'O_CLOEXEC'], [fcntl.O_PATH, 'O_PATH'],
];
const PROT_FLAGS: Names = [
  [mman.PROT_READ, 'PROT_READ'], [mman.PROT_WRITE, 'PROT_WRITE'], [mman.PROT_EXEC, 'PROT_EXEC'], [mman.PROT_SEM, 'PROT_SEM'],
  [mman.PROT_GROWSDOWN, 'PROT_GROWSDOWN'], [mman.PROT_GROWSUP, 'PROT_GROWSUP'],
];
const MAP_TYPES: Names = [[mman.MAP_SHARED, 'MAP_SHARED'], [mman.MAP_PRIVATE, 'MAP_PRIVATE'], [mman.MAP_SHARED_VALIDATE, 'MAP_SHARED_VALIDATE'], [mman.MAP_DROPPABLE, 'MAP_DROPPABLE']];
const MAP_FLAGS: Names = [
  [mman.MAP_FIXED, 'MAP_FIXED'], [mman.MAP_ANONYMOUS, 'MAP_ANONYMOUS'], [mman.MAP_32BIT, 'MAP_32BIT'],
  [mman.MAP_GROWSDOWN, 'MAP_GROWSDOWN'], [mman.MAP_DENYWRITE, 'MAP_DENYWRITE'], [mman.MAP_EXECUTABLE, 'MAP_EXECUTABLE'],
  [mman.MAP_LOCKED, 'MAP_LOCKED'], [mman.MAP_NORESERVE, 'MAP_NORESERVE'], [mman.MAP_POPULATE, 'MAP_POPULATE'],
  [mman.MAP_NONBLOCK, 'MAP_NONBLOCK'], [mman.MAP_STACK, 'MAP_STACK'], [mman.MAP_HUGETLB, 'MAP_HUGETLB'],
  [mman.MAP_SYNC, 'MAP_SYNC'], [mman.MAP_FIXED_NOREPLACE, 'MAP_FIXED_NOREPLACE'], [mman.MAP_UNINITIALIZED, 'MAP_UNINITIALIZED'],
];
const AT_FLAGS: Names = [
  [fcntl.AT_SYMLINK_NOFOLLOW, 'AT_SYMLINK_NOFOLLOW'], [fcntl.AT_REMOVEDIR, 'AT_REMOVEDIR'],
  [fcntl.AT_SYMLINK_FOLLOW, 'AT_SYMLINK_FOLLOW'], [fcntl.AT_NO_AUTOMOUNT, 'AT_NO_AUTOMOUNT'], [fcntl.AT_EMPTY_PATH, 'AT_EMPTY_PATH'],
  [0x2000, 'AT_STATX_FORCE_SYNC'], [0x4000, 'AT_STATX_DONT_SYNC'],
];
const ACCESS_MODES: Names = [[4, 'R_OK'], [2, 'W_OK'], [1, 'X_OK']];
const ARCH_CODES: Names = [
  [0x1001, 'ARCH_SET_GS'], [0x1002, 'ARCH_SET_FS'], [0x1003, 'ARCH_GET_FS'], [0x1004, 'ARCH_GET_GS'],
  [0x1011, 'ARCH_GET_CPUID'], [0x1012, 'ARCH_SET_CPUID'], [0x1021, 'ARCH_GET_XCOMP_SUPP'],
  [0x1022, 'ARCH_GET_XCOMP_PERM'], [0x1023, 'ARCH_REQ_XCOMP_PERM'], [0x2001, 'ARCH_MAP_VDSO_X32'],
  [0x2002, 'ARCH_MAP_VDSO_32'], [0x2003, 'ARCH_MAP_VDSO_64'], [0x4001, 'ARCH_GET_UNTAG_MASK'],
  [0x4002, 'ARCH_ENABLE_TAGGED_ADDR'], [0x4003, 'ARCH_GET_MAX_TAG_BITS'], [0x4004, 'ARCH_FORCE_TAGGED_SVA'],
  [0x5001, 'ARCH_SHSTK_ENABLE'], [0x5002, 'ARCH_SHSTK_DISABLE'], [0x5003, 'ARCH_SHSTK_LOCK'],
  [0x5004, 'ARCH_SHSTK_UNLOCK'], [0x5005, 'ARCH_SHSTK_STATUS'],
];
const CLOCKS: Names = [
  [0, 'CLOCK_REALTIME'], [1, 'CLOCK_MONOTONIC'], [2, 'CLOCK_PROCESS_CPUTIME_ID'], [3, 'CLOCK_THREAD_CPUTIME_ID'],
  [4, 'CLOCK_MONOTONIC_RAW'], [5, 'CLOCK_REALTIME_COARSE'], [6, 'CLOCK_MONOTONIC_COARSE'], [7, 'CLOCK_BOOTTIME'],
  [8, 'CLOCK_REALTIME_ALARM'], [9, 'CLOCK_BOOTTIME_ALARM'], [11, 'CLOCK_TAI'],
];
const WHENCE: Names = [[0, 'SEEK_SET'], [1, 'SEEK_CUR'], [2, 'SEEK_END'], [3, 'SEEK_DATA'], [4, 'SEEK_HOLE']];
const MADVICE: Names = [
  [0, 'MADV_NORMAL'], [1, 'MADV_RANDOM'], [2, 'MADV_SEQUENTIAL'], [3, 'MADV_WILLNEED'], [4, 'MADV_DONTNEED'],
  [8, 'MADV_FREE'], [9, 'MADV_REMOVE'], [10, 'MADV_DONTFORK'], [11, 'MADV_DOFORK'], [12, 'MADV_MERGEABLE'],
  [13, 'MADV_UNMERGEABLE'], [14, 'MADV_HUGEPAGE'], [15, 'MADV_NOHUGEPAGE'], [16, 'MADV_DONTDUMP'], [17, 'MADV_DODUMP'],
  [18, 'MADV_WIPEONFORK'], [19, 'MADV_KEEPONFORK'], [20, 'MADV_COLD'], [21, 'MADV_PAGEOUT'], [22, 'MADV_POPULATE_READ'],
  [23, 'MADV_POPULATE_WRITE'], [24, 'MADV_DONTNEED_LOCKED'], [25, 'MADV_COLLAPSE'], [100, 'MADV_HWPOISON'],
];
const FCNTL_COMMANDS: Names = [
  [0, 'F_DUPFD'], [1, 'F_GETFD'], [2, 'F_SETFD'], [3, 'F_GETFL'], [4, 'F_SETFL'], [5, 'F_GETLK'], [6, 'F_SETLK'],
  [7, 'F_SETLKW'], [8, 'F_SETOWN'], [9, 'F_GETOWN'], [10, 'F_SETSIG'], [11, 'F_GETSIG'], [36, 'F_OFD_GETLK'],
  [37, 'F_OFD_SETLK'], [38, 'F_OFD_SETLKW'], [1024, 'F_SETLEASE'], [1025, 'F_GETLEASE'], [1026, 'F_NOTIFY'],
  [1030, 'F_DUPFD_CLOEXEC'], [1031, 'F_SETPIPE_SZ'], [1032, 'F_GETPIPE_SZ'], [1033, 'F_ADD_SEALS'], [1034, 'F_GET_SEALS'],
];
const RLIMITS: Names = [
  [0, 'RLIMIT_CPU'], [1, 'RLIMIT_FSIZE'], [2, 'RLIMIT_DATA'], [3, 'RLIMIT_STACK'], [4, 'RLIMIT_CORE'], [5, 'RLIMIT_RSS'],
  [6, 'RLIMIT_NPROC'], [7, 'RLIMIT_NOFILE'], [8, 'RLIMIT_MEMLOCK'], [9, 'RLIMIT_AS'], [10, 'RLIMIT_LOCKS'],
  [11, 'RLIMIT_SIGPENDING'], [12, 'RLIMIT_MSGQUEUE'], [13, 'RLIMIT_NICE'], [14, 'RLIMIT_RTPRIO'], [15, 'RLIMIT_RTTIME'],
];
const FILE_TYPES: Names = [
  [fcntl.S_IFSOCK, 'S_IFSOCK'], [fcntl.S_IFLNK, 'S_IFLNK'], [fcntl.S_IFREG, 'S_IFREG'], [fcntl.S_IFBLK, 'S_IFBLK'],
  [fcntl.S_IFDIR, 'S_IFDIR'], [fcntl.S_IFCHR, 'S_IFCHR'], [fcntl.S_IFIFO, 'S_IFIFO'],
];

const POLL_EVENTS: Names = [
  [fcntl.POLLIN, 'POLLIN'], [fcntl.POLLPRI, 'POLLPRI'], [fcntl.POLLOUT, 'POLLOUT'], [fcntl.POLLERR, 'POLLERR'],
  [fcntl.POLLHUP, 'POLLHUP'], [fcntl.POLLNVAL, 'POLLNVAL'], [fcntl.POLLRDNORM, 'POLLRDNORM'], [fcntl.POLLRDBAND, 'POLLRDBAND'],
  [fcntl.POLLWRNORM, 'POLLWRNORM'], [fcntl.POLLWRBAND, 'POLLWRBAND'], [fcntl.POLLMSG, 'POLLMSG'], [fcntl.POLLRDHUP, 'POLLRDHUP'],
];
const EPOLL_EVENTS: Names = [
  ...POLL_EVENTS.filter(([bit]) => bit !== fcntl.POLLNVAL).map(([bit, name]): readonly [number, string] => [bit, `E${name}`]),
  [1 << 28, 'EPOLLEXCLUSIVE'], [1 << 29, 'EPOLLWAKEUP'], [1 << 30, 'EPOLLONESHOT'], [0x8000_0000, 'EPOLLET'],
];
const EPOLL_OPS: Names = [[1, 'EPOLL_CTL_ADD'], [2, 'EPOLL_CTL_DEL'], [3, 'EPOLL_CTL_MOD']];
const fdFlags = (prefix: string, extra: Names = []): Names => [...extra, [fcntl.O_NONBLOCK, `${prefix}_NONBLOCK`], [fcntl.O_CLOEXEC, `${prefix}_CLOEXEC`]];
const EPOLL_CREATE_FLAGS: Names = [[fcntl.O_CLOEXEC, 'EPOLL_CLOEXEC']];
const EVENTFD_FLAGS: Names = fdFlags('EFD', [[1, 'EFD_SEMAPHORE']]);
const TIMERFD_FLAGS: Names = fdFlags('TFD');
const TIMERFD_SETTIME_FLAGS: Names = [[1, 'TFD_TIMER_ABSTIME'], [2, 'TFD_TIMER_CANCEL_ON_SET']];

const hex = (n: number | bigint): string => (n === 0 || n === 0n ? '0' : `0x${n.toString(16)}`);
const octal = (n: number): string => (n === 0 ? '000' : `0${n.toString(8).padStart(3, '0')}`);

function named(value: number, names: Names): string {
  for (const [v, name] of names) if (v === value) return name;
  return hex(value);
}

/** Bits by name in table order, what is left over in hex: `O_WRONLY|O_CREAT|0x80000000`. */
function flags(value: number, names: Names, prefix: string[] = [], zero = '0'): string {
  const parts = [...prefix];
  let rest = value >>> 0;
  for (const [bit, name] of names) {
    // A name with several bits (O_SYNC holds O_DSYNC, O_TMPFILE O_DIRECTORY) takes them only all together.
    if (bit !== 0 && (rest & bit) >>> 0 === bit) {
      parts.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) parts.push(hex(rest));
  return parts.length === 0 ? zero : parts.join('|');
}

export function openFlags(value: number): string {
  const access = value & fcntl.O_ACCMODE;
  const accessName = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', '0x3'][access]!;
  return flags(value & ~fcntl.O_ACCMODE, OPEN_FLAGS, [accessName]);
}

export function protFlags(value: number): string {
  return flags(value, PROT_FLAGS, [], 'PROT_NONE');
}

export function mapFlags(value: number): string {
  const type = value & mman.MAP_TYPE;
  return flags(value & ~mman.MAP_TYPE, MAP_FLAGS, [named(type, MAP_TYPES)]);
}

/** strace's escaping (its default, without -x): C escapes, other bytes in octal, "..." when cut. */
export function quoteBytes(bytes: Uint8Array, cut: boolean): string {
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    switch (c) {
      case 0x22: out += '\\"'; break;
      case 0x5c: out += '\\\\'; break;
      case 0x0a: out += '\\n'; break;
      case 0x09: out += '\\t'; break;
      case 0x0d: out += '\\r'; break;
      case 0x0b: out += '\\v'; break;
      case 0x0c: out += '\\f'; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += String.fromCharCode(c);
        } else {
          // As short as it can be, unless the next byte is an octal digit that would join it.
          const next = bytes[i + 1];
          const digits = next !== undefined && next >= 0x30 && next <= 0x37 ? 3 : 1;
          out += `\\${c.toString(8).padStart(digits, '0')}`;
        }
    }
  }
  return `${out}"${cut ? '...' : ''}`;
}

// The readers below answer null when guest memory cannot be read there: the argument is then shown
// as the number in its register, as strace shows a pointer it cannot follow.

/** Up to `length` bytes at va, at most MAX_STRING shown. */
function buffer(task: Task, va: number, length: number): string | null {
  if (va === 0) return 'NULL';
  const shown = Math.max(0, Math.min(length, MAX_STRING));
  const bytes = new Uint8Array(shown);
  const n = shown === 0 ? 0 : task.mm.copyIn(va, bytes);
  if (n instanceof Errno || n < shown) return null;
  return quoteBytes(bytes, length > shown);
}

function path(task: Task, va: number, limit = PATH_MAX): string | null {
  if (va === 0) return 'NULL';
  const s = task.mm.readString(va, limit, ENAMETOOLONG);
  if (s === ENAMETOOLONG && limit < PATH_MAX) {
    const head = new Uint8Array(limit);
    const n = task.mm.copyIn(va, head);
    return typeof n === 'number' && n === limit ? quoteBytes(head, true) : null;
  }
  if (s instanceof Errno) return null;
  return quoteBytes(Buffer.from(s, 'utf8'), false);
}

function words(task: Task, va: number, count: number): BigUint64Array | null {
  const bytes = new Uint8Array(count * 8);
  const n = task.mm.copyIn(va, bytes);
  if (n instanceof Errno || n < bytes.length) return null;
  return new BigUint64Array(bytes.buffer);
}

function stringArray(task: Task, va: number): string | null {
  if (va === 0) return 'NULL';
  const items: string[] = [];
  for (let i = 0; i <= MAX_ELEMENTS; i++) {
    const w = words(task, va + i * 8, 1);
    if (w === null) return items.length === 0 ? null : `[${items.join(', ')}, ...]`;
    if (w[0] === 0n) return `[${items.join(', ')}]`;
    if (i === MAX_ELEMENTS) break;
    items.push(path(task, Number(w[0]), MAX_STRING) ?? hex(w[0]!));
  }
  return `[${items.join(', ')}, ...]`;
}

/** A signal as strace names it in a set: INT, TERM, RTMIN, RT_1. */
function setMember(signo: number): string {
  if (signo >= 32) return signo === 32 ? 'RTMIN' : `RT_${signo - 32}`;
  return signalName(signo).replace(/^SIG/, '');
}

/** A sigset_t: `[INT TERM]`, or strace's `~[KILL STOP]` for a set of more than half the signals. */
function sigset(task: Task, va: number): string | null {
  if (va === 0) return 'NULL';
  const w = words(task, va, 1);
  if (w === null) return null;
  const set = w[0]!;
  let count = 0;
  for (let n = 0; n < 64; n++) if ((set >> BigInt(n)) & 1n) count++;
  const inverted = count > 32;
  const names: string[] = [];
  for (let n = 1; n <= 64; n++) if ((((set >> BigInt(n - 1)) & 1n) === 1n) !== inverted) names.push(setMember(n));
  return `${inverted ? '~' : ''}[${names.join(' ')}]`;
}

const SIGPROCMASK_HOW: Names = [[0, 'SIG_BLOCK'], [1, 'SIG_UNBLOCK'], [2, 'SIG_SETMASK']];
const SA_FLAGS: Names = [
  [0x0400_0000, 'SA_RESTORER'], [0x0800_0000, 'SA_ONSTACK'], [0x1000_0000, 'SA_RESTART'], [0x4000_0000, 'SA_NODEFER'],
  [0x8000_0000, 'SA_RESETHAND'], [0x1, 'SA_NOCLDSTOP'], [0x2, 'SA_NOCLDWAIT'], [0x4, 'SA_SIGINFO'],
];

/** A struct sigaction: `{sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x4010e0}`. */
function sigaction(task: Task, va: number): string | null {
  if (va === 0) return 'NULL';
  const w = words(task, va, 4);
  if (w === null) return null;
  const [handler, flagWord, restorer, mask] = [w[0]!, Number(w[1]! & 0xffff_ffffn), w[2]!, w[3]!];
  const h = handler === 0n ? 'SIG_DFL' : handler === 1n ? 'SIG_IGN' : hex(handler);
  const set = sigsetValue(mask);
  const restorerPart = (flagWord & 0x0400_0000) !== 0 ? `, sa_restorer=${hex(restorer)}` : '';
  return `{sa_handler=${h}, sa_mask=${set}, sa_flags=${flags(flagWord, SA_FLAGS)}${restorerPart}}`;
}

function sigsetValue(set: bigint): string {
  const names: string[] = [];
  for (let n = 1; n <= 64; n++) if (((set >> BigInt(n - 1)) & 1n) === 1n) names.push(setMember(n));
  return `[${names.join(' ')}]`;
}

function timespec(task: Task, va: number): string | null {
  if (va === 0) return 'NULL';
  const w = words(task, va, 2);
  if (w === null) return null;
  return `{tv_sec=${BigInt.asIntN(64, w[0]!)}, tv_nsec=${BigInt.asIntN(64, w[1]!)}}`;
}

/** poll's array: `[{fd=3, events=POLLIN}, ...]`. */
function pollfds(task: Task, va: number, count: number): string | null {
  if (va === 0) return 'NULL';
  const shown = Math.min(count, MAX_ELEMENTS);
  const bytes = new Uint8Array(shown * 8);
  const n = task.mm.copyIn(va, bytes);
  if (n instanceof Errno || n < bytes.length) return null;
  const v = new DataView(bytes.buffer);
  const items: string[] = [];
  for (let i = 0; i < shown; i++) items.push(`{fd=${v.getInt32(i * 8, true)}, events=${flags(v.getUint16(i * 8 + 4, true), POLL_EVENTS)}}`);
  return `[${items.join(', ')}${count > shown ? ', ...' : ''}]`;
}

/** An fd_set of nfds bits: `[0 3]`. */
function fdSet(task: Task, va: number, nfds: number): string | null {
  if (va === 0) return 'NULL';
  if (nfds < 0 || nfds > 1 << 20) return null;
  const bytes = new Uint8Array(Math.ceil(nfds / 64) * 8);
  const n = task.mm.copyIn(va, bytes);
  if (n instanceof Errno || n < bytes.length) return null;
  const fds: number[] = [];
  for (let fd = 0; fd < nfds; fd++) if ((bytes[fd >> 3]! & (1 << (fd & 7))) !== 0) fds.push(fd);
  return `[${fds.join(' ')}]`;
}

function timeval(task: Task, va: number): string | null {
  if (va === 0) return 'NULL';
  const w = words(task, va, 2);
  if (w === null) return null;
  return `{tv_sec=${BigInt.asIntN(64, w[0]!)}, tv_usec=${BigInt.asIntN(64, w[1]!)}}`;
}

function itimerspec(task: Task, va: number): string | null {
  if (va === 0) return 'NULL';
  const w = words(task, va, 4);
  if (w === null) return null;
  const ts = (i: number): string => `{tv_sec=${BigInt.asIntN(64, w[i]!)}, tv_nsec=${BigInt.asIntN(64, w[i + 1]!)}}`;
  return `{it_interval=${ts(0)}, it_value=${ts(2)}}`;
}

/** struct epoll_event (12 bytes, packed) at each of count places: `{events=EPOLLIN, data={u32=4, u64=4}}`. */
function epollEvents(task: Task, va: number, count: number, array: boolean): string | null {
  if (va === 0) return 'NULL';
  const shown = Math.min(count, MAX_ELEMENTS);
  const bytes = new Uint8Array(shown * 12);
  const n = task.mm.copyIn(va, bytes);
  if (n instanceof Errno || n < bytes.length) return null;
  const v = new DataView(bytes.buffer);
  const items: string[] = [];
  for (let i = 0; i < shown; i++) {
    const data = v.getBigUint64(i * 12 + 4, true);
    items.push(`{events=${flags(v.getUint32(i * 12, true), EPOLL_EVENTS)}, data={u32=${Number(data & 0xffff_ffffn)}, u64=${data}}}`);
  }
  if (!array) return items[0] ?? null;
  return `[${items.join(', ')}${count > shown ? ', ...' : ''}]`;
}

/** struct stat as strace abbreviates it: the type and mode, and the size or the device number. */
function stat(task: Task, va: number): string | null {
  const bytes = new Uint8Array(144);
  const n = task.mm.copyIn(va, bytes);
  if (n instanceof Errno || n < bytes.length) return null;
  const v = new DataView(bytes.buffer);
  const mode = v.getUint32(24, true);
  const type = named(mode & fcntl.S_IFMT, FILE_TYPES);
  const modeText = `st_mode=${type}|${octal(mode & fcntl.PERM_MASK)}`;
  const fileType = mode & fcntl.S_IFMT;
  if (fileType === fcntl.S_IFCHR || fileType === fcntl.S_IFBLK) {
    const rdev = v.getBigUint64(40, true);
    // Linux's huge encoding: major in bits 8-19 and 32-63, minor in 0-7 and 20-31 (glibc's gnu_dev_major).
    const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
    const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
    return `{${modeText}, st_rdev=makedev(${hex(major)}, ${hex(minor)}), ...}`;
  }
  return `{${modeText}, st_size=${v.getBigInt64(48, true)}, ...}`;
}

/** An iovec array: each element's buffer shown (as filled, for the call's first `bytes` bytes, or as given). */
function iovec(task: Task, va: number, count: number, bytes: number | null): string | null {
  if (va === 0) return 'NULL';
  if (count < 0 || count > 1024) return null;
  const shown = Math.min(count, MAX_ELEMENTS);
  const w = words(task, va, shown * 2);
  if (w === null) return null;
  const items: string[] = [];
  let left = bytes ?? Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < shown; i++) {
    const base = Number(w[i * 2]!);
    const len = Number(w[i * 2 + 1]!);
    const filled = Math.min(len, Math.max(0, left));
    left -= filled;
    items.push(`{iov_base=${buffer(task, base, filled) ?? hex(w[i * 2]!)}, iov_len=${len}}`);
  }
  return `[${items.join(', ')}${count > shown ? ', ...' : ''}]`;
}

/**
 * One argument as strace shows it, or null when strace leaves it out (open's mode without O_CREAT).
 * `result` is the call's return value for the kinds in OUTPUT_KINDS (an Errno: the call failed, so
 * what it would have filled is shown as the pointer it is).
 */
export function formatArg(task: Task, kind: string, i: number, result: number | Errno | null): string | null {
  const decoded = decode(task, kind, i, result);
  return decoded === undefined ? null : decoded ?? hex(task.args.u64(i));
}

/** undefined: the argument is left out; null: shown as its register's number. */
function decode(task: Task, kind: string, i: number, result: number | Errno | null): string | null | undefined {
  const a = task.args;
  const failed = result instanceof Errno || result === null;
  switch (kind) {
    case 'i': return String(a.int(i));
    case 'u': return String(a.uint(i));
    case 'z': return String(a.u64(i));
    case 'l': return String(a.long(i));
    case 'o': return octal(a.uint(i));
    case 'p': { const p = a.u64(i); return p === 0n ? 'NULL' : hex(p); }
    case 's': return path(task, a.ptr(i));
    case 'B': return buffer(task, a.ptr(i), a.ptr(i + 1));
    case 'b': return failed ? null : buffer(task, a.ptr(i), Math.min(result as number, a.ptr(i + 1)));
    case 'e': return stringArray(task, a.ptr(i));
    case 'd': return a.int(i) === fcntl.AT_FDCWD ? 'AT_FDCWD' : String(a.int(i));
    case 'f': return openFlags(a.uint(i));
    case 'c': {
      const f = a.uint(i - 1);
      return (f & fcntl.O_CREAT) !== 0 || (f & fcntl.O_TMPFILE) === fcntl.O_TMPFILE ? octal(a.uint(i)) : undefined;
    }
    case 'P': return protFlags(a.uint(i));
    case 'm': return mapFlags(a.uint(i));
    case 'M': return named(a.int(i), MADVICE);
    case 'A': return flags(a.uint(i), AT_FLAGS);
    case 'F': return flags(a.uint(i), ACCESS_MODES, [], 'F_OK');
    case 'w': return named(a.int(i), WHENCE);
    case 'a': return named(a.int(i), ARCH_CODES);
    case 'k': return named(a.int(i), CLOCKS);
    case 'n': return named(a.int(i), FCNTL_COMMANDS);
    case 'r': return named(a.int(i), RLIMITS);
    case 'g': { const s = a.int(i); const name = signalName(s); return name.startsWith('SIG') ? name : String(s); }
    case 'h': return named(a.int(i), SIGPROCMASK_HOW);
    case 'q': return sigset(task, a.ptr(i));
    case 'K': return failed ? null : sigset(task, a.ptr(i));
    case 'j': return sigaction(task, a.ptr(i));
    case 'J': return failed ? null : sigaction(task, a.ptr(i));
    case 't': return timespec(task, a.ptr(i));
    case 'T': return failed ? null : timespec(task, a.ptr(i));
    case 'S': return failed ? null : stat(task, a.ptr(i));
    case 'v': return iovec(task, a.ptr(i), a.int(i + 1), null);
    case 'V': return failed ? null : iovec(task, a.ptr(i), a.int(i + 1), result as number);
    case 'Q': return pollfds(task, a.ptr(i), a.uint(i + 1));
    case 'X': return fdSet(task, a.ptr(i), a.int(0));
    case 'U': return timeval(task, a.ptr(i));
    case 'C': return flags(a.uint(i), EPOLL_CREATE_FLAGS);
    case 'E': return named(a.int(i), EPOLL_OPS);
    case 'Y': return epollEvents(task, a.ptr(i), 1, false);
    case 'W': return failed ? null : epollEvents(task, a.ptr(i), result as number, true);
    case 'D': return flags(a.uint(i), EVENTFD_FLAGS);
    case 'G': return flags(a.uint(i), TIMERFD_FLAGS);
    case 'H': return flags(a.uint(i), TIMERFD_SETTIME_FLAGS);
    case 'I': return itimerspec(task, a.ptr(i));
    default: return null;
  }
}
