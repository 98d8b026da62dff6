// What TCP and UDP sockets of either family share (Linux's struct inet_sock): the address and port
// bound (inet-ports.ts), the peer, and the IP-level and protocol-level options a program sets and
// reads back (SO_REUSEADDR, SO_LINGER, TCP_NODELAY, IP_TOS, IPV6_V6ONLY, ...), checked as Linux checks them.
import { EACCES, EADDRNOTAVAIL, EAGAIN, EINVAL, ENOPROTOOPT, EOPNOTSUPP, Errno } from '../abi/errno.js';
import {
  AF_INET, AF_INET6, checkBindable, type Endpoint, isAny, type SocketAddress, sourceFor, V4_ANY, V6_ANY, writeAddress,
} from './inet-address.js';
import { netSysctl, type PortBinding, type PortHolder, type PortTable, tcpPorts, udpPorts } from './inet-ports.js';
import type { UnixSocket } from './unix-socket.js';

export const IPPROTO_IP = 0;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_DOMAIN = 39;
const SO_PROTOCOL = 38;
const SO_KEEPALIVE = 9;
const SO_LINGER = 13;
const SO_REUSEPORT = 15;
const SO_PEERCRED = 17;
const TCP_NODELAY = 1;
const TCP_MAXSEG = 2;
const TCP_KEEPIDLE = 4;
const TCP_KEEPINTVL = 5;
const TCP_KEEPCNT = 6;
const IP_TOS = 1;
const IP_TTL = 2;
const IPV6_UNICAST_HOPS = 16;
const IPV6_V6ONLY = 26;
const IPV6_TCLASS = 67;
/** TCP_KEEPIDLE and TCP_KEEPINTVL's bound (MAX_TCP_KEEPIDLE), TCP_KEEPCNT's (MAX_TCP_KEEPCNT). */
const MAX_TCP_KEEPIDLE = 32767;
const MAX_TCP_KEEPCNT = 127;
/** The default TTL and hop limit (net.ipv4.ip_default_ttl), and the loopback's MSS. */
const DEFAULT_TTL = 64;
const LOOPBACK_MSS = 65483;
/** IP_TOS's ECN bits, which a TCP socket keeps for itself. */
const INET_ECN_MASK = 3;

function int32(n: number): Uint8Array {
  return new Uint8Array(new Int32Array([n]).buffer);
}

export class InetState implements PortHolder {
  /** The address bound (any until bind or connect names one) and the port (0: none). */
  ip: Uint8Array;
  port = 0;
  binding: PortBinding | null = null;
  /** bind named an address, a port: what a datagram disconnect keeps (SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK). */
  addressLocked = false;
  portLocked = false;
  /** The peer: connect's address, or an accepted connection's client. */
  remote: Endpoint | null = null;
  reuseAddr = false;
  reusePort = false;
  v6only = false;
  keepAlive = false;
  linger: { on: boolean; seconds: number } = { on: false, seconds: 0 };
  noDelay = false;
  keepIdle = 7200;
  keepInterval = 75;
  keepCount = 9;
  tos = 0;
  /** IP_TTL and IPV6_UNICAST_HOPS: -1 is the default. */
  ttl = -1;
  hopLimit = -1;
  trafficClass = 0;
  readonly table: PortTable;

  constructor(readonly socket: UnixSocket, readonly family: number, readonly protocol: number, readonly uid: number) {
    this.ip = this.anyAddress;
    this.table = protocol === IPPROTO_TCP ? tcpPorts : udpPorts;
  }

  get listening(): boolean {
    return this.socket.listening;
  }

  get anyAddress(): Uint8Array {
    return this.family === AF_INET ? V4_ANY : V6_ANY;
  }

  /** getsockname: the address and port, in the socket's family. */
  name(): Uint8Array {
    return writeAddress(this.family, this.ip, this.port);
  }

  peerName(): Uint8Array | null {
    return this.remote === null ? null : writeAddress(this.family, this.remote.ip, this.remote.port);
  }

  /**
   * bind(2), as __inet_bind: the address checked first, then a port below ip_unprivileged_port_start
   * without privilege (CAP_NET_BIND_SERVICE: EACCES), then that the socket has no port yet (EINVAL).
   */
  bind(a: SocketAddress, alreadyUsed: boolean, privileged: boolean): Errno | null {
    const bad = checkBindable(a, this.v6only);
    if (bad !== null) return bad;
    if (a.port !== 0 && a.port < netSysctl.unprivilegedPortStart && !privileged) return EACCES;
    if (this.binding !== null || alreadyUsed) return EINVAL;
    const b = this.table.bind(this, a.ip, a.port);
    if (b instanceof Errno) return b;
    this.take(b);
    this.addressLocked = !isAny(a.ip);
    this.portLocked = a.port !== 0;
    return null;
  }

  /**
   * An ephemeral port, on the address bound, or the source address for dst (connect, sendto, listen).
   * None free: a TCP connect says EADDRNOTAVAIL, a listen EADDRINUSE, UDP EAGAIN (inet_autobind).
   * A TCP connect to dstPort (inet_hash_connect) may share its port with other connections, and says
   * EADDRNOTAVAIL when its 4-tuple is taken.
   */
  autobind(dst: Uint8Array | null, dstPort = -1): Errno | null {
    const tcp = this.protocol === IPPROTO_TCP;
    const to = tcp && dst !== null && dstPort >= 0 ? { ip: dst, port: dstPort } : null;
    if (this.binding === null) {
      const ip = dst === null || this.addressLocked ? this.ip : sourceFor(dst);
      const b = this.table.bind(this, ip, 0, tcp && dst !== null ? 'connect' : 'bind', to);
      if (b instanceof Errno) return !tcp ? EAGAIN : dst !== null ? EADDRNOTAVAIL : b;
      this.take(b);
      return null;
    }
    const ip = dst !== null && !this.addressLocked && isAny(this.ip) ? sourceFor(dst) : this.ip;
    if (to !== null && !this.table.tupleFree(ip, this.port, to, this)) return EADDRNOTAVAIL;
    if (ip !== this.ip) {
      this.ip = ip;
      this.binding.ip = ip;
    }
    return null;
  }

  private take(b: PortBinding): void {
    this.binding = b;
    this.ip = b.ip;
    this.port = b.port;
    this.socket.address = this.name();
  }

  /** Gives the port back; the name shows what keepName says (a refused TCP connect keeps showing its port). */
  unbind(keepPort: boolean): void {
    this.binding?.release();
    this.binding = null;
    this.ip = this.anyAddress;
    if (!keepPort) this.port = 0;
    this.socket.address = null;
  }

  /**
   * getsockopt of an inet option (level, name), or null for the SOL_SOCKET options every socket
   * answers alike. Unknown levels are EOPNOTSUPP (ip_getsockopt), unknown names ENOPROTOOPT.
   */
  getOption(level: number, name: number): Uint8Array | Errno | null {
    const tcp = this.protocol === IPPROTO_TCP;
    switch (level) {
      case SOL_SOCKET:
        switch (name) {
          case SO_DOMAIN: return int32(this.family);
          case SO_PROTOCOL: return int32(this.protocol);
          case SO_REUSEADDR: return int32(this.reuseAddr ? 1 : 0);
          case SO_REUSEPORT: return int32(this.reusePort ? 1 : 0);
          case SO_KEEPALIVE: return int32(this.keepAlive ? 1 : 0);
          case SO_LINGER: return new Uint8Array(new Int32Array([this.linger.on ? 1 : 0, this.linger.seconds]).buffer);
          // No credentials travel over IP (sk_peer_cred is unset): pid 0, the overflow ids.
          case SO_PEERCRED: return new Uint8Array(new Int32Array([0, -1, -1]).buffer);
          default: return null;
        }
      case IPPROTO_TCP:
        if (!tcp) return EOPNOTSUPP;
        switch (name) {
          case TCP_NODELAY: return int32(this.noDelay ? 1 : 0);
          case TCP_MAXSEG: return int32(LOOPBACK_MSS);
          case TCP_KEEPIDLE: return int32(this.keepIdle);
          case TCP_KEEPINTVL: return int32(this.keepInterval);
          case TCP_KEEPCNT: return int32(this.keepCount);
          default: return ENOPROTOOPT;
        }
      case IPPROTO_IP:
        switch (name) {
          case IP_TOS: return int32(this.tos);
          case IP_TTL: return int32(this.ttl < 0 ? DEFAULT_TTL : this.ttl);
          default: return ENOPROTOOPT;
        }
      case IPPROTO_IPV6:
        if (this.family !== AF_INET6) return EOPNOTSUPP;
        switch (name) {
          case IPV6_V6ONLY: return int32(this.v6only ? 1 : 0);
          case IPV6_UNICAST_HOPS: return int32(this.hopLimit < 0 ? DEFAULT_TTL : this.hopLimit);
          case IPV6_TCLASS: return int32(this.trafficClass);
          default: return ENOPROTOOPT;
        }
      default:
        return EOPNOTSUPP;
    }
  }

  /** setsockopt of an inet option with the bytes given; undefined for the SOL_SOCKET options every socket shares. */
  setOption(level: number, name: number, raw: Uint8Array): Errno | null | undefined {
    const tcp = this.protocol === IPPROTO_TCP;
    const v = raw.length >= 4 ? new DataView(raw.buffer, raw.byteOffset).getInt32(0, true) : null;
    const intValue = (apply: (n: number) => Errno | null): Errno | null => (v === null ? EINVAL : apply(v));
    const within = (n: number, low: number, high: number, set: (n: number) => void): Errno | null => {
      if (n < low || n > high) return EINVAL;
      set(n);
      return null;
    };
    switch (level) {
      case SOL_SOCKET:
        switch (name) {
          case SO_REUSEADDR: return intValue((n) => { this.reuseAddr = n !== 0; return null; });
          case SO_REUSEPORT: return intValue((n) => { this.reusePort = n !== 0; return null; });
          case SO_KEEPALIVE: return intValue((n) => { this.keepAlive = n !== 0; return null; });
          case SO_LINGER: {
            if (raw.length < 8) return EINVAL;
            const view = new DataView(raw.buffer, raw.byteOffset);
            this.linger = { on: view.getInt32(0, true) !== 0, seconds: view.getInt32(4, true) };
            return null;
          }
          default: return undefined;
        }
      case IPPROTO_TCP:
        if (!tcp) return EOPNOTSUPP;
        switch (name) {
          case TCP_NODELAY: return intValue((n) => { this.noDelay = n !== 0; return null; });
          case TCP_KEEPIDLE: return intValue((n) => within(n, 1, MAX_TCP_KEEPIDLE, (x) => { this.keepIdle = x; }));
          case TCP_KEEPINTVL: return intValue((n) => within(n, 1, MAX_TCP_KEEPIDLE, (x) => { this.keepInterval = x; }));
          case TCP_KEEPCNT: return intValue((n) => within(n, 1, MAX_TCP_KEEPCNT, (x) => { this.keepCount = x; }));
          default: return ENOPROTOOPT;
        }
      case IPPROTO_IP:
        switch (name) {
          case IP_TOS: return intValue((n) => {
            const tos = n & 0xff;
            this.tos = tcp ? (tos & ~INET_ECN_MASK) | (this.tos & INET_ECN_MASK) : tos;
            return null;
          });
          case IP_TTL: return intValue((n) => (n === -1 ? ((this.ttl = -1), null) : within(n, 1, 255, (x) => { this.ttl = x; })));
          default: return ENOPROTOOPT;
        }
      case IPPROTO_IPV6:
        if (this.family !== AF_INET6) return EOPNOTSUPP;
        switch (name) {
          // The socket's stack is fixed once it has a port.
          case IPV6_V6ONLY: return intValue((n) => (this.binding !== null ? EINVAL : ((this.v6only = n !== 0), null)));
          case IPV6_UNICAST_HOPS: return intValue((n) => within(n, -1, 255, (x) => { this.hopLimit = x; }));
          case IPV6_TCLASS: return intValue((n) => within(n, -1, 255, (x) => { this.trafficClass = x < 0 ? 0 : x; }));
          default: return ENOPROTOOPT;
        }
      default:
        return EOPNOTSUPP;
    }
  }

  /** What an accepted connection takes from its listener. */
  inheritFrom(listener: InetState): void {
    this.reuseAddr = listener.reuseAddr;
    this.reusePort = listener.reusePort;
    this.keepAlive = listener.keepAlive;
    this.linger = { ...listener.linger };
    this.noDelay = listener.noDelay;
    this.keepIdle = listener.keepIdle;
    this.keepInterval = listener.keepInterval;
    this.keepCount = listener.keepCount;
    this.tos = listener.tos;
    this.ttl = listener.ttl;
    this.v6only = listener.v6only;
  }
}
