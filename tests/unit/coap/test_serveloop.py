# Server.serve: one loop for every configuration. A readable socket is drained
# before anything else runs, and the tick runs when its deadline has passed, not
# once per datagram.
import socket
import unittest

import coapmsg as m
from coap import Resource, Server
from test_udp import bound_pair


class Stop(BaseException):
    """Ends serve() from inside a handler or tick (handlers' Exceptions are caught)."""


def stop(req, resp):
    raise Stop


answered = [0]


def ok(req, resp):
    answered[0] += 1
    resp.payload(b"ok")


def make(tick_ms, ticks, stop_after=None, stop_when_answered=None):
    srv = Server((Resource("ok", get=ok), Resource("stop", get=stop)), log=None)
    srv.tick_ms = tick_ms
    answered[0] = 0

    def tick():
        ticks.append(1)
        if stop_after is not None and len(ticks) >= stop_after:
            raise Stop
        if stop_when_answered is not None and answered[0] >= stop_when_answered:
            raise Stop
    srv.tick = tick
    return srv


class Serve(unittest.TestCase):
    def setUp(self):
        self.srv_sock, self.cli, self.addr = bound_pair()

    def tearDown(self):
        self.srv_sock.close()
        self.cli.close()

    def queue(self, count, path="ok"):
        for i in range(count):
            self.cli.sendto(m.get(path, mid=i, token=b"t"), self.addr)

    def answers(self, count):
        got = []
        for _ in range(count):
            data, _ = self.cli.recvfrom(1200)
            got.append(m.decode(data)[:3])
        return got

    def test_a_burst_is_answered_without_a_tick_before_its_deadline(self):
        ticks = []
        srv = make(60000, ticks)
        self.queue(40)
        self.queue(1, "stop")
        with self.assertRaises(Stop):
            srv.serve(self.srv_sock)
        self.assertEqual(self.answers(40), [(m.ACK, 69, i) for i in range(40)])
        self.assertEqual(ticks, [])  # the old loop ticked after every datagram

    def test_tick_runs_while_idle(self):
        ticks = []
        srv = make(1, ticks, stop_after=3)
        with self.assertRaises(Stop):
            srv.serve(self.srv_sock)
        self.assertEqual(len(ticks), 3)

    def test_a_flood_does_not_hold_the_tick_back(self):
        ticks = []
        srv = make(0, ticks)  # always due: checked after every burst
        srv.burst = 4
        self.queue(40)
        self.queue(1, "stop")
        with self.assertRaises(Stop):
            srv.serve(self.srv_sock)
        self.assertEqual(len(self.answers(40)), 40)
        self.assertTrue(len(ticks) >= 10, len(ticks))  # one at least every 4 datagrams

    def test_an_error_in_every_tick_neither_stops_nor_stalls_serving(self):
        # A tick that raises each time (a hostile RD answer did): serve() logs
        # it and goes on answering, instead of leaving for the caller's 1-s pause
        lines, ticks = [], []

        def tick():
            ticks.append(1)
            if answered[0] >= 40:
                raise Stop
            raise UnicodeError("not UTF-8")
        srv = Server((Resource("ok", get=ok),), log=lines.append)
        srv.tick, srv.tick_ms, srv.burst = tick, 0, 4
        answered[0] = 0
        self.queue(40)
        with self.assertRaises(Stop):
            srv.serve(self.srv_sock)
        self.assertEqual(len(self.answers(40)), 40)
        self.assertTrue(len(ticks) >= 10, len(ticks))  # still one every 4 datagrams
        self.assertEqual(lines[0], "coap: tick error UnicodeError: not UTF-8; serving on")

    def test_serves_several_sockets(self):
        other, cli2, addr2 = bound_pair()
        try:
            srv = make(1, [], stop_when_answered=6)
            self.queue(5)
            cli2.sendto(m.get("ok", mid=77, token=b"u"), addr2)
            with self.assertRaises(Stop):
                srv.serve(self.srv_sock, other)
            self.assertEqual(self.answers(5), [(m.ACK, 69, i) for i in range(5)])
            data, _ = cli2.recvfrom(1200)
            self.assertEqual(m.decode(data)[:3], (m.ACK, 69, 77))
        finally:
            other.close()
            cli2.close()
