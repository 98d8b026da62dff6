// The port tables of the sandbox's loopback, one per protocol (TCP, UDP), as Linux's bind hash
// (inet_bind_bucket, udp_table): who holds each port on which address, the conflicts bind(2) and
// listen(2) check (inet_bind_conflict, udp_lib_lport_inuse), SO_REUSEADDR and SO_REUSEPORT, TCP's
// 4-tuples (a port shared by connections to different destinations), ephemeral
// ports from ip_local_port_range, and the socket a connection or a datagram to an address reaches.
import { EADDRINUSE, EINVAL, type Errno } from '../abi/errno.js';
import { AF_INET, type Endpoint, isAny, isV4, ipKey, sameIp } from './inet-address.js';

/**
 * The sandbox's network sysctls (its one network namespace's): net.ipv4.ip_local_port_range, the
 * ephemeral ports, and ip_unprivileged_port_start, below which only a privileged user binds.
 */
export const netSysctl = {
  low: 32768,
  high: 60999,
  unprivilegedPortStart: 1024,

  localPortRange(): [number, number] {
    return [this.low, this.high];
  },

  /** ipv4_local_port_range: each end 1-65535, low not above high nor below ip_unprivileged_port_start. */
  setLocalPortRange(low: number, high: number): Errno | null {
    if (low < 1 || low > 65535 || high < 1 || high > 65535) return EINVAL;
    if (high < low || low < this.unprivilegedPortStart) return EINVAL;
    this.low = low;
    this.high = high;
    return null;
  },

  /** ipv4_privileged_ports: 0-65535, not above the ephemeral range's low end. */
  setUnprivilegedPortStart(port: number): Errno | null {
    if (port < 0 || port > 65535 || port > this.low) return EINVAL;
    this.unprivilegedPortStart = port;
    return null;
  },
};

/** Who asks for an ephemeral port: TCP's connect and the rest prefer ports of opposite parities. */
export type EphemeralUse = 'connect' | 'bind';

/** What a socket holding a port tells the table about itself. */
export interface PortHolder {
  readonly family: number;
  readonly v6only: boolean;
  readonly reuseAddr: boolean;
  readonly reusePort: boolean;
  readonly uid: number;
  /** A TCP listener: SO_REUSEADDR does not let another socket share its address. */
  readonly listening: boolean;
  /** The peer of a connection (with the binding's address and port, its 4-tuple); null for none. */
  readonly remote: Endpoint | null;
}

/**
 * One socket's hold on a port: ip may change (a UDP connect fills in the source address). byConnect:
 * a TCP connect's ephemeral search took it (Linux's bind bucket with fastreuse -1), so that other
 * connects may share the port with 4-tuples of their own.
 */
export class PortBinding {
  constructor(readonly table: PortTable, readonly holder: PortHolder, public ip: Uint8Array, readonly port: number,
    readonly byConnect = false) {}

  release(): void {
    this.table.remove(this);
  }
}

/** The IPv4 addresses a binding covers: 'any', one address's key, or none (an IPv6 address). */
function v4Cover(b: PortBinding): string | null {
  if (b.holder.family === AF_INET || isV4(b.ip)) return isAny(b.ip) ? 'any' : ipKey(b.ip);
  return isAny(b.ip) && !b.holder.v6only ? 'any' : null;
}

function v6Cover(b: PortBinding): string | null {
  if (b.holder.family === AF_INET || isV4(b.ip)) return null;
  return isAny(b.ip) ? 'any' : ipKey(b.ip);
}

function meet(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && (a === 'any' || b === 'any' || a === b);
}

function overlap(a: PortBinding, b: PortBinding): boolean {
  return meet(v4Cover(a), v4Cover(b)) || meet(v6Cover(a), v6Cover(b));
}

/** How well a binding matches a destination address: -1 not at all, more for an exact address. */
function score(b: PortBinding, dst: Uint8Array): number {
  if (isV4(dst)) {
    const cover = v4Cover(b);
    if (cover === null) return -1;
    if (cover === 'any') return b.holder.family === AF_INET ? 2 : 1;
    return cover === ipKey(dst) ? 4 : -1;
  }
  const cover = v6Cover(b);
  if (cover === null) return -1;
  return cover === 'any' ? 1 : sameIp(b.ip, dst) ? 4 : -1;
}

export class PortTable {
  private readonly ports = new Map<number, PortBinding[]>();

  constructor(readonly stream: boolean) {}

  /** May candidate share its port with other (both overlapping)? */
  private compatible(candidate: PortBinding, other: PortBinding): boolean {
    const a = candidate.holder;
    const b = other.holder;
    if (a.reusePort && b.reusePort && a.uid === b.uid) return true;
    // A TCP listener's address is its own even with SO_REUSEADDR (the connections it made are not).
    return a.reuseAddr && b.reuseAddr && !(this.stream && (b.listening || a.listening));
  }

  private conflicts(candidate: PortBinding): boolean {
    for (const other of this.ports.get(candidate.port) ?? []) {
      if (other !== candidate && overlap(candidate, other) && !this.compatible(candidate, other)) return true;
    }
    return false;
  }

  /**
   * bind(2) of holder to ip and port (0: an ephemeral one, for use; a connect's to dst): EADDRINUSE if
   * another holds it, or none is free.
   */
  bind(holder: PortHolder, ip: Uint8Array, port: number, use: EphemeralUse = 'bind', dst: Endpoint | null = null): PortBinding | Errno {
    if (port === 0) return this.bindEphemeral(holder, ip, use, dst);
    const b = new PortBinding(this, holder, ip, port);
    if (this.conflicts(b)) return EADDRINUSE;
    this.add(b);
    return b;
  }

  /**
   * A free ephemeral port (no socket holds it at all) from ip_local_port_range, searched as Linux
   * does. TCP: a connect tries the ports whose offset from the low end is even first, from an even
   * offset at random (__inet_hash_connect), a bind or listen those at an odd offset first
   * (inet_csk_find_open_port), each pass stepping by two over a count rounded down to even, so that
   * some ports of an odd-sized range are never tried; a connect to dst also takes a port that only
   * other connects hold when none of them has its 4-tuple (__inet_hash_connect, check_established).
   * UDP: from a random start, one by one.
   */
  private bindEphemeral(holder: PortHolder, ip: Uint8Array, use: EphemeralUse, dst: Endpoint | null): PortBinding | Errno {
    const { low, high } = netSysctl;
    const span = high - low + 1;
    const byConnect = this.stream && use === 'connect';
    const take = (port: number): PortBinding | null => {
      const held = this.ports.get(port);
      if (held !== undefined) {
        if (!byConnect || dst === null || !this.tupleFree(ip, port, dst, null)) return null;
        for (const b of held) if (!b.byConnect) return null;
      }
      const b = new PortBinding(this, holder, ip, port, byConnect);
      this.add(b);
      return b;
    };
    if (!this.stream) {
      const first = Math.floor(Math.random() * span);
      for (let i = 0; i < span; i++) {
        const b = take(low + ((first + i) % span));
        if (b !== null) return b;
      }
      return EADDRINUSE;
    }
    const remaining = span > 1 ? span & ~1 : span;
    let offset = Math.floor(Math.random() * remaining);
    offset = use === 'connect' ? offset & ~1 : offset | 1;
    for (let pass = 0; pass < 2; pass++) {
      let port = low + offset;
      for (let i = 0; i < remaining; i += 2, port += 2) {
        if (port > high) port -= remaining;
        const b = take(port);
        if (b !== null) return b;
      }
      // The other parity, for a range of more than one port (a bind's second pass always runs).
      if (use === 'connect') {
        offset++;
        if (remaining <= 1) break;
      } else {
        offset--;
      }
    }
    return EADDRINUSE;
  }

  /**
   * No connection but self's goes from ip:port to dst (TCP's established 4-tuples, as
   * __inet_check_established; there is no TIME_WAIT).
   */
  tupleFree(ip: Uint8Array, port: number, dst: Endpoint, self: PortHolder | null): boolean {
    for (const b of this.ports.get(port) ?? []) {
      const r = b.holder.remote;
      if (b.holder !== self && r !== null && r.port === dst.port && sameIp(r.ip, dst.ip) && sameIp(b.ip, ip)) return false;
    }
    return true;
  }

  /** A second binding of a port already held (an accepted connection keeps its listener's port). */
  share(holder: PortHolder, ip: Uint8Array, port: number): PortBinding {
    const b = new PortBinding(this, holder, ip, port);
    this.add(b);
    return b;
  }

  /** listen(2): EADDRINUSE if another listener holds an overlapping address without SO_REUSEPORT. */
  checkListen(b: PortBinding): Errno | null {
    for (const other of this.ports.get(b.port) ?? []) {
      if (other === b || !other.holder.listening || !overlap(b, other)) continue;
      const x = b.holder;
      const y = other.holder;
      if (!(x.reusePort && y.reusePort && x.uid === y.uid)) return EADDRINUSE;
    }
    return null;
  }

  /** The holder of port that a packet to dst reaches (the best match among those accept takes). */
  find(dst: Uint8Array, port: number, accept: (h: PortHolder) => boolean): PortHolder | null {
    let best: PortHolder | null = null;
    let bestScore = -1;
    for (const b of this.ports.get(port) ?? []) {
      if (!accept(b.holder)) continue;
      const s = score(b, dst);
      if (s > bestScore) {
        best = b.holder;
        bestScore = s;
      }
    }
    return best;
  }

  private add(b: PortBinding): void {
    const list = this.ports.get(b.port);
    if (list === undefined) this.ports.set(b.port, [b]);
    else list.push(b);
  }

  remove(b: PortBinding): void {
    const list = this.ports.get(b.port);
    if (list === undefined) return;
    const i = list.indexOf(b);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.ports.delete(b.port);
  }
}

/** The sandbox's one network namespace: a table per protocol. */
export const tcpPorts = new PortTable(true);
export const udpPorts = new PortTable(false);
