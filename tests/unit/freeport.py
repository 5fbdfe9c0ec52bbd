# A UDP socket on a free 127.0.0.1 port, for the unit tests that use real
# sockets on the unix port. MicroPython's sockets have no getsockname, so the
# port is chosen here rather than by binding port 0. (The CPython side's
# helper is tests/support.py's free_port.)
try:
    import socket
except ImportError:  # the wasm32 port has no network: such tests skip or stay out
    socket = None


def bound():
    """A socket bound to a free 127.0.0.1 port, and that address."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = 20000 + (id(s) >> 4) % 30000  # spread, so parallel runs rarely collide
    for p in range(start, start + 500):
        addr = socket.getaddrinfo("127.0.0.1", p, 0, socket.SOCK_DGRAM)[0][-1]
        try:
            s.bind(addr)
            return s, addr
        except OSError:
            continue
    s.close()
    raise OSError("no free port")
