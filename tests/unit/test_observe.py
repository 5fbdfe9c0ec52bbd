# Observe (RFC 7641): a fixed observer table, notifications from tick().
import unittest

import coapmsg as m
from coap import Resource, Server
from sample import RESOURCES, board

try:
    import micropython
except ImportError:
    micropython = None


class FakeSock:
    def __init__(self, keep=True):
        self.sent = []
        self.keep = keep
        self.count = 0

    def sendto(self, buf, addr):
        self.count += 1
        if self.keep:
            self.sent.append((m.decode(bytes(buf)), addr))


def server(**kw):
    kw.setdefault("ack_timeout_ms", 0)  # retransmit at the next tick: no waiting in tests
    # registrations as from verified peers; test_amplify.py has the unverified ones
    kw.setdefault("amplification_limit", False)
    return Server(RESOURCES, log=lambda s: None, **kw)


def deliver(srv, msg, peer=b"peer-1", sock=None):
    srv.request.peer = peer
    srv.sock = sock or FakeSock()
    n = srv.handle(msg, len(msg))
    return m.decode(bytes(srv.response.buf[:n])) if n else None


def observe(value, token=b"ob", path="sensors/temp", mtype=m.CON, mid=0x0100):
    return m.get(path, token=token, mtype=mtype, mid=mid, options=[(6, m.uint(value))])


def obs_value(r):
    v = m.option(r[4], 6)
    return None if v is None else m.to_uint(v)


class Registration(unittest.TestCase):
    def setUp(self):
        self.srv = server()
        self.obs = self.srv.observers

    def test_register_answers_with_observe(self):  # §3.1, §4.1
        r = deliver(self.srv, observe(0))
        self.assertEqual((r[0], r[1], r[3], r[5]), (m.ACK, 69, b"ob", b"23.12"))
        self.assertTrue(obs_value(r) > 0)
        self.assertEqual(self.obs.count(), 1)
        self.assertEqual([n for n, _ in r[4]], [6, 12])

    def test_re_registration_keeps_one_entry(self):
        deliver(self.srv, observe(0))
        deliver(self.srv, observe(0))
        self.assertEqual(self.obs.count(), 1)

    def test_deregister_with_observe_1(self):  # §3.6
        deliver(self.srv, observe(0))
        r = deliver(self.srv, observe(1))
        self.assertEqual((r[1], obs_value(r), self.obs.count()), (69, None, 0))

    def test_plain_get_with_same_token_ends_observation(self):  # §3.6
        deliver(self.srv, observe(0))
        deliver(self.srv, m.get("sensors/temp", token=b"ob"))
        self.assertEqual(self.obs.count(), 0)

    def test_other_token_or_peer_is_another_observer(self):
        deliver(self.srv, observe(0))
        deliver(self.srv, observe(0, token=b"o2"))
        deliver(self.srv, observe(0), peer=b"peer-2")
        self.assertEqual(self.obs.count(), 3)

    def test_full_table_serves_a_plain_get(self):  # §4.1
        srv = server(observers=2)
        deliver(srv, observe(0, token=b"a"))
        deliver(srv, observe(0, token=b"b"))
        r = deliver(srv, observe(0, token=b"c"))
        self.assertEqual((r[1], obs_value(r), srv.observers.count()), (69, None, 2))

    def test_not_observable_resource_ignores_observe(self):
        r = deliver(self.srv, observe(0, path="actuators/led"))
        self.assertEqual((r[1], obs_value(r), self.obs.count()), (69, None, 0))

    def test_no_table_without_observable_resources(self):
        srv = Server((Resource("x", get=lambda q, r: None),), log=lambda s: None)
        self.assertIsNone(srv.observers)


class Notifications(unittest.TestCase):
    def setUp(self):
        self.srv = server(con_every=3)
        self.sock = FakeSock()
        deliver(self.srv, observe(0), sock=self.sock)
        self.res = RESOURCES[0]

    def test_changed_sends_a_non_notification(self):  # §4.2
        board.temp_centi = 2400
        try:
            self.srv.observers.changed(self.res)
            self.srv.observers.tick()
        finally:
            board.temp_centi = 2312
        (r, addr), = self.sock.sent
        self.assertEqual((r[0], r[1], r[3], r[5], addr), (m.NON, 69, b"ob", b"24.00", b"peer-1"))
        self.assertEqual([n for n, _ in r[4]], [6, 12])

    def test_nothing_changed_nothing_sent(self):
        self.srv.observers.tick()
        self.assertEqual(self.sock.sent, [])

    def test_sequence_numbers_increase_and_every_nth_is_con(self):  # §3.4, §4.5
        seqs, types = [], []
        for _ in range(3):
            self.srv.observers.changed(self.res)
            self.srv.observers.tick()
            r = self.sock.sent[-1][0]
            seqs.append(obs_value(r))
            types.append(r[0])
        self.assertEqual(types, [m.NON, m.NON, m.CON])
        self.assertTrue(seqs[0] < seqs[1] < seqs[2])

    def test_max_age_refresh(self):  # §4.3.1
        srv = server(max_age_ms=0)
        deliver(srv, observe(0), sock=self.sock)
        srv.observers.tick()
        self.assertEqual(len(self.sock.sent), 1)

    def test_rst_to_a_notification_removes_the_observer(self):  # §3.6
        self.srv.observers.changed(self.res)
        self.srv.observers.tick()
        mid = self.sock.sent[-1][0][2]
        deliver(self.srv, m.encode(m.RST, 0, mid))
        self.assertEqual(self.srv.observers.count(), 0)

    def test_rst_from_another_peer_is_ignored(self):
        self.srv.observers.changed(self.res)
        self.srv.observers.tick()
        deliver(self.srv, m.encode(m.RST, 0, self.sock.sent[-1][0][2]), peer=b"peer-2")
        self.assertEqual(self.srv.observers.count(), 1)

    def con_notification(self, srv):
        srv.observers.con_every = 1
        srv.observers.changed(self.res)
        srv.observers.tick()
        return self.sock.sent[-1][0]

    def test_acked_con_notification_is_not_retransmitted(self):
        r = self.con_notification(self.srv)
        deliver(self.srv, m.encode(m.ACK, 0, r[2]))
        self.srv.observers.tick()
        self.assertEqual(len(self.sock.sent), 1)

    def test_silent_peer_is_removed_after_retransmissions(self):  # §4.5, RFC 7252 §4.2
        r = self.con_notification(self.srv)
        for _ in range(10):
            self.srv.observers.tick()
        mids = [s[0][2] for s in self.sock.sent]
        self.assertEqual(mids, [r[2]] * 5)  # the first try and MAX_RETRANSMIT = 4 more
        self.assertEqual(self.srv.observers.count(), 0)

    def test_error_ends_the_observation(self):  # §4.2
        board.temp_centi = None  # the handler raises: 5.00
        try:
            self.srv.observers.changed(self.res)
            self.srv.observers.tick()
        finally:
            board.temp_centi = 2312
        r = self.sock.sent[-1][0]
        self.assertEqual((r[1], obs_value(r), self.srv.observers.count()), (160, None, 0))


def _cycle(srv, sock, reg, dereg, peer, res):
    srv.request.peer = peer
    srv.sock = sock
    srv.handle(reg, len(reg))
    srv.observers.changed(res)
    srv.observers.tick()
    srv.handle(dereg, len(dereg))


class NoAlloc(unittest.TestCase):
    # A module-level function, not a closure: calling a closure over more than a
    # few variables allocates in MicroPython, which would be the test's own doing.
    def test_register_notify_deregister_under_heap_lock(self):
        if micropython is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        srv = server()
        sock = FakeSock(keep=False)
        args = (srv, sock, observe(0), observe(1), b"peer-1", RESOURCES[0])
        _cycle(*args)  # warm-up
        before = sock.count
        srv_, sock_, reg, dereg, peer, res = args
        micropython.heap_lock()
        try:
            _cycle(srv, sock, reg, dereg, peer, res)
            ok = True
        except MemoryError:
            ok = False
        finally:
            micropython.heap_unlock()
        self.assertTrue(ok, "allocated")
        self.assertEqual(sock.count, before + 1)
        self.assertEqual(srv.observers.count(), 0)

    def test_unverified_observer_under_heap_lock(self):
        # The amplification limit on: the registration gets a budget, the first
        # notification a MID made from the Echo key (RFC 9175 §2.4), without allocating
        if micropython is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        srv = server(amplification_limit=True)
        if srv.echo is None:  # the 32-bit test builds have no cryptolib
            from coap.echo import Echo
            from test_echo import StandIn
            srv.echo = Echo(cipher=StandIn)
        sock = FakeSock(keep=False)
        peer = bytes([2, 0, 0x9C, 0x41, 10, 0, 0, 7]) + bytes(8)
        reg, dereg, res = observe(0), observe(1), RESOURCES[0]
        _cycle(srv, sock, reg, dereg, peer, res)  # warm-up
        before = sock.count
        micropython.heap_lock()
        try:
            _cycle(srv, sock, reg, dereg, peer, res)
            ok = True
        except MemoryError:
            ok = False
        finally:
            micropython.heap_unlock()
        self.assertTrue(ok, "allocated")
        self.assertEqual(sock.count, before + 1)
