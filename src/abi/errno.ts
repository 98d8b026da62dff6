// Linux errno values as shared frozen constants. Handlers return them; only the syscall dispatcher turns
// one into -errno in rax. Numbers are the x86-64 Linux ABI (include/uapi/asm-generic/errno*.h).

export class Errno {
  private static readonly byCode = new Map<number, Errno>();
  private constructor(readonly code: number, readonly name: string) {
    Object.freeze(this);
  }
  static define(code: number, name: string): Errno {
    const e = new Errno(code, name);
    Errno.byCode.set(code, e);
    return e;
  }
  static of(code: number): Errno | undefined {
    return Errno.byCode.get(code);
  }
  /** An errno thrown by a Node.js fs call (err.errno is the negated host errno, err.code its name). */
  static fromHost(err: unknown): Errno {
    const e = err as { errno?: number; code?: string };
    if (typeof e.errno === 'number') return Errno.of(Math.abs(e.errno)) ?? EIO;
    return EIO;
  }
}

export const EPERM = Errno.define(1, 'EPERM');
export const ENOENT = Errno.define(2, 'ENOENT');
export const ESRCH = Errno.define(3, 'ESRCH');
export const EINTR = Errno.define(4, 'EINTR');
export const EIO = Errno.define(5, 'EIO');
export const ENXIO = Errno.define(6, 'ENXIO');
export const E2BIG = Errno.define(7, 'E2BIG');
export const ENOEXEC = Errno.define(8, 'ENOEXEC');
export const EBADF = Errno.define(9, 'EBADF');
export const ECHILD = Errno.define(10, 'ECHILD');
export const EAGAIN = Errno.define(11, 'EAGAIN');
export const ENOMEM = Errno.define(12, 'ENOMEM');
export const EACCES = Errno.define(13, 'EACCES');
export const EFAULT = Errno.define(14, 'EFAULT');
export const EBUSY = Errno.define(16, 'EBUSY');
export const EEXIST = Errno.define(17, 'EEXIST');
export const EXDEV = Errno.define(18, 'EXDEV');
export const ENODEV = Errno.define(19, 'ENODEV');
export const ENOTDIR = Errno.define(20, 'ENOTDIR');
export const EISDIR = Errno.define(21, 'EISDIR');
export const EINVAL = Errno.define(22, 'EINVAL');
export const ENFILE = Errno.define(23, 'ENFILE');
export const EMFILE = Errno.define(24, 'EMFILE');
export const ENOTTY = Errno.define(25, 'ENOTTY');
export const EFBIG = Errno.define(27, 'EFBIG');
export const ENOSPC = Errno.define(28, 'ENOSPC');
export const ESPIPE = Errno.define(29, 'ESPIPE');
export const EROFS = Errno.define(30, 'EROFS');
export const EMLINK = Errno.define(31, 'EMLINK');
export const EPIPE = Errno.define(32, 'EPIPE');
export const EDOM = Errno.define(33, 'EDOM');
export const ERANGE = Errno.define(34, 'ERANGE');
export const EDEADLK = Errno.define(35, 'EDEADLK');
export const ENAMETOOLONG = Errno.define(36, 'ENAMETOOLONG');
export const ENOLCK = Errno.define(37, 'ENOLCK');
export const ENOSYS = Errno.define(38, 'ENOSYS');
export const ENOTEMPTY = Errno.define(39, 'ENOTEMPTY');
export const ELOOP = Errno.define(40, 'ELOOP');
export const ENODATA = Errno.define(61, 'ENODATA');
export const EOVERFLOW = Errno.define(75, 'EOVERFLOW');
export const ELIBBAD = Errno.define(80, 'ELIBBAD');
export const ENOTSOCK = Errno.define(88, 'ENOTSOCK');
export const EDESTADDRREQ = Errno.define(89, 'EDESTADDRREQ');
export const EMSGSIZE = Errno.define(90, 'EMSGSIZE');
export const EPROTOTYPE = Errno.define(91, 'EPROTOTYPE');
export const ENOPROTOOPT = Errno.define(92, 'ENOPROTOOPT');
export const EPROTONOSUPPORT = Errno.define(93, 'EPROTONOSUPPORT');
export const ESOCKTNOSUPPORT = Errno.define(94, 'ESOCKTNOSUPPORT');
export const EOPNOTSUPP = Errno.define(95, 'EOPNOTSUPP');
export const EAFNOSUPPORT = Errno.define(97, 'EAFNOSUPPORT');
export const EADDRINUSE = Errno.define(98, 'EADDRINUSE');
export const EADDRNOTAVAIL = Errno.define(99, 'EADDRNOTAVAIL');
export const ENETUNREACH = Errno.define(101, 'ENETUNREACH');
export const ECONNABORTED = Errno.define(103, 'ECONNABORTED');
export const ECONNRESET = Errno.define(104, 'ECONNRESET');
export const ENOBUFS = Errno.define(105, 'ENOBUFS');
export const EISCONN = Errno.define(106, 'EISCONN');
export const ENOTCONN = Errno.define(107, 'ENOTCONN');
export const ECONNREFUSED = Errno.define(111, 'ECONNREFUSED');
export const ETIMEDOUT = Errno.define(110, 'ETIMEDOUT');
export const EALREADY = Errno.define(114, 'EALREADY');
export const EINPROGRESS = Errno.define(115, 'EINPROGRESS');

// Kernel-internal codes of an interrupted syscall (include/linux/errno.h). A program never sees them:
// on the way back they become EINTR, or the call is restarted, depending on the signal's handler.
/** Restart if the handler has SA_RESTART (or no handler runs), else EINTR. */
export const ERESTARTSYS = Errno.define(512, 'ERESTARTSYS');
/** Always restart. */
export const ERESTARTNOINTR = Errno.define(513, 'ERESTARTNOINTR');
/** EINTR if a handler runs, restart otherwise. */
export const ERESTARTNOHAND = Errno.define(514, 'ERESTARTNOHAND');
/** EINTR if a handler runs, otherwise continue through restart_syscall (a sleep's remaining time). */
export const ERESTART_RESTARTBLOCK = Errno.define(516, 'ERESTART_RESTARTBLOCK');
/** The lowest of the restart codes. */
export const ERESTART_MIN = 512;
