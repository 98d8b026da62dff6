// The names Unix-domain sockets bind (unix(7)): a socket node in the filesystem, or a name in the
// abstract namespace (sun_path starting with a zero byte; every byte of the address length counts).
// A node names its listener through its inode (Dentry.lockKey, one per inode: a hard link or a rename
// still leads to it, and a new file where an unlinked one was does not); the socket takes its entry
// back when it goes. Autobind picks an abstract name of five hex digits, as Linux does.
import { EADDRINUSE, type Errno } from '../abi/errno.js';
import type { UnixSocket } from './unix-socket.js';

/** The sockets of the sandbox's one network namespace: by bound inode, and by abstract name. */
const byNode = new Map<unknown, UnixSocket>();
const byAbstractName = new Map<string, UnixSocket>();
/** Linux starts autobind's search at a random name. */
let nextAutobind = Math.floor(Math.random() * 0x100000);
const AUTOBIND_NAMES = 0x100000;

/** struct sockaddr_un's sun_family bytes (AF_UNIX). */
const FAMILY = [1, 0];

/** Binds sock to the socket node whose inode is key (the node was just made for it). */
export function bindNode(sock: UnixSocket, key: unknown, pathBytes: Uint8Array): void {
  byNode.set(key, sock);
  // getsockname shows the path and its terminating zero byte.
  const address = new Uint8Array(2 + pathBytes.length + 1);
  address.set(FAMILY);
  address.set(pathBytes, 2);
  sock.setName(address, () => {
    if (byNode.get(key) === sock) byNode.delete(key);
  });
}

/** The socket bound to the node whose inode is key, if any. */
export function socketAtNode(key: unknown): UnixSocket | null {
  return byNode.get(key) ?? null;
}

function abstractKey(name: Uint8Array): string {
  return Buffer.from(name.buffer, name.byteOffset, name.length).toString('latin1');
}

/** Binds sock to an abstract name (sun_path's bytes, the leading zero included): EADDRINUSE if taken. */
export function bindAbstract(sock: UnixSocket, name: Uint8Array): Errno | null {
  const key = abstractKey(name);
  if (byAbstractName.has(key)) return EADDRINUSE;
  byAbstractName.set(key, sock);
  const address = new Uint8Array(2 + name.length);
  address.set(FAMILY);
  address.set(name, 2);
  sock.setName(address, () => {
    if (byAbstractName.get(key) === sock) byAbstractName.delete(key);
  });
  return null;
}

export function socketAtAbstractName(name: Uint8Array): UnixSocket | null {
  return byAbstractName.get(abstractKey(name)) ?? null;
}

/** Autobind: the next free abstract name "\0xxxxx" (EADDRINUSE if all million are taken). */
export function autobind(sock: UnixSocket): Errno | null {
  for (let tries = 0; tries < AUTOBIND_NAMES; tries++) {
    const n = nextAutobind;
    nextAutobind = (nextAutobind + 1) % AUTOBIND_NAMES;
    const name = new Uint8Array(6);
    name.set(Buffer.from(n.toString(16).padStart(5, '0'), 'latin1'), 1);
    if (bindAbstract(sock, name) === null) return null;
  }
  return EADDRINUSE;
}
