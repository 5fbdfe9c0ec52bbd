# coap.blockput: block-wise PUT and POST (RFC 7959 §2.5) through coap.client
# to the library's own server and its atomic uploads (coap.block1), and to a
# server that asks for smaller blocks (§2.5 in a 2.31, §2.9.3 in a 4.13).
import unittest

import coapmsg as m
from coap import Resource, Server
from coap.blockput import BAD_BLOCK, BlockPut
from coap.client import Client, Path
from test_prepared import answers

BODY = bytes((i * 13 + 5) & 0xFF for i in range(3000))
CHANGED, CONTINUE, TOO_LARGE = 68, 95, 141


class Store:
    def __init__(self):
        self.bodies = []

    def keep(self, req, resp):
        self.bodies.append(bytes(req.buf[req.payload_off:req.payload_off + req.payload_len]))


class Wire:
    """A connected socket whose peer is a coap Server, or a function from a
    request's decoded fields to an answer (bytes); answers come at once."""

    def __init__(self, peer):
        self.peer = peer
        self.inbox = []
        self.sent = []

    def send(self, buf):
        self.sent.append(m.decode(bytes(buf)))
        if isinstance(self.peer, Server):
            a = answers(self.peer, [bytes(buf)])[0]
        else:
            a = self.peer(self.sent[-1])
        if a is not None:
            self.inbox.append(a)

    def recv(self, n):
        if not self.inbox:
            raise OSError(11)
        return self.inbox.pop(0)


def path(*segs):
    p = Path(4, 16)
    for s in segs:
        p.add(s, 0, len(s))
    return p


class Upload(unittest.TestCase):
    def setUp(self):
        self.store = Store()
        self.srv = Server((Resource("store", put=self.store.keep, post=self.store.keep,
                                    upload=4096),), log=None, amplification_limit=False,
                          uploads=2)

    def run_put(self, wire, body=BODY, code=3, szx=6):
        u = BlockPut(Client(wire, 1152))
        u.szx = szx
        self.assertIsNone(u.start(code, path(b"store"), body, fmt=42))
        for _ in range(100):
            r = u.poll()
            if r is not None:
                return r, u
        self.fail("the upload never ended")

    def test_put_in_blocks(self):
        wire = Wire(self.srv)
        r, u = self.run_put(wire)
        self.assertEqual((r, u.pos), (CHANGED, len(BODY)))
        self.assertTrue(self.store.bodies == [BODY])  # the handler ran once, on the whole
        blocks = [m.to_uint(m.option(s[4], 27)) for s in wire.sent]
        self.assertEqual(blocks, [0x0E, 0x1E, 0x26])  # NUM, M, SZX 6: 1024-byte blocks
        self.assertEqual(m.option(wire.sent[0][4], 60), m.uint(3000))  # Size1, first only
        self.assertIsNone(m.option(wire.sent[1][4], 60))
        self.assertEqual(m.option(wire.sent[0][4], 12), m.uint(42))

    def test_post_in_small_blocks(self):
        r, u = self.run_put(Wire(self.srv), code=2, szx=2)
        self.assertEqual(r, CHANGED)
        self.assertTrue(self.store.bodies == [BODY])

    def test_one_block_body_is_a_plain_request(self):
        wire = Wire(self.srv)
        r, u = self.run_put(wire, body=BODY[:100])
        self.assertEqual(r, CHANGED)
        self.assertEqual(len(wire.sent), 1)
        self.assertIsNone(m.option(wire.sent[0][4], 27))
        self.assertTrue(self.store.bodies == [BODY[:100]])

    def test_body_over_the_resource_limit(self):
        r, u = self.run_put(Wire(self.srv), body=BODY + BODY)
        self.assertEqual(r, TOO_LARGE)  # 4.13 with Size1 (§2.9.3)
        self.assertEqual(self.store.bodies, [])

    def test_server_asks_for_smaller_blocks(self):
        got = bytearray()

        def small(req):  # RFC 7959 Figure 6: it keeps the first block whole,
            t, code, mid, token, opts, payload = req  # then asks for 256 bytes
            v = m.to_uint(m.option(opts, 27))
            num, more, szx = v >> 4, v & 8, v & 7
            pos = num << (szx + 4)
            if pos != len(got) or (pos and szx != 4):
                return m.encode(m.ACK, 136, mid, token)
            got.extend(payload)
            if not more:
                return m.encode(m.ACK, CHANGED, mid, token, [(27, m.uint(v))])
            return m.encode(m.ACK, CONTINUE, mid, token,
                            [(27, m.uint((pos >> 8) << 4 | 8 | 4))])
        r, u = self.run_put(Wire(small))
        self.assertEqual(r, CHANGED)
        self.assertTrue(bytes(got) == BODY)

    def test_too_large_first_block_sent_again_smaller(self):
        wire_sizes = []

        def picky(req):  # 4.13 to a block over 512 bytes, with its size (§2.9.3)
            t, code, mid, token, opts, payload = req
            v = m.to_uint(m.option(opts, 27) or b"")
            wire_sizes.append(len(payload))
            if len(payload) > 512:
                return m.encode(m.ACK, TOO_LARGE, mid, token, [(27, m.uint(5))])
            return m.encode(m.ACK, CONTINUE if v & 8 else CHANGED, mid, token,
                            [(27, m.uint(v))])
        r, u = self.run_put(Wire(picky))
        self.assertEqual(r, CHANGED)
        self.assertEqual(wire_sizes, [1024, 512, 512, 512, 512, 512, 440])

    def test_continue_to_the_last_block_is_bad(self):
        def odd(req):
            return m.encode(m.ACK, CONTINUE, req[2], req[3])
        r, u = self.run_put(Wire(odd), body=BODY[:100])
        self.assertEqual(r, BAD_BLOCK)

    def test_continue_for_another_block_is_bad(self):
        def odd(req):
            return m.encode(m.ACK, CONTINUE, req[2], req[3], [(27, m.uint(0x5E))])
        r, u = self.run_put(Wire(odd))
        self.assertEqual(r, BAD_BLOCK)
