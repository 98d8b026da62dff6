# socket.socketpair and what is built on it: 100 000 bytes through a pair without a reader waiting
# (Linux's socket buffer holds them), multiprocessing's duplex Pipe across fork, and asyncio's loop
# woken from another thread through its self-pipe (a socketpair).
import asyncio
import multiprocessing
import os
import socket
import threading


def child(conn):
    conn.send(['ping', os.getpid() != 0])
    print('child got', conn.recv(), flush=True)


async def wake_from_thread():
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    threading.Thread(target=lambda: loop.call_soon_threadsafe(fut.set_result, 'woken through the self-pipe')).start()
    print(await fut)
    reader, writer = await asyncio.open_unix_connection(sock=pair[1])
    pair[0].sendall(b'line one\n')
    print('asyncio stream read:', await reader.readline())
    writer.close()


if __name__ == '__main__':
    a, b = socket.socketpair()
    a.sendall(b'x' * 100000)
    b.setblocking(False)
    got = b''
    try:
        while True:
            got += b.recv(65536)
    except BlockingIOError:
        pass
    print('socketpair: %d bytes across, family %s, type %s' % (len(got), a.family.name, a.type.name))
    a.shutdown(socket.SHUT_WR)
    b.setblocking(True)
    print('after the peer shut down writing:', b.recv(10))

    multiprocessing.set_start_method('fork')
    p, q = multiprocessing.Pipe(duplex=True)
    proc = multiprocessing.Process(target=child, args=(q,))
    proc.start()
    print('parent got', p.recv())
    p.send('pong')
    proc.join()
    print('child exit', proc.exitcode)

    pair = socket.socketpair()
    asyncio.run(wake_from_thread())
