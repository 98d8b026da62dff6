// The Gofer protocol: one SOCK_SEQPACKET message per request and per reply, little-endian, so message
// boundaries come from the socket and no length prefix is needed. Open files come back as one fd
// passed with SCM_RIGHTS beside the reply.
//
//   request   u32 id, u16 op, u16 root (which of the Gofer's roots, from 0), then the op's fields (below)
//   reply     u32 id, u16 op, u16 flags (REPLY_MORE: another reply to this request follows),
//             u32 errno (0 = success), then the op's result when errno is 0
//   attach    the Sentry's first message to a Gofer started with --attach (before the sandbox's
//             directories were known): id 0, op ATTACH, root 0, u16 count, count × (string path,
//             u8 read-only); a Gofer started with its roots on the command line gets none
//   hello     the Gofer's first messages, unasked, one per root in order: id 0, op HELLO, errno of
//             opening that root, u32 version
//
//   path      u16 count, then count × (u16 length, UTF-8 bytes): components below the request's root
//   string    u16 length, UTF-8 bytes
//   stat      struct stat as the x86-64 host returns it (144 bytes), decoded by decodeStat
//
// This is the Sentry's side; the Gofer's is native code (kvm/gofer/message.h and server.cc), which must
// agree with it field for field. Decoding never throws: Reader keeps a sticky `bad` flag, and a message
// that is short, long or inconsistent is refused as a whole (EIO), so neither side can be crashed by the
// other's bytes.
import { EINVAL, EIO, ENAMETOOLONG, ENOENT, Errno } from '../abi/errno.js';
import type { DirEntry, FileStat } from '../abi/stat.js';

export const PROTOCOL_VERSION = 2;
/** Most roots one Gofer serves (the sandbox's root and its --mounts). */
export const MAX_ROOTS = 256;
/** Largest message either side sends or accepts (readdir replies are split to fit). */
export const MAX_MESSAGE = 64 * 1024;
/** Linux's NAME_MAX and PATH_MAX: longest component, and longest symlink target plus its NUL. */
export const NAME_MAX = 255;
export const PATH_MAX = 4096;
/** Most components a path may have; a Linux path of PATH_MAX bytes has at most 2048. */
export const MAX_COMPONENTS = 2048;

export const Op = {
  Hello: 0, Stat: 1, Open: 2, Readdir: 3, Readlink: 4, Mkdir: 5, Unlink: 6, Rename: 7, Symlink: 8,
  Link: 9, Chmod: 10, Chown: 11, Truncate: 12, Utimens: 13, Statfs: 14, Attach: 15,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

export const REPLY_HEADER = 12;
export const REPLY_MORE = 1;
/** Where the reply flags sit in the header (after u32 id, u16 op). */
export const REPLY_FLAGS_OFFSET = 6;
export { STAT_SIZE, STATFS_SIZE } from '../abi/structs.js';

// The Linux x86-64 flags and file types that the protocol carries.
export {
  DT_DIR, DT_LNK, DT_REG, DT_UNKNOWN, O_ACCMODE, O_APPEND, O_CREAT, O_DIRECT, O_DIRECTORY, O_DSYNC, O_EXCL,
  O_LARGEFILE, O_NOATIME, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_SYNC, O_TRUNC, O_WRONLY,
  RENAME_EXCHANGE, RENAME_NOREPLACE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
} from '../abi/fcntl.js';
/** A file's attributes as the host reports them (lstat semantics), and a directory entry. */
export type GoferStat = FileStat;
export type GoferDirent = DirEntry;

export type Request =
  | { op: typeof Op.Stat | typeof Op.Readdir | typeof Op.Readlink; path: string[] }
  | { op: typeof Op.Open; path: string[]; flags: number; mode: number }
  | { op: typeof Op.Mkdir | typeof Op.Chmod; path: string[]; mode: number }
  | { op: typeof Op.Unlink; path: string[]; isDir: boolean }
  | { op: typeof Op.Rename; from: string[]; to: string[]; flags: number }
  | { op: typeof Op.Symlink; target: string; path: string[] }
  | { op: typeof Op.Link; from: string[]; to: string[] }
  | { op: typeof Op.Chown; path: string[]; uid: number; gid: number }
  | { op: typeof Op.Truncate; path: string[]; length: number }
  | { op: typeof Op.Utimens; path: string[]; atimeNs: bigint | null; mtimeNs: bigint | null }
  | { op: typeof Op.Statfs };

/**
 * The error for a component that is not one plain name: '.' and '..' (the Sentry resolves those),
 * a '/' or NUL inside, an empty one, or one longer than NAME_MAX. Both sides check.
 */
export function checkComponent(name: string): Errno | null {
  if (name.length === 0) return ENOENT;
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\0')) return EINVAL;
  if (name.length > NAME_MAX || Buffer.byteLength(name, 'utf8') > NAME_MAX) return ENAMETOOLONG;
  return null;
}

export function checkPath(path: readonly string[]): Errno | null {
  if (path.length > MAX_COMPONENTS) return ENAMETOOLONG;
  for (const name of path) {
    const bad = checkComponent(name);
    if (bad !== null) return bad;
  }
  return null;
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF, which is part of a file name like any other character.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Builds one message in a reused buffer; `overflow` is set (and nothing more written) once it is full. */
export class Writer {
  readonly bytes = new Uint8Array(MAX_MESSAGE);
  private readonly view = new DataView(this.bytes.buffer);
  pos = 0;
  overflow = false;

  reset(): this {
    this.pos = 0;
    this.overflow = false;
    return this;
  }

  private room(n: number): boolean {
    if (this.overflow || this.pos + n > this.bytes.length) {
      this.overflow = true;
      return false;
    }
    return true;
  }

  u8(v: number): this {
    if (this.room(1)) this.bytes[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    if (this.room(2)) { this.view.setUint16(this.pos, v, true); this.pos += 2; }
    return this;
  }

  u32(v: number): this {
    if (this.room(4)) { this.view.setUint32(this.pos, v >>> 0, true); this.pos += 4; }
    return this;
  }

  u64(v: number | bigint): this {
    if (this.room(8)) { this.view.setBigUint64(this.pos, BigInt(v), true); this.pos += 8; }
    return this;
  }

  i64(v: bigint): this {
    if (v < I64_MIN || v > I64_MAX) this.overflow = true;
    else if (this.room(8)) { this.view.setBigInt64(this.pos, v, true); this.pos += 8; }
    return this;
  }

  raw(b: Uint8Array): this {
    if (this.room(b.length)) { this.bytes.set(b, this.pos); this.pos += b.length; }
    return this;
  }

  /** u16 length then the UTF-8 bytes. */
  str(s: string): this {
    if (!this.room(2)) return this;
    const at = this.pos;
    const { read, written } = encoder.encodeInto(s, this.bytes.subarray(at + 2, Math.min(this.bytes.length, at + 2 + 0xffff)));
    if (read !== s.length) {
      this.overflow = true;
      return this;
    }
    this.view.setUint16(at, written, true);
    this.pos = at + 2 + written;
    return this;
  }

  path(p: readonly string[]): this {
    if (p.length > 0xffff) {
      this.overflow = true;
      return this;
    }
    this.u16(p.length);
    for (const c of p) this.str(c);
    return this;
  }
}

/** Reads one message; any read past the end sets `bad` and returns zeros from then on. */
export class Reader {
  private readonly view: DataView;
  pos: number;
  bad = false;

  constructor(readonly bytes: Uint8Array, readonly end: number, start = 0) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    if (end > bytes.length || start > end) this.bad = true;
  }

  private take(n: number): number {
    if (this.bad || this.pos + n > this.end) {
      this.bad = true;
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.bytes[at]!;
  }

  u16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : this.view.getUint16(at, true);
  }

  u32(): number {
    const at = this.take(4);
    return at < 0 ? 0 : this.view.getUint32(at, true);
  }

  /** As a number: exact below 2^53 (sizes, inode numbers). */
  u64(): number {
    const at = this.take(8);
    return at < 0 ? 0 : Number(this.view.getBigUint64(at, true));
  }

  i64(): bigint {
    const at = this.take(8);
    return at < 0 ? 0n : this.view.getBigInt64(at, true);
  }

  raw(n: number): Uint8Array {
    const at = this.take(n);
    return at < 0 ? new Uint8Array(0) : this.bytes.subarray(at, at + n);
  }

  str(): string {
    const n = this.u16();
    const at = this.take(n);
    return at < 0 ? '' : decoder.decode(this.bytes.subarray(at, at + n));
  }

  path(): string[] {
    const count = this.u16();
    // Each component takes at least its 2-byte length: a count the message cannot hold is refused
    // before anything is allocated for it.
    if (count > MAX_COMPONENTS || count * 2 > this.end - this.pos) {
      this.bad = true;
      return [];
    }
    const out: string[] = [];
    for (let i = 0; i < count && !this.bad; i++) out.push(this.str());
    return out;
  }

  /** True when the whole message was read and nothing was missing. */
  complete(): boolean {
    return !this.bad && this.pos === this.end;
  }
}

/** Writes a request (no validation: the client checks components first, the Gofer checks again). */
export function encodeRequest(w: Writer, id: number, req: Request, root = 0): void {
  w.reset().u32(id).u16(req.op).u16(root);
  switch (req.op) {
    case Op.Stat: case Op.Readdir: case Op.Readlink:
      w.path(req.path);
      break;
    case Op.Open:
      w.path(req.path).u32(req.flags).u32(req.mode);
      break;
    case Op.Mkdir: case Op.Chmod:
      w.path(req.path).u32(req.mode);
      break;
    case Op.Unlink:
      w.path(req.path).u8(req.isDir ? 1 : 0);
      break;
    case Op.Rename:
      w.path(req.from).path(req.to).u32(req.flags);
      break;
    case Op.Symlink:
      w.str(req.target).path(req.path);
      break;
    case Op.Link:
      w.path(req.from).path(req.to);
      break;
    case Op.Chown:
      w.path(req.path).u32(req.uid).u32(req.gid);
      break;
    case Op.Truncate:
      w.path(req.path).i64(BigInt(req.length));
      break;
    case Op.Utimens:
      w.path(req.path).u8((req.atimeNs !== null ? 1 : 0) | (req.mtimeNs !== null ? 2 : 0));
      w.i64(req.atimeNs ?? 0n).i64(req.mtimeNs ?? 0n);
      break;
    case Op.Statfs:
      break;
  }
}

/** A root as the attach message names it: an absolute host path, and whether every change is EROFS. */
export interface AttachedRoot {
  path: string;
  readOnly: boolean;
}

/** Writes the attach message; w.overflow when the roots do not fit in one message. */
export function encodeAttach(w: Writer, roots: readonly AttachedRoot[]): void {
  w.reset().u32(0).u16(Op.Attach).u16(0).u16(roots.length);
  for (const r of roots) w.str(r.path).u8(r.readOnly ? 1 : 0);
}

/** Starts a reply in w: the header, with errno 0 unless given. */
export function beginReply(w: Writer, id: number, op: number, errno = 0, flags = 0): Writer {
  return w.reset().u32(id).u16(op).u16(flags).u32(errno);
}

export interface ReplyHeader {
  id: number;
  op: number;
  flags: number;
  errno: number;
}

/** The header of a reply, or null if the message is too short to hold one. */
export function decodeReplyHeader(r: Reader): ReplyHeader | null {
  const id = r.u32();
  const op = r.u16();
  const flags = r.u16();
  const errno = r.u32();
  return r.bad ? null : { id, op, flags, errno };
}

/** Decodes struct stat (x86-64: dev, ino, nlink u64; mode, uid, gid u32; pad; rdev, size, blksize, blocks; 3 timespecs). */
export function decodeStat(r: Reader): GoferStat {
  const dev = r.u64();
  const ino = r.u64();
  const nlink = r.u64();
  const mode = r.u32();
  const uid = r.u32();
  const gid = r.u32();
  r.u32(); // __pad0
  const rdev = r.u64();
  const size = r.u64();
  const blksize = r.u64();
  const blocks = r.u64();
  const atimeNs = r.i64() * 1_000_000_000n + r.i64();
  const mtimeNs = r.i64() * 1_000_000_000n + r.i64();
  const ctimeNs = r.i64() * 1_000_000_000n + r.i64();
  r.raw(24); // __unused[3]
  return { dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks, atimeNs, mtimeNs, ctimeNs };
}

/** An errno number from the other side as an Errno; an unknown or zero one is EIO. */
export function errnoFrom(code: number): Errno {
  return (code !== 0 ? Errno.of(code) : undefined) ?? EIO;
}
