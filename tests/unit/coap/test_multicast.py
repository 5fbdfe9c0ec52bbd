# coap.multicast: answers to multicast requests wait for a random leisure
# (RFC 7252 §8.2) in one preallocated buffer and leave from tick().
import unittest

try:
    import socket
except ImportError:  # the wasm32 port has no network: the socket cases run on the unix port
    socket = None

import coapmsg as m
from coap import clock
from coap.multicast import DEFAULT_LEISURE_MS, Replier, leisure_ms
from fake_time import Clock
from freeport import bound
from heaplock import heap_lock, locked
from sample import make_server

ANSWER = m.encode(m.NON, 69, 0x1111, b"\x01", [(12, b"\x28")], b"</sensors/temp>")


class Sent:
    def __init__(self):
        self.sent = []

    def __call__(self, buf, addr):
        self.sent.append((bytes(buf), addr))


class Leisure(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()
        self.out = Sent()
        self.log = []
        self.r = Replier(self.out, 200, clock=self.clock, log=self.log.append)

    def due_in(self):
        return self.clock.ticks_diff(self.r.due, self.clock.ticks_ms())

    def test_sent_once_when_due_not_before(self):
        self.assertTrue(self.r.queue(ANSWER, ("192.0.2.1", 5683)))
        wait = self.due_in()
        self.assertTrue(0 <= wait < 200, wait)
        if wait:
            self.clock.advance(wait - 1)
            self.r.tick()
            self.assertEqual(self.out.sent, [])
            self.clock.advance(1)
        self.r.tick()
        self.assertEqual(self.out.sent, [(ANSWER, ("192.0.2.1", 5683))])
        self.clock.advance(1000)
        self.r.tick()
        self.assertEqual(len(self.out.sent), 1)
        self.assertEqual(self.r.sent, 1)

    def test_delay_is_random_within_the_leisure(self):
        waits = set()
        for _ in range(200):
            self.r.queue(ANSWER, ("192.0.2.1", 5683))
            waits.add(self.due_in())
            self.clock.advance(200)
            self.r.tick()
        self.assertTrue(all(0 <= w < 200 for w in waits), waits)
        self.assertTrue(len(waits) > 20, waits)  # not one fixed delay for every board
        self.assertEqual(len(self.out.sent), 200)

    def test_a_second_request_while_one_is_pending_is_dropped(self):
        other = m.encode(m.NON, 69, 0x2222, b"\x02", [], b"x")
        self.assertTrue(self.r.queue(ANSWER, "first"))
        self.assertFalse(self.r.queue(other, "second"))
        self.assertEqual(self.r.dropped, 1)
        self.clock.advance(200)
        self.r.tick()
        self.assertEqual(self.out.sent, [(ANSWER, "first")])
        self.assertTrue(self.r.queue(other, "third"))  # free again once sent

    def test_leisure_zero_sends_at_the_next_tick(self):
        r = Replier(self.out, 0, clock=self.clock)
        r.queue(ANSWER, "peer")
        r.tick()
        self.assertEqual(len(self.out.sent), 1)

    def test_too_large_is_dropped(self):
        r = Replier(self.out, 0, size=8, clock=self.clock)
        self.assertFalse(r.queue(ANSWER, "peer"))
        r.tick()
        self.assertEqual((self.out.sent, r.dropped), ([], 1))

    def test_a_failed_send_is_logged_and_forgotten(self):
        def fail(buf, addr):
            raise OSError(101)
        r = Replier(fail, 0, clock=self.clock, log=self.log.append)
        r.queue(ANSWER, "peer")
        r.tick()
        self.assertEqual(len(self.log), 1)
        self.assertIn("multicast: reply not sent", self.log[0])
        self.assertIsNone(r.peer)

    def test_defaults_and_formula(self):
        self.assertEqual(DEFAULT_LEISURE_MS, 5000)
        # §8.2: S = 100 bytes, G = 50 servers, R = 1000 bytes/s -> 5 s
        self.assertEqual(leisure_ms(100, 50, 1000), 5000)


def _need_sockets():
    if socket is None:
        raise unittest.SkipTest("this port has no sockets")


def _udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(socket.getaddrinfo("127.0.0.1", 0, 0, socket.SOCK_DGRAM)[0][-1])
    return s


class ThroughTheServer(unittest.TestCase):
    """A socket listed in server.multicast_socks: answers go through the Replier,
    errors are silence. (Which socket it is decides; no group is needed here.)"""

    def setUp(self):
        _need_sockets()
        self.group_sock, self.dest = bound()   # stands for the socket bound to the group
        self.unicast = _udp()
        self.client = _udp()
        self.client.settimeout(2)
        self.clock = Clock()
        self.server = make_server()
        self.replier = Replier(lambda buf, addr: self.unicast.sendto(buf, addr), 300,
                               clock=self.clock)
        self.server.multicast_socks = (self.group_sock,)
        self.server.on_multicast = self.replier.queue

    def tearDown(self):
        for s in (self.group_sock, self.unicast, self.client):
            s.close()

    def ask(self, msg):
        self.client.sendto(msg, self.dest)
        self.assertTrue(self.server.poll(self.group_sock))
        self.clock.advance(300)
        self.replier.tick()

    def test_answer_leaves_from_the_unicast_socket_after_the_leisure(self):
        self.ask(m.get(".well-known/core", mtype=m.NON, token=b"\x33", query=["rt=on-off"]))
        data, _ = self.client.recvfrom(1200)
        t, code, mid, token, opts, payload = m.decode(data)
        self.assertEqual((t, code, token), (m.NON, 69, b"\x33"))
        self.assertIn(b"</actuators/led>", payload)

    def test_not_found_and_empty_filters_are_silence(self):
        self.ask(m.get("no/such/thing", mtype=m.NON))                   # 4.04: §8.1
        self.ask(m.get(".well-known/core", mtype=m.NON, query=["rt=nothing"]))
        self.assertEqual((self.replier.sent, self.replier.peer), (0, None))
        self.ask(m.get("sensors/temp", mtype=m.NON, token=b"\x44"))     # then one that answers
        data, _ = self.client.recvfrom(1200)
        self.assertEqual(m.decode(data)[3], b"\x44")  # the first datagram is this answer


    def test_a_con_to_the_group_is_not_acknowledged(self):
        # RFC 7252 §8.1: a message to a multicast address MUST be NON; a CON
        # there is dropped, neither ACKed nor answered (§8.2: nor RST)
        self.ask(m.get("sensors/temp", mtype=m.CON, token=b"\x55"))
        self.ask(m.get(".well-known/core", mtype=m.CON, token=b"\x56"))
        self.assertEqual((self.replier.sent, self.replier.peer), (0, None))
        self.ask(m.get("sensors/temp", mtype=m.NON, token=b"\x57"))  # a NON is answered
        data, _ = self.client.recvfrom(1200)
        t, code, mid, token, opts, payload = m.decode(data)
        self.assertEqual((t, code, token), (m.NON, 69, b"\x57"))


class NoAlloc(unittest.TestCase):
    def test_queue_and_send_allocate_nothing(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        sent = [None]

        def send(buf, addr):
            sent[0] = addr
        r = Replier(send, 0, clock=clock)
        src = bytearray(ANSWER)
        r.queue(src, "warm-up")
        r.tick()
        with locked(self, "queue and send"):
            for _ in range(10):
                r.queue(src, "peer")
                r.tick()
        self.assertEqual((sent[0], r.sent), ("peer", 11))
