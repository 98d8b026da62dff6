// Unix-domain sockets compared with the host kernel: net_unix.c binds, listens, connects and passes
// files in a scratch directory, natively and in the sandbox (on a tmpfs at /tmp, on a host directory
// through the Gofer with --mount, in a new directory of the overlay root), in both platform modes, and
// must print the same lines. Python's socket module does the same through its own calls. IPv4 and
// IPv6 sockets on the sandbox's loopback: net_inet.c, Python's socket and asyncio, and redis-server
// with redis-cli in one sandbox (whose loopback nothing outside reaches).
import test from 'ava';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { guestProgram } from './helpers/guest-programs.js';
import { compareWithNative } from './helpers/signal-cases.js';
import { everyPlace, runInPlace, scratch } from './helpers/places.js';
import { checkoutMountUnder, kvmSkipReason, platforms, runNative, runSandbox } from './helpers/run.js';

const skip = kvmSkipReason();
const PYTHON = '/usr/bin/python3';
const BUSYBOX = '/bin/busybox';
const REDIS_SERVER = '/usr/bin/redis-server';
const places = everyPlace;

for (const place of places) {
  for (const platform of platforms) {
    const title = `net_unix on ${place} [${platform}]`;
    if (skip) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, async (t) => {
      const program = await guestProgram('net_unix');
      const { native, boxed, dir: arg, hostDir } = runInPlace(program, place, platform, 'net');
      t.is(native.status, 0, native.stderr);
      t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
      t.is(boxed.status, 0);
      if (place === 'overlay') t.false(existsSync(arg), 'an overlay write reached the host');
      if (hostDir !== null) {
        // The files reach the host; the socket nodes are the sandbox's alone.
        const names = readdirSync(join(hostDir, 'work')).sort();
        t.true(names.includes('file') && names.includes('dir'), names.join(' '));
        t.false(names.includes('sock'), names.join(' '));
        rmSync(hostDir, { recursive: true, force: true });
      }
    });
  }
}

// Datagram sockets (net_unix_dgram.c): pairs, names, queues, control data, readiness.
for (const place of places) {
  for (const platform of platforms) {
    const title = `net_unix_dgram on ${place} [${platform}]`;
    if (skip) {
      test.skip(`${title} (skipped: ${skip})`, () => {});
      continue;
    }
    test(title, async (t) => {
      const program = await guestProgram('net_unix_dgram');
      const { native, boxed, hostDir } = runInPlace(program, place, platform, 'dgram');
      t.is(native.status, 0, native.stderr);
      t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
      t.is(boxed.status, 0);
      if (hostDir !== null) rmSync(hostDir, { recursive: true, force: true });
    });
  }
}

// IPv4 and IPv6 on the sandbox's loopback (net_inet.c): TCP and UDP, names, ports, options, readiness;
// TCP shutdown, resets and connect(AF_UNSPEC) (net_tcp_shut.c); ip_local_port_range and
// ip_unprivileged_port_start (net_ports.c); TCP's urgent data, SIGURG and F_SETOWN (net_oob.c); a Unix
// stream's MSG_OOB (net_unix_oob.c); Unix stream and seqpacket SHUT_RD with data queued and the peer's
// writes after it (net_unix_shut.c); ephemeral ports shared by connections to different destinations
// (net_ports_share.c); Unix sockets in flight in unreachable cycles collected (net_unix_gc.c);
// sendmmsg/recvmmsg over Unix datagrams and UDP (net_mmsg.c); socket timeouts (net_timeo.c). The
// programs need no directory; natively they run on the host's loopback with ephemeral ports only, and
// net_ports and net_ports_share in a network namespace of their own, so that the host's sysctls are
// never written.
compareWithNative([
  { name: 'net_inet', status: 0 }, { name: 'net_mmsg', status: 0 }, { name: 'net_timeo', status: 0 }, { name: 'net_tcp_shut', status: 0 },
  { name: 'net_ports', status: 0 }, { name: 'net_oob', status: 0 }, { name: 'net_unix_gc', status: 0 },
  { name: 'net_unix_oob', status: 0 }, { name: 'net_unix_shut', status: 0 },
  { name: 'net_ports_share', status: 0 },
]);

/** Python's socket module over AF_UNIX: bind, listen, accept, connect, send_fds and recv_fds. */
const pythonScript = String.raw`
import os, socket, sys, array
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
path = os.path.join(d, 'py.sock')
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(2)
print('listening', srv.getsockname() == path, os.path.exists(path))
cli = socket.socket(socket.AF_UNIX)
cli.connect(path)
conn, addr = srv.accept()
print('accepted', repr(addr), conn.getsockname() == path, cli.getpeername() == path)
cli.sendall(b'hello ' * 1000)
got = b''
while len(got) < 6000:
    got += conn.recv(65536)
print('got', len(got))
r, w = os.pipe()
socket.send_fds(cli, [b'with fds'], [r, w])
msg, fds, flags, _ = socket.recv_fds(conn, 100, 4)
print('recv_fds', msg, len(fds), flags)
os.write(fds[1], b'through the passed pipe')
print(os.read(r, 100))
for fd in fds: os.close(fd)
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
a.send(b'one'); a.send(b'two')
print('seqpacket', b.recv(10), b.recv(10))
abstract = socket.socket(socket.AF_UNIX)
abstract.bind(b'\0tsvisor-py-%d' % os.getpid())
abstract.listen(1)
c2 = socket.socket(socket.AF_UNIX)
c2.connect(abstract.getsockname())
print('abstract', abstract.getsockname()[:12])
pid = os.fork()
if pid == 0:
    c3 = socket.socket(socket.AF_UNIX)
    c3.connect(path)
    c3.sendall(b'from the child')
    os._exit(0)
s3, _ = srv.accept()
print('child says', s3.recv(100))
os.waitpid(pid, 0)
srv.close()
try:
    socket.socket(socket.AF_UNIX).connect(path)
except OSError as e:
    print('after close', e.errno == 111)
os.unlink(path)
`;

for (const platform of platforms) {
  const title = `python3 socket: AF_UNIX bind, listen, accept, connect, send_fds and recv_fds [${platform}]`;
  if (skip || !existsSync(PYTHON)) {
    test.skip(`${title} (skipped: ${skip ?? 'no python3'})`, () => {});
    continue;
  }
  test(title, (t) => {
    const nativeDir = scratch('py');
    const native = runNative(PYTHON, ['-c', pythonScript, join(nativeDir, 'work')]);
    rmSync(nativeDir, { recursive: true, force: true });
    t.is(native.status, 0, native.stderr);
    const boxed = runSandbox(PYTHON, ['-c', pythonScript, '/tmp/py-net'], { platform, extraCliArgs: ['--tmpfs', '/tmp', ...checkoutMountUnder(['/tmp'])], withoutCheckout: true });
    t.is(boxed.stdout, native.stdout, boxed.stderr);
    t.is(boxed.status, 0);
  });
}

/** TCP echo over socket and asyncio on 127.0.0.1 and ::1, a UDP exchange, getaddrinfo of the loopback's names. */
const pythonInetScript = String.raw`
import asyncio, socket, threading
for family, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, 0))
    srv.listen(5)
    port = srv.getsockname()[1]
    def serve():
        conn, addr = srv.accept()
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
    th = threading.Thread(target=serve)
    th.start()
    cli = socket.create_connection((host, port))
    peer = cli.getpeername()[0]
    cli.sendall(b'ping ' * 20000)
    cli.shutdown(socket.SHUT_WR)
    got = b''
    while True:
        d = cli.recv(65536)
        if not d:
            break
        got += d
    th.join()
    print(family.name, 'echoed', len(got), got[:10], peer)
    try:
        cli.getpeername()
    except OSError as e:
        print('closed both ways', e.errno)
    cli.close(); srv.close()

async def handle(reader, writer):
    data = await reader.readline()
    writer.write(data.upper())
    await writer.drain()
    writer.close()
    await writer.wait_closed()

async def main():
    for host in ('127.0.0.1', '::1'):
        server = await asyncio.start_server(handle, host, 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b'hello asyncio\n')
        await writer.drain()
        print('asyncio', host, await reader.readline())
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
asyncio.run(main())

a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a.bind(('127.0.0.1', 0))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b.sendto(b'datagram', a.getsockname())
data, addr = a.recvfrom(100)
print('udp', data, addr[0], addr[1] == b.getsockname()[1])
a.sendto(b'reply', addr)
print('udp reply', b.recvfrom(100)[0])
print('getaddrinfo', socket.getaddrinfo('127.0.0.1', 80, socket.AF_INET, socket.SOCK_STREAM)[0][4])
print('getaddrinfo', socket.getaddrinfo('::1', 80, socket.AF_INET6, socket.SOCK_STREAM)[0][4][:2])
`;

for (const platform of platforms) {
  const title = `python3 socket and asyncio: TCP and UDP on 127.0.0.1 and ::1 [${platform}]`;
  if (skip || !existsSync(PYTHON)) {
    test.skip(`${title} (skipped: ${skip ?? 'no python3'})`, () => {});
    continue;
  }
  test(title, (t) => {
    const native = runNative(PYTHON, ['-c', pythonInetScript]);
    t.is(native.status, 0, native.stderr);
    const boxed = runSandbox(PYTHON, ['-c', pythonInetScript], { platform });
    t.is(boxed.stdout, native.stdout, boxed.stderr);
    t.is(boxed.status, 0);
  });
}

/**
 * redis-server on a fixed port of the sandbox's loopback, and redis-cli talking to it, in one run:
 * the port is the sandbox's own, so no host service can hold it.
 */
const redisScript = `
redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --daemonize no --logfile /dev/null &
i=0
until redis-cli -p 6390 ping >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 300 ] && exit 3; sleep 0.1; done
redis-cli -p 6390 set k v
redis-cli -p 6390 get k
redis-cli -p 6390 incrby n 41
redis-cli -p 6390 shutdown nosave
wait
echo "server exited $?"
`;

for (const platform of platforms) {
  const title = `redis-server and redis-cli on the sandbox's loopback [${platform}]`;
  const missing = skip ?? (!existsSync(REDIS_SERVER) ? 'redis-server is not installed (Debian package redis-server)' : !existsSync(BUSYBOX) ? 'no busybox' : null);
  if (missing !== null) {
    test.skip(`${title} (skipped: ${missing})`, () => {});
    continue;
  }
  test(title, (t) => {
    const boxed = runSandbox(BUSYBOX, ['sh', '-c', redisScript], { platform });
    t.is(boxed.stdout, 'OK\nv\n41\nserver exited 0\n', boxed.stderr);
    t.is(boxed.status, 0);
  });
}
