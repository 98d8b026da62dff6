// Terminal ABI: the kernel's struct termios (asm-generic/termbits.h), its flags and control characters,
// struct winsize, and the tty ioctl request numbers (asm-generic/ioctls.h).
import { TERMIOS2_SIZE, TERMIOS_SIZE, WINSIZE_SIZE } from './structs.js';

export const TCGETS = 0x5401;
export const TCSETS = 0x5402;
export const TCSETSW = 0x5403;
export const TCSETSF = 0x5404;
export const TCSBRK = 0x5409;
export const TCXONC = 0x540a;
export const TCFLSH = 0x540b;
export const TIOCSCTTY = 0x540e;
export const TIOCGPGRP = 0x540f;
export const TIOCSPGRP = 0x5410;
export const TIOCOUTQ = 0x5411;
/** The pty master's requests: its index (ptsname), the slave's lock (unlockpt), the slave opened from it. */
export const TIOCGPTN = 0x80045430;
export const TIOCSPTLCK = 0x40045431;
export const TIOCGPTLCK = 0x80045439;
export const TIOCGPTPEER = 0x5441;
/** Packet mode of a pty master: TIOCPKT sets it (an int, non-zero: on), TIOCGPKT reads it back. */
export const TIOCPKT = 0x5420;
export const TIOCGPKT = 0x80045438;
/** _IOW('T', 0x36, int): a pty master signals the slave's foreground group (the int is the signal, by value). */
export const TIOCSIG = 0x40045436;
export const TIOCGWINSZ = 0x5413;
export const TIOCSWINSZ = 0x5414;
export const FIONREAD = 0x541b;
export const TIOCNOTTY = 0x5422;
export const TIOCGSID = 0x5429;
export const TCSBRKP = 0x5425;
/** _IOR('T', 0x2A, struct termios2) and the _IOW setters after it. */
export const TCGETS2 = 0x802c_542a;
export const TCSETS2 = 0x402c_542b;
export const TCSETSW2 = 0x402c_542c;
export const TCSETSF2 = 0x402c_542d;

// c_iflag
export const IGNBRK = 0o1;
export const BRKINT = 0o2;
export const PARMRK = 0o10;
export const ISTRIP = 0o40;
export const INLCR = 0o100;
export const IGNCR = 0o200;
export const ICRNL = 0o400;
export const IUCLC = 0o1000;
export const IXON = 0o2000;
export const IXANY = 0o4000;
export const IUTF8 = 0o40000;
// c_oflag
export const OPOST = 0o1;
export const ONLCR = 0o4;
export const OCRNL = 0o10;
export const ONOCR = 0o20;
export const ONLRET = 0o40;
// c_cflag
export const CSIZE = 0o60;
export const CS8 = 0o60;
export const CREAD = 0o200;
export const PARENB = 0o400;
export const HUPCL = 0o2000;
export const B38400 = 0o17;
// c_lflag
export const ISIG = 0o1;
export const ICANON = 0o2;
export const ECHO = 0o10;
export const ECHOE = 0o20;
export const ECHOK = 0o40;
export const ECHONL = 0o100;
export const NOFLSH = 0o200;
export const TOSTOP = 0o400;
export const ECHOCTL = 0o1000;
export const ECHOKE = 0o4000;
export const IEXTEN = 0o100000;
export const EXTPROC = 0o200000;

// The status byte that starts each read of a pty master in packet mode (TIOCPKT): data follows
// TIOCPKT_DATA; the others come alone, OR-ed together since the last read.
export const TIOCPKT_DATA = 0;
export const TIOCPKT_FLUSHREAD = 0x01;
export const TIOCPKT_FLUSHWRITE = 0x02;
export const TIOCPKT_STOP = 0x04;
export const TIOCPKT_START = 0x08;
export const TIOCPKT_NOSTOP = 0x10;
export const TIOCPKT_DOSTOP = 0x20;
export const TIOCPKT_IOCTL = 0x40;

// c_cc indices
export const VINTR = 0;
export const VQUIT = 1;
export const VERASE = 2;
export const VKILL = 3;
export const VEOF = 4;
export const VTIME = 5;
export const VMIN = 6;
export const VSTART = 8;
export const VSTOP = 9;
export const VSUSP = 10;
export const VEOL = 11;
export const VREPRINT = 12;
export const VWERASE = 14;
export const VLNEXT = 15;
export const VEOL2 = 16;
export const NCCS = 19;
/** A control character set to this is disabled (_POSIX_VDISABLE). */
export const VDISABLE = 0;

// TCFLSH's queue selector and TCXONC's action
export const TCIFLUSH = 0;
export const TCOFLUSH = 1;
export const TCIOFLUSH = 2;
export const TCOOFF = 0;
export const TCOON = 1;
export const TCIOFF = 2;
export const TCION = 3;

const CC_OFFSET = 17;

/** The kernel's struct termios, decoded (termios2's speeds are not kept: always 38400). */
export interface Termios {
  iflag: number;
  oflag: number;
  cflag: number;
  lflag: number;
  line: number;
  cc: Uint8Array;
}

/** Linux tty_std_termios as a pty slave starts (drivers/tty/pty.c): cooked, echoing, ^C ^\ ^? ^U ^D ^Z. */
export function defaultTermios(): Termios {
  return {
    iflag: ICRNL | IXON,
    oflag: OPOST | ONLCR,
    cflag: B38400 | CS8 | CREAD,
    lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
    line: 0,
    // INIT_C_CC: intr quit erase kill eof time min swtc start stop susp eol reprint discard werase lnext eol2
    cc: Uint8Array.from([3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0]),
  };
}

/** struct termios (36 bytes) or, with speeds, termios2 (44). */
export function encodeTermios(t: Termios, size: number = TERMIOS_SIZE): Uint8Array {
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, t.iflag, true);
  v.setUint32(4, t.oflag, true);
  v.setUint32(8, t.cflag, true);
  v.setUint32(12, t.lflag, true);
  out[16] = t.line;
  out.set(t.cc.subarray(0, NCCS), CC_OFFSET);
  if (size >= TERMIOS2_SIZE) {
    v.setUint32(36, 38400, true);
    v.setUint32(40, 38400, true);
  }
  return out;
}

export function decodeTermios(raw: Uint8Array): Termios {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return {
    iflag: v.getUint32(0, true), oflag: v.getUint32(4, true), cflag: v.getUint32(8, true), lflag: v.getUint32(12, true),
    line: raw[16]!, cc: raw.slice(CC_OFFSET, CC_OFFSET + NCCS),
  };
}

/** struct winsize: rows, columns, and the pixel sizes nobody uses. */
export interface Winsize {
  rows: number;
  cols: number;
  xpixel: number;
  ypixel: number;
}

export function encodeWinsize(w: Winsize): Uint8Array {
  const out = new Uint8Array(WINSIZE_SIZE);
  const v = new DataView(out.buffer);
  v.setUint16(0, w.rows, true);
  v.setUint16(2, w.cols, true);
  v.setUint16(4, w.xpixel, true);
  v.setUint16(6, w.ypixel, true);
  return out;
}

export function decodeWinsize(raw: Uint8Array): Winsize {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return { rows: v.getUint16(0, true), cols: v.getUint16(2, true), xpixel: v.getUint16(4, true), ypixel: v.getUint16(6, true) };
}

/** cfmakeraw(3): no line editing, echo, signals or output processing; 8-bit bytes, one at a time. */
export function makeRaw(t: Termios): Termios {
  const cc = t.cc.slice();
  cc[VMIN] = 1;
  cc[VTIME] = 0;
  return {
    iflag: t.iflag & ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON),
    oflag: t.oflag & ~OPOST,
    cflag: (t.cflag & ~(CSIZE | PARENB)) | CS8,
    lflag: t.lflag & ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN),
    line: t.line,
    cc,
  };
}
