# Zero allocation, proven: parse -> dispatch -> handler -> write runs with the
# heap locked (micropython.heap_lock); any allocation raises MemoryError.
import unittest

import coapmsg as m
from coap import aes
from coap.echo import Echo
from heaplock import heap_lock, locked, no_alloc
from sample import make_server


REQUESTS = (
    # (label, request, response code; None: silence, 0: RST)
    ("GET text", m.get("sensors/temp"), 69),
    ("GET json", m.get("sensors/temp", options=[(17, m.uint(50))]), 69),
    ("NON GET", m.get("sensors/temp", mtype=m.NON, token=b"12345678"), 69),
    ("PUT payload", m.get("actuators/led", code=3, payload=b"on", options=[(12, b"")]), 68),
    ("PUT bad payload", m.get("actuators/led", code=3, payload=b"maybe"), 128),
    ("4.04", m.get("no/such/thing"), 132),
    ("4.02", m.get("sensors/temp", options=[(2049, b"x")]), 130),
    ("4.05", m.get("sensors/temp", code=4), 133),
    ("4.06", m.get("sensors/temp", options=[(17, m.uint(60))]), 134),
    ("4.15", m.get("actuators/led", code=3, payload=b"on", options=[(12, m.uint(50))]), 143),
    ("RST for ping", m.encode(m.CON, 0, 0x4242), 0),
    ("RST for format error", m.encode(m.CON, 1, 7, b"", [], b"") + b"\xf0", 0),
    ("silence for ACK", m.encode(m.ACK, 0, 9), None),
    ("well-known/core", m.get(".well-known/core"), 69),
    ("well-known/core ?rt=", m.get(".well-known/core", query=["rt=temp*"]), 69),
    ("query int", m.get("query", query=["n=42"]), 69),
    ("Block2 unasked", m.get("big"), 69),
    ("Block2 block 1", m.get("big", options=[(23, m.uint(1 << 4 | 6))]), 69),
    ("Block2 16-byte block 7", m.get("big", options=[(23, m.uint(7 << 4 | 0))]), 69),
)


# With the 3x rule (on by default), a peer without an Echo gets this instead:
# even a 16-byte first block of "big" can't fit 3x a 9-byte request, so it is
# 4.01 with an Echo. (Later blocks fit in 16 bytes, without an Echo.)
UNVERIFIED = {"Block2 unasked": 129}

# recvfrom's address shapes: raw sockaddr_in / sockaddr_in6 on the unix port,
# (text, port) tuples on lwIP boards
PEERS = (
    bytes([2, 0, 0x16, 0x33, 192, 168, 1, 20]) + bytes(8),
    bytes([10, 0, 0x16, 0x33]) + bytes(4) + bytes([0xFE, 0x80] + [0] * 13 + [1]) + bytes(4),
    ("192.168.1.20", 5683),
    ("fe80::1%wlan0", 5683),
)


class NoAlloc(unittest.TestCase):
    def setUp(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")

    def run_locked(self, srv, label, msg, code):
        n = len(msg)
        expected = srv.handle(msg, n)  # warm-up: first-call caches, interned names
        if code is None:
            self.assertEqual(expected, 0, label)
        else:
            self.assertEqual(srv.response.buf[1], code, label)
        self.assertEqual(no_alloc(self, label, srv.handle, msg, n), expected, label)
        if code is not None:
            self.assertEqual(srv.response.buf[1], code, label)

    def test_hot_path_allocates_nothing(self):
        srv = make_server(amplification_limit=False)
        for label, msg, code in REQUESTS:
            self.run_locked(srv, label, msg, code)

    def test_with_the_amplification_limit(self):
        srv = make_server()
        for peer in PEERS:
            srv.request.peer = peer
            for label, msg, code in REQUESTS:
                self.run_locked(srv, label, msg, UNVERIFIED.get(label, code))

    def test_proving_a_peer_allocates_nothing(self):
        # amplify.Verified: a new peer takes a slot, an old one is found
        srv = make_server(proven_peers=2)
        srv.proven.add(PEERS[0])  # warm-up
        for peer in PEERS + PEERS:
            with locked(self, "proving"):
                srv.proven.add(peer)
                found = srv.proven.has(peer)
            self.assertEqual(found, True, peer)

    def test_echo_check_with_the_amplification_limit(self):
        # A valid Echo from the same peer: checked (an AES CBC-MAC) and answered in full
        srv = make_server()
        if not aes.available():  # the 32-bit test builds: the stand-in, for the arithmetic
            from test_echo import StandIn
            srv.echo = Echo(cipher=StandIn)
        for peer in PEERS:
            srv.request.peer = peer
            srv.echo.make(peer)
            echo = [(252, bytes(srv.echo.value))]
            for label, msg, code in REQUESTS:
                request = code is not None and code != 0  # not a ping, ACK or format error
                if request:
                    t, c, mid, token, opts, payload = m.decode(msg)
                    msg = m.encode(t, c, mid, token, opts + echo, payload)
                self.run_locked(srv, label + " with Echo", msg, code)
                if request:
                    self.assertTrue(srv.request.verified, label)
