# coap.client: the board's own CON requests (RFC 7252 §4.2, §5.2) over a
# stand-in for a connected UDP socket, with a clock the test moves; URIs and
# the path segments a client keeps. (Through a real RD on loopback: test_rd.)
import unittest

import coapmsg as m
from coap.client import RESET, TIMEOUT, UNREACHABLE, Client, Path, parse_uri
from fake_time import Clock

EAGAIN, ECONNREFUSED = 11, 111
URI_PATH, LOCATION_PATH = 11, 8


class Udp:
    """A connected, non-blocking UDP socket: what was sent, what will arrive."""

    def __init__(self):
        self.sent = []
        self.inbox = []
        self.send_error = 0
        self.recv_error = EAGAIN

    def send(self, buf):
        if self.send_error:
            raise OSError(self.send_error)
        self.sent.append(m.decode(bytes(buf)))

    def recv(self, n):
        if self.inbox:
            return self.inbox.pop(0)
        raise OSError(self.recv_error)


class Exchange(unittest.TestCase):
    def setUp(self):
        self.udp = Udp()
        self.clock = Clock()
        self.client = Client(self.udp, 128, self.clock)

    def request(self, code=2, path=b"rd", payload=b""):
        msg = self.client.begin(code)
        msg.option(URI_PATH, path)
        if payload:
            msg.payload(payload)
        self.assertIsNone(self.client.send())
        return self.udp.sent[-1]

    def answer(self, req, code, mtype=m.ACK, mid=None, token=None, options=(), payload=b""):
        self.udp.inbox.append(m.encode(mtype, code, req[2] if mid is None else mid,
                                       req[3] if token is None else token, options, payload))

    def test_a_con_request_with_a_token(self):
        req = self.request(2, b"rd", b"</a>")
        self.assertEqual((req[0], req[1], len(req[3]), req[4], req[5]),
                         (m.CON, 2, 4, [(URI_PATH, b"rd")], b"</a>"))

    def test_piggybacked_response(self):  # §5.2.1
        req = self.request()
        self.assertIsNone(self.client.poll())  # nothing yet
        self.answer(req, 65, options=[(LOCATION_PATH, b"rd"), (LOCATION_PATH, b"42")],
                    payload=b"ok")
        self.assertEqual(self.client.poll(), 65)
        c = self.client
        self.assertEqual(bytes(c.data[c.payload_off:]), b"ok")
        self.assertIsNone(c.poll())  # done: no longer busy

    def test_tokens_and_mids_change_per_request(self):
        mids, tokens = set(), set()
        for _ in range(3):
            req = self.request()
            mids.add(req[2])
            tokens.add(req[3])
            self.answer(req, 69)
            self.assertEqual(self.client.poll(), 69)
        self.assertEqual((len(mids), len(tokens)), (3, 3))

    def test_reset(self):  # §4.2
        req = self.request()
        self.answer(req, 0, mtype=m.RST, mid=req[2] ^ 1, token=b"")  # not ours
        self.assertIsNone(self.client.poll())
        self.answer(req, 0, mtype=m.RST, token=b"")
        self.assertEqual(self.client.poll(), RESET)

    def test_retransmitted_four_times_with_doubling_timeouts(self):  # §4.2, §4.8
        req = self.request()
        sent_at = [self.clock.now]
        result = None
        for _ in range(100000):  # 10 ms steps
            self.clock.advance(10)
            result = self.client.poll()
            if result is not None:
                break
            if len(self.udp.sent) > len(sent_at):
                sent_at.append(self.clock.now)
        self.assertEqual(result, TIMEOUT)
        self.assertEqual(len(self.udp.sent), 5)
        self.assertTrue(all(s == req for s in self.udp.sent))  # the same message each time
        waits = [self.clock.ticks_diff(b, a) for a, b in zip(sent_at, sent_at[1:])]
        self.assertTrue(2000 <= waits[0] < 3010, waits)  # ACK_TIMEOUT x [1, 1.5)
        for a, b in zip(waits, waits[1:]):
            self.assertTrue(abs(b - 2 * a) <= 20, waits)

    def test_empty_ack_then_separate_response(self):  # §5.2.2
        req = self.request()
        self.answer(req, 0, token=b"")
        self.assertIsNone(self.client.poll())
        self.clock.advance(20000)
        self.assertIsNone(self.client.poll())
        self.assertEqual(len(self.udp.sent), 1)  # acknowledged: not sent again
        self.answer(req, 65, mtype=m.CON, mid=0x7777)
        self.assertEqual(self.client.poll(), 65)
        self.assertEqual(self.udp.sent[-1], (m.ACK, 0, 0x7777, b"", [], b""))

    def test_separate_response_that_never_comes(self):
        req = self.request()
        self.answer(req, 0, token=b"")
        self.client.poll()
        self.clock.advance(30000)
        self.assertEqual(self.client.poll(), TIMEOUT)

    def test_strangers_are_not_the_answer(self):  # §4.2, §5.3.2
        req = self.request()
        self.answer(req, 69, token=b"\x00\x00\x00\x00")                  # another token
        self.answer(req, 1, mtype=m.CON, mid=0x4242, token=b"")          # a request to us
        bad = m.encode(m.CON, 69, 0x4343, req[3], [(8, b"a")])[:-1]      # value cut short
        self.udp.inbox.append(bad)
        self.assertIsNone(self.client.poll())
        self.assertEqual([(s[0], s[2]) for s in self.udp.sent[1:]],
                         [(m.RST, 0x4242), (m.RST, 0x4343)])
        self.answer(req, 69)
        self.assertEqual(self.client.poll(), 69)

    def test_send_error_is_unreachable(self):
        self.udp.send_error = ECONNREFUSED
        self.client.begin(1)
        self.assertEqual(self.client.send(), UNREACHABLE)

    def test_receive_error_is_unreachable(self):  # e.g. ICMP port unreachable
        self.request()
        self.udp.recv_error = ECONNREFUSED
        self.assertEqual(self.client.poll(), UNREACHABLE)

    def test_collect_an_option_into_a_path(self):
        req = self.request()
        self.answer(req, 65, options=[(LOCATION_PATH, b"rd"), (LOCATION_PATH, b"")])
        self.client.poll()
        where = Path(count=4, size=8)
        self.client.collect(LOCATION_PATH, where)
        self.assertEqual(where.text(), "/rd/")
        self.client.collect(URI_PATH, where)  # none there
        self.assertEqual(len(where), 0)

    def test_collect_leaves_a_path_too_long_to_keep_empty(self):
        req = self.request()
        self.answer(req, 65, options=[(LOCATION_PATH, b"rd"), (LOCATION_PATH, b"x" * 9)])
        self.client.poll()
        where = Path(count=4, size=8)
        self.client.collect(LOCATION_PATH, where)
        self.assertEqual(len(where), 0)


class Uris(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(parse_uri("coap://127.0.0.1"), ("127.0.0.1", 5683, None))
        self.assertEqual(parse_uri("coap://[::1]:5783"), ("::1", 5783, None))
        self.assertEqual(parse_uri("coap://rd.example:61616/rd/"),
                         ("rd.example", 61616, [b"rd", b""]))
        self.assertEqual(parse_uri("coap://rd.example/"), ("rd.example", 5683, None))

    def test_refused(self):
        for bad in ("http://rd.example", "coap://", "coap://h:0", "coap://h:x", "coap://[::1",
                    "coap://h:70000", "coap://:5683", "coap://user@h"):
            with self.assertRaises(ValueError):
                parse_uri(bad)


class Paths(unittest.TestCase):
    def test_segments_keep_empty_ones_and_refuse_overflow(self):
        p = Path(count=3, size=4)
        self.assertTrue(p.add(b"xreg", 1, 3))
        self.assertTrue(p.add(b"", 0, 0))
        self.assertFalse(p.add(b"toolong", 0, 7))
        self.assertTrue(p.add(b"1", 0, 1))
        self.assertFalse(p.add(b"2", 0, 1))
        self.assertEqual((len(p), p.text()), (3, "/reg//1"))
        p.clear()
        self.assertEqual((len(p), p.text()), (0, "/"))


if __name__ == "__main__":
    unittest.main()
