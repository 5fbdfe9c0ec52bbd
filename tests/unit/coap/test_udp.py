# Garbage per request through the real UDP socket loop: Server.poll may leave
# only what the port's recvfrom itself allocates (the datagram and the address).
import gc
import socket
import unittest

import coapmsg as m
from freeport import bound
from sample import make_server

REQUESTS = 1000


def bound_pair():
    """A server socket on a free 127.0.0.1 port and a client socket aimed at it."""
    srv, addr = bound()
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cli.bind(socket.getaddrinfo("127.0.0.1", 0)[0][-1])
    return srv, cli, addr


def garbage_per_message(step, cli, srv_addr, msgs):
    """Average bytes allocated by step() while the GC is off, one datagram of
    msgs each."""
    total = 0
    gc.collect()
    gc.disable()
    try:
        for msg in msgs:
            cli.sendto(msg, srv_addr)
            before = gc.mem_alloc()
            step()
            total += gc.mem_alloc() - before
            cli.recvfrom(1200)
            if gc.mem_free() < 100000:
                gc.collect()
    finally:
        gc.enable()
    return total / len(msgs)


def garbage_per_request(step, cli, srv_addr, msg, count):
    """Average bytes allocated by step() while the GC is off, one request each."""
    return garbage_per_message(step, cli, srv_addr, [msg] * count)


class UdpLoop(unittest.TestCase):
    def setUp(self):
        if not hasattr(gc, "mem_alloc"):
            raise unittest.SkipTest("gc.mem_alloc exists only in MicroPython")
        self.srv_sock, self.cli, self.addr = bound_pair()

    def tearDown(self):
        self.srv_sock.close()
        self.cli.close()

    def test_server_garbage_is_only_what_recvfrom_returns(self):
        server = make_server()
        msg = m.get("sensors/temp", token=b"\x01\x02")
        # the floor: a bare recvfrom + sendto echo of the same datagrams
        reply = bytes(20)
        srv = self.srv_sock

        def echo():
            data, addr = srv.recvfrom(server.buffer_size + 1)
            srv.sendto(reply, addr)

        def serve_one():
            self.assertTrue(server.poll(srv))

        serve_one_warm = garbage_per_request(serve_one, self.cli, self.addr, msg, 10)
        floor = garbage_per_request(echo, self.cli, self.addr, msg, REQUESTS)
        per_request = garbage_per_request(serve_one, self.cli, self.addr, msg, REQUESTS)
        print("garbage per request: server %d bytes, bare recvfrom %d bytes (warm-up %d)"
              % (per_request, floor, serve_one_warm))
        self.assertEqual(per_request, floor)

    def test_answers_over_udp(self):
        server = make_server()
        self.cli.sendto(m.get("sensors/temp", mid=0x0101, token=b"ok"), self.addr)
        server.poll(self.srv_sock)
        data, _ = self.cli.recvfrom(1200)
        self.assertEqual(m.decode(data)[:4], (m.ACK, 69, 0x0101, b"ok"))

    def test_drain_answers_a_burst_up_to_its_limit(self):
        # serve()'s loop for a readable socket: every datagram waiting, at most limit
        server = make_server()
        self.srv_sock.setblocking(False)
        for mid in (1, 2, 3):
            self.cli.sendto(m.get("sensors/temp", mid=mid, token=b"b"), self.addr)
        self.assertEqual(server.drain(self.srv_sock, 2), 2)
        self.assertEqual(server.drain(self.srv_sock, 10), 1)  # stopped by EAGAIN
        self.assertEqual(server.drain(self.srv_sock, 10), 0)
        mids = sorted(m.decode(self.cli.recvfrom(1200)[0])[2] for _ in range(3))
        self.assertEqual(mids, [1, 2, 3])


class ProtectedUdpLoop(unittest.TestCase):
    setUp = UdpLoop.setUp
    tearDown = UdpLoop.tearDown

    def test_server_garbage_is_only_what_recvfrom_returns(self):
        from coap import aes
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")
        from coap import Server
        from coap.oscorectx import Context
        from oscoreclient import BOARD_ID, CLIENT_ID, SALT, SECRET, Client
        from sample import RESOURCES

        server = Server(RESOURCES, log=None, oscore=[Context(SECRET, SALT, BOARD_ID, CLIENT_ID)])
        client = Client()
        plain = m.get("sensors/temp", token=b"\x01\x02")
        srv = self.srv_sock
        reply = bytes(40)

        def echo():
            data, addr = srv.recvfrom(server.buffer_size + 1)
            srv.sendto(reply, addr)

        def serve_one():
            self.assertTrue(server.poll(srv))
            self.assertEqual(server.response.buf[1], 68)  # protected 2.04 outside

        warm = [client.protect(plain) for _ in range(10)]
        garbage_per_message(serve_one, self.cli, self.addr, warm)
        floor = garbage_per_message(echo, self.cli, self.addr,
                                    [client.protect(plain) for _ in range(200)])
        per_request = garbage_per_message(serve_one, self.cli, self.addr,
                                          [client.protect(plain) for _ in range(200)])
        print("garbage per protected request: server %d bytes, bare recvfrom %d bytes"
              % (per_request, floor))
        self.assertEqual(per_request, floor)
