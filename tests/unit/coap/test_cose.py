# coap.cose: the byte-level pieces of OSCORE against RFC 8613 Appendix C:
# the AEAD nonces and AADs of the requests in C.4-C.6 and the response in
# C.8, the OSCORE option values they carry (§6.1), Partial IVs, and the
# Observe value the OSCORE layer reads from a plain response. Nothing
# allocates.
import unittest

import coapmsg as m
from coap.cose import AAD_HEAD, aad, nonce, nonce_base, observe_value, piv_bytes, read_option
from heaplock import no_alloc


def h(s):
    s = s.replace(" ", "")
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


# Common IVs of C.1, C.2 and C.3 (C.1.1, C.2.1, C.3.1)
IV_C1 = h("4622d4dd6d944168eefb54987c")
IV_C2 = h("be35ae297d2dace910c52e99f9")
IV_C3 = h("2ca58fb85ff1b81c0b7181b85e")
PIV_20 = b"\x14"  # the client's Sender Sequence Number 20
# The AAD of C.4 and C.6 (request_kid h'', request_piv h'14') and of C.5 (kid h'00')
AAD_C4 = h("8368456e63727970743040488501810a40411440")
AAD_C5 = h("8368456e6372797074304049850181 0a4100411440")


def nonce_of(iv, id_, piv):
    base = nonce_base(iv, id_)
    out = bytearray(13)
    nonce(out, base, piv, len(piv))
    return bytes(out)


def aad_of(kid, piv):
    a = bytearray(48)
    a[0:] = AAD_HEAD
    aad(a, kid, piv, len(piv))
    return bytes(a)


class Nonces(unittest.TestCase):  # §5.2
    def test_c4_request(self):  # client Sender ID h'', Partial IV 20
        self.assertEqual(nonce_of(IV_C1, b"", PIV_20), h("4622d4dd6d944168eefb549868"))

    def test_c5_request(self):  # client Sender ID h'00'
        self.assertEqual(nonce_of(IV_C2, b"\x00", PIV_20), h("bf35ae297d2dace910c52e99ed"))

    def test_c6_request(self):  # client Sender ID h'', with an ID Context
        self.assertEqual(nonce_of(IV_C3, b"", PIV_20), h("2ca58fb85ff1b81c0b7181b84a"))

    def test_c8_response_under_the_servers_partial_iv(self):  # server Sender ID h'01', PIV 0
        self.assertEqual(nonce_of(IV_C1, b"\x01", b"\x00"), h("4722d4dd6d944169eefb54987c"))

    def test_longest_id_and_partial_iv(self):  # 7-byte ID, 5-byte Partial IV: no overlap
        n = nonce_of(bytes(13), b"\x11" * 7, b"\x22" * 5)
        self.assertEqual(n, b"\x07" + b"\x11" * 7 + b"\x22" * 5)


class AAD(unittest.TestCase):  # §5.4
    def test_c4_and_c6(self):
        self.assertEqual(aad_of(b"", PIV_20), AAD_C4)

    def test_c5(self):
        self.assertEqual(aad_of(b"\x00", PIV_20), AAD_C5)

    def test_written_again_over_a_longer_one(self):
        a = bytearray(48)
        a[0:] = AAD_HEAD
        aad(a, b"\x01\x02\x03", b"\x01\x02", 2)
        aad(a, b"", PIV_20, 1)
        self.assertEqual(bytes(a), AAD_C4)


class Options(unittest.TestCase):  # §6.1
    def read(self, value):
        piv = bytearray(5)
        f = [0] * 6
        if not read_option(value, 0, len(value), piv, f):
            return None
        pn, v, ctx_off, ctx_len, kid_off, kid_len = f
        ctx = None if ctx_off < 0 else value[ctx_off:ctx_off + ctx_len]
        return bytes(piv[:pn]), v, ctx, value[kid_off:kid_off + kid_len]

    def test_c4(self):
        self.assertEqual(self.read(h("0914")), (PIV_20, 20, None, b""))

    def test_c5(self):
        self.assertEqual(self.read(h("091400")), (PIV_20, 20, None, b"\x00"))

    def test_c6_with_kid_context(self):
        self.assertEqual(self.read(h("19140837cbf3210017a2d3")),
                         (PIV_20, 20, h("37cbf3210017a2d3"), b""))

    def test_partial_iv_beyond_the_window_arithmetic(self):  # 5 bytes: refused later
        self.assertEqual(self.read(h("0d0102030405")), (h("0102030405"), -1, None, b""))
        self.assertEqual(self.read(h("0c3fffffff"))[1], 0x3FFFFFFF)

    def test_malformed_or_not_a_request(self):
        for bad in ("", "00", "0114",     # empty (a response's), no Partial IV, no kid flag
                    "2914", "8914",       # reserved bits set
                    "0e010203040506",     # n = 6 (7 is reserved too)
                    "0b14",               # Partial IV cut short
                    "1914", "19140837cb"):  # kid context missing, cut short
            self.assertIsNone(self.read(h(bad)), bad)


class PartialIVs(unittest.TestCase):  # §6.1: no leading zeros, 0 is one byte
    def test_bytes(self):
        dst = bytearray(5)
        for v, want in ((0, "00"), (20, "14"), (255, "ff"), (256, "0100"),
                        (0x3FFFFFFF, "3fffffff")):
            n = piv_bytes(v, dst)
            self.assertEqual(bytes(dst[:n]), h(want), v)


class ObserveValue(unittest.TestCase):
    def value(self, options, payload=b"x"):
        msg = m.encode(m.ACK, 69, 1, b"tk", options, payload)
        return observe_value(msg, 6, len(msg))

    def test_found(self):  # RFC 7641 §2: 0 to 3 bytes
        self.assertEqual(self.value([(6, b"")]), 0)
        self.assertEqual(self.value([(6, b"\x01\x00\x00"), (12, b"")]), 0x10000)

    def test_after_an_etag(self):
        self.assertEqual(self.value([(4, b"\x01\x02\x03\x04"), (6, b"\x07")]), 7)

    def test_absent(self):
        self.assertEqual(self.value([]), -1)
        self.assertEqual(self.value([], b""), -1)
        self.assertEqual(self.value([(12, b"")]), -1)
        self.assertEqual(self.value([(4, b"\x01"), (12, b"")]), -1)


class Writer:
    """A request's nonce and AAD, into preallocated buffers, called without arguments."""

    def __init__(self):
        self.base = nonce_base(IV_C1, b"")
        self.nonce = bytearray(13)
        self.aad = bytearray(48)
        self.aad[0:] = AAD_HEAD
        self.piv = bytearray(PIV_20)
        self.option = h("091400")
        self.fields = [0] * 6

    def write(self):
        nonce(self.nonce, self.base, self.piv, 1)
        aad(self.aad, b"", self.piv, 1)
        return read_option(self.option, 0, 3, self.piv, self.fields)


class NoAlloc(unittest.TestCase):
    def test_nonce_aad_and_option_allocate_nothing(self):
        w = Writer()
        w.write()  # warm up
        self.assertTrue(no_alloc(self, "nonce, AAD and option", w.write))
        self.assertEqual((bytes(w.nonce), bytes(w.aad)), (h("4622d4dd6d944168eefb549868"), AAD_C4))


if __name__ == "__main__":
    unittest.main()
