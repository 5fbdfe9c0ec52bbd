# A peer's address in the shapes recvfrom gives it: a raw sockaddr (bytes:
# 16 for sockaddr_in, 28 for sockaddr_in6, port at bytes 2-3 in network order)
# on the unix port, a tuple on lwIP ports ((host, port)) and CPython ((host,
# port) or (host, port, flowinfo, scope_id)). Every reading of one is here.
# Only host_port() allocates.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

PEER_ROOM = const(32)  #: bytes a kept raw address may have (a sockaddr_in6 is 28)
_EMPTY = b""


def is_bytes(x):
    # two calls, not isinstance(x, (bytes, bytearray)): that tuple is built per call
    return isinstance(x, bytes) or isinstance(x, bytearray)


def port_of(peer):
    """The peer's UDP port, or -1 when the address has no recognisable shape."""
    if isinstance(peer, tuple):
        return peer[1] if len(peer) > 1 and isinstance(peer[1], int) else -1
    if is_bytes(peer) and len(peer) >= 4:
        return (peer[2] << 8) | peer[3]
    return -1


def is_ipv6(addr):
    """True for an IPv6 peer address."""
    if isinstance(addr, tuple):
        return len(addr) == 4 or ":" in addr[0]
    return len(addr) > 16


def keep(peer, room):
    """What to keep of peer to compare later ones with (==) without keeping the
    datagram's own object alive: a tuple itself (immutable), a raw address
    copied into room (a bytearray(PEER_ROOM), reused), or None for another shape."""
    if isinstance(peer, tuple):
        return peer
    if is_bytes(peer) and len(peer) <= PEER_ROOM:
        room[0:] = _EMPTY  # keeps its capacity: nothing allocated
        room.extend(peer)
        return room
    return None


def host_port(addr):
    """(host text, port) of a peer address."""
    if isinstance(addr, tuple):
        return addr[0], addr[1]
    import socket
    a = bytes(addr)
    v6 = len(a) > 16
    host = socket.inet_ntop(socket.AF_INET6 if v6 else socket.AF_INET, a[8:24] if v6 else a[4:8])
    return host, (a[2] << 8) | a[3]
