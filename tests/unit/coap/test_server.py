# coap.server: the RFC's answer to every kind of datagram.
import unittest

import coapmsg as m
from coap.parse import Request
from sample import board, make_server


def ask(srv, msg):
    """The decoded response, or None for silence."""
    n = srv.handle(msg, len(msg))
    return m.decode(bytes(srv.response.buf[:n])) if n else None


class MessageLayer(unittest.TestCase):
    def setUp(self):
        self.srv = make_server()

    def test_con_request_gets_piggybacked_ack(self):  # §5.2.1
        t, code, mid, tok, opts, payload = ask(self.srv, m.get("sensors/temp", mid=0x5151, token=b"tk"))
        self.assertEqual((t, code, mid, tok, payload), (m.ACK, 69, 0x5151, b"tk", b"23.12"))
        self.assertEqual(opts, [(12, b"")])

    def test_non_request_gets_non_with_fresh_mid(self):  # §5.2.3
        r1 = ask(self.srv, m.get("sensors/temp", mtype=m.NON, mid=7, token=b"12345678"))
        r2 = ask(self.srv, m.get("sensors/temp", mtype=m.NON, mid=7, token=b"12345678"))
        self.assertEqual((r1[0], r1[1], r1[3]), (m.NON, 69, b"12345678"))
        self.assertNotEqual(r1[2], r2[2])

    def test_empty_con_is_a_ping_answered_with_rst(self):  # §4.3
        self.assertEqual(ask(self.srv, m.encode(m.CON, 0, 0x4242)), (m.RST, 0, 0x4242, b"", [], b""))

    def test_empty_non_ack_rst_are_silence(self):  # §4.2, §4.3
        for t in (m.NON, m.ACK, m.RST):
            self.assertIsNone(ask(self.srv, m.encode(t, 0, 1)))

    def test_responses_arriving_at_the_server(self):  # §4.2: a CON lacks context -> RST
        self.assertEqual(ask(self.srv, m.encode(m.CON, 69, 9, b"t"))[:3], (m.RST, 0, 9))
        for t in (m.NON, m.ACK, m.RST):
            self.assertIsNone(ask(self.srv, m.encode(t, 69, 9, b"t")))

    def test_request_in_ack_or_rst_is_silence(self):  # §4.2, §4.3
        for t in (m.ACK, m.RST):
            self.assertIsNone(ask(self.srv, m.get("sensors/temp", mtype=t)))

    def test_format_error_con_rst_non_silence(self):  # §4.2, §4.3
        bad = m.get("sensors/temp") + b"\xff"
        self.assertEqual(ask(self.srv, bad)[:3], (m.RST, 0, 0x1234))
        self.assertIsNone(ask(self.srv, m.get("sensors/temp", mtype=m.NON) + b"\xff"))

    def test_tkl_9_is_a_format_error(self):  # §3
        self.assertEqual(ask(self.srv, b"\x49\x01\x00\x05" + bytes(9))[:3], (m.RST, 0, 5))

    def test_version_not_1_is_silence(self):  # §3
        self.assertIsNone(ask(self.srv, b"\x80\x01\x00\x05"))

    def test_reserved_code_class_con_is_rejected(self):  # §4.2, §12.1
        self.assertEqual(ask(self.srv, m.encode(m.CON, 1 << 5 | 1, 3))[:3], (m.RST, 0, 3))


class Dispatch(unittest.TestCase):
    # Diagnostics in full, as a verified peer gets them (test_amplify.py: 3x rule)
    def setUp(self):
        self.srv = make_server(amplification_limit=False)

    def code(self, msg):
        return ask(self.srv, msg)[1]

    def test_unrecognised_critical_option_is_4_02(self):  # §5.4.1
        r = ask(self.srv, m.get("sensors/temp", options=[(2049, b"x")]))
        self.assertEqual((r[1], r[5]), (130, b"unrecognised critical option 2049"))

    def test_unrecognised_critical_option_in_non_is_rejected(self):  # §5.4.1, §4.3
        self.assertIsNone(ask(self.srv, m.get("sensors/temp", mtype=m.NON, options=[(2049, b"x")])))

    def test_empty_or_repeated_proxy_uri_is_4_02(self):  # §5.4.3, §5.4.5
        self.assertEqual(self.code(m.get("", options=[(35, b"")])), 130)
        self.assertEqual(self.code(m.get("", options=[(35, b"coap://a/"), (35, b"coap://b/")])), 130)

    def test_unrecognised_elective_option_is_ignored(self):  # §5.4.1
        self.assertEqual(self.code(m.get("sensors/temp", options=[(2048, b"x")])), 69)

    def test_unknown_path_is_4_04(self):  # §5.9.2.5
        self.assertEqual(self.code(m.get("sensors/nope")), 132)
        self.assertEqual(self.code(m.get("sensors")), 132)
        self.assertEqual(self.code(m.get("sensors/temp/x")), 132)

    def test_paths_as_deep_as_the_request_keeps(self):  # §5.9.2.5
        from coap import Resource, Server
        deep = "/".join("s%d" % i for i in range(Request.max_path))
        srv = Server((Resource(deep, get=lambda req, resp: resp.payload(b"deep")),),
                     log=None, amplification_limit=False)
        r = ask(srv, m.get(deep))
        self.assertEqual((r[1], r[5]), (69, b"deep"))
        self.assertEqual(ask(srv, m.get(deep + "/x"))[1], 132)  # one segment more than kept
        self.assertEqual(ask(srv, m.get(deep[:-1] + "9"))[1], 132)  # last segment differs
        self.assertEqual(ask(srv, m.get(".well-known/core"))[1], 69)

    def test_method_not_allowed_is_4_05(self):  # §5.8, §5.9.2.6
        self.assertEqual(self.code(m.get("sensors/temp", code=3)), 133)
        self.assertEqual(self.code(m.get("sensors/temp", code=31)), 133)  # unknown method code

    def test_accept_it_cant_produce_is_4_06(self):  # §5.10.4
        self.assertEqual(self.code(m.get("sensors/temp", options=[(17, m.uint(60))])), 134)
        r = ask(self.srv, m.get("sensors/temp", options=[(17, m.uint(50))]))
        self.assertEqual((r[1], r[4], r[5]), (69, [(12, b"\x32")], b'{"temp":23.12}'))

    def test_content_format_it_cant_take_is_4_15(self):  # §5.10.3
        msg = m.get("actuators/led", code=3, payload=b"on", options=[(12, m.uint(50))])
        self.assertEqual(self.code(msg), 143)

    def test_put_changes_state(self):
        board.led = 0
        self.assertEqual(self.code(m.get("actuators/led", code=3, payload=b"on")), 68)
        self.assertEqual(board.led, 1)
        self.assertEqual(ask(self.srv, m.get("actuators/led"))[5], b"1")

    def test_handler_error_payload(self):
        r = ask(self.srv, m.get("actuators/led", code=3, payload=b"maybe"))
        self.assertEqual((r[1], r[4], r[5]), (128, [], b"expected on, off, 1 or 0"))

    def test_request_too_large_is_4_13_with_size1(self):  # RFC 7959 §2.9.3
        big = m.get("actuators/led", code=3, payload=b"x" * (self.srv.max_payload + 1))
        r = ask(self.srv, big)
        self.assertEqual((r[1], m.to_uint(m.option(r[4], 60))), (141, self.srv.max_payload))
        cut = m.get("actuators/led", code=3, payload=b"x" * 2000)[: self.srv.buffer_size + 1]
        self.assertEqual(ask(self.srv, cut)[1], 141)

    def test_proxy_uri_is_5_05(self):  # §5.10.2
        self.assertEqual(self.code(m.get("", options=[(35, b"coap://h/x")])), 165)

    def test_handler_that_raises_is_5_00_and_logged(self):  # §5.9.3.1
        r = ask(self.srv, m.get("boom"))
        self.assertEqual((r[1], r[5]), (160, b"handler error: RuntimeError"))
        self.assertEqual(len(self.srv.logged), 1)
        self.assertIn("/boom", self.srv.logged[0])
        self.assertEqual(self.code(m.get("sensors/temp")), 69)  # still serving

    def test_response_too_large_for_a_non_safe_method_is_5_00(self):
        r = ask(self.srv, m.get("big", code=2))
        self.assertEqual((r[1], r[5]), (160, b"response too large"))

    def test_retransmission_is_handled_again(self):  # stateless: no deduplication
        before = board.calls
        ask(self.srv, m.get("sensors/temp", mid=77))
        ask(self.srv, m.get("sensors/temp", mid=77))
        self.assertEqual(board.calls, before + 2)


class Table(unittest.TestCase):
    def test_duplicate_paths_refused(self):
        from coap import Resource, Server
        f = lambda req, resp: None  # noqa: E731
        with self.assertRaises(ValueError):
            Server((Resource("a/b", get=f), Resource("/a/b/", get=f)))

    def test_paths_no_request_can_reach_are_refused(self):
        # a request keeps 8 Uri-Path segments of up to 255 bytes: a clear
        # error at start-up rather than a resource that answers 4.04 forever
        from coap import Resource, Server
        f = lambda req, resp: None  # noqa: E731
        for path in ("/".join("abcdefghi"), "x" * 256):
            with self.assertRaises(ValueError):
                Server((Resource(path, get=f),))
        Server((Resource("/".join("abcdefgh"), get=f),))  # 8: reachable

    def test_handler_not_callable_refused(self):
        from coap import Resource
        with self.assertRaises(ValueError):
            Resource("a", get="not a function")


class Multicast(unittest.TestCase):
    # §8.1: a request that arrived via multicast never gets an error response or RST
    def test_errors_and_rst_are_silence(self):
        srv = make_server()
        for msg in (m.get("nope", mtype=m.NON), m.get("sensors/temp", mtype=m.NON, code=4),
                    m.encode(m.CON, 0, 5), m.get("sensors/temp", mtype=m.NON) + b"\xff"):
            self.assertEqual(srv.handle(msg, len(msg), True), 0)

    def test_empty_content_is_silence(self):  # RFC 6690 §4.1: no empty discovery answers
        srv = make_server()
        msg = m.get(".well-known/core", mtype=m.NON, query=["rt=nothing-like-this"])
        self.assertEqual(srv.handle(msg, len(msg), True), 0)
        self.assertTrue(srv.handle(msg, len(msg)) > 0)  # unicast: an empty 2.05

    def test_success_is_answered(self):
        srv = make_server()
        msg = m.get(".well-known/core", mtype=m.NON, query=["rt=temp*"])
        n = srv.handle(msg, len(msg), True)
        self.assertEqual(m.decode(bytes(srv.response.buf[:n]))[1], 69)


class Logging(unittest.TestCase):
    def test_log_none_discards_and_keeps_serving(self):
        from coap import Server
        from sample import RESOURCES
        srv = Server(RESOURCES, log=None)
        self.assertEqual(ask(srv, m.get("boom"))[1], 160)
        self.assertEqual(ask(srv, m.get("sensors/temp"))[1], 69)
