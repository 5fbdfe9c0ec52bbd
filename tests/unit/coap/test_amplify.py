# The 3x amplification limit (RFC 9175 §2.4) and freshness (§2.3), through
# Server.handle: what a peer without, with, and with a wrong Echo gets.
import os
import unittest

import coapmsg as m
from coap import Resource, Server, aes
from sample import JSON, RESOURCES, board, make_server

ECHO = 252
PEER = bytes([2, 0, 0x9C, 0x41, 10, 0, 0, 7]) + bytes(8)   # 10.0.0.7:40001
OTHER = bytes([2, 0, 0x9C, 0x41, 10, 0, 0, 8]) + bytes(8)  # 10.0.0.8:40001


def ask(srv, msg, peer=PEER, sock=None):
    srv.request.peer = peer
    n = srv.handle(msg, len(msg), False, sock)
    return (m.decode(bytes(srv.response.buf[:n])), n) if n else (None, 0)


PACK = b'[{"n":"temp","u":"Cel","v":23.12},{"n":"humidity","u":"%RH","v":53.00}]'


def pack_get(req, resp):
    resp.payload(PACK)


def opt(r, num):
    return m.option(r[4], num)


def with_echo(msg, value):
    t, c, mid, token, opts, payload = m.decode(msg)
    return m.encode(t, c, mid, token, opts + [(ECHO, value)], payload)


# A request like most clients send: an 8-byte token and a Uri-Host (29 bytes)
HOST = [(3, b"board.local")]


def big(opts=()):
    return m.get("big", token=b"12345678", options=HOST + list(opts))


def read_blockwise(srv, path, peer=PEER, echo=None, token=b"\x01"):
    """Follow Block2 like a client: every block asked of the size the server
    used; returns (body, [bytes out / bytes in per exchange])."""
    body, ratios, num, szx = b"", [], 0, None
    for _ in range(300):
        opts = [] if szx is None else [(23, m.uint(num << 4 | szx))]
        msg = m.get(path, token=token, options=HOST + opts)
        if echo is not None:
            msg = with_echo(msg, echo)
        r, n = ask(srv, msg, peer)
        ratios.append(n / len(msg))
        if r[1] != 69:
            return None, ratios
        b2 = opt(r, 23)
        body += r[5]
        if b2 is None:
            return body, ratios
        v = m.to_uint(b2)
        szx = v & 7
        num = (v >> 4) + 1
        if not v & 8:
            return body, ratios
    raise AssertionError("no end")


class Limit(unittest.TestCase):
    def setUp(self):
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")
        self.srv = make_server()

    def test_every_answer_within_3x_without_echo(self):
        for path, query in (("sensors/temp", ()), ("actuators/led", ()), ("boom", ()),
                            ("query", ("n=1",)), ("big", ()), (".well-known/core", ()),
                            (".well-known/core", ("rt=temp*",)), ("no/such", ())):
            for token in (b"", b"\x01", b"12345678"):
                msg = m.get(path, token=token, query=query)
                r, n = ask(self.srv, msg)
                self.assertTrue(0 < n <= 3 * len(msg), (path, token, n, len(msg)))

    def test_large_answer_is_block_wise_with_echo_then_full_with_it(self):
        body, ratios = read_blockwise(self.srv, "big")
        self.assertEqual(body, b"0123456789" * 200)
        self.assertTrue(max(ratios) <= 3, ratios)
        first, n = ask(self.srv, big())
        echo = opt(first, ECHO)
        self.assertEqual((first[1], len(echo)), (69, 12))
        self.assertEqual(m.to_uint(opt(first, 23)) & 7, 1)   # a 32-byte block fits 3x
        # a shorter request: the block fits only without the Echo; a client without
        # Echo support still reads it all
        r, n = ask(self.srv, m.get("big", token=b"12345678"))
        self.assertEqual((r[1], opt(r, ECHO), len(r[5])), (69, None, 16))
        body, ratios = read_blockwise(self.srv, "big", token=b"12345678")
        # with the Echo: the server's own 1024-byte blocks, as to a verified peer
        r, n = ask(self.srv, with_echo(big(), echo))
        self.assertEqual((r[1], len(r[5]), m.to_uint(opt(r, 23))), (69, 1024, 8 | 6))
        self.assertIsNone(opt(r, ECHO))
        body, _ = read_blockwise(self.srv, "big", echo=echo)
        self.assertEqual(body, b"0123456789" * 200)

    def test_a_valid_echo_proves_its_port_for_the_lifetime(self):
        first, _ = ask(self.srv, big())
        ask(self.srv, with_echo(big(), opt(first, ECHO)))
        r, _ = ask(self.srv, big())  # no Echo this time: whole all the same
        self.assertEqual((r[1], len(r[5])), (69, 1024))
        r, n = ask(self.srv, big(), OTHER)
        self.assertTrue(n <= 3 * len(big()))
        self.srv.proven.lifetime_ms = 0  # the lifetime is over
        r, n = ask(self.srv, big())
        self.assertTrue(n <= 3 * len(big()))

    def test_a_full_table_of_proven_peers_forgets_the_oldest(self):
        srv = make_server(proven_peers=2)
        peers = [PEER[:7] + bytes([i]) + PEER[8:] for i in range(3)]
        for p in peers:
            srv.proven.add(p)
        self.assertEqual([srv.proven.has(p) for p in peers], [False, True, True])

    def test_too_small_for_a_block_is_4_01_with_echo(self):
        r, n = ask(self.srv, m.get("big"))      # 9 bytes: 27 allowed
        self.assertEqual((r[1], len(opt(r, ECHO)), r[5]), (129, 12, b""))
        r2, _ = ask(self.srv, with_echo(m.get("big"), opt(r, ECHO)))
        self.assertEqual((r2[1], len(r2[5])), (69, 1024))

    def test_smaller_blocks_start_at_the_byte_asked_for(self):
        # the client asks for 1024-byte block 1; it gets 32-byte block 32 (RFC 7959 §2.4)
        r, _ = ask(self.srv, big([(23, m.uint(1 << 4 | 6))]))
        v = m.to_uint(opt(r, 23))
        self.assertEqual((v >> 4, v & 7, r[5]), (32, 1, b"45678901234567890123456789012345"))

    def test_echo_from_another_address_or_port_verifies_nothing(self):
        first, _ = ask(self.srv, big())
        echo = opt(first, ECHO)
        other_port = PEER[:3] + b"\x42" + PEER[4:]
        for peer in (OTHER, other_port, ("10.0.0.7", 40001)):
            msg = with_echo(big(), echo)
            r, n = ask(self.srv, msg, peer)
            self.assertTrue(n <= 3 * len(msg))
            self.assertFalse(self.srv.request.verified)
            self.assertNotEqual(opt(r, ECHO), echo)  # a new one, for that peer

    def test_expired_echo_is_answered_within_the_rule(self):
        first, _ = ask(self.srv, big())
        echo = opt(first, ECHO)
        self.srv.echo._secs = (self.srv.echo._secs + 301) & 0x3FFFFFFF  # 5 min 1 s later
        msg = with_echo(big(), echo)
        r, n = ask(self.srv, msg)
        self.assertTrue(n <= 3 * len(msg))
        self.assertFalse(self.srv.request.verified)
        self.assertEqual(len(opt(r, ECHO)), 12)

    def test_bogus_echo_values_no_crash(self):
        for bad in (b"", bytes(41), os.urandom(12), os.urandom(40), os.urandom(1)):
            msg = with_echo(big(), bad)
            r, n = ask(self.srv, msg)
            self.assertTrue(0 < n <= 3 * len(msg), bad)
            self.assertFalse(self.srv.request.verified)
            self.assertIn(r[1], (69, 129))
        self.assertEqual(self.srv.logged, [])

    def test_errors_lose_their_diagnostic_not_their_code(self):
        msg = m.get("boom")
        r, n = ask(self.srv, msg)
        self.assertEqual((r[1], r[5]), (160, b""))
        msg = m.get("sensors/temp", options=[(2049, b"")])
        r, n = ask(self.srv, msg)
        self.assertEqual(r[1], 130)
        self.assertTrue(n <= 3 * len(msg))

    def test_rule_off_answers_in_full(self):
        srv = make_server(amplification_limit=False)
        r, _ = ask(srv, m.get("big"))
        self.assertEqual((r[1], len(r[5])), (69, 1024))


class FakeSock:
    def __init__(self, datagram=b"", addr=None):
        self.datagram, self.addr, self.sent = datagram, addr, []

    def recvfrom(self, n):
        return self.datagram, self.addr

    def sendto(self, buf, addr):
        self.sent.append(m.decode(bytes(buf)))


class Observe(unittest.TestCase):
    # An unverified registration: an empty ACK at once, the answer as a separate
    # CON response (RFC 7252 §5.2.2) whose MID only a client at that address can
    # know, and everything together within 3x of the request until the observer
    # acknowledges a CON.
    def setUp(self):
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")
        self.srv = Server(RESOURCES + (Resource("pack", get=pack_get, ct=JSON, obs=True),),
                          log=lambda s: None, ack_timeout_ms=0)
        self.sock = FakeSock()
        board.temp_centi = 2312

    def tearDown(self):
        board.temp_centi = 2312  # shared with the other tests

    def register(self, echo=None, path="sensors/temp", opts=(), mtype=m.CON):
        msg = m.get(path, mtype=mtype, token=b"ob", options=[(6, b"")] + list(opts))
        if echo is not None:
            msg = with_echo(msg, echo)
        r, n = ask(self.srv, msg, PEER, self.sock)
        return msg, r, n

    def notify(self):
        board.temp_centi += 50
        for res in self.srv.resources:
            self.srv.observers.changed(res)
        self.srv.observers.tick()

    def ack(self, i=-1):
        ask(self.srv, m.encode(m.ACK, 0, self.sock.sent[i][2]))

    def test_answered_by_a_separate_con_response(self):
        msg, r, n = self.register()
        self.assertEqual((r[0], r[1], r[2], r[3], n), (m.ACK, 0, m.decode(msg)[2], b"", 4))
        self.srv.observers.tick()  # the answer: a CON with the token and an Observe
        answer = self.sock.sent[0]
        self.assertEqual((answer[0], answer[1], answer[3]), (m.CON, 69, b"ob"))
        self.assertTrue(opt(answer, 6) is not None)
        self.assertNotEqual(answer[2], (self.srv._mid + 1) & 0xFFFF)  # not the counter's next

    def test_every_format_gets_its_notifications(self):
        # JSON: the answer and one notification are more than 3x the request
        msg, r, n = self.register(opts=[(17, m.uint(JSON))])
        self.srv.observers.tick()
        self.ack()
        for _ in range(3):
            self.notify()
        got = [x for x in self.sock.sent if x[1] == 69 and opt(x, 6) is not None]
        self.assertEqual(len(got), 4)
        self.assertTrue(all(x[5].startswith(b"{") for x in got))
        self.assertEqual(self.srv.observers.count(), 1)

    def test_a_non_registration_gets_its_answer_as_a_con(self):
        msg, r, n = self.register(mtype=m.NON)
        self.assertEqual(n, 0)  # nothing at once
        self.srv.observers.tick()
        self.assertEqual((self.sock.sent[0][0], self.sock.sent[0][1]), (m.CON, 69))

    def test_too_large_for_the_budget_pings_first(self):
        # RFC 7252 §4.3: an empty CON, whose RST proves the address; then the
        # answer whole, as a CON
        msg, r, n = self.register(path="pack")
        self.srv.observers.tick()
        ping = self.sock.sent[0]
        self.assertEqual((ping[0], ping[1], ping[3], ping[5]), (m.CON, 0, b"", b""))
        ask(self.srv, m.encode(m.RST, 0, ping[2]))
        self.srv.observers.tick()
        answer = self.sock.sent[1]
        self.assertEqual((answer[0], answer[1], answer[3], answer[5]), (m.CON, 69, b"ob", PACK))
        self.assertTrue(opt(answer, 6) is not None)
        ask(self.srv, m.encode(m.ACK, 0, answer[2]))
        self.notify()
        self.assertEqual((self.sock.sent[-1][5], self.srv.observers.count()), (PACK, 1))

    def test_a_ping_without_rst_is_followed_by_a_first_block(self):
        # RFC 7959 §2.6: the first block carries the Observe; whole once verified
        msg, r, n = self.register(path="pack", opts=HOST)
        self.srv.observers.tick()
        self.srv.observers.tick()  # no RST to the ping
        first = self.sock.sent[1]
        b2 = m.to_uint(opt(first, 23))
        self.assertEqual((first[0], first[1], b2 >> 4, bool(b2 & 8)), (m.CON, 69, 0, True))
        self.assertTrue(opt(first, 6) is not None)
        self.assertTrue(n + 4 + len(m.encode(*first)) <= 3 * len(msg))
        self.ack()
        self.notify()
        self.assertEqual((opt(self.sock.sent[-1], 23), self.sock.sent[-1][5]), (None, PACK))

    def test_an_rst_to_the_answer_still_ends_it(self):
        msg, r, n = self.register()
        self.srv.observers.tick()
        ask(self.srv, m.encode(m.RST, 0, self.sock.sent[0][2]))
        self.assertEqual(self.srv.observers.count(), 0)

    def test_spoofed_registration_stays_within_3x_then_ends(self):
        msg, r, n = self.register()
        self.srv.observers.tick()
        self.assertEqual(len(self.sock.sent), 1)
        self.assertEqual(self.sock.sent[0][0], m.CON)  # needs an acknowledgement
        for _ in range(10):  # no ACK ever: retransmissions while the budget lasts
            self.srv.observers.tick()
            self.notify()
        sent = n + sum(len(m.encode(*x)) for x in self.sock.sent)
        self.assertTrue(sent <= 3 * len(msg), "%d bytes for a %d-byte request" % (sent, len(msg)))
        self.assertEqual(self.srv.observers.count(), 0)
        before = len(self.sock.sent)
        self.notify()
        self.assertEqual(len(self.sock.sent), before)  # nothing more, ever

    def test_a_spoofed_registration_of_a_large_resource_stays_within_3x(self):
        msg, r, n = self.register(path="pack")
        for _ in range(10):
            self.srv.observers.tick()
            self.notify()
        sent = n + sum(len(m.encode(*x)) for x in self.sock.sent)
        self.assertTrue(sent <= 3 * len(msg), "%d bytes for a %d-byte request" % (sent, len(msg)))
        self.assertEqual(self.srv.observers.count(), 0)

    def test_a_lost_first_ack_is_retransmitted_within_the_budget(self):
        # RFC 7252 §4.2 with RFC 9175 §2.4: the retransmission fits what is left
        msg, r, n = self.register(path="sensors/temp", opts=[(3, b"board.local")])
        self.srv.observers.tick()
        self.srv.observers.tick()  # the ACK was lost: resent, same MID
        self.assertEqual(len(self.sock.sent), 2)
        first, again = self.sock.sent
        self.assertEqual((again[0], again[2], again[5]), (m.CON, first[2], first[5]))
        self.ack()  # this one arrives: verified
        for _ in range(3):
            self.notify()
        self.assertEqual((len(self.sock.sent), self.srv.observers.count()), (5, 1))

    def test_acknowledged_answer_proves_the_address(self):
        self.register()
        self.srv.observers.tick()
        self.ack()
        for _ in range(3):
            self.notify()
        self.assertEqual((len(self.sock.sent), self.srv.observers.count()), (4, 1))
        r, _ = ask(self.srv, big())  # and a large answer is whole now, from that port only
        self.assertEqual((r[1], len(r[5]), m.to_uint(opt(r, 23))), (69, 1024, 8 | 6))
        r, n = ask(self.srv, big(), OTHER)
        self.assertTrue(n <= 3 * len(big()))

    def test_ack_with_another_mid_verifies_nothing(self):
        self.register()
        self.srv.observers.tick()
        ask(self.srv, m.encode(m.ACK, 0, (self.sock.sent[0][2] + 1) & 0xFFFF))
        for _ in range(10):  # still unacknowledged: retransmitted until the budget ends
            self.srv.observers.tick()
        self.assertEqual(self.srv.observers.count(), 0)
        r, n = ask(self.srv, big())
        self.assertTrue(n <= 3 * len(big()))

    def test_registration_with_echo_is_verified_at_once(self):
        self.srv.echo.make(PEER)  # as offered with an earlier answer
        msg, r, n = self.register(bytes(self.srv.echo.value))
        self.assertTrue(self.srv.request.verified)
        self.assertEqual((r[0], r[1]), (m.ACK, 69))  # piggybacked
        for _ in range(3):
            self.notify()
        self.assertEqual(len(self.sock.sent), 3)
        self.assertEqual(self.srv.observers.count(), 1)


class Freshness(unittest.TestCase):
    def setUp(self):
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")

        def put(req, resp):
            board.led = 1 if req.payload_is(b"on") else 0

        table = (Resource("led", get=lambda q, r: r.payload(b"x"), put=put, fresh=True),)
        self.srv = Server(table, log=lambda s: None, amplification_limit=False)
        board.led = 0

    def test_unsafe_method_needs_a_fresh_echo(self):
        msg = m.get("led", code=3, payload=b"on")
        r, _ = ask(self.srv, msg)
        self.assertEqual((r[1], len(opt(r, ECHO)), board.led), (129, 12, 0))
        echo = opt(r, ECHO)
        r, _ = ask(self.srv, with_echo(msg, echo))
        self.assertEqual((r[1], board.led), (68, 1))
        board.led = 0
        self.srv.echo._secs = (self.srv.echo._secs + 11) & 0x3FFFFFFF  # replayed 11 s later
        r, _ = ask(self.srv, with_echo(msg, echo))
        self.assertEqual((r[1], board.led), (129, 0))

    def test_get_needs_none(self):
        r, _ = ask(self.srv, m.get("led"))
        self.assertEqual(r[1], 69)

    def test_fresh_must_be_true_or_seconds(self):
        with self.assertRaises(ValueError):
            Resource("x", put=lambda q, r: None, fresh=-1)
        with self.assertRaises(ValueError):
            Resource("x", put=lambda q, r: None, fresh="10")
        self.assertEqual(Resource("x", put=lambda q, r: None, fresh=30).fresh, 30)
        self.assertEqual(Resource("x", put=lambda q, r: None, fresh=0).fresh, 0)


class PortZero(unittest.TestCase):
    def test_source_port_zero_is_never_answered(self):
        srv = make_server()
        for addr in (bytes([2, 0, 0, 0, 10, 0, 0, 7]) + bytes(8), ("10.0.0.7", 0)):
            sock = FakeSock(m.get("sensors/temp"), addr)
            self.assertTrue(srv.poll(sock))
            self.assertEqual((sock.sent, srv.logged), ([], []))
        sock = FakeSock(m.get("sensors/temp"), PEER)
        srv.poll(sock)
        self.assertEqual(len(sock.sent), 1)
