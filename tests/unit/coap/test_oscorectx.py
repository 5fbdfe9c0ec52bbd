# coap.oscorectx: a security context's HKDF info (RFC 8613 §3.2.1), finding
# the context a request names (§8.2), the board's Sender Sequence Number kept
# across reboots (Appendix B.1.1) and the replay window (§7.4, B.1.2). The
# key derivation itself is checked against Appendix C.1-C.3 in
# test_oscore_vectors.
import os
import unittest
from random import getrandbits

from coap.oscorectx import SSN_LIMIT, Context, ReplayWindow, SequenceStore, find, info

SECRET = bytes(range(1, 17))
FRESH, SEEN, OLD, UNKNOWN = 0, 1, 2, 3


def remove(*paths):
    for p in paths:
        try:
            os.remove(p)
        except OSError:
            pass


class Info(unittest.TestCase):
    def test_cbor_array(self):  # [id, id_context, alg_aead 10, type, L]
        self.assertEqual(info(b"\x01", None, "Key", 16), b"\x85\x41\x01\xf6\x0a\x63Key\x10")
        self.assertEqual(info(b"", b"\x37\xcb", "IV", 13), b"\x85\x40\x42\x37\xcb\x0a\x62IV\x0d")

    def test_a_long_id_context_takes_a_length_byte(self):  # RFC 8949 §3.1
        self.assertEqual(info(b"", bytes(24), "IV", 13)[2:4], b"\x58\x18")


class Find(unittest.TestCase):
    def setUp(self):
        self.a = Context(SECRET, b"", b"\x01", b"")
        self.b = Context(SECRET, b"", b"\x01", b"\x02")
        self.c = Context(SECRET, b"", b"\x01", b"\x02", id_context=b"\xaa\xbb")

    def test_by_kid_then_kid_context(self):  # §8.2 step 2
        buf = b"\x02\xaa\xbb\xcc"
        ctxs = [self.a, self.b, self.c]
        self.assertEqual(find(ctxs, buf, 0, 0, -1, 0), 0)    # kid h''
        self.assertEqual(find(ctxs, buf, 0, 1, -1, 0), 1)    # kid h'02', no kid context
        self.assertEqual(find(ctxs, buf, 0, 1, 1, 2), 2)     # kid h'02', kid context h'aabb'
        self.assertEqual(find(ctxs, buf, 0, 1, 1, 3), -1)    # an unknown kid context
        self.assertEqual(find(ctxs, buf, 1, 1, -1, 0), -1)   # an unknown kid
        self.assertEqual(find(ctxs, bytes(8), 0, 8, -1, 0), -1)  # longer than any ID


class Store(unittest.TestCase):
    def setUp(self):
        self.path = "/tmp/coap-oscorectx-test-%d" % getrandbits(24)
        self.store = SequenceStore(self.path, chunk=4)

    def tearDown(self):
        remove(self.path, self.path + ".tmp")

    def test_a_new_context_starts_at_0(self):
        self.assertEqual(self.store.load(), 0)

    def test_saved_and_loaded(self):
        self.store.save(1234)
        self.assertEqual(self.store.load(), 1234)
        self.assertEqual(os.stat(self.path)[6], 4)  # the number alone, no temporary left
        with self.assertRaises(OSError):
            os.stat(self.path + ".tmp")

    def test_corrupt_file_is_refused(self):  # never a guess that could reuse a nonce
        for text in ("", "12x", "-5", "9" * 30):
            with open(self.path, "w") as f:
                f.write(text)
            with self.assertRaises(ValueError):
                self.store.load()

    def test_chunk_must_be_positive(self):
        with self.assertRaises(ValueError):
            SequenceStore(self.path, chunk=0)

    def test_ssns_are_reserved_a_chunk_ahead(self):  # B.1.1
        ctx = Context(SECRET, b"", b"\x01", b"", store=self.store)
        self.assertEqual(self.store.load(), 4)  # reserved before the first is used
        self.assertEqual([ctx.next_ssn() for _ in range(5)], [0, 1, 2, 3, 4])
        self.assertEqual(self.store.load(), 8)

    def test_after_a_reboot_no_ssn_is_used_twice(self):  # B.1.1
        ctx = Context(SECRET, b"", b"\x01", b"", store=self.store)
        used = [ctx.next_ssn() for _ in range(6)]
        again = Context(SECRET, b"", b"\x01", b"", store=SequenceStore(self.path, chunk=4))
        self.assertTrue(again.next_ssn() > max(used))

    def test_exhausted_context_gives_no_ssn(self):  # §7.2.1
        self.store.save(SSN_LIMIT - 1)
        ctx = Context(SECRET, b"", b"\x01", b"", store=self.store)
        self.assertEqual((ctx.next_ssn(), ctx.next_ssn()), (SSN_LIMIT - 1, -1))


class Window(unittest.TestCase):  # §7.4
    def setUp(self):
        self.w = ReplayWindow(32, known=True)

    def test_each_partial_iv_once(self):
        w = self.w
        for piv in (0, 5, 3):
            self.assertEqual(w.check(piv), FRESH, piv)
            w.accept(piv)
            self.assertEqual(w.check(piv), SEEN, piv)
        self.assertEqual(w.check(4), FRESH)  # below the top, not seen yet

    def test_older_than_the_window(self):
        w = self.w
        w.accept(40)
        self.assertEqual((w.check(40 - 32), w.check(40 - 31)), (OLD, FRESH))

    def test_a_jump_ahead_clears_the_window(self):
        w = self.w
        w.accept(1)
        w.accept(100)
        self.assertEqual((w.check(99), w.check(100), w.check(1)), (FRESH, SEEN, OLD))

    def test_unknown_until_echo_then_nothing_older(self):  # B.1.2
        w = ReplayWindow(32)
        self.assertEqual(w.check(7), UNKNOWN)
        w.accept(7)  # the request that brought a valid Echo
        self.assertEqual((w.check(6), w.check(7), w.check(8)), (SEEN, SEEN, FRESH))

    def test_a_context_with_a_store_starts_unknown(self):  # a board's, after any boot
        path = "/tmp/coap-oscorectx-test-%d" % getrandbits(24)
        try:
            ctx = Context(SECRET, b"", b"\x01", b"", store=SequenceStore(path))
            self.assertEqual(ctx.replay.check(7), UNKNOWN)
        finally:
            remove(path, path + ".tmp")
        # RAM only (tests): known and empty (§7.4.1)
        self.assertEqual(Context(SECRET, b"", b"\x01", b"").replay.check(0), FRESH)

if __name__ == "__main__":
    unittest.main()
