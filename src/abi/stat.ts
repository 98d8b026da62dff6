// What struct stat and struct linux_dirent64 carry, as the Sentry passes them between layers (the Gofer's
// replies, the VFS, the stat syscalls). Times are nanoseconds since the epoch.

export interface FileStat {
  dev: number; ino: number; mode: number; nlink: number; uid: number; gid: number; rdev: number;
  size: number; blksize: number; blocks: number;
  atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint;
}

export interface DirEntry {
  name: string;
  ino: number;
  /** DT_* */
  type: number;
}
