# Runs a command with stdin, stdout and stderr on a new pseudo-terminal and types at its master on cue
# (test/guest/tty_host_vtime.c): when the program prints "ready N", the pieces of TYPING[N] go in, each
# after its delay. Prints everything the program wrote to the terminal, and exits with its status.
import os, sys, time

TYPING = {
    '3': [(0.05, b'a'), (0.3, b'bc')],
    '4': [(0.05, b'xy'), (0.6, b'z')],
    '6': [(0.05, b'pqr')],
}

def main():
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        import fcntl, termios
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        os.execvp(sys.argv[1], sys.argv[1:])
    os.close(slave)
    out = b''
    pending = b''
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the program and everything on the terminal are gone
            break
        if not chunk:
            break
        out += chunk
        pending += chunk
        while b'\n' in pending:
            line, pending = pending.split(b'\n', 1)
            line = line.rstrip(b'\r')
            if line.startswith(b'ready '):
                for delay, piece in TYPING.get(line[6:].decode(), []):
                    time.sleep(delay)
                    os.write(master, piece)
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(out.replace(b'\r\n', b'\n'))
    sys.exit(os.waitstatus_to_exitcode(status))

main()
