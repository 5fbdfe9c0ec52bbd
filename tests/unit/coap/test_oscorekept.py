# coap.oscorekept: the answers kept for duplicates of protected requests
# (RFC 7252 §4.5, RFC 8613 §7.4), the addresses clients proved with an Echo
# (RFC 9175 §2.4), and the one log line about refused requests.
import unittest

from coap.oscorekept import RESENDS, Kept
from heaplock import no_alloc

CTX_A, CTX_B = object(), object()
PEER, OTHER = ("192.0.2.1", 5683), ("192.0.2.2", 5683)
# a request's bytes with its 8-byte tag at offset 12
REQUEST = bytes(range(20))
TAG_OFF = 12


class Req:
    """What Kept.again reads of a parsed request."""

    def __init__(self, mtype=0, peer=PEER):
        self.type = mtype
        self.peer = peer


class Duplicates(unittest.TestCase):
    def setUp(self):
        self.kept = Kept(2, 64, 1)

    def keep(self, piv, answer=b"answer", ctx=CTX_A, mid=7, peer=PEER, data=REQUEST):
        self.kept.keep(ctx, piv, mid, peer, data, len(data), TAG_OFF, answer)

    def find(self, piv, ctx=CTX_A, mid=7, peer=PEER, data=REQUEST):
        return self.kept.find(ctx, piv, mid, peer, data, len(data), TAG_OFF)

    def test_the_same_request_finds_its_answer(self):
        self.keep(20, b"first")
        i = self.find(20)
        self.assertTrue(i >= 0)
        self.assertEqual(bytes(self.kept.answer[i]), b"first")

    def test_anything_different_is_not_a_duplicate(self):
        self.keep(20)
        other_tag = REQUEST[:TAG_OFF] + b"\xff" + REQUEST[TAG_OFF + 1:]
        for kw in ({"piv": 21}, {"ctx": CTX_B}, {"mid": 8}, {"peer": OTHER},
                   {"data": other_tag}, {"data": REQUEST + b"!"}):
            kw.setdefault("piv", 20)
            self.assertEqual(self.find(**kw), -1, kw)

    def test_the_oldest_answer_makes_room(self):
        for piv in (1, 2, 3):
            self.keep(piv)
        self.assertEqual([self.find(p) >= 0 for p in (1, 2, 3)], [False, True, True])

    def test_after_the_exchange_lifetime_it_is_a_replay(self):  # RFC 7252 §4.8.2
        self.keep(20)
        self.kept.exchange_lifetime_ms = 0
        self.assertEqual(self.find(20), -1)

    def test_a_con_is_answered_again_as_often_as_it_is_retransmitted(self):
        self.keep(20)
        i = self.find(20)
        self.assertEqual([self.kept.again(i, Req(), 0, -1, 300) for _ in range(RESENDS + 1)],
                         [True] * RESENDS + [False])
        self.assertEqual(self.kept.refused[2], 1)  # counted as a replay

    def test_a_non_is_never_answered_twice(self):
        self.keep(20)
        self.assertFalse(self.kept.again(self.find(20), Req(mtype=1), 0, -1, 300))

    def test_a_large_answer_again_only_to_a_proved_address(self):  # RFC 9175 §2.4
        self.keep(20, b"x" * 40)
        i = self.find(20)
        self.assertFalse(self.kept.again(i, Req(), 0, 39, 300))
        self.assertTrue(self.kept.again(i, Req(), 0, 40, 300))
        self.kept.verify(0, PEER, 0)
        self.assertTrue(self.kept.again(i, Req(), 0, 39, 300))


class Verified(unittest.TestCase):  # RFC 9175 §2.4
    def setUp(self):
        self.kept = Kept(1, 16, 2)

    def test_the_proved_address_of_that_context_only(self):
        self.assertFalse(self.kept.verified(0, PEER, 300))
        self.kept.verify(0, PEER, 0)
        self.assertTrue(self.kept.verified(0, PEER, 300))
        self.assertFalse(self.kept.verified(0, OTHER, 300))
        self.assertFalse(self.kept.verified(1, PEER, 300))

    def test_for_the_echo_values_lifetime_counted_from_when_it_was_made(self):
        self.kept.verify(0, PEER, 10)  # an Echo made 10 s ago
        self.assertTrue(self.kept.verified(0, PEER, 11))
        self.assertFalse(self.kept.verified(0, PEER, 10))


class Report(unittest.TestCase):
    def setUp(self):
        self.kept = Kept(1, 16, 1)
        self.lines = []

    def test_one_line_with_the_reasons_then_quiet(self):
        self.kept.refused[1] += 2
        self.kept.refused[3] += 1
        self.kept.report(self.lines.append)
        self.assertEqual(self.lines, ["oscore: refused 3 protected requests: unknown kid 2, "
                                      "decryption failed (wrong key or altered) 1"])
        self.kept.refused[2] += 1
        self.kept.report(self.lines.append)  # within report_ms: not yet
        self.assertEqual(len(self.lines), 1)
        self.kept.report_ms = 0
        self.kept.report(self.lines.append)
        self.assertEqual(self.lines[-1], "oscore: refused 1 protected request: replay 1")

    def test_nothing_refused_nothing_said(self):
        self.kept.report(self.lines.append)
        self.assertEqual(self.lines, [])


class Lookup:
    """A duplicate found and answered again, called without arguments."""

    def __init__(self):
        self.kept = Kept(4, 64, 1)
        self.kept.keep(CTX_A, 20, 7, PEER, REQUEST, 20, TAG_OFF, b"answer")
        self.req = Req()

    def again(self):
        i = self.kept.find(CTX_A, 20, 7, PEER, REQUEST, 20, TAG_OFF)
        return self.kept.again(i, self.req, 0, -1, 300)


class NoAlloc(unittest.TestCase):
    def test_find_and_again_allocate_nothing(self):
        lookup = Lookup()
        lookup.again()  # warm up
        self.assertTrue(no_alloc(self, "find and again", lookup.again))


if __name__ == "__main__":
    unittest.main()
