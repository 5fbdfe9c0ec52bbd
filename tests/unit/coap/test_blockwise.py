# Block2 (RFC 7959), served statelessly: the handler writes the whole
# representation each time, the server keeps only the block asked for.
import unittest

import coapmsg as m
from sample import make_server

BIG = b"0123456789" * 200  # what sample.big writes


def block2(num, szx):
    return [(23, m.uint(num << 4 | szx))]


def ask(srv, msg):
    n = srv.handle(msg, len(msg))
    return m.decode(bytes(srv.response.buf[:n]))


def opt(r, num):
    v = m.option(r[4], num)
    return None if v is None else m.to_uint(v)


class Block2(unittest.TestCase):
    # Full-size blocks, as a verified peer gets them; test_amplify.py has the 3x rule.
    def setUp(self):
        self.srv = make_server(amplification_limit=False)

    def fetch_all(self, szx):
        body = b""
        etags = set()
        for num in range(200):
            r = ask(self.srv, m.get("big", options=block2(num, szx)))
            self.assertEqual(r[1], 69)
            b = opt(r, 23)
            self.assertEqual((b >> 4, b & 7), (num, szx))
            etags.add(m.option(r[4], 4))
            body += r[5]
            if not b & 8:
                return body, etags
        self.fail("no last block")

    def test_unasked_large_response_starts_block_wise(self):  # §2.2
        r = ask(self.srv, m.get("big"))
        self.assertEqual((r[1], opt(r, 23), opt(r, 28)), (69, 0 << 4 | 8 | 6, len(BIG)))
        self.assertEqual(r[5], BIG[:1024])
        self.assertTrue(m.option(r[4], 4))  # ETag
        self.assertEqual([n for n, _ in r[4]], [4, 23, 28])

    def test_every_block_size_reassembles_byte_exact(self):
        for szx in (0, 2, 6):
            body, etags = self.fetch_all(szx)
            self.assertEqual(body, BIG)
            self.assertEqual(len(etags), 1)

    def test_early_negotiation_uses_the_smaller_size(self):  # §2.4
        r = ask(self.srv, m.get("big", options=block2(0, 2)))
        self.assertEqual((len(r[5]), opt(r, 23) & 7, opt(r, 28)), (64, 2, len(BIG)))

    def test_size2_only_on_the_first_block(self):
        self.assertIsNone(opt(ask(self.srv, m.get("big", options=block2(1, 6))), 28))

    def test_small_representation_with_block2_fits_one_block(self):
        r = ask(self.srv, m.get("sensors/temp", options=block2(0, 6)))
        self.assertEqual((r[1], opt(r, 23), r[5]), (69, 6, b"23.12"))

    def test_block_beyond_the_end_is_4_02(self):
        self.assertEqual(ask(self.srv, m.get("big", options=block2(2, 6)))[1], 130)

    def test_szx_7_is_4_00(self):  # §2.2: reserved
        self.assertEqual(ask(self.srv, m.get("big", options=block2(0, 7)))[1], 128)

    def test_etag_changes_with_the_representation(self):
        from sample import board
        e1 = m.option(ask(self.srv, m.get("sensors/temp", options=block2(0, 0)))[4], 4)
        board.temp_centi += 1
        try:
            e2 = m.option(ask(self.srv, m.get("sensors/temp", options=block2(0, 0)))[4], 4)
        finally:
            board.temp_centi -= 1
        self.assertNotEqual(e1, e2)

    def test_large_well_known_core_is_block_wise(self):
        from coap import Resource, Server
        f = lambda req, resp: None  # noqa: E731
        table = [Resource("sensor/%d" % i, get=f, rt="temperature-c", if_="core.s") for i in range(40)]
        srv = Server(table, log=lambda s: None, amplification_limit=False)
        body = b""
        for num in range(20):
            r = ask(srv, m.get(".well-known/core", options=block2(num, 4)))
            body += r[5]
            if not opt(r, 23) & 8:
                break
        self.assertEqual(body.count(b"</sensor/"), 40)
        self.assertEqual(body, b",".join(r.link for r in table))
