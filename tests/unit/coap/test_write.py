# coap.write: the response writer (RFC 7252 §3, §3.2).
import unittest

import coapmsg as m
from coap.write import Response, ResponseTooLarge


def writer(size=64, token=b"\xaa\xbb"):
    w = Response(size)
    w.begin(m.ACK, 69, 0x1234, token, 0, len(token))
    return w


class Writer(unittest.TestCase):
    def test_header_and_token(self):
        w = writer()
        self.assertEqual(bytes(w.buf), b"\x62\x45\x12\x34\xaa\xbb")

    def test_options_ascending_with_extended_encoding(self):
        w = writer()
        w.option(11, b"a" * 14)        # length 14 -> nibble 13
        w.option(11, b"b")             # repeated: delta 0
        w.option_uint(300, 0x1234)     # delta 289 -> nibble 14
        t, code, mid, tok, opts, payload = m.decode(bytes(w.buf))
        self.assertEqual(opts, [(11, b"a" * 14), (11, b"b"), (300, b"\x12\x34")])

    def test_descending_option_is_a_programming_error(self):
        w = writer()
        w.option(12, b"")
        with self.assertRaises(ValueError):
            w.option(11, b"x")

    def test_option_and_payload_copied_from_another_buffer(self):
        src = b"..loc/..hello.."
        w = writer()
        w.option_from(8, src, 2, 3)
        w.payload_from(src, 8, 5)
        self.assertEqual(m.decode(bytes(w.buf))[4:], ([(8, b"loc")], b"hello"))

    def test_set_code(self):
        w = writer()
        w.set_code(65)
        self.assertEqual((w.code(), m.decode(bytes(w.buf))[1]), (65, 65))

    def test_uint_is_minimal(self):  # §3.2
        for v, enc in ((0, b""), (1, b"\x01"), (255, b"\xff"), (256, b"\x01\x00"), (70000, b"\x01\x11\x70")):
            w = writer()
            w.option_uint(14, v)
            self.assertEqual(m.decode(bytes(w.buf))[4], [(14, enc)])

    def test_pending_content_format_keeps_order(self):
        w = writer()
        w.content_format(50)
        w.option(4, b"tag")       # ETag before Content-Format
        w.option_uint(14, 60)     # Max-Age after it: the pending format goes first
        w.payload(b"{}")
        opts = m.decode(bytes(w.buf))[4]
        self.assertEqual(opts, [(4, b"tag"), (12, b"\x32"), (14, b"\x3c")])

    def test_no_payload_no_marker(self):
        w = writer()
        w.content_format(0)
        w.payload(b"")
        self.assertEqual(bytes(w.buf), b"\x62\x45\x12\x34\xaa\xbb")

    def test_numbers_as_text(self):
        cases = ((0, 0, b"0"), (-7, 0, b"-7"), (2312, 2, b"23.12"), (-205, 2, b"-2.05"),
                 (5, 2, b"0.05"), (-5, 3, b"-0.005"), (123456789, 0, b"123456789"), (10, 1, b"1.0"))
        for v, places, text in cases:
            w = writer()
            w.payload_fixed(v, places)
            self.assertEqual(m.decode(bytes(w.buf))[5], text)

    def test_numbers_beyond_the_fast_path(self):
        # |v| >= 10**9 or more than 10 places: written as text all the same
        cases = ((10 ** 9, 0, b"1000000000"), (-(10 ** 12), 3, b"-1000000000.000"),
                 (7, 11, b"0.00000000007"))
        for v, places, text in cases:
            w = writer()
            w.payload(b"v=")
            w.payload_fixed(v, places)
            self.assertEqual(m.decode(bytes(w.buf))[5], b"v=" + text)

    def test_error_drops_what_was_written(self):
        w = writer()
        w.content_format(0)
        w.option(8, b"loc")
        w.payload(b"partial")
        w.error(128, b"bad")
        self.assertEqual(m.decode(bytes(w.buf))[1:], (128, 0x1234, b"\xaa\xbb", [], b"bad"))

    def test_error_in_a_format_keeps_its_content_format(self):  # §5.5.2
        w = writer()
        w.start(69, 50, 7)  # an observation's answer in JSON: Observe 7
        w.etag(3)
        w.error(163, b'{"e":1}', 50)
        opts = m.decode(bytes(w.buf))[4]
        self.assertEqual((w.code(), opts), (163, [(12, b"\x32")]))

    def test_error_without_a_format_is_a_diagnostic(self):
        w = writer()
        w.start(69, 50, 7)
        w.error(163, b"unplugged")
        self.assertEqual(m.decode(bytes(w.buf))[4:], ([], b"unplugged"))

    def test_overflow_raises_and_never_grows_the_buffer(self):
        w = writer(size=16)
        with self.assertRaises(ResponseTooLarge):
            w.payload(b"x" * 20)
        self.assertLessEqual(len(w.buf), 16)
        w.begin(m.ACK, 69, 1, b"", 0, 0)
        w.payload(b"x" * 11)  # 4 header + marker + 11 = 16: exactly fits
        self.assertEqual(len(w.buf), 16)
