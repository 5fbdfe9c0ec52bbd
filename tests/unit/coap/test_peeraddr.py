# coap.peeraddr: a peer's address in every shape recvfrom gives it.
import unittest

from coap.peeraddr import PEER_ROOM, host_port, is_ipv6, keep, port_of
from heaplock import heap_lock, locked

try:
    import socket
except ImportError:  # the wasm32 port has no network: the socket cases run on the unix port
    socket = None

V4 = bytes([2, 0, 0x16, 0x33, 192, 0, 2, 1]) + bytes(8)                     # sockaddr_in
V6 = bytes([10, 0, 0x16, 0x33]) + bytes(4) + b"\xfd" + bytes(14) + b"\x01" + bytes(4)
LWIP = ("192.0.2.1", 5683)
LWIP6 = ("fd00::1", 5683)
CPYTHON6 = ("fd00::1", 5683, 0, 0)
PEERS = (V4, V6, LWIP, LWIP6, CPYTHON6)


def _need_sockets():
    if socket is None:
        raise unittest.SkipTest("this port has no sockets")


class Shapes(unittest.TestCase):
    def test_port_of_each_shape(self):
        self.assertEqual([port_of(p) for p in PEERS], [5683] * 5)
        self.assertEqual(port_of(bytes([2, 0, 0, 0, 1, 2, 3, 4]) + bytes(8)), 0)
        self.assertEqual(port_of(("1.2.3.4", 0)), 0)
        self.assertEqual(port_of(None), -1)

    def test_is_ipv6(self):
        self.assertEqual([is_ipv6(p) for p in PEERS], [False, True, False, True, True])

    def test_what_this_port_returns(self):
        _need_sockets()
        v4 = socket.getaddrinfo("127.0.0.1", 5683, 0, socket.SOCK_DGRAM)[0][-1]
        v6 = socket.getaddrinfo("::1", 5683, 0, socket.SOCK_DGRAM)[0][-1]
        self.assertEqual((is_ipv6(v4), is_ipv6(v6)), (False, True))

    def test_host_port(self):
        self.assertEqual(host_port(LWIP), ("192.0.2.1", 5683))
        self.assertEqual(host_port(CPYTHON6), ("fd00::1", 5683))
        _need_sockets()  # a raw sockaddr is read with socket.inet_ntop
        self.assertEqual(host_port(V4), ("192.0.2.1", 5683))
        self.assertEqual(host_port(V6[:2] + b"\xf0\x50" + V6[4:]), ("fd00::1", 61520))


class Keep(unittest.TestCase):
    def test_tuples_by_reference_raw_by_copy(self):
        room = bytearray(PEER_ROOM)
        self.assertIs(keep(LWIP, room), LWIP)
        data = bytearray(V6)
        kept = keep(data, room)
        self.assertIs(kept, room)
        data[4] = 0xFF  # the datagram's buffer reused: the kept copy stays
        self.assertEqual((kept == V6, kept == bytes(data)), (True, False))
        self.assertIsNone(keep(bytes(PEER_ROOM + 1), room))
        self.assertIsNone(keep(None, room))

    def test_keep_allocates_nothing(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        room = bytearray(PEER_ROOM)
        keep(V4, room)
        with locked(self, "keep"):
            kept = keep(V6, room)
            port = port_of(kept)
        self.assertEqual(port, 5683)


if __name__ == "__main__":
    unittest.main()
