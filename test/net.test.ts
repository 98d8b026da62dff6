// Unix-domain sockets compared with the host kernel: net_unix.c binds, listens, connects and passes
// files in a scratch directory, natively and in the sandbox (on a tmpfs at /tmp, on a host directory
// through the Gofer with --mount, in a new directory of the overlay root), in both platform modes, and
// must print the same lines. Python's socket module does the same through its own calls.
import test from 'ava';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { guestProgram } from './helpers/guest-programs.js';
import { everyPlace, runInPlace, scratch } from './helpers/places.js';
import { checkoutMountUnder, kvmSkipReason, platforms, runNative, runSandbox } from './helpers/run.js';

const skip = kvmSkipReason();
const PYTHON = '/usr/bin/python3';
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

// IPv4 and IPv6 on the sandbox's loopback (net_inet.c): TCP and UDP, names, ports, options, readiness.
// The program needs no directory; natively it runs on the host's loopback with ephemeral ports only.
for (const platform of platforms) {
  const title = `net_inet: TCP and UDP on the loopback [${platform}]`;
  if (skip) {
    test.skip(`${title} (skipped: ${skip})`, () => {});
    continue;
  }
  test(title, async (t) => {
    const program = await guestProgram('net_inet');
    const native = runNative(program);
    t.is(native.status, 0, native.stderr);
    const boxed = runSandbox(program, [], { platform });
    t.is(boxed.stdout, native.stdout, `sandbox stderr:\n${boxed.stderr}`);
    t.is(boxed.status, 0);
  });
}

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
