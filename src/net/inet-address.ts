// IPv4 and IPv6 socket addresses (ip(7), ipv6(7)): struct sockaddr_in and sockaddr_in6 read and written,
// and the addresses of the sandbox's one interface, the loopback. An address is kept in IPv6 form, an
// IPv4 one mapped (::ffff:a.b.c.d), so that a dual-stack socket compares both kinds alike; each socket
// writes it back in its own family.
import { EADDRNOTAVAIL, EAFNOSUPPORT, EINVAL, ENETUNREACH, ENODEV, type Errno } from '../abi/errno.js';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_UNSPEC = 0;
/** sizeof(struct sockaddr_in), sizeof(struct sockaddr_in6), and SIN6_LEN_RFC2133 (no sin6_scope_id). */
export const SOCKADDR_IN_SIZE = 16;
export const SOCKADDR_IN6_SIZE = 28;
const SIN6_LEN_RFC2133 = 24;
/** The loopback interface's index: the only scope id a link-local address may name. */
const LOOPBACK_IFINDEX = 1;

/** An address and port; ip is 16 bytes, IPv4 mapped. */
export interface Endpoint {
  readonly ip: Uint8Array;
  readonly port: number;
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

export function v4Mapped(a: number, b: number, c: number, d: number): Uint8Array {
  return new Uint8Array([...V4_MAPPED_PREFIX, a, b, c, d]);
}

export const V4_ANY = v4Mapped(0, 0, 0, 0);
export const V4_LOOPBACK = v4Mapped(127, 0, 0, 1);
export const V6_ANY = new Uint8Array(16);
export const V6_LOOPBACK = Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0));

export function isV4(ip: Uint8Array): boolean {
  for (let i = 0; i < 12; i++) if (ip[i] !== V4_MAPPED_PREFIX[i]) return false;
  return true;
}

export function sameIp(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** INADDR_ANY (mapped) or in6addr_any. */
export function isAny(ip: Uint8Array): boolean {
  return sameIp(ip, V4_ANY) || sameIp(ip, V6_ANY);
}

/** 127.0.0.0/8 or ::1: addresses of the loopback interface. */
export function isLoopback(ip: Uint8Array): boolean {
  return (isV4(ip) && ip[12] === 127) || sameIp(ip, V6_LOOPBACK);
}

/** A key for maps: the 16 bytes as a string. */
export function ipKey(ip: Uint8Array): string {
  return String.fromCharCode(...ip);
}

/** What a socket address argument says: the endpoint, and for IPv6 the scope id. */
export interface SocketAddress extends Endpoint {
  /** The family the address was written in (AF_INET for a sockaddr_in, also AF_UNSPEC's). */
  readonly family: number;
  readonly scopeId: number;
}

/**
 * A sockaddr for a socket of family, as inet_bind / inet6_bind check it: EINVAL for a short one,
 * EAFNOSUPPORT for another family. unspecAny: AF_UNSPEC with INADDR_ANY passes for AF_INET (bind's
 * compatibility for old programs). acceptV4: an IPv6 socket may be given a sockaddr_in (UDP's
 * connect and sendto), which then names the mapped address.
 */
export function parseAddress(raw: Uint8Array, family: number, options: { unspecAny?: boolean; acceptV4?: boolean } = {}): SocketAddress | Errno {
  const given = raw.length >= 2 ? raw[0]! | (raw[1]! << 8) : -1;
  if (family === AF_INET || (options.acceptV4 === true && given === AF_INET)) {
    if (raw.length < SOCKADDR_IN_SIZE) return EINVAL;
    const ip = v4Mapped(raw[4]!, raw[5]!, raw[6]!, raw[7]!);
    if (given !== AF_INET && !(given === AF_UNSPEC && options.unspecAny === true && sameIp(ip, V4_ANY))) return EAFNOSUPPORT;
    return { family: AF_INET, ip, port: (raw[2]! << 8) | raw[3]!, scopeId: 0 };
  }
  if (raw.length < SIN6_LEN_RFC2133) return EINVAL;
  if (given !== AF_INET6) return EAFNOSUPPORT;
  const scopeId = raw.length >= SOCKADDR_IN6_SIZE ? new DataView(raw.buffer, raw.byteOffset).getUint32(24, true) : 0;
  return { family: AF_INET6, ip: raw.slice(8, 24), port: (raw[2]! << 8) | raw[3]!, scopeId };
}

/** fe80::/10. */
function isLinkLocal(ip: Uint8Array): boolean {
  return ip[0] === 0xfe && (ip[1]! & 0xc0) === 0x80;
}

/**
 * Whether a socket may bind ip (inet_addr_valid_or_nonlocal, __inet6_bind): any, the loopback's,
 * multicast and broadcast addresses; others are EADDRNOTAVAIL, as no other interface is up. A
 * link-local IPv6 address needs the loopback's scope id (EINVAL without one, ENODEV for another index).
 */
export function checkBindable(a: SocketAddress, v6only: boolean): Errno | null {
  const ip = a.ip;
  if (isV4(ip)) {
    if (a.family === AF_INET6 && v6only) return EINVAL;
    const first = ip[12]!;
    if (sameIp(ip, V4_ANY) || first === 127 || (first & 0xf0) === 0xe0 || ip.every((b, i) => i < 12 || b === 0xff)) return null;
    return EADDRNOTAVAIL;
  }
  if (isAny(ip) || sameIp(ip, V6_LOOPBACK) || ip[0] === 0xff) return null;
  if (isLinkLocal(ip)) {
    if (a.scopeId === 0) return EINVAL;
    return a.scopeId === LOOPBACK_IFINDEX ? EADDRNOTAVAIL : ENODEV;
  }
  return EADDRNOTAVAIL;
}

/**
 * The destination a connect or send reaches: the loopback's addresses (any meaning the loopback, a
 * BSD habit Linux keeps), or ENETUNREACH, as for a host whose only interface is lo.
 */
export function routeTo(ip: Uint8Array): Uint8Array | Errno {
  if (sameIp(ip, V4_ANY)) return V4_LOOPBACK;
  if (sameIp(ip, V6_ANY)) return V6_LOOPBACK;
  return isLoopback(ip) ? ip : ENETUNREACH;
}

/** The source address of a packet to dst: 127.0.0.1 for all of 127.0.0.0/8, as lo's route says; ::1. */
export function sourceFor(dst: Uint8Array): Uint8Array {
  return isV4(dst) ? V4_LOOPBACK : V6_LOOPBACK;
}

/** struct sockaddr_in or sockaddr_in6 of an endpoint, for a socket of family (IPv4 shown mapped to IPv6). */
export function writeAddress(family: number, ip: Uint8Array, port: number): Uint8Array {
  if (family === AF_INET) {
    const out = new Uint8Array(SOCKADDR_IN_SIZE);
    out[0] = AF_INET;
    out[2] = port >> 8;
    out[3] = port & 0xff;
    out.set(ip.subarray(12), 4);
    return out;
  }
  const out = new Uint8Array(SOCKADDR_IN6_SIZE);
  out[0] = AF_INET6;
  out[2] = port >> 8;
  out[3] = port & 0xff;
  out.set(ip, 8);
  return out;
}
