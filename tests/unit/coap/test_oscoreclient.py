# coap.oscoreclient: the board's own requests under OSCORE. Byte for byte
# against RFC 8613 Appendix C.4/C.5 (protected requests) and C.7/C.8
# (responses the client opens); then through coap.client and blockget to the
# board's own OSCORE server (coap.oscore), with answers that are altered, plain
# or under another key refused. (Against aiocoap-fileserver: tests/e2e.)
import unittest

import coapmsg as m
from coap import Resource, Server, aes
from coap.blockget import BlockGet
from coap.client import Client, Path
from coap.oscoreclient import FORGED, NO_SSN, TOO_LONG, UNPROTECTED, Protector
from coap.oscorectx import Context
from coap.write import Response
from heaplock import no_alloc
from test_oscore_vectors import REQ_C4, REQ_C5, RESP_C7, RESP_C8, SALT, SECRET, h
from test_prepared import answers

LOCALHOST = b"localhost"
CONTENT = 69


def c4_request(p, mid, token):
    """GET coap://localhost/tv1 (RFC 8613 C.4's request) protected by p."""
    w = Response(128, 128)
    w.begin(0, 1, mid, token, 0, len(token))
    w.option(3, LOCALHOST)
    w.option(11, b"tv1")
    n = p.protect(w.buf)
    return bytes(w.buf[0:n])


class Skip(unittest.TestCase):
    def setUp(self):
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")


class Vectors(Skip):
    def client(self, sender, recipient, salt):
        ctx = Context(SECRET, salt, sender, recipient)
        ctx.ssn = 20  # the vectors' Sender Sequence Number
        return Protector(ctx, 128)

    def test_c4_request_with_master_salt(self):
        p = self.client(b"", h("01"), SALT)
        self.assertEqual(c4_request(p, 0x5D1F, h("00003974")), REQ_C4)

    def test_c5_request_without_master_salt(self):
        p = self.client(h("00"), h("01"), b"")
        self.assertEqual(c4_request(p, 0x71C3, h("0000b932")), REQ_C5)

    def opened(self, resp):
        p = self.client(b"", h("01"), SALT)
        c4_request(p, 0x5D1F, h("00003974"))
        n = p.unprotect(resp, len(resp))
        self.assertTrue(n > 0, n)
        return m.decode(bytes(p.inner[0:n]))

    def test_c7_response_under_the_request_nonce(self):
        t, code, mid, token, opts, payload = self.opened(RESP_C7)
        self.assertEqual((t, code, mid, token, opts, payload),
                         (m.ACK, CONTENT, 0x5D1F, h("00003974"), [], b"Hello World!"))

    def test_c8_response_with_the_server_partial_iv(self):
        t, code, mid, token, opts, payload = self.opened(RESP_C8)
        self.assertEqual((code, payload), (CONTENT, b"Hello World!"))

    def test_outer_options_and_observe(self):
        # §4.1: Uri-Host, Uri-Port, Proxy-Scheme outside; Observe both; with
        # Observe the outer code is FETCH (§4.2), else POST
        p = self.client(b"", h("01"), SALT)
        w = Response(128, 128)
        w.begin(0, 1, 7, b"\x01", 0, 1)
        w.option(3, LOCALHOST)
        w.option_uint(6, 0)
        w.option_uint(7, 5690)
        w.option(11, b"fw")
        w.option_uint(23, 0x16)
        w.option(39, b"coap")
        n = p.protect(w.buf)
        _, code, _, _, opts, _ = m.decode(bytes(w.buf[0:n]))
        self.assertEqual(code, 5)
        self.assertEqual([k for k, v in opts], [3, 6, 7, 9, 39])
        self.assertEqual(m.option(opts, 7), b"\x16\x3a")
        # the inner message: code GET, Observe, Uri-Path, Block2
        plain = bytes(p.plain)
        self.assertEqual(plain, b"\x01\x60\x52fw\xc1\x16")

    def test_altered_response_is_forged(self):
        p = self.client(b"", h("01"), SALT)
        c4_request(p, 0x5D1F, h("00003974"))
        for i in (len(RESP_C7) - 1, len(RESP_C7) - 10):
            bad = bytearray(RESP_C7)
            bad[i] ^= 1
            self.assertEqual(p.unprotect(bad, len(bad)), FORGED)

    def test_response_to_another_request_is_forged(self):
        # C.7 answers Partial IV 20: under 21 its AAD and nonce differ
        p = self.client(b"", h("01"), SALT)
        c4_request(p, 0x5D1F, h("00003974"))
        c4_request(p, 0x5D1F, h("00003974"))
        self.assertEqual(p.unprotect(RESP_C7, len(RESP_C7)), FORGED)


def hello(req, resp):
    resp.payload(b"Hello World!")


BIG = bytes((i * 7) & 0xFF for i in range(3000))


def big(req, resp):
    resp.payload(BIG)


class Wire:
    """A connected socket whose peer is a coap Server (its OSCORE included):
    each datagram sent is answered at once; `alter` edits an answer."""

    def __init__(self, srv):
        self.srv = srv
        self.inbox = []
        self.sent = []
        self.alter = None
        self.drop = 0

    def send(self, buf):
        self.sent.append(bytes(buf))
        if self.drop:
            self.drop -= 1
            return
        a = answers(self.srv, [bytes(buf)])[0]
        if a is not None:
            self.inbox.append(self.alter(a) if self.alter else a)

    def recv(self, n):
        if not self.inbox:
            raise OSError(11)
        return self.inbox.pop(0)


BOARD, FILES = h("02"), h("01")


class RoundTrip(Skip):
    def setUp(self):
        super().setUp()
        self.server_ctx = Context(SECRET, SALT, FILES, BOARD)
        self.srv = Server((Resource("big", get=big), Resource("tv1", get=hello)), log=None,
                          oscore=[self.server_ctx], amplification_limit=False)
        self.wire = Wire(self.srv)
        self.ctx = Context(SECRET, SALT, BOARD, FILES)
        self.client = Client(self.wire, 256)
        self.client.oscore = Protector(self.ctx, 256)

    def get(self, path):
        c = self.client
        msg = c.begin(1)
        msg.option(11, path)
        c.send()
        for _ in range(10):
            r = c.poll()
            if r is not None:
                return r
        self.fail("no answer")

    def test_get_over_oscore(self):
        self.assertEqual(self.get(b"tv1"), CONTENT)
        c = self.client
        self.assertEqual(bytes(c.data[c.payload_off:]), b"Hello World!")
        # on the wire: a POST with the OSCORE option, the path encrypted
        _, code, _, _, opts, _ = m.decode(self.wire.sent[0])
        self.assertEqual((code, [n for n, v in opts]), (2, [9]))
        self.assertNotIn(b"tv1", self.wire.sent[0])

    def test_each_request_takes_a_fresh_partial_iv(self):
        self.get(b"tv1")
        self.get(b"tv1")
        pivs = [m.option(m.decode(s)[4], 9) for s in self.wire.sent]
        self.assertEqual(pivs, [b"\x09\x00\x02", b"\x09\x01\x02"])  # flags, PIV, kid

    def test_retransmission_resends_the_same_bytes(self):
        from fake_time import Clock
        self.client.clock = Clock()
        self.wire.drop = 1
        c = self.client
        msg = c.begin(1)
        msg.option(11, b"tv1")
        c.send()
        self.assertIsNone(c.poll())
        c.clock.advance(3000)
        self.assertIsNone(c.poll())  # resent, answered
        self.assertEqual(c.poll(), CONTENT)
        self.assertEqual(self.wire.sent[0], self.wire.sent[1])

    def test_blockwise_get_over_oscore(self):
        got = bytearray()

        def sink(pos, data, off, n):
            if not pos:
                got[0:] = b""
            got.extend(data[off:off + n])
        g = BlockGet(self.client)
        p = Path(2, 8)
        p.add(b"big", 0, 3)
        g.start(p, sink)
        for _ in range(50):
            r = g.poll()
            if r is not None:
                break
        self.assertEqual(r, CONTENT)
        self.assertTrue(bytes(got) == BIG)
        self.assertEqual(g.size, len(BIG))

    def test_altered_answer_refused(self):
        def flip(a):
            a = bytearray(a)
            a[-1] ^= 0x80
            return bytes(a)
        self.wire.alter = flip
        self.assertEqual(self.get(b"tv1"), FORGED)

    def test_plain_answer_refused(self):
        # what a plain server says to the critical OSCORE option: 4.02, unprotected
        self.wire.alter = lambda a: m.encode(m.ACK, 130, *m.decode(a)[2:4])
        self.assertEqual(self.get(b"tv1"), UNPROTECTED)
        self.assertEqual(self.client.oscore.plain_code, 130)
        # a plain 2.05 with the right token is no answer either
        self.wire.alter = lambda a: m.encode(m.ACK, CONTENT, *m.decode(a)[2:4], [], b"evil")
        self.assertEqual(self.get(b"tv1"), UNPROTECTED)

    def test_server_with_another_key(self):
        self.srv = Server((Resource("tv1", get=hello),), log=None,
                          oscore=[Context(bytes(16 * [7]), SALT, FILES, BOARD)])
        self.wire.srv = self.srv
        self.assertEqual(self.get(b"tv1"), UNPROTECTED)  # its 4.00 Decryption failed
        self.assertEqual(self.client.oscore.plain_code, 128)

    def test_answer_under_another_key_is_forged(self):
        other = Context(bytes(16 * [7]), SALT, FILES, BOARD)
        wire = self.wire

        def reseal(a):  # the server's answer, encrypted again under another key
            from coap.cose import aad, nonce, AAD_HEAD
            b = bytearray(a)
            p = b.find(b"\xff") + 1  # (index(int): not on every port)
            a_ = bytearray(AAD_HEAD)
            aad(a_, BOARD, b"\x00", 1)
            nn = bytearray(13)
            nonce(nn, other.recipient_nonce, b"\x00", 1)
            plain = bytearray(len(b) - p - 8)
            self.server_ctx.sender.decrypt(nn, a_, len(a_), b, p, len(b) - p, plain, 0)
            out = bytearray(b[0:p])
            other.sender.encrypt(nn, a_, len(a_), plain, 0, len(plain), out)
            return bytes(out)
        wire.alter = reseal
        self.assertEqual(self.get(b"tv1"), FORGED)

    def test_no_sequence_number_left(self):
        self.ctx.ssn = self.ctx.reserved = 0x3FFFFFFF
        c = self.client
        msg = c.begin(1)
        msg.option(11, b"tv1")
        self.assertEqual(c.send(), NO_SSN)
        self.assertEqual(c.poll(), NO_SSN)  # also where only poll() is looked at
        self.assertEqual(self.wire.sent, [])

    def test_request_too_long_for_the_buffer(self):
        c = self.client
        msg = c.begin(1)
        msg.option(11, b"x" * 230)
        self.assertEqual(c.send(), TOO_LONG)
        self.assertEqual(self.wire.sent, [])

    def test_protect_and_unprotect_allocate_nothing(self):
        c = self.client
        p = c.oscore
        self.get(b"tv1")  # warm-up
        msg = c.begin(1)
        msg.option(11, b"tv1")
        n = no_alloc(self, "protect", p.protect, c.msg.buf)
        self.assertTrue(n > 0, n)
        answer = answers(self.srv, [bytes(c.msg.buf)])[0]
        k = no_alloc(self, "unprotect", p.unprotect, answer, len(answer))
        self.assertTrue(k > 0, k)
        self.assertEqual(p.inner[1], CONTENT)
