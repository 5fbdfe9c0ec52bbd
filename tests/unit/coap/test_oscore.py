# The board's OSCORE behaviour (RFC 8613): what is refused and how (§8.2),
# replays and retransmissions (§7.4), Echo after a reboot (Appendix B.1.2),
# sequence numbers kept across reboots (B.1.1), secure by default, and a
# protected GET/PUT that allocates nothing.
import os
import unittest

import coapmsg as m
from coap import Server, aes
from coap.oscorectx import Context, SequenceStore
from heaplock import heap_lock, locked, no_alloc
from oscoreclient import BOARD_ID, CLIENT_ID, SALT, SECRET, Client
from sample import RESOURCES, board

_STORE = "/tmp/coap-oscore-test-ssn"


def board_context(store=None, **kw):
    return Context(SECRET, SALT, BOARD_ID, CLIENT_ID, store=store, **kw)


def make(ctx=None, open=("sensors/temp",)):
    ctx = ctx or board_context()
    return Server(RESOURCES, log=None, oscore=[ctx], open=open), ctx


def answer(srv, msg, sock=None):
    n = srv.handle(msg, len(msg), False, sock)
    return bytes(srv.response.buf[:n])


def diagnostic(resp):
    return m.decode(resp)[5]


class Base(unittest.TestCase):
    def setUp(self):
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")
        for p in (_STORE, _STORE + ".tmp"):
            try:
                os.remove(p)
            except OSError:
                pass


class Access(Base):
    def test_protected_get(self):
        srv, _ = make()
        cl = Client()
        code, inner = cl.open(answer(srv, cl.protect(m.get("actuators/led"))))
        self.assertEqual(code, 68)  # 2.04 outside
        self.assertEqual(inner[1], 69)  # 2.05 inside
        self.assertIn(m.decode(inner)[5], (b"0", b"1"))

    def test_only_the_contexts_a_resource_allows(self):
        # Server.only(): two peers, each with a context of its own; each
        # context opens its own resources, the other's get 4.03
        other_id = b"\x07"
        ours, theirs = board_context(), Context(SECRET, SALT, BOARD_ID, other_id)
        srv = Server(RESOURCES, log=None, oscore=[ours, theirs], open=())
        led = [r for r in srv.resources if r.href == b"/actuators/led"]
        srv.only(led, [theirs])
        srv.only([r for r in srv.resources if r not in led], [ours])
        cl, peer = Client(), Client(sender_id=other_id)
        code, inner = cl.open(answer(srv, cl.protect(m.get("actuators/led"))))
        self.assertEqual((inner[1], m.decode(inner)[5]),
                         (131, b"not for this security context"))
        code, inner = peer.open(answer(srv, peer.protect(m.get("actuators/led"))))
        self.assertEqual(inner[1], 69)
        code, inner = peer.open(answer(srv, peer.protect(m.get("sensors/temp"))))
        self.assertEqual(inner[1], 131)
        code, inner = cl.open(answer(srv, cl.protect(m.get("sensors/temp"))))
        self.assertEqual(inner[1], 69)
        self.assertEqual(answer(srv, m.get("actuators/led"))[1], 129)  # plain: 4.01
        srv.only(led, [])  # nobody may
        code, inner = peer.open(answer(srv, peer.protect(m.get("actuators/led"))))
        self.assertEqual(inner[1], 131)

    def test_protected_put_switches_the_led_once_fresh(self):  # RFC 9175 §2.4
        srv, _ = make()
        cl = Client()
        board.led = 0
        put = m.get("actuators/led", code=3, payload=b"on")
        code, inner = cl.open(answer(srv, cl.protect(put)))
        self.assertEqual((inner[1], board.led), (129, 0))  # first: prove it is fresh
        echo = m.option(m.decode(inner)[4], 252)
        fresh = m.get("actuators/led", code=3, payload=b"on", options=[(252, echo)])
        code, inner = cl.open(answer(srv, cl.protect(fresh)))
        self.assertEqual((inner[1], board.led), (68, 1))

    def test_a_fresh_resource_holds_protected_requests_to_its_own_age(self):
        from coap import Resource
        from coap.clock import ticks_ms
        hits = []
        table = (Resource("door", put=lambda req, resp: hits.append(1), fresh=1),)
        ctx = board_context()
        srv = Server(table, log=None, oscore=[ctx])
        cl = Client()
        code, inner = cl.open(answer(srv, cl.protect(m.get("door", code=3))))
        echo = bytearray(m.option(m.decode(inner)[4], 252))
        t = (ticks_ms() - 2000) & 0x3FFFFFFF  # made 2 s ago: fine for OSCORE, not for fresh=1
        echo[8:12] = bytes([t >> 24, (t >> 16) & 0xFF, (t >> 8) & 0xFF, t & 0xFF])
        old = m.get("door", code=3, options=[(252, bytes(echo))])
        code, inner = cl.open(answer(srv, cl.protect(old)))
        self.assertEqual((inner[1], hits), (129, []))
        fresh = m.get("door", code=3, options=[(252, m.option(m.decode(inner)[4], 252))])
        code, inner = cl.open(answer(srv, cl.protect(fresh)))
        self.assertEqual((inner[1], hits), (68, [1]))

    def test_a_held_back_put_does_nothing(self):
        srv, ctx = make()
        cl = Client()
        board.led = 0
        code, inner = cl.open(answer(srv, cl.protect(m.get("actuators/led", code=3))))
        echo = m.option(m.decode(inner)[4], 252)
        held = cl.protect(m.get("actuators/led", code=3, payload=b"on", options=[(252, echo)]))
        ctx.echo_max_age_ms = -1  # as if delivered after the Echo value expired
        code, inner = cl.open(answer(srv, held))
        self.assertEqual((inner[1], board.led), (129, 0))
        other_boot = bytes(8) + echo[8:]
        ctx.echo_max_age_ms = 30000
        late = m.get("actuators/led", code=3, payload=b"on", options=[(252, other_boot)])
        code, inner = cl.open(answer(srv, cl.protect(late)))
        self.assertEqual((inner[1], board.led), (129, 0))

    def test_plain_request_to_protected_resource_is_unauthorized(self):
        srv, _ = make()
        board.led = 0
        out = answer(srv, m.get("actuators/led", code=3, payload=b"on"))
        self.assertEqual((out[1], board.led), (129, 0))
        self.assertEqual(answer(srv, m.get("big"))[1], 129)

    def test_open_resource_and_well_known_core_stay_plain(self):
        srv, _ = make()
        self.assertEqual(answer(srv, m.get("sensors/temp"))[1], 69)
        self.assertEqual(answer(srv, m.get(".well-known/core"))[1], 69)

    def test_context_asked_for_but_unusable_keeps_everything_closed(self):
        srv = Server(RESOURCES, log=None, oscore=[], open=())
        self.assertEqual(answer(srv, m.get("actuators/led"))[1], 129)
        self.assertEqual(answer(srv, Client().protect(m.get("actuators/led")))[1], 130)

    def test_open_path_matching_nothing_is_logged(self):
        lines = []
        Server(RESOURCES, log=lines.append, oscore=[board_context()],
               open=("sensors/temp", "/sensors/humdity"))
        self.assertEqual(lines, ["coap: open path sensors/humdity matches no resource"])

    def test_without_oscore_nothing_changes(self):
        srv = Server(RESOURCES, log=None)
        self.assertEqual(answer(srv, m.get("actuators/led"))[1], 69)
        out = answer(srv, Client().protect(m.get("actuators/led")))
        self.assertEqual(out[1], 130)  # the OSCORE option is critical and unknown here


class Blockwise(Base):
    """Block1 inside OSCORE (RFC 8613 §4.1.3.4.2, as aiocoap sends it): each
    block its own protected request, with an Echo (RFC 9175 §2.4); the
    handler runs once, on the whole body, with the request still secured."""

    def test_a_body_in_protected_blocks_reaches_the_handler_whole(self):
        from coap import Resource
        seen = []

        def store(req, resp):
            seen.append((bytes(req.buf[req.payload_off:req.payload_off + req.payload_len]),
                         req.secured is not None))
            resp.set_code(68)

        srv = Server((Resource("store", put=store, upload=1024),), log=None,
                     oscore=[board_context()], open=(), amplification_limit=False)
        srv.request.peer = ("127.0.0.1", 40000)  # uploads are kept per peer
        cl = Client()
        body = bytes(range(256)) * 3
        echo = None
        codes = []
        num = 0
        mid = 0x300
        while num * 64 < len(body):
            more = (num + 1) * 64 < len(body)
            opts = [(27, m.uint(num << 4 | (8 if more else 0) | 2))]
            mid += 1
            msg = m.get("store", code=3, mid=mid, payload=body[num * 64:num * 64 + 64],
                        options=opts + ([(252, echo)] if echo else []))
            code, inner = cl.open(answer(srv, cl.protect(msg)))
            got = m.decode(inner)
            if got[1] == 129:  # the first: prove it is fresh
                echo = m.option(got[4], 252)
                continue
            codes.append(got[1])
            num += 1
        self.assertEqual(codes, [95] * 11 + [68])  # 2.31 Continue, then 2.04
        self.assertEqual(seen, [(body, True)])
        plain = m.get("store", code=3, payload=body[:64], options=[(27, m.uint(0x0A))])
        self.assertEqual(answer(srv, plain)[1], 129)  # refused before it is kept
        self.assertEqual(srv.dispatcher.uploads.active(), 1)  # only the finished one


class Errors(Base):
    def test_unknown_kid(self):  # §8.2 step 2
        srv, _ = make()
        out = answer(srv, Client(sender_id=b"\x07").protect(m.get("actuators/led")))
        self.assertEqual((out[1], diagnostic(out)), (129, b"Security context not found"))
        self.assertIsNone(m.option(m.decode(out)[4], 9))  # not protected
        self.assertEqual(m.option(m.decode(out)[4], 14), b"")  # Max-Age 0

    def test_wrong_key(self):
        srv, _ = make()
        out = answer(srv, Client(secret=bytes(16)).protect(m.get("actuators/led")))
        self.assertEqual((out[1], diagnostic(out)), (128, b"Decryption failed"))

    def test_tampered_ciphertext(self):
        srv, _ = make()
        msg = bytearray(Client().protect(m.get("actuators/led")))
        msg[-1] ^= 1
        self.assertEqual(answer(srv, bytes(msg))[1], 128)

    def test_malformed_option(self):  # §6.1: reserved bits, n = 6/7, no kid, truncated
        srv, _ = make()
        cl = Client()
        for value in (b"", b"\x20\x01", b"\x0e\x01", b"\x01\x05", b"\x0b\x01", b"\x19\x01\x05"):
            out = answer(srv, cl.protect(m.get("actuators/led"), oscore=value))
            self.assertEqual((value, out[1]), (value, 130))

    def test_errors_to_anyone_stay_within_3x(self):  # RFC 9175 §2.4
        srv, _ = make()
        tiny = m.encode(m.CON, 2, 5, b"", [(9, b"\x20")])  # 6 bytes: malformed option
        out = answer(srv, tiny)
        self.assertEqual(out[1], 130)
        self.assertTrue(len(out) <= 3 * len(tiny), len(out))
        verbose = Server(RESOURCES, log=None, oscore=[board_context()], amplification_limit=False)
        self.assertEqual(diagnostic(answer(verbose, tiny)), b"Malformed OSCORE option")

    def test_refusals_are_logged_in_one_line_a_minute(self):  # issue 21, Must do 4
        lines = []
        srv = Server(RESOURCES, log=lines.append, oscore=[board_context()])
        wrong = Client(secret=bytes(16))
        wrong.ssn = 10  # Partial IVs the window has not seen
        req = Client().protect(m.get("actuators/led", mid=1))
        answer(srv, req)
        for msg in (wrong.protect(m.get("actuators/led")), wrong.protect(m.get("actuators/led")),
                    bytes(bytearray(req[:3]) + b"\x02" + req[4:])):  # a replay
            answer(srv, msg)
        srv.oscore.recent.report(srv.log)
        self.assertEqual(lines, ["oscore: refused 3 protected requests: replay 1, "
                                 "decryption failed (wrong key or altered) 2"])
        answer(srv, wrong.protect(m.get("actuators/led")))
        srv.oscore.recent.report(srv.log)  # within the minute: nothing more yet
        self.assertEqual(len(lines), 1)
        srv.oscore.recent.reported_at -= 60000
        srv.oscore.recent.report(srv.log)
        self.assertEqual(lines[1], "oscore: refused 1 protected request: "
                                   "decryption failed (wrong key or altered) 1")
        for line in lines:  # never key material
            for secret in (SECRET, board_context().recipient_key, bytes(16)):
                self.assertNotIn(secret.hex(), line)

    def test_short_payload(self):
        srv, _ = make()
        msg = m.encode(m.CON, 2, 5, b"", [(9, b"\x09\x00\x02")], b"\x01\x02")
        self.assertEqual(answer(srv, msg)[1], 128)


class Replay(Base):
    def test_replay_under_another_mid_is_refused(self):
        srv, _ = make()
        cl = Client()
        first = cl.protect(m.get("actuators/led", mid=1))
        self.assertEqual(answer(srv, first)[1], 68)
        again = bytearray(first)
        again[3] = 2  # another Message ID, same Partial IV
        out = answer(srv, bytes(again))
        self.assertEqual((out[1], diagnostic(out)), (129, b"Replay detected"))

    def test_a_retransmission_gets_the_same_answer(self):  # RFC 7252 §4.5
        srv, ctx = make()
        cl = Client()
        req = cl.protect(m.get("actuators/led", mid=9))
        one = answer(srv, req)
        self.assertEqual(m.option(m.decode(one)[4], 9), b"")  # the request's nonce
        for _ in range(4):  # at most MAX_RETRANSMIT copies of a CON follow it
            self.assertEqual(answer(srv, req), one)
        self.assertEqual(answer(srv, req), b"")  # more are replays
        self.assertEqual(ctx.ssn, 0)  # no sequence number spent on them

    def test_a_replayed_put_acts_once(self):  # RFC 8613 §7.4, red team round two #3
        srv, ctx = make()
        cl = Client()
        board.led = 0
        code, inner = cl.open(answer(srv, cl.protect(m.get("actuators/led", code=3))))
        echo = m.option(m.decode(inner)[4], 252)
        on = cl.protect(m.get("actuators/led", code=3, payload=b"on", mid=20,
                              options=[(252, echo)]))
        first = answer(srv, on)
        self.assertEqual((cl.open(first)[1][1], board.led), (68, 1))
        off = cl.protect(m.get("actuators/led", code=3, payload=b"off", mid=21,
                               options=[(252, echo)]))
        self.assertEqual((cl.open(answer(srv, off))[1][1], board.led), (68, 0))
        ssn = ctx.ssn
        replayed = answer(srv, on)  # the recording, from the client's address
        self.assertEqual((replayed, board.led, ctx.ssn), (first, 0, ssn))

    def test_a_replayed_large_answer_stays_within_3x(self):  # RFC 9175 §2.4, round two #3
        srv, ctx = make()
        cl = Client()
        req = cl.protect(m.get("big", mid=30))
        out = answer(srv, req)
        self.assertTrue(len(out) <= 3 * len(req), (len(out), len(req)))
        code, inner = cl.open(out)
        self.assertEqual(inner[1], 129)  # 4.01 with an Echo for this address
        echo = m.option(m.decode(inner)[4], 252)
        proved = cl.protect(m.get("big", mid=31, options=[(252, echo)]))
        full = answer(srv, proved)
        self.assertEqual(cl.open(full)[1][1], 69)
        self.assertTrue(len(full) > 3 * len(proved))  # a proved address: the whole block
        later = cl.protect(m.get("big", mid=32))  # the same address, no Echo now
        self.assertEqual(cl.open(answer(srv, later))[1][1], 69)
        ssn = ctx.ssn
        sent = sum(len(answer(srv, proved)) for _ in range(1000))
        self.assertEqual((sent, ctx.ssn), (4 * len(full), ssn))
        srv.request.peer = b"elsewhere"  # the same recording from another address
        out = answer(srv, later)
        self.assertEqual((out[1], diagnostic(out)), (129, b"Replay detected"))
        self.assertEqual(answer(srv, req), answer(srv, req))  # 4.01, within 3x again

    def test_a_replay_is_refused_before_decrypting(self):  # RFC 8613 §8.2 step 3
        srv, ctx = make()
        cl = Client()
        req = cl.protect(m.get("actuators/led", mid=40))
        answer(srv, req)
        blocks = []
        block = ctx.recipient._block
        ctx.recipient._block = lambda a, b: (blocks.append(1), block(a, b))
        forged = bytearray(req)
        forged[3] = 41  # another Message ID
        forged[-9] ^= 1  # and garbage
        out = answer(srv, bytes(forged))
        self.assertEqual((diagnostic(out), len(blocks)), (b"Replay detected", 0))

    def test_same_mid_from_another_peer_is_a_replay(self):
        srv, _ = make()
        cl = Client()
        req = cl.protect(m.get("actuators/led", mid=9))
        srv.request.peer = b"peer-a"
        self.assertEqual(answer(srv, req)[1], 68)
        srv.request.peer = b"peer-b"
        out = answer(srv, req)
        self.assertEqual((out[1], diagnostic(out)), (129, b"Replay detected"))

    def test_no_safe_sequence_number_is_a_plain_5_03(self):
        class Failing(SequenceStore):
            full = False

            def save(self, value):
                if self.full:
                    raise OSError(28)  # ENOSPC
                SequenceStore.save(self, value)

        store = Failing(_STORE, chunk=1)
        make(board_context(store))
        srv, ctx = make(board_context(store))  # a "reboot": the window needs Echo
        store.full = True
        cl = Client()
        self.assertEqual(cl.open(answer(srv, cl.protect(m.get("actuators/led"))))[1][1], 129)
        out = answer(srv, cl.protect(m.get("actuators/led")))  # the next number needs a write
        self.assertEqual((out[1], diagnostic(out)), (163, b"no sequence number"))

    def test_window(self):
        srv, _ = make()
        cl = Client()
        for piv in (5, 3, 40):  # out of order within the window is fine
            self.assertEqual(answer(srv, cl.protect(m.get("actuators/led"), piv=piv))[1], 68)
        for piv in (5, 8):  # seen, and older than the window
            self.assertEqual(answer(srv, cl.protect(m.get("actuators/led"), piv=piv))[1], 129)
        self.assertEqual(answer(srv, cl.protect(m.get("actuators/led"), piv=20))[1], 68)
        self.assertEqual(answer(srv, cl.protect(m.get("actuators/led"), piv=1 << 30))[1], 129)


def echo_exchange(test, srv, cl):
    """Appendix B.1.2 as aiocoap does it: the first request gets a protected 4.01
    with Echo, the same request with that Echo goes through."""
    code, inner = cl.open(answer(srv, cl.protect(m.get("actuators/led"))))
    test.assertEqual(inner[1], 129)
    echo = m.option(m.decode(inner)[4], 252)
    code, inner = cl.open(answer(srv, cl.protect(m.get("actuators/led", options=[(252, echo)]))))
    test.assertEqual(inner[1], 69)


class Reboot(Base):
    def test_a_board_asks_for_echo_even_on_its_first_boot(self):
        # a wiped filesystem looks like a first boot: old requests must not pass
        srv, ctx = make(board_context(SequenceStore(_STORE)))
        cl = Client()
        old = cl.protect(m.get("actuators/led"))
        code, inner = cl.open(answer(srv, old))
        self.assertEqual(inner[1], 129)
        echo_exchange(self, srv, cl)

    def test_sequence_numbers_skip_ahead_and_echo_restores_the_window(self):
        store = SequenceStore(_STORE, chunk=4)
        srv, ctx = make(board_context(store))
        cl = Client()
        echo_exchange(self, srv, cl)  # the board's SSN 0
        for _ in range(6):  # unsafe without Echo: 4.01s under the board's own numbers
            answer(srv, cl.protect(m.get("actuators/led", code=3, payload=b"on")))
        self.assertEqual(ctx.ssn, 7)
        used = ctx.ssn
        # reboot: a new context from the same file
        srv, ctx = make(board_context(SequenceStore(_STORE, chunk=4)))
        self.assertTrue(ctx.ssn >= used, ctx.ssn)
        out = answer(srv, cl.protect(m.get("actuators/led")))
        code, inner = cl.open(out)
        self.assertEqual(inner[1], 129)  # protected 4.01 ...
        echo = m.option(m.decode(inner)[4], 252)  # ... with Echo
        self.assertEqual(len(echo), 12)
        pv = m.option(m.decode(out)[4], 9)
        self.assertTrue(m.to_uint(pv[1:]) >= used)  # never a used nonce
        with_echo = m.get("actuators/led", options=[(252, echo)])
        code, inner = cl.open(answer(srv, cl.protect(with_echo)))
        self.assertEqual(inner[1], 69)
        code, inner = cl.open(answer(srv, cl.protect(m.get("actuators/led"))))
        self.assertEqual(inner[1], 69)

    def test_requests_from_before_the_echo_stay_refused(self):  # B.1.2
        srv, ctx = make(board_context(SequenceStore(_STORE)))
        cl = Client()
        cl.ssn = 100
        held_back = [cl.protect(m.get("actuators/led", mid=i)) for i in range(3)]  # 100-102
        echo_exchange(self, srv, cl)  # 103 (Echo asked), 104 (window from here)
        for msg in held_back:
            out = answer(srv, msg)
            self.assertEqual((out[1], diagnostic(out)), (129, b"Replay detected"))
        self.assertEqual(cl.open(answer(srv, cl.protect(m.get("actuators/led"))))[1][1], 69)

    def test_stale_echo_is_refused(self):
        srv, ctx = make(board_context(SequenceStore(_STORE)))
        srv, ctx = make(board_context(SequenceStore(_STORE)))  # rebooted: window unknown
        cl = Client()
        stale = m.get("actuators/led", options=[(252, b"12345678")])
        code, inner = cl.open(answer(srv, cl.protect(stale)))
        self.assertEqual(inner[1], 129)


class FakeSock:
    """Keeps the last datagram in a preallocated buffer: sendto allocates nothing."""

    def __init__(self):
        self.last = bytearray(1200)
        self.last[0:] = b""

    def sendto(self, buf, addr):
        self.last[0:] = buf


class Observe(Base):
    def register(self):
        """A protected Observe registration of /sensors/temp from one client:
        (server, its socket, the client, the registration's Partial IV, the answer)."""
        srv, ctx = make(open=())
        srv.observers.ack_timeout_ms = 0
        cl = Client()
        sock = FakeSock()
        srv.request.peer = b"peer"
        reg = cl.protect(m.get("sensors/temp", token=b"ob", options=[(6, b"")]),
                         outer=[(6, b"")])
        reg_piv = cl.last_piv
        first = answer(srv, reg, sock)
        self.assertEqual(srv.observers.count(), 1)
        return srv, sock, cl, reg_piv, first

    def test_notifications_are_protected_under_the_boards_partial_iv(self):  # §8.3
        srv, sock, cl, reg_piv, first = self.register()
        code, inner = cl.open(first)
        self.assertEqual((code, m.option(m.decode(first)[4], 9)), (69, b"\x01\x00"))
        self.assertTrue(m.option(m.decode(first)[4], 6) is not None)  # Outer Observe
        pivs = []
        for _ in range(2):
            srv.observers.changed(RESOURCES[0])
            with locked(self, "a notification"):
                srv.observers.tick()
            note = bytes(sock.last)
            opts = m.decode(note)[4]
            pivs.append(m.option(opts, 9))
            self.assertTrue(m.option(opts, 6) is not None)
            code, inner = cl.open(note, reg_piv)  # bound to the registration (§7.1)
            self.assertEqual((code, inner[1]), (69, 69))
            self.assertEqual(m.decode(inner)[5], b"23.12")
        self.assertEqual(pivs, [b"\x01\x01", b"\x01\x02"])  # the board's SSN 1, 2

    def test_notifications_to_an_unproved_address_stay_within_3x(self):  # RFC 9175 §2.4
        srv, sock, cl, reg_piv, first = self.register()
        obs = srv.observers
        budgets = [obs.budget[i] for i in range(obs.size) if obs.addr[i] is not None]
        self.assertEqual(len(budgets), 1)
        self.assertTrue(0 <= budgets[0] < 3 * 40, budgets)  # a 3x budget, not unlimited (-1)

    def test_a_protected_resource_is_never_notified_in_the_clear(self):
        srv, sock = self.register()[:2]
        obs = srv.observers
        for i in range(obs.size):
            obs.secured[i] = None  # an entry that lost its binding to the registration
        sock.last[0:] = b""
        obs.changed(RESOURCES[0])
        obs.tick()
        self.assertEqual((bytes(sock.last), obs.count()), (b"", 0))

    def test_a_plain_get_with_its_token_leaves_a_protected_observation(self):
        # #21, finding 6: observers are told apart by their security context too
        from coap import Resource
        from sample import temp_get

        table = RESOURCES + (Resource("sensors/humidity", get=temp_get, obs=True),)
        srv = Server(table, log=None, oscore=[board_context()], open=("sensors/humidity",))
        srv.request.peer = b"peer"
        sock = FakeSock()
        cl = Client()
        reg = cl.protect(m.get("sensors/temp", token=b"ob", options=[(6, b"")]),
                         outer=[(6, b"")])
        answer(srv, reg, sock)
        self.assertEqual(srv.observers.count(), 1)
        plain = m.get("sensors/humidity", token=b"ob")
        self.assertEqual(m.decode(answer(srv, plain, sock))[1], 69)
        self.assertEqual(srv.observers.count(), 1)
        plain = m.get("sensors/humidity", token=b"ob", options=[(6, b"")])
        self.assertEqual(m.decode(answer(srv, plain, sock))[1], 0)  # a plain one beside it (its
        # address not proven: an empty ACK, the answer follows as a CON)
        self.assertEqual(srv.observers.count(), 2)
        answer(srv, m.get("sensors/humidity", token=b"ob", options=[(6, b"\x01")]), sock)
        obs = srv.observers  # the plain one ended, the protected one still there
        left = [obs.secured[i] for i in range(obs.size) if obs.addr[i] is not None]
        self.assertEqual((len(left), left[0] is not None), (1, True))

    def test_protected_observations_are_kept_across_a_reboot(self):  # issue 21, Must do 4
        from coap.observestore import ObserverStore

        srv, sock, cl, reg_piv, first = self.register()
        obs = srv.observers
        for i in range(obs.size):
            if obs.addr[i] is not None:
                obs.budget[i] = -1  # verified (it acknowledged a notification)
                obs.proven[i] = True
        store = ObserverStore(obs, srv.resources, (sock,), lambda b, n: None,
                              contexts=srv.oscore.contexts)
        saved = bytes(store.buf[:store.dump()])
        before = srv.oscore.contexts[0].ssn
        # the reboot: a new server, the same context (its SSN skips ahead, B.1.1)
        ctx = board_context()
        ctx.ssn = before + 64
        again, _ = make(ctx, open=())
        again.observers.ack_timeout_ms = 0
        restored = ObserverStore(again.observers, again.resources, (sock,), lambda b, n: None,
                                 contexts=again.oscore.contexts)
        self.assertEqual(restored.restore(saved, len(saved)), 1)
        sock.last[0:] = b""
        again.observers.tick()  # the first notification after the reboot, at once
        note = bytes(sock.last)
        code, inner = cl.open(note, reg_piv)  # the client's registration, not a new one
        self.assertEqual((code, inner[1], m.decode(inner)[5]), (69, 69, b"23.12"))
        self.assertEqual(m.to_uint(m.option(m.decode(note)[4], 9)[1:]), before + 64)
        other = make(open=())[0]
        plain = ObserverStore(other.observers, other.resources, (sock,), lambda b, n: None)
        self.assertEqual(plain.restore(saved, len(saved)), 0)  # no context: not kept


class NoAlloc(Base):
    def test_protected_get_and_put_allocate_nothing(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock is MicroPython's")
        srv, _ = make()
        cl = Client()
        cases = (
            ("GET", m.get("actuators/led", mid=1), 68, 69),
            ("PUT", m.get("actuators/led", code=3, payload=b"on", mid=2), 68, 68),
            ("GET json", m.get("sensors/temp", options=[(17, m.uint(50))], mid=3), 68, 69),
            ("Block2", m.get("big", options=[(23, m.uint(1 << 4 | 6))], mid=4), 68, 69),
        )
        for label, plain, outer, inner in cases:
            warm = cl.protect(plain)
            srv.handle(warm, len(warm))
            retrans = cl.protect(plain)
            msgs = (cl.protect(plain), retrans, retrans, cl.protect(plain, oscore=b"\x20"))
            outers = (outer, outer, outer, 130)
            for msg, code in zip(msgs, outers):
                no_alloc(self, label, srv.handle, msg, len(msg))
                self.assertEqual(srv.response.buf[1], code, label)
            self.assertEqual(cl.open(bytes(srv.response.buf), cl.last_piv), None)  # 4.02: plain

    def test_fresh_put_allocates_nothing(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock is MicroPython's")
        srv, _ = make()
        cl = Client()
        code, inner = cl.open(answer(srv, cl.protect(m.get("actuators/led", code=3))))
        echo = m.option(m.decode(inner)[4], 252)
        put = m.get("actuators/led", code=3, payload=b"on", options=[(252, echo)])
        warm = cl.protect(put)
        srv.handle(warm, len(warm))
        board.led = 0
        msg = cl.protect(put)
        no_alloc(self, "fresh PUT", srv.handle, msg, len(msg))
        self.assertEqual((cl.open(bytes(srv.response.buf))[1][1], board.led), (68, 1))

    def test_plain_requests_next_to_a_context_allocate_nothing(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock is MicroPython's")
        srv, _ = make()
        for msg, code in ((m.get("sensors/temp"), 69), (m.get("actuators/led"), 129)):
            srv.handle(msg, len(msg))
            no_alloc(self, "plain request", srv.handle, msg, len(msg))
            self.assertEqual(srv.response.buf[1], code)


if __name__ == "__main__":
    unittest.main()
