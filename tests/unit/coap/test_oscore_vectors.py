# OSCORE against published vectors: RFC 8613 Appendix C.1-C.3 (key
# derivation), C.4-C.6 (requests, verified by the board) and C.7/C.8 (the
# board's responses, byte for byte). CCM's own vectors: test_ccm; HKDF's:
# test_hkdf.
import unittest

from coap import Resource, Server, aes
from coap.oscorectx import Context


def h(s):
    s = s.replace(" ", "")
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


SECRET = h("0102030405060708090a0b0c0d0e0f10")
SALT = h("9e7ca92223786340")
ID_CONTEXT = h("37cbf3210017a2d3")

# (sender_id, recipient_id, salt, id_context) of the server in C.1, C.2, C.3
SERVER_C1 = (h("01"), b"", SALT, None)
SERVER_C2 = (h("01"), h("00"), b"", None)
SERVER_C3 = (h("01"), b"", SALT, ID_CONTEXT)

# C.4-C.6: protected requests (GET coap://localhost/tv1, client SSN 20)
REQ_C4 = h("44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e")
REQ_C5 = h("440271c30000b932396c6f63616c686f737463091400ff4ed339a5a379b0b8bc731fffb0")
REQ_C6 = h("44022f8eef9bbf7a396c6f63616c686f73746b19140837cbf3210017a2d3ff"
           "72cd7273fd331ac45cffbe55c3")
# C.7: the response to C.4 under the request's nonce; C.8: with the server's Partial IV 0
RESP_C7 = h("64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106")
RESP_C8 = h("64445d1f00003974920100ff4d4c13669384b67354b2b6175ff4b8658c666a6cf88e")


def hello(req, resp):
    resp.payload(b"Hello World!")


def server_for(ids):
    sender, recipient, salt, id_context = ids
    ctx = Context(SECRET, salt, sender, recipient, id_context)
    srv = Server((Resource("tv1", get=hello),), log=None, oscore=[ctx])
    return srv, ctx


class Skip(unittest.TestCase):
    def setUp(self):
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")


class Derivation(Skip):
    def _check(self, ids, sender_key, recipient_key, iv, sender_nonce, recipient_nonce):
        _, ctx = server_for(ids)
        self.assertEqual(ctx.sender_key, h(sender_key))
        self.assertEqual(ctx.recipient_key, h(recipient_key))
        self.assertEqual(ctx.common_iv, h(iv))
        # the nonces for Partial IV 0 are the per-ID parts themselves
        self.assertEqual(ctx.sender_nonce, h(sender_nonce))
        self.assertEqual(ctx.recipient_nonce, h(recipient_nonce))

    def test_c1_master_salt(self):
        self._check(SERVER_C1, "ffb14e093c94c9cac9471648b4f98710",
                    "f0910ed7295e6ad4b54fc793154302ff", "4622d4dd6d944168eefb54987c",
                    "4722d4dd6d944169eefb54987c", "4622d4dd6d944168eefb54987c")

    def test_c2_no_master_salt(self):
        self._check(SERVER_C2, "e57b5635815177cd679ab4bcec9d7dda",
                    "321b26943253c7ffb6003b0b64d74041", "be35ae297d2dace910c52e99f9",
                    "bf35ae297d2dace810c52e99f9", "bf35ae297d2dace910c52e99f9")

    def test_c3_id_context(self):
        self._check(SERVER_C3, "e39a0c7c77b43f03b4b39ab9a268699f",
                    "af2a1300a5e95788b356336eeecd2b92", "2ca58fb85ff1b81c0b7181b85e",
                    "2da58fb85ff1b81d0b7181b85e", "2ca58fb85ff1b81c0b7181b85e")

    def test_bad_ids_refused(self):
        with self.assertRaises(ValueError):
            Context(SECRET, b"", b"12345678", b"")  # 8 bytes: no nonce can hold it
        with self.assertRaises(ValueError):
            Context(SECRET, b"", b"\x01", b"\x01")
        with self.assertRaises(ValueError):
            Context(b"", b"", b"\x01", b"")


class RequestsAndResponses(Skip):
    def _serve(self, ids, request):
        srv, ctx = server_for(ids)
        n = srv.handle(request, len(request))
        return srv, bytes(srv.response.buf[:n])

    def _inner(self, srv, request):
        tkl = request[0] & 15
        return bytes(srv.oscore.inner[4 + tkl:srv.request.length])

    def test_c4_request_and_c7_response(self):
        srv, out = self._serve(SERVER_C1, REQ_C4)
        self.assertEqual(self._inner(srv, REQ_C4), h("b3747631"))  # Uri-Path "tv1"
        self.assertEqual(out, RESP_C7)

    def test_c5_request(self):
        srv, out = self._serve(SERVER_C2, REQ_C5)
        self.assertEqual(self._inner(srv, REQ_C5), h("b3747631"))
        self.assertEqual(out[1], 68)  # 2.04 outside, the 2.05 is inside

    def test_c6_request_with_kid_context(self):
        srv, out = self._serve(SERVER_C3, REQ_C6)
        self.assertEqual(self._inner(srv, REQ_C6), h("b3747631"))
        self.assertEqual(out[1], 68)

    def test_c8_response_under_own_partial_iv(self):
        # the answer a notification or a 4.01 with Echo gets: the board's nonce
        srv, ctx = server_for(SERVER_C1)
        srv.handle(REQ_C4, len(REQ_C4))
        resp = srv.response
        resp.begin(2, 69, 0x5D1F, REQ_C4, 4, 4)
        resp.payload(b"Hello World!")
        n = srv.oscore.protect(resp, ctx, True, True)
        self.assertEqual(bytes(resp.buf[:n]), RESP_C8)  # board SSN 0
        self.assertEqual(ctx.ssn, 1)

    def test_c4_retransmission_gets_c7_again(self):  # RFC 7252 §4.5
        srv, ctx = server_for(SERVER_C1)
        srv.handle(REQ_C4, len(REQ_C4))
        n = srv.handle(REQ_C4, len(REQ_C4))  # same MID: the ACK was lost
        self.assertEqual((bytes(srv.response.buf[:n]), ctx.ssn), (RESP_C7, 0))

if __name__ == "__main__":
    unittest.main()
