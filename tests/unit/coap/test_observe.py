# Observe (RFC 7641): a fixed observer table, notifications from tick().
import unittest

import coapmsg as m
from coap import Resource, Server
from coap.clock import ticks_add, ticks_ms
from heaplock import heap_lock, locked
from sample import RESOURCES, board, temp_get


class FakeSock:
    def __init__(self, keep=True):
        self.sent = []
        self.keep = keep
        self.count = 0

    def sendto(self, buf, addr):
        self.count += 1
        if self.keep:
            self.sent.append((m.decode(bytes(buf)), addr))


SLOW = Resource("slow", get=temp_get, obs=True, max_age=30)


def server(**kw):
    kw.setdefault("ack_timeout_ms", 0)  # retransmit at the next tick: no waiting in tests
    # registrations as from verified peers; test_amplify.py has the unverified ones
    kw.setdefault("amplification_limit", False)
    return Server(RESOURCES + (SLOW,), log=lambda s: None, **kw)


def deliver(srv, msg, peer=b"peer-1", sock=None):
    srv.request.peer = peer
    n = srv.handle(msg, len(msg), False, sock or FakeSock())
    return m.decode(bytes(srv.response.buf[:n])) if n else None


def observe(value, token=b"ob", path="sensors/temp", mtype=m.CON, mid=0x0100, query=(),
            options=()):
    return m.get(path, token=token, mtype=mtype, mid=mid, query=query,
                 options=[(6, m.uint(value))] + list(options))


def obs_value(r):
    v = m.option(r[4], 6)
    return None if v is None else m.to_uint(v)


def notify(srv, res=RESOURCES[0]):
    srv.observers.changed(res)
    srv.observers.tick()


def ack(srv, note, peer=b"peer-1"):
    deliver(srv, m.encode(m.ACK, 0, note[2]), peer=peer)


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

    def test_later_block_with_the_same_token_keeps_the_observation(self):  # RFC 7959 §3.4
        deliver(self.srv, observe(0))
        deliver(self.srv, m.get("sensors/temp", token=b"ob", options=[(23, m.uint(1 << 4 | 2))]))
        self.assertEqual(self.obs.count(), 1)

    def test_other_token_or_peer_is_another_observer(self):
        deliver(self.srv, observe(0))
        deliver(self.srv, observe(0, token=b"o2"))
        deliver(self.srv, observe(0), peer=b"peer-2")
        self.assertEqual(self.obs.count(), 3)

    def test_request_too_large_to_keep_is_a_plain_get(self):  # §4.1
        long_query = "pad=" + "x" * 60
        r = deliver(self.srv, observe(0, query=[long_query]))
        self.assertEqual((r[1], obs_value(r), self.obs.count()), (69, None, 0))

    def test_full_table_gives_up_the_entry_silent_longest(self):
        srv = server(observers=2)
        obs = srv.observers
        sock = FakeSock()
        deliver(srv, observe(0, token=b"a"), sock=sock)
        deliver(srv, observe(0, token=b"b"), sock=sock)
        # "a" answered a CON notification just now, "b" was last heard of 5 s ago
        notify(srv)
        for note, _ in sock.sent:
            if note[3] == b"a":
                ack(srv, note)
        b_entry = obs.find(b"peer-1", b"\x00\x00\x00\x00b", 4, 1)
        obs.alive_at[b_entry] = ticks_add(ticks_ms(), -5000)
        r = deliver(srv, observe(0, token=b"c"))
        self.assertTrue(obs_value(r) is not None)  # the new client is registered
        tokens = sorted(bytes(obs.request[i][4:4 + obs.tkl[i]]) for i in range(2) if obs.addr[i])
        self.assertEqual(tokens, [b"a", b"c"])
        self.assertEqual(obs.count(), 2)  # the evicted entry is not counted twice

    def test_count_follows_every_way_in_and_out(self):
        # count() is kept as entries come and go (drain() reads it per request)
        srv = server(observers=2)
        obs = srv.observers

        def in_use():
            return sum(1 for a in obs.addr if a is not None)
        steps = [observe(0, token=b"a"), observe(0, token=b"a"), observe(0, token=b"b"),
                 observe(0, token=b"c"), observe(1, token=b"c"),
                 m.get("sensors/temp", token=b"b"), observe(0, token=b"d")]
        for msg in steps:
            deliver(srv, msg)
            self.assertEqual(obs.count(), in_use(), msg)
        obs.remove(0)
        obs.remove(0)
        self.assertEqual(obs.count(), in_use())

    def test_not_observable_resource_ignores_observe(self):
        r = deliver(self.srv, observe(0, path="actuators/led"))
        self.assertEqual((r[1], obs_value(r), self.obs.count()), (69, None, 0))

    def test_no_table_without_observable_resources(self):
        srv = Server((Resource("x", get=lambda q, r: None),), log=lambda s: None)
        self.assertIsNone(srv.observers)


class OwnRequest(unittest.TestCase):
    """A notification answers the observer's own request (§3.2), not the last datagram."""

    def test_query_and_accept_of_the_registration_survive_other_requests(self):
        srv = server()
        sock = FakeSock()
        r = deliver(srv, observe(0, query=["unit=F"], options=[(17, m.uint(50))]), sock=sock)
        self.assertEqual(r[5], b'{"temp":73.61}')
        # other clients' requests in between, with other queries and formats
        deliver(srv, m.get("sensors/temp", query=["unit=C"]), peer=b"peer-2")
        deliver(srv, m.get("query", query=["n=7"]), peer=b"peer-3")
        board.temp_centi = 2500
        try:
            notify(srv)
        finally:
            board.temp_centi = 2312
        (note, addr), = sock.sent
        self.assertEqual((note[3], note[5], addr), (b"ob", b'{"temp":77.00}', b"peer-1"))
        self.assertEqual(m.to_uint(m.option(note[4], 12)), 50)

    def test_handler_sees_the_registration(self):
        seen = []

        def handler(req, resp):
            seen.append((req.observe, req.query_int(b"n", -1), req.peer))
            resp.payload(b"x")

        srv = Server((Resource("q", get=handler, obs=True),), log=None)
        deliver(srv, observe(0, path="q", query=["n=5"]), sock=FakeSock())
        deliver(srv, m.get("q", query=["n=9"]), peer=b"peer-2")
        srv.observers.changed(srv.resources[0])
        srv.observers.tick()
        self.assertEqual(seen[-1], (0, 5, b"peer-1"))


class Notifications(unittest.TestCase):
    def setUp(self):
        self.srv = server(con_every=3)
        self.sock = FakeSock()
        deliver(self.srv, observe(0), sock=self.sock)
        self.res = RESOURCES[0]

    def test_changed_sends_a_notification_the_first_one_con(self):  # §4.2, §4.5
        board.temp_centi = 2400
        try:
            notify(self.srv)
        finally:
            board.temp_centi = 2312
        (r, addr), = self.sock.sent
        self.assertEqual((r[0], r[1], r[3], r[5], addr), (m.CON, 69, b"ob", b"24.00", b"peer-1"))
        self.assertEqual([n for n, _ in r[4]], [6, 12])

    def test_nothing_changed_nothing_sent(self):
        self.srv.observers.tick()
        self.assertEqual(self.sock.sent, [])

    def test_one_observer_of_a_resource_told_alone(self):
        other = FakeSock()
        deliver(self.srv, observe(0, token=b"o2"), peer=b"peer-2", sock=other)
        obs = self.srv.observers
        obs.changed_entry(obs.find(b"peer-2", b"o2", 0, 2))
        obs.tick()
        self.assertEqual((self.sock.sent, [r[3] for r, _ in other.sent]), ([], [b"o2"]))

    def test_sequence_numbers_increase_and_every_nth_is_con(self):  # §3.4, §4.5
        seqs, types = [], []
        for _ in range(4):
            notify(self.srv)
            r = self.sock.sent[-1][0]
            if r[0] == m.CON:
                ack(self.srv, r)
            seqs.append(obs_value(r))
            types.append(r[0])
        self.assertEqual(types, [m.CON, m.NON, m.NON, m.CON])
        self.assertTrue(seqs[0] < seqs[1] < seqs[2] < seqs[3])

    def test_con_every_0_sends_non_only_the_first_too(self):  # TD_COAP_OBS_02
        srv = server(con_every=0)
        deliver(srv, observe(0, mtype=m.NON), sock=self.sock)
        for _ in range(3):
            notify(srv)
        self.assertEqual([r[0] for r, _ in self.sock.sent], [m.NON] * 3)
        self.assertEqual(srv.observers.count(), 1)

    def test_con_every_0_still_sends_one_con_a_day(self):  # §4.5: a MUST
        srv = server(con_every=0)
        deliver(srv, observe(0), sock=self.sock)
        srv.observers.con_at[0] = ticks_add(ticks_ms(), -86400000)
        notify(srv)
        ack(srv, self.sock.sent[-1][0])
        notify(srv)
        self.assertEqual([r[0] for r, _ in self.sock.sent], [m.CON, m.NON])

    def test_notification_mids_do_not_follow_the_response_counter(self):  # spoofed RST
        notify(self.srv)
        note = self.sock.sent[-1][0]
        r = deliver(self.srv, m.get("sensors/temp", mtype=m.NON), peer=b"peer-2")
        self.assertNotEqual(r[2], (note[2] + 1) & 0xFFFF)
        self.assertNotEqual(note[2], (r[2] - 1) & 0xFFFF)

    def test_max_age_refresh_before_it_runs_out(self):  # §4.3.1
        srv = server()
        deliver(srv, observe(0, path="slow"), sock=self.sock)
        srv.observers.tick()
        self.assertEqual(len(self.sock.sent), 0)
        i = 0 if srv.observers.addr[0] else 1
        srv.observers.sent_at[i] = ticks_add(ticks_ms(), -27000)  # 90 % of Max-Age 30 s
        srv.observers.tick()
        (note, _), = self.sock.sent
        self.assertEqual(m.to_uint(m.option(note[4], 14)), 30)

    def test_rst_to_a_notification_removes_the_observer(self):  # §3.6
        notify(self.srv)
        mid = self.sock.sent[-1][0][2]
        deliver(self.srv, m.encode(m.RST, 0, mid))
        self.assertEqual(self.srv.observers.count(), 0)

    def test_rst_from_another_peer_is_ignored(self):
        notify(self.srv)
        deliver(self.srv, m.encode(m.RST, 0, self.sock.sent[-1][0][2]), peer=b"peer-2")
        self.assertEqual(self.srv.observers.count(), 1)

    def test_acked_con_notification_is_not_retransmitted(self):
        notify(self.srv)
        ack(self.srv, self.sock.sent[-1][0])
        self.srv.observers.tick()
        self.assertEqual(len(self.sock.sent), 1)

    def test_silent_peer_is_removed_after_retransmissions(self):  # §4.5, RFC 7252 §4.2
        notify(self.srv)
        r = self.sock.sent[-1][0]
        for _ in range(10):
            self.srv.observers.tick()
        sent = [s[0] for s in self.sock.sent]
        # the first try and MAX_RETRANSMIT = 4 more, each the same message
        self.assertEqual([(s[2], obs_value(s)) for s in sent], [(r[2], obs_value(r))] * 5)
        self.assertEqual(self.srv.observers.count(), 0)

    def test_changed_while_waiting_for_ack_is_a_new_message(self):  # §4.5.2
        notify(self.srv)
        first = self.sock.sent[-1][0]
        notify(self.srv)  # the retransmission is due at once (ack_timeout_ms 0)
        second = self.sock.sent[-1][0]
        self.assertEqual(second[0], m.CON)
        self.assertNotEqual(second[2], first[2])  # a fresh MID: not a duplicate to the client
        self.assertTrue(obs_value(second) > obs_value(first))
        self.assertEqual(self.srv.observers.tries[0], 2)  # the count goes on
        self.srv.observers.tick()  # not changed: a real retransmission of the new message
        third = self.sock.sent[-1][0]
        self.assertEqual((third[2], obs_value(third)), (second[2], obs_value(second)))
        ack(self.srv, third)
        self.srv.observers.tick()
        self.assertEqual((len(self.sock.sent), self.srv.observers.count()), (3, 1))

    def test_error_ends_the_observation(self):  # §4.2
        board.temp_centi = None  # the handler raises: 5.00
        try:
            notify(self.srv)
        finally:
            board.temp_centi = 2312
        r = self.sock.sent[-1][0]
        self.assertEqual((r[1], obs_value(r), self.srv.observers.count()), (160, None, 0))

    def test_error_in_a_format_ends_it_with_its_content_format(self):  # §4.2
        state = {"there": True}

        def item(req, resp):
            if state["there"]:
                resp.payload(b"{}")
            else:
                resp.error(132, b'{"gone":true}', resp.format)

        res = Resource("item", get=item, ct=50, obs=True)
        srv = Server((res,), log=None, amplification_limit=False, ack_timeout_ms=0)
        sock = FakeSock()
        deliver(srv, observe(0, path="item"), sock=sock)
        state["there"] = False
        notify(srv, res)
        r = sock.sent[-1][0]
        self.assertEqual((r[1], r[4], r[5]), (132, [(12, b"\x32")], b'{"gone":true}'))
        self.assertEqual(srv.observers.count(), 0)


class Retransmission(unittest.TestCase):
    def test_timeout_has_the_random_factor(self):  # RFC 7252 §4.8: 2 s to 3 s
        srv = server(observers=8, ack_timeout_ms=2000)
        for k in range(8):
            deliver(srv, observe(0, token=bytes([k + 1])), sock=FakeSock(keep=False))
        notify(srv)
        timeouts = srv.observers.timeout
        self.assertTrue(all(2000 <= t <= 3000 for t in timeouts), timeouts)
        self.assertTrue(len(set(timeouts)) > 1, timeouts)


def _cycle(srv, sock, reg, dereg, peer, res):
    srv.request.peer = peer
    srv.handle(reg, len(reg), False, sock)
    srv.observers.changed(res)
    srv.observers.tick()
    srv.handle(dereg, len(dereg), False, sock)


class NoAlloc(unittest.TestCase):
    # A module-level function, not a closure: calling a closure over more than a
    # few variables allocates in MicroPython, which would be the test's own doing.
    def test_register_notify_deregister_under_heap_lock(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        srv = server()
        sock = FakeSock(keep=False)
        reg = observe(0, query=["unit=F"], options=[(17, m.uint(50))])
        dereg = observe(1, query=["unit=F"], options=[(17, m.uint(50))])
        args = (srv, sock, reg, dereg, b"peer-1", RESOURCES[0])
        _cycle(*args)  # warm-up
        before = sock.count
        srv_, sock_, reg, dereg, peer, res = args
        with locked(self, "register, notify, deregister"):
            _cycle(srv, sock, reg, dereg, peer, res)
        self.assertEqual(sock.count, before + 1)
        self.assertEqual(srv.observers.count(), 0)

    def test_unverified_observer_under_heap_lock(self):
        # The amplification limit on: the registration gets a budget, the first
        # notification a fresh random MID (RFC 9175 §2.4), without allocating
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        srv = server(amplification_limit=True)
        if srv.echo is None:  # the 32-bit test builds have no cryptolib
            from coap.echo import Echo
            from test_echo import StandIn
            srv.echo = srv.dispatcher.echo = Echo(cipher=StandIn)
        sock = FakeSock(keep=False)
        peer = bytes([2, 0, 0x9C, 0x41, 10, 0, 0, 7]) + bytes(8)
        reg, dereg, res = observe(0), observe(1), RESOURCES[0]
        _cycle(srv, sock, reg, dereg, peer, res)  # warm-up
        before = sock.count
        with locked(self, "register, notify, deregister"):
            _cycle(srv, sock, reg, dereg, peer, res)
        self.assertEqual(sock.count, before + 1)

class Memory(unittest.TestCase):
    def test_an_entry_costs_what_the_readme_says(self):  # docs/observe.md: What the server remembers
        try:
            import gc
            gc.mem_alloc
        except (ImportError, AttributeError):
            raise unittest.SkipTest("gc.mem_alloc exists only in MicroPython")
        import sys
        keep = [server(observers=1)]  # the module and its first-use caches

        def size(n):
            gc.collect()
            before = gc.mem_alloc()
            keep.append(server(observers=n))
            gc.collect()
            return gc.mem_alloc() - before

        per_entry = (size(12) - size(4)) // 8
        self.assertTrue(per_entry <= (174 if sys.maxsize < 2 ** 32 else 284), per_entry)
