// File-related constants of the x86-64 Linux ABI (include/uapi/asm-generic/fcntl.h, linux/stat.h,
// linux/fs.h), shared by the VFS, the Gofer and the syscall handlers.

// open(2) flags.
export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_ASYNC = 0o20000;
export const O_DIRECT = 0o40000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20200000;
/** O_TMPFILE's own bit (Linux's __O_TMPFILE); O_TMPFILE is it with O_DIRECTORY. */
export const TMPFILE_BIT = 0o20000000;
/** Flags open(2) knows; others are ignored, as Linux does for open (openat2 rejects them). */
export const O_VALID = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |
  O_ASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | O_TMPFILE;
/** Flags that F_SETFL may change (fs/fcntl.c SETFL_MASK). */
export const SETFL_MASK = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_ASYNC;

// openat2(2)'s struct open_how resolve flags.
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;
export const RESOLVE_CACHED = 0x20;

// *at(2) flags.
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_EACCESS = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;
export const AT_STATX_SYNC_TYPE = 0x6000;

// File types and permission bits (st_mode).
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;
export const S_IXGRP = 0o010;
export const PERM_MASK = 0o7777;

// getdents64 d_type.
export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;

/** d_type for a mode's file type. */
export function direntType(mode: number): number {
  return (mode & S_IFMT) >>> 12;
}

export function isDir(mode: number): boolean {
  return (mode & S_IFMT) === S_IFDIR;
}
export function isRegular(mode: number): boolean {
  return (mode & S_IFMT) === S_IFREG;
}
export function isSymlink(mode: number): boolean {
  return (mode & S_IFMT) === S_IFLNK;
}

// access(2) modes.
export const F_OK = 0;
export const X_OK = 1;
export const W_OK = 2;
export const R_OK = 4;

// renameat2(2) flags.
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;

// File seals (fcntl F_ADD_SEALS / F_GET_SEALS, include/uapi/linux/fcntl.h).
export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;
export const F_SEAL_WRITE = 0x8;
export const F_SEAL_FUTURE_WRITE = 0x10;
export const F_SEAL_EXEC = 0x20;

// lseek(2) whence.
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

// poll(2) events (the same bits as epoll's EPOLL*): what readiness() answers and wait queues carry.
export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
export const POLLRDNORM = 0x40;
export const POLLRDBAND = 0x80;
export const POLLWRNORM = 0x100;
export const POLLWRBAND = 0x200;
export const POLLMSG = 0x400;
export const POLLRDHUP = 0x2000;
/** What Linux reports for a file without a poll method (DEFAULT_POLLMASK): always ready. */
export const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
/** The events a waiter on a file wakes for: any wish to read becomes POLLIN, to write POLLOUT; hang-ups and errors always. */
export function waitEvents(events: number): number {
  let w = POLLHUP | POLLERR;
  if ((events & (POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND | POLLRDHUP | POLLMSG)) !== 0) w |= POLLIN;
  if ((events & (POLLOUT | POLLWRNORM | POLLWRBAND)) !== 0) w |= POLLOUT;
  return w;
}

/** Limits of fs/namei.c: names, paths, and symlinks followed in one walk. */
export const NAME_MAX = 255;
export const PATH_MAX = 4096;
export const MAX_SYMLINKS = 40;

/** Largest file offset (MAX_LFS_FILESIZE on 64-bit). */
export const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;

export const UTIME_NOW = (1 << 30) - 1;
export const UTIME_OMIT = (1 << 30) - 2;

/** statfs f_type values (include/uapi/linux/magic.h). */
export const TMPFS_MAGIC = 0x01021994;
export const PROC_SUPER_MAGIC = 0x9fa0;
export const SYSFS_MAGIC = 0x62656572;
export const CGROUP2_SUPER_MAGIC = 0x63677270;
export const OVERLAYFS_SUPER_MAGIC = 0x794c7630;
export const DEVPTS_SUPER_MAGIC = 0x1cd1;
export const PIPEFS_MAGIC = 0x50495045;

/** splice(2), tee(2), vmsplice(2) flags. */
export const SPLICE_F_MOVE = 1;
export const SPLICE_F_NONBLOCK = 2;
export const SPLICE_F_MORE = 4;
export const SPLICE_F_GIFT = 8;
export const SPLICE_F_ALL = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT;

/** sync_file_range(2) flags: SYNC_FILE_RANGE_WAIT_BEFORE, SYNC_FILE_RANGE_WRITE, SYNC_FILE_RANGE_WAIT_AFTER. */
export const SYNC_FILE_RANGE_VALID = 1 | 2 | 4;
