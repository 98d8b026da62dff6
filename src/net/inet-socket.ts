// TCP sockets of the sandbox's loopback (AF_INET and AF_INET6 SOCK_STREAM): a UnixSocket's connection
// machinery (a pipe ring each way, listen's backlog, accept, shutdown, poll readiness, a reset when an
// end goes with data unread) under IP's names and rules. connect finds the listener through the TCP
// port table (inet-ports.ts): none is ECONNREFUSED, as the loopback's RST would say at once; a
// non-blocking connect answers EINPROGRESS and is writable when done, as Linux's loopback handshake.
// A dual-stack IPv6 socket meets IPv4 peers under mapped addresses (::ffff:127.0.0.1).
import {
  EAGAIN, EALREADY, ECONNABORTED, ECONNREFUSED, ECONNRESET, EINPROGRESS, EINVAL, EISCONN, ENETUNREACH, ENOTCONN, EPIPE, Errno,
} from '../abi/errno.js';
import { POLLERR, POLLHUP, POLLOUT } from '../abi/fcntl.js';
import type { Cancellable } from '../fs/wait.js';
import { AF_INET6, type Endpoint, isV4, type SocketAddress } from './inet-address.js';
import { InetState, IPPROTO_TCP } from './inet-state.js';
import { type Ancillary, BACKLOG_ROOM, type PeerCredentials, type Received, SHUT_WR, SOCK_STREAM, UnixSocket } from './unix-socket.js';

/** A TCP socket's SO_SNDBUF and SO_RCVBUF before it sets them (net.ipv4.tcp_wmem[1], tcp_rmem[1]). */
export const TCP_DEFAULT_SNDBUF = 16384;
export const TCP_DEFAULT_RCVBUF = 131072;

export class InetStreamSocket extends UnixSocket {
  readonly inet: InetState;
  /** A non-blocking connect answered EINPROGRESS: the next connect reports how it went. */
  private inProgress = false;
  /** A non-blocking connect waiting for room in a full backlog, and where it goes. */
  private backlogWait: Cancellable | null = null;
  /** The address a connect in progress goes to (read by the listener as its end's name). */
  private destination: Endpoint | null = null;
  /** A refused connect shut both directions, as tcp_done does; the next connect starts afresh. */
  private refused = false;

  constructor(family: number, flags: number, owner: PeerCredentials, uid: number) {
    super(SOCK_STREAM, flags, owner);
    this.inet = new InetState(this, family, IPPROTO_TCP, uid);
    this.sendBufferBytes = TCP_DEFAULT_SNDBUF;
    this.receiveBufferBytes = TCP_DEFAULT_RCVBUF;
  }

  override localName(): Uint8Array {
    return this.inet.name();
  }

  /** inet_getname: no peer once the connection is closed both ways (TCP_CLOSE) or reset. */
  override peerAddress(): Uint8Array | null | Errno {
    if (!this.connected || this.finished) return ENOTCONN;
    return this.inet.peerName() ?? ENOTCONN;
  }

  /** tcp_sendmsg on a socket that never connected: EPIPE (and SIGPIPE), as sk_stream_wait_connect. */
  override get unconnectedSendError(): Errno {
    return EPIPE;
  }

  protected override get unconnectedReceiveError(): Errno {
    return ENOTCONN;
  }

  /** tcp_shutdown: SHUT_RD only stops this end's reads; the peer is not told. */
  protected override get readShutIsLocal(): boolean {
    return true;
  }

  /** tcp_poll: writable once a write would answer EPIPE at once. */
  protected override get writableOnceShut(): boolean {
    return true;
  }

  /** Urgent data is TCP's: the byte stays in the stream at its mark (tcp_check_urg). */
  protected override get tcpUrgent(): boolean {
    return true;
  }

  protected override get resetsOnClose(): boolean {
    return this.inet.linger.on && this.inet.linger.seconds === 0;
  }

  /** bind(2): EINVAL once the socket has a port or a connection. */
  bind(a: SocketAddress, privileged: boolean): Errno | null {
    return this.inet.bind(a, this.connected || this.listening, privileged);
  }

  override listen(backlog: number, creds: PeerCredentials): Errno | null {
    if (this.connected || this.backlogWait !== null) return EINVAL;
    const bound = this.inet.autobind(null);
    if (bound !== null) return bound;
    if (!this.listening) {
      const taken = this.inet.table.checkListen(this.inet.binding!);
      if (taken !== null) return taken;
    }
    return super.listen(backlog, creds);
  }

  /**
   * connect(2) to dst (a loopback address): null when connected, ECONNREFUSED without a listener,
   * EAGAIN while the listener's backlog is full (a blocking caller waits for BACKLOG_ROOM and tries
   * again). A non-blocking one answers EINPROGRESS, and its outcome shows in poll and SO_ERROR.
   */
  connectTo(dst: Endpoint, creds: PeerCredentials, nonblocking: boolean): Errno | null {
    if (this.inProgress) {
      if (this.backlogWait !== null) return EALREADY;
      this.inProgress = false;
      if (this.connected) return null;
      return this.takeError() ?? ECONNABORTED;
    }
    if (this.connected || this.listening) return EISCONN;
    if (isV4(dst.ip) && this.inet.family === AF_INET6 && this.inet.v6only) return ENETUNREACH;
    if (this.refused) {
      this.refused = false;
      this.readShut = false;
      this.writeShut = false;
    }
    const bound = this.inet.autobind(dst.ip, dst.port);
    if (bound !== null) return bound;
    const r = this.attach(dst, creds);
    if (!nonblocking) {
      if (r === ECONNREFUSED) this.refuse(null);
      return r;
    }
    if (r === EAGAIN) this.waitForBacklog(dst, creds);
    else if (r !== null) this.refuse(r);
    this.inProgress = true;
    return EINPROGRESS;
  }

  /** Joins the listener dst reaches, or ECONNREFUSED (the port given back unless bind chose it). */
  private attach(dst: Endpoint, creds: PeerCredentials): Errno | null {
    const holder = this.inet.table.find(dst.ip, dst.port, (h) => h.listening);
    const listener = holder instanceof InetState ? holder.socket : null;
    if (listener === null) {
      if (!this.inet.portLocked) this.inet.unbind(true);
      return ECONNREFUSED;
    }
    this.destination = dst;
    const r = this.connect(listener, creds);
    this.destination = null;
    if (r === null) this.inet.remote = dst;
    return r;
  }

  /** A refused connect shuts both directions; a non-blocking one's error waits for SO_ERROR. */
  private refuse(e: Errno | null): void {
    this.error = e;
    this.refused = true;
    this.readShut = true;
    this.writeShut = true;
    this.queue.notify(POLLERR | POLLHUP | POLLOUT);
  }

  /** Retries a non-blocking connect each time the listener's backlog has room. */
  private waitForBacklog(dst: Endpoint, creds: PeerCredentials): void {
    const listener = this.connectingTo;
    if (listener === null) return;
    this.backlogWait = listener.queue.add(BACKLOG_ROOM | POLLHUP, () => {
      this.backlogWait = null;
      const r = this.attach(dst, creds);
      if (r === EAGAIN) this.waitForBacklog(dst, creds);
      else if (r !== null) this.refuse(r);
    });
  }

  /** The server's end: named by the address the client asked for, its peer the client's name. */
  protected override newServerEnd(client: UnixSocket): UnixSocket {
    const server = new InetStreamSocket(this.inet.family, 0, this.owner, this.inet.uid);
    const from = client instanceof InetStreamSocket ? client : null;
    const dst = from?.destination ?? { ip: this.inet.ip, port: this.inet.port };
    server.inet.inheritFrom(this.inet);
    server.sendBufferBytes = this.sendBufferBytes;
    server.receiveBufferBytes = this.receiveBufferBytes;
    // An accepted connection holds its listener's port until it goes, as inet_inherit_port.
    server.inet.binding = this.inet.table.share(server.inet, dst.ip, this.inet.port);
    server.inet.ip = dst.ip;
    server.inet.port = this.inet.port;
    server.address = server.inet.name();
    if (from !== null) server.inet.remote = { ip: from.inet.ip, port: from.inet.port };
    return server;
  }

  /** A stream's bytes come from the peer: recvfrom gives no address (tcp_recvmsg leaves it). */
  override receive(sink: (chunk: Uint8Array) => number, max: number, peek: boolean): Received | Errno {
    const r = super.receive(sink, max, peek);
    if (!(r instanceof Errno)) r.from = null;
    return r;
  }

  /**
   * tcp_sendmsg: a pending error (a reset) first. Data to a peer that closed is sent and answered
   * with a reset (EPIPE from then on); data reaching a peer that shut both ways is not taken: the peer resets the connection (tcp_rcv_state_process in FIN_WAIT with RCV_SHUTDOWN),
   * and this send, which the loopback already sent, still counts.
   */
  override send(src: Uint8Array, ancillary: Ancillary | null, sender?: PeerCredentials): number | Errno {
    if (this.connected && !this.finished) {
      const e = this.takeError();
      if (e !== null) return e;
      if (src.length > 0 && !this.writeShut && !this.peerReading && !this.wasReset) {
        // The peer is gone (its FIN came): the loopback sends, and the reset it answers with says EPIPE.
        this.wasReset = true;
        this.error = EPIPE;
        this.queue.notify(POLLERR | POLLHUP);
        return src.length;
      }
      const peer = this.peer;
      if (src.length > 0 && !this.writeShut && peer instanceof InetStreamSocket && peer.readShut && peer.writeShut && !peer.finished) {
        // This end has the peer's FIN and is in CLOSE_WAIT: the reset says EPIPE (tcp_reset).
        peer.abortConnection(EPIPE, false);
        peer.error = ECONNRESET;
        return src.length;
      }
    }
    return super.send(src, ancillary, sender);
  }

  /**
   * connect(2) with AF_UNSPEC (tcp_disconnect): a connection is reset (the peer hears ECONNRESET,
   * or EPIPE once it has this end's FIN, and so does this end's SO_ERROR) and the socket may connect
   * again; a listener stops listening. The port goes back unless bind named it, the address unless
   * bind named one, though getsockname still shows the port.
   */
  disconnect(): void {
    if (this.listening) {
      this.stopListening();
    } else if (this.connected) {
      if (!this.finished) {
        this.abortConnection(this.writeShut ? EPIPE : ECONNRESET, true);
        this.error = ECONNRESET;
      } else {
        this.abortConnection(null, true);
      }
    } else if (this.backlogWait !== null) {
      this.backlogWait.cancel();
      this.backlogWait = null;
      this.error = ECONNRESET;
    }
    this.inProgress = false;
    this.refused = false;
    this.readShut = false;
    this.writeShut = false;
    this.inet.remote = null;
    this.releasePort();
  }

  /** tcp_set_state(TCP_CLOSE): the port goes back unless bind named it; the name still shows it. */
  private releasePort(): void {
    if (this.inet.portLocked || this.inet.binding === null) return;
    const ip = this.inet.ip;
    this.inet.unbind(true);
    if (this.inet.addressLocked) this.inet.ip = ip;
  }

  /**
   * inet_shutdown: a listener stops at SHUT_RD (as a disconnect); a socket without a connection,
   * or whose connection is over both ways (TCP_CLOSE), takes the flags and says ENOTCONN.
   */
  override shutdown(how: number): Errno | null {
    if (this.listening) {
      if (how !== SHUT_WR) {
        this.stopListening();
        this.releasePort();
      }
      return null;
    }
    const connected = this.connected && !this.finished;
    super.shutdown(how);
    return connected ? null : ENOTCONN;
  }

  /** SIOCINQ: EINVAL on a listener (tcp_ioctl). */
  override readableBytes(): number | Errno {
    return this.listening ? EINVAL : super.readableBytes();
  }

  override readiness(): number {
    // A connect waiting for the backlog is in SYN_SENT: neither readable nor writable.
    if (this.backlogWait !== null) return this.error !== null ? POLLERR : 0;
    const mask = super.readiness();
    // tcp_poll: a hang-up once both directions are shut or the connection is reset, not when the
    // peer merely went (its FIN shuts this end's reading only).
    if (this.connected && !this.writeShut && !this.wasReset) return mask & ~POLLHUP;
    return mask;
  }

  protected override close(): void {
    super.close();
    this.backlogWait?.cancel();
    this.backlogWait = null;
    this.inet.binding?.release();
    this.inet.binding = null;
  }
}
