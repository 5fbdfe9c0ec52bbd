# coap.parse: header, token, options and payload read in place (RFC 7252 §3).
import unittest

import coapmsg as m
from coap.parse import FORMAT_ERROR, IGNORE, OK, Request


def parsed(msg):
    r = Request()
    return r, r.parse(msg, len(msg))


class Header(unittest.TestCase):
    def test_fields(self):
        r, st = parsed(m.encode(m.NON, 1, 0xBEEF, b"\x01\x02\x03"))
        self.assertEqual(st, OK)
        self.assertEqual((r.type, r.code, r.mid, r.tkl), (m.NON, 1, 0xBEEF, 3))

    def test_shorter_than_a_header_is_ignored(self):
        for n in range(4):
            self.assertEqual(parsed(b"\x40\x01\x00"[:n])[1], IGNORE)

    def test_version_other_than_1_is_ignored(self):  # §3: "MUST be silently ignored"
        for v in (0, 2, 3):
            self.assertEqual(parsed(bytes([v << 6, 1, 0, 1]))[1], IGNORE)

    def test_tkl_9_to_15_is_a_format_error(self):  # §3
        for tkl in range(9, 16):
            msg = bytes([0x40 | tkl, 1, 0, 1]) + bytes(tkl)
            self.assertEqual(parsed(msg)[1], FORMAT_ERROR)

    def test_token_past_the_end(self):
        self.assertEqual(parsed(b"\x44\x01\x00\x01ab")[1], FORMAT_ERROR)

    def test_empty_message_has_nothing_after_the_mid(self):  # §4.1
        self.assertEqual(parsed(b"\x40\x00\x00\x01")[1], OK)
        self.assertEqual(parsed(b"\x41\x00\x00\x01x")[1], FORMAT_ERROR)
        self.assertEqual(parsed(b"\x40\x00\x00\x01\xff")[1], FORMAT_ERROR)


class Options(unittest.TestCase):
    def test_path_and_query_offsets(self):
        r, st = parsed(m.get("a/bc", query=["x=1", "yy"]))
        self.assertEqual(st, OK)
        self.assertEqual(r.path_count, 2)
        self.assertTrue(r.path_is(0, b"a") and r.path_is(1, b"bc"))
        self.assertFalse(r.path_is(1, b"b"))
        self.assertEqual(r.query_count, 2)
        self.assertEqual(r.query_int(b"x"), 1)
        self.assertEqual(r.query_index(b"yy"), 1)
        self.assertEqual(r.query_index(b"y"), -1)

    def test_extended_delta_and_length(self):  # §3.1: nibbles 13 and 14
        long_value = b"v" * 300
        r, st = parsed(m.encode(options=[(11, b"p" * 20), (2000, long_value)]))
        self.assertEqual(st, OK)
        self.assertEqual(r.path_len[0], 20)
        self.assertEqual(r.bad_option, 0)  # 2000 is elective

    def test_nibble_15_is_a_format_error(self):  # §3.1
        self.assertEqual(parsed(b"\x40\x01\x00\x01\xf1x")[1], FORMAT_ERROR)   # delta 15
        self.assertEqual(parsed(b"\x40\x01\x00\x01\xbfx")[1], FORMAT_ERROR)   # length 15

    def test_extended_fields_past_the_end(self):
        for tail in (b"\xd0", b"\xe0\x01", b"\x0d", b"\x0e\x01", b"\x03ab"):
            self.assertEqual(parsed(b"\x40\x01\x00\x01" + tail)[1], FORMAT_ERROR, tail)

    def test_marker_without_payload_is_a_format_error(self):  # §3
        self.assertEqual(parsed(b"\x40\x01\x00\x01\xff")[1], FORMAT_ERROR)

    def test_payload(self):
        r, st = parsed(m.get("x", payload=b"-42"))
        self.assertEqual((st, r.payload_len, r.payload_int()), (OK, 3, -42))
        self.assertTrue(r.payload_is(b"-42"))
        self.assertIsNone(parsed(m.get("x", payload=b"4x"))[0].payload_int())

    def test_uint_options(self):
        r, _ = parsed(m.get("x", options=[(12, m.uint(50)), (17, m.uint(60)), (6, b"")]))
        self.assertEqual((r.content_format, r.accept, r.observe), (50, 60, 0))

    def test_unrecognised_critical_option(self):  # §5.4.1
        r, st = parsed(m.get("x", options=[(13, b"")]))
        self.assertEqual((st, r.bad_option), (OK, 13))

    def test_oscore_option_is_kept_for_the_server(self):  # RFC 8613 §2
        r, st = parsed(m.get("x", options=[(9, b"\x09\x14\x01")]))
        self.assertEqual((st, r.bad_option, r.oscore_off, r.oscore_len), (OK, 0, 6, 3))

    def test_block1(self):  # RFC 7959 §2.3
        r, st = parsed(m.get("x", code=3, options=[(27, m.uint(0x2E)), (60, m.uint(3000)),
                                                  (292, b"tg")], payload=b"p"))
        self.assertEqual((st, r.bad_option, r.block1), (OK, 0, 0x2E))
        msg = m.get("x", code=3)
        r.parse(msg, len(msg))
        self.assertEqual(r.block1, -1)

    def test_repeated_block1_is_unrecognised(self):  # §5.4.5
        r, _ = parsed(m.get("x", code=3, options=[(27, b""), (27, b"\x10")]))
        self.assertEqual(r.bad_option, 27)

    def test_unrecognised_elective_option_is_ignored(self):  # §5.4.1
        r, st = parsed(m.get("x", options=[(2048, b"abc"), (258, b"\x02")]))
        self.assertEqual((st, r.bad_option), (OK, 0))

    def test_repeated_critical_option_is_unrecognised(self):  # §5.4.5
        r, _ = parsed(m.get("x", options=[(17, b""), (17, m.uint(50))]))
        self.assertEqual(r.bad_option, 17)

    def test_repeated_elective_option_is_ignored(self):  # §5.4.5
        r, _ = parsed(m.get("x", options=[(12, m.uint(50)), (12, b"")]))
        self.assertEqual((r.content_format, r.bad_option), (50, 0))

    def test_length_out_of_range_is_unrecognised(self):  # §5.4.3
        r, _ = parsed(m.get("x", options=[(17, b"\x00\x00\x32")]))
        self.assertEqual(r.bad_option, 17)
        r, _ = parsed(m.get("x", options=[(12, b"\x00\x00\x32")]))
        self.assertEqual((r.content_format, r.bad_option), (-1, 0))

    def test_etags_are_kept_as_offsets(self):  # §5.10.6.2: repeatable
        msg = m.get("x", options=[(4, b"\x01\x02"), (4, b"\x03")])
        r, st = parsed(msg)
        self.assertEqual((st, r.bad_option, r.etags(), r.if_match(), r.if_none_match()),
                         (OK, 0, 2, 0, False))
        self.assertEqual([msg[r.etag_off(i):r.etag_off(i) + r.etag_len(i)] for i in range(2)],
                         [b"\x01\x02", b"\x03"])

    def test_if_match_and_if_none_match_are_understood(self):  # §5.10.8
        msg = m.get("x", code=3, options=[(1, b""), (1, b"\x07"), (5, b"")])
        r, st = parsed(msg)
        self.assertEqual((st, r.bad_option, r.if_match(), r.if_none_match()), (OK, 0, 2, True))
        self.assertEqual((r.if_match_len(0), msg[r.if_match_off(1)]), (0, 7))

    def test_bad_conditional_options_are_unrecognised(self):  # §5.4.3, §5.4.5
        for opts, bad in (([(5, b""), (5, b"")], 5), ([(5, b"x")], 5), ([(1, bytes(9))], 1),
                          ([(4, b"")], 0), ([(4, bytes(9))], 0)):
            r, _ = parsed(m.get("x", options=opts))
            self.assertEqual((r.bad_option, r.etags()), (bad, 0), opts)

    def test_more_tags_than_kept_are_counted(self):
        r, st = parsed(m.get("x", options=[(4, bytes([i + 1])) for i in range(6)]))
        self.assertEqual((st, r.etags(), r.max_tags), (OK, 6, 4))
        msg = m.get("x", options=[(1, bytes([i + 1] * (i + 1))) for i in range(5)])
        r, st = parsed(msg)
        last = r.if_match_off(3)
        self.assertEqual((r.if_match(), msg[last:last + r.if_match_len(3)]), (5, b"\x04" * 4))

    def test_conditions_of_the_last_request_are_gone(self):
        r = Request()
        msg = m.get("x", options=[(1, b"\x01"), (4, b"\x01"), (5, b"")])
        r.parse(msg, len(msg))
        msg = m.get("x")
        r.parse(msg, len(msg))
        self.assertEqual((r.etags(), r.if_match(), r.if_none_match()), (0, 0, False))

    def test_deep_path_is_counted_not_stored(self):
        r, st = parsed(m.get("/".join("s%d" % i for i in range(12))))
        self.assertEqual((st, r.path_count), (OK, 12))
        self.assertFalse(r.path_is(10, b"s10"))

    def test_proxy_options(self):  # §5.10.2
        r, _ = parsed(m.get("", options=[(35, b"coap://example/")]))
        self.assertTrue(r.proxy)
