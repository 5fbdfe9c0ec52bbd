# coap.dispatch: Dispatcher.answer on its own, with the response begun the
# way the server begins it (a piggybacked 2.05, RFC 7252 §5.2.1): which
# request gets which error, Observe registration, and whether an answer may
# be kept for the same GET (prepared.py).
import unittest

import coapmsg as m
from coap.blockwise import Passes, block_size
from coap.dispatch import Dispatcher
from coap.observe import Observers
from coap.parse import Request
from coap.resource import Resource
from coap.write import Response
from heaplock import no_alloc

NOT_FOUND, METHOD_NOT_ALLOWED, NOT_ACCEPTABLE, UNSUPPORTED = 132, 133, 134, 143
BAD_OPTION, TOO_LARGE, UNAUTHORIZED, PROXYING = 130, 141, 129, 165
CONTENT, CHANGED = 69, 68
OBSERVE, ACCEPT, CONTENT_FORMAT, SIZE1, PROXY_URI, PROXY_SCHEME = 6, 17, 12, 60, 35, 39


def temp_get(req, resp):
    resp.payload(b"23.12")


def led_put(req, resp):
    pass


TABLE = (
    Resource("sensors/temp", get=temp_get, ct=(0, 50), obs=True, prepared=True),
    Resource("actuators/led", get=temp_get, put=led_put, ct=0, accepts=0),
    Resource("secret", get=temp_get),
)


class Desk:
    """A dispatcher with the request and response a server would give it."""

    def __init__(self, resources=TABLE, buffer_size=256, max_payload=128, observers=0):
        self.req = Request()
        self.req.peer = ("192.0.2.1", 40000)
        self.resp = Response(buffer_size, block_size(max_payload))
        self.logged = []
        self.d = Dispatcher(resources, Passes(self.logged.append), buffer_size, max_payload)
        if observers:
            # probation 3: as a server under the 3x rule makes it (amplify.RATIO)
            self.d.observers = Observers(None, observers, probation=3)

    def answer(self, msg, limit=0, multicast=False):
        """What answer() returns; the response stays in self.resp."""
        req = self.req
        req.parse(msg, len(msg))
        self.resp.begin(m.ACK if req.type == m.CON else m.NON, CONTENT, req.mid, msg, 4, req.tkl)
        return self.d.answer(req, self.resp, len(msg), limit, None, multicast)

    def ask(self, msg, **kw):
        """The decoded response: (type, code, mid, token, options, payload)."""
        self.answer(msg, **kw)
        return m.decode(bytes(self.resp.buf))


class Errors(unittest.TestCase):
    def setUp(self):
        self.desk = Desk()

    def code(self, msg):
        return self.desk.ask(msg)[1]

    def test_found_resource_answers_2_05_with_its_default_format(self):
        t, code, mid, tok, opts, payload = self.desk.ask(m.get("sensors/temp", mid=9, token=b"ab"))
        self.assertEqual((t, code, mid, tok, payload), (m.ACK, CONTENT, 9, b"ab", b"23.12"))
        self.assertEqual(m.option(opts, CONTENT_FORMAT), b"")  # text/plain: 0, as zero bytes

    def test_unknown_path_is_4_04(self):  # §5.9.2.4
        for path in ("sensors", "sensors/temp/x", "nothing", "a/b/c/d/e/f/g/h/i"):
            self.assertEqual(self.code(m.get(path)), NOT_FOUND, path)

    def test_method_without_handler_is_4_05(self):  # §5.9.2.6, also unknown methods
        self.assertEqual(self.code(m.get("sensors/temp", code=3, payload=b"1")),
                         METHOD_NOT_ALLOWED)
        self.assertEqual(self.code(m.get("sensors/temp", code=31)), METHOD_NOT_ALLOWED)

    def test_accept_not_offered_is_4_06(self):  # §5.10.4
        self.assertEqual(self.code(m.get("sensors/temp", options=[(ACCEPT, b"\x6e")])),
                         NOT_ACCEPTABLE)

    def test_accept_offered_picks_that_format(self):
        opts = self.desk.ask(m.get("sensors/temp", options=[(ACCEPT, b"\x32")]))[4]
        self.assertEqual(m.option(opts, CONTENT_FORMAT), b"\x32")

    def test_payload_format_not_accepted_is_4_15(self):  # §5.10.3
        put = m.get("actuators/led", code=3, options=[(CONTENT_FORMAT, b"\x32")], payload=b"on")
        self.assertEqual(self.code(put), UNSUPPORTED)
        ok = m.get("actuators/led", code=3, options=[(CONTENT_FORMAT, b"")], payload=b"on")
        self.assertEqual(self.code(ok), CHANGED)

    def test_unrecognised_critical_option_is_4_02_naming_it(self):  # §5.4.1
        r = self.desk.ask(m.get("sensors/temp", options=[(2049, b"x")]))
        self.assertEqual((r[1], r[5]), (BAD_OPTION, b"unrecognised critical option 2049"))
        # an unrecognised elective option (even number) is ignored
        self.assertEqual(self.code(m.get("sensors/temp", options=[(2050, b"x")])), CONTENT)

    def test_request_larger_than_the_buffer_is_4_13_with_size1(self):  # RFC 7959 §2.9.3
        r = self.desk.ask(m.get("actuators/led", code=3, payload=b"x" * 129))
        self.assertEqual((r[1], m.to_uint(m.option(r[4], SIZE1))), (TOO_LARGE, 128))
        big = m.get("sensors/temp", options=[(2050, b"x" * 250)])  # 260 bytes > 256
        self.assertEqual(self.code(big), TOO_LARGE)
        self.assertEqual(self.code(m.get("actuators/led", code=3, payload=b"x" * 128)), CHANGED)

    def test_proxy_request_is_5_05(self):  # §5.10.2
        for opt in ((PROXY_URI, b"coap://example.org/x"), (PROXY_SCHEME, b"coap")):
            r = self.desk.ask(m.get("sensors/temp", options=[opt]))
            self.assertEqual((r[1], r[5]), (PROXYING, b"not a proxy"))

    def test_secure_resource_asked_in_the_clear_is_4_01(self):  # RFC 8613 §8.2
        TABLE[2].secure = True
        try:
            r = self.desk.ask(m.get("secret"))
        finally:
            TABLE[2].secure = False
        self.assertEqual((r[1], r[5]), (UNAUTHORIZED, b"OSCORE required"))
        self.assertEqual(self.code(m.get("secret")), CONTENT)

    def test_well_known_core_lists_the_table(self):  # RFC 6690 §4
        r = self.desk.ask(m.get(".well-known/core"))
        self.assertEqual((r[1], m.option(r[4], CONTENT_FORMAT)), (CONTENT, b"\x28"))
        self.assertIn(b"</sensors/temp>", r[5])
        self.assertNotIn(b"</.well-known/core>", r[5])

    def test_a_subtree_resource_answers_the_paths_below_it(self):
        def depth(req, resp):
            resp.payload_int(req.path_count)
        desk = Desk(TABLE + (Resource("3303", get=depth, subtree=True),))
        for path, want in (("3303", (CONTENT, b"1")), ("3303/0/5700", (CONTENT, b"3")),
                           ("3304/0", (NOT_FOUND, b"")), ("sensors/temp/x", (NOT_FOUND, b""))):
            r = desk.ask(m.get(path))
            self.assertEqual((r[1], r[5]), want, path)


class Observing(unittest.TestCase):
    def setUp(self):
        self.desk = Desk(observers=1)
        self.table = self.desk.d.observers

    def register(self, peer, token, limit=0):
        self.desk.req.peer = peer
        return self.desk.ask(m.get("sensors/temp", token=token, options=[(OBSERVE, b"")]),
                             limit=limit)

    def test_registration_answers_with_observe_and_is_kept(self):  # RFC 7641 §4.1
        r = self.register(("192.0.2.1", 1), b"o1")
        self.assertEqual((r[1], r[5]), (CONTENT, b"23.12"))
        self.assertTrue(m.option(r[4], OBSERVE) is not None)
        self.assertEqual(self.table.count(), 1)

    def test_deregistration_and_plain_get_carry_no_observe(self):  # RFC 7641 §3.6
        self.register(("192.0.2.1", 1), b"o1")
        self.desk.req.peer = ("192.0.2.1", 1)
        r = self.desk.ask(m.get("sensors/temp", token=b"o1", options=[(OBSERVE, b"\x01")]))
        self.assertIsNone(m.option(r[4], OBSERVE))
        self.assertEqual(self.table.count(), 0)

    def test_not_on_a_multicast_request(self):  # RFC 7641 §4.1 doesn't apply (§8.1 NON)
        self.desk.req.peer = ("192.0.2.1", 1)
        r = self.desk.ask(m.get("sensors/temp", mtype=m.NON, options=[(OBSERVE, b"")]),
                          multicast=True)
        self.assertIsNone(m.option(r[4], OBSERVE))
        self.assertEqual(self.table.count(), 0)

    def test_unverified_newcomer_takes_no_verified_observers_place(self):  # RFC 9175 §2.4
        self.register(("192.0.2.1", 1), b"o1")
        r = self.register(("192.0.2.2", 2), b"o2", limit=100)
        self.assertEqual((r[1], r[5]), (CONTENT, b"23.12"))  # a plain answer instead
        self.assertIsNone(m.option(r[4], OBSERVE))
        self.assertTrue(self.table.find(("192.0.2.1", 1), b"\x00\x00\x00\x00o1", 4, 2) >= 0)

    def test_unverified_registration_is_answered_separately(self):  # RFC 9175 §2.4
        r = self.register(("192.0.2.3", 3), b"o3", limit=100)
        self.assertEqual((r[0], r[1], r[4], r[5]), (m.ACK, 0, [], b""))  # an empty ACK
        self.assertEqual(self.table.count(), 1)

    def test_an_error_ends_the_observation(self):  # RFC 7641 §4.2
        def failing(req, resp):
            raise RuntimeError("sensor unplugged")

        desk = Desk((Resource("t", get=failing, obs=True),), observers=1)
        r = desk.ask(m.get("t", options=[(OBSERVE, b"")]))
        self.assertEqual(r[1], 160)
        self.assertEqual(desk.d.observers.count(), 0)
        self.assertEqual(len(desk.logged), 1)


class Prepared(unittest.TestCase):
    """answer() returns the resource when the server may keep the answer."""

    def setUp(self):
        self.desk = Desk()

    def test_plain_con_get_of_a_prepared_resource_may_be_kept(self):
        self.assertIs(self.desk.answer(m.get("sensors/temp")), TABLE[0])

    def test_anything_else_may_not(self):
        d = self.desk
        self.assertIsNone(d.answer(m.get("actuators/led")))  # not prepared
        self.assertIsNone(d.answer(m.get("sensors/temp", mtype=m.NON)))
        self.assertIsNone(d.answer(m.get("sensors/temp", options=[(ACCEPT, b"\x6e")])))  # 4.06
        self.assertIsNone(d.answer(m.get("sensors/temp", mtype=m.NON), multicast=True))
        d.req.secured = object()  # protected by OSCORE: never kept in the clear
        try:
            self.assertIsNone(d.answer(m.get("sensors/temp")))
        finally:
            d.req.secured = None

    def test_observed_get_is_not_kept(self):
        desk = Desk(observers=1)
        self.assertIsNone(desk.answer(m.get("sensors/temp", options=[(OBSERVE, b"")])))


class NoAlloc(unittest.TestCase):
    def test_get_allocates_nothing(self):  # DESIGN.md: no allocation on the request path
        desk = Desk()
        msg = m.get("sensors/temp", token=b"tok1")
        desk.answer(msg)  # warm up
        self.assertIs(no_alloc(self, "GET", desk.answer, msg), TABLE[0])
        self.assertEqual(m.decode(bytes(desk.resp.buf))[5], b"23.12")


if __name__ == "__main__":
    unittest.main()
