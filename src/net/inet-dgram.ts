// UDP sockets of the sandbox's loopback (AF_INET and AF_INET6 SOCK_DGRAM): a queue of whole datagrams,
// each with its sender's address, reached through the UDP port table (inet-ports.ts). As on Linux's
// loopback, a send never waits: a datagram that finds the receiver's buffer full (its sk_buffs
// charged as unix-dgram.ts charges them) is dropped, and one to a port nobody holds is lost, except
// that a connected socket learns of it (the ICMP port unreachable: ECONNREFUSED at its next call).
// connect sets the default peer and fills in the source address; AF_UNSPEC forgets both, and the
// port too unless bind chose it (__udp_disconnect).
import { EAGAIN, ECONNREFUSED, EDESTADDRREQ, EFAULT, EINVAL, EMSGSIZE, ENETUNREACH, ENOTCONN, EPIPE, Errno } from '../abi/errno.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM } from '../abi/fcntl.js';
import { AF_INET6, type Endpoint, isAny, isV4, sameIp, sourceFor, type SocketAddress, writeAddress } from './inet-address.js';
import { InetState, IPPROTO_UDP } from './inet-state.js';
import { truesize } from './unix-dgram.js';
import { type Ancillary, DEFAULT_BUFFER_BYTES, type PeerCredentials, type Received, SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_DGRAM, UnixSocket } from './unix-socket.js';

/** The largest UDP payload: 65535 less the IPv4 and UDP headers; an IPv6 one has no IP header to count. */
const MAX_UDP4_PAYLOAD = 65507;
const MAX_UDP6_PAYLOAD = 65527;

interface Datagram {
  data: Uint8Array;
  /** The sender's address as recvfrom gives it, in the receiver's family. */
  from: Uint8Array;
  charge: number;
}

export class InetDatagramSocket extends UnixSocket {
  readonly inet: InetState;
  private readonly datagrams: Datagram[] = [];
  /** Bytes charged for the datagrams queued here (sk_rmem_alloc). */
  private queued = 0;
  private shutRead = false;
  private shutWrite = false;

  constructor(family: number, flags: number, owner: PeerCredentials, uid: number) {
    super(SOCK_DGRAM, flags, owner);
    this.inet = new InetState(this, family, IPPROTO_UDP, uid);
    this.sendBufferBytes = DEFAULT_BUFFER_BYTES;
    this.receiveBufferBytes = DEFAULT_BUFFER_BYTES;
  }

  override get connected(): boolean {
    return this.inet.remote !== null;
  }

  override localName(): Uint8Array {
    return this.inet.name();
  }

  override peerAddress(): Uint8Array | null | Errno {
    return this.inet.peerName() ?? ENOTCONN;
  }

  bind(a: SocketAddress, privileged: boolean): Errno | null {
    return this.inet.bind(a, false, privileged);
  }

  /** connect(2): the default peer; the socket gets a port and the source address toward it. */
  connectTo(dst: Endpoint): Errno | null {
    if (isV4(dst.ip) && this.inet.family === AF_INET6 && this.inet.v6only) return ENETUNREACH;
    const bound = this.inet.autobind(dst.ip);
    if (bound !== null) return bound;
    this.inet.remote = dst;
    return null;
  }

  /** connect(2) with AF_UNSPEC. */
  disconnect(): void {
    this.inet.remote = null;
    if (!this.inet.portLocked) {
      this.inet.unbind(false);
    } else if (!this.inet.addressLocked && this.inet.binding !== null) {
      this.inet.ip = this.inet.anyAddress;
      this.inet.binding.ip = this.inet.ip;
      this.address = this.inet.name();
    }
  }

  /** send(2) and write(2): to the default peer. */
  override send(src: Uint8Array, _ancillary: Ancillary | null): number | Errno {
    return this.sendTo(null, src);
  }

  /**
   * One datagram to dst (already routed to the loopback), or the default peer: EMSGSIZE past IP's
   * limit, EDESTADDRREQ with neither, a pending error first, EPIPE after SHUT_WR.
   */
  sendTo(dst: Endpoint | null, src: Uint8Array): number | Errno {
    const to = dst ?? this.inet.remote;
    if (to === null) return EDESTADDRREQ;
    if (to.port === 0) return EINVAL;
    if (src.length > (isV4(to.ip) ? MAX_UDP4_PAYLOAD : MAX_UDP6_PAYLOAD)) return EMSGSIZE;
    if (isV4(to.ip) && this.inet.family === AF_INET6 && this.inet.v6only) return ENETUNREACH;
    const pending = this.takeError();
    if (pending !== null) return pending;
    if (this.shutWrite) return EPIPE;
    const bound = this.inet.autobind(null);
    if (bound !== null) return bound;
    const fromIp = isAny(this.inet.ip) ? sourceFor(to.ip) : this.inet.ip;
    const fromPort = this.inet.port;
    const holder = this.inet.table.find(to.ip, to.port, (h) => {
      // A connected socket hears only its peer (compute_score).
      const peer = (h as InetState).remote;
      return peer === null || (peer.port === fromPort && (isAny(peer.ip) || sameIp(peer.ip, fromIp)));
    });
    const receiver = holder instanceof InetState && holder.socket instanceof InetDatagramSocket ? holder.socket : null;
    if (receiver === null) {
      // The loopback's ICMP port unreachable reaches a connected socket only (__udp4_lib_err).
      if (this.inet.remote !== null) {
        this.error = ECONNREFUSED;
        this.queue.notify(POLLERR);
      }
      return src.length;
    }
    receiver.deliver(src, fromIp, fromPort);
    return src.length;
  }

  /** A datagram arrives: queued unless the receive buffer is already past full (__udp_enqueue_schedule_skb). */
  private deliver(src: Uint8Array, fromIp: Uint8Array, fromPort: number): void {
    if (this.queued > this.receiveBufferBytes) return;
    const charge = truesize(src.length);
    this.queued += charge;
    this.datagrams.push({ data: src.slice(), from: writeAddress(this.inet.family, fromIp, fromPort), charge });
    this.queue.notify(POLLIN | POLLRDNORM);
  }

  /** The oldest datagram, up to max bytes of it; a pending error comes first (__skb_recv_udp). */
  override receive(sink: (chunk: Uint8Array) => number, max: number, peek: boolean): Received | Errno {
    const pending = this.takeError();
    if (pending !== null) return pending;
    const d = this.datagrams[0];
    if (d === undefined) return this.shutRead ? { bytes: 0, messageLength: 0, files: null, credentials: null, from: null } : EAGAIN;
    const n = Math.min(max, d.data.length);
    const bytes = n === 0 ? 0 : sink(d.data.subarray(0, n));
    if (!peek) {
      this.datagrams.shift();
      this.queued -= d.charge;
    }
    if (bytes < n) return EFAULT;
    return { bytes, messageLength: d.data.length, files: null, credentials: null, from: d.from };
  }

  /** inet_shutdown: the flags are taken even without a peer, which then answers ENOTCONN. */
  override shutdown(how: number): Errno | null {
    if (how === SHUT_RD || how === SHUT_RDWR) this.shutRead = true;
    if (how === SHUT_WR || how === SHUT_RDWR) this.shutWrite = true;
    this.queue.notify(POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    return this.connected ? null : ENOTCONN;
  }

  /** SIOCINQ: the length of the next datagram. */
  override readableBytes(): number {
    return this.datagrams[0]?.data.length ?? 0;
  }

  /** datagram_poll: a send never waits on the loopback. */
  override readiness(): number {
    let mask = POLLOUT | POLLWRNORM | POLLWRBAND;
    if (this.error !== null) mask |= POLLERR;
    if (this.shutRead) mask |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (this.shutRead && this.shutWrite) mask |= POLLHUP;
    if (this.datagrams.length > 0) mask |= POLLIN | POLLRDNORM;
    return mask;
  }

  protected override release(): void {
    this.datagrams.length = 0;
    this.queued = 0;
    this.inet.binding?.release();
    this.inet.binding = null;
  }
}
