# /board/log block-wise: the log ring tells the writer its size and version, so
# a block costs one window's copy, and the ETag still tells two logs apart.
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for _p in (_here + "/../../../firmware", _here + "/../../../boards/unix"):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import coapmsg as m  # noqa: E402
from coap import Resource, Server  # noqa: E402
from heaplock import heap_lock, no_alloc  # noqa: E402
from logring import LogRing  # noqa: E402


def block2(num, szx=6):
    return [(23, m.uint(num << 4 | szx))]


class LogWindow(unittest.TestCase):
    def setUp(self):
        self.ring = LogRing(size=2048, echo=lambda line: None)
        for i in range(200):
            self.ring("line %d of the console" % i)
        self.srv = Server((Resource("board/log", get=lambda req, resp: self.ring.write_to(resp),
                                    ct=0),), log=None,
                          amplification_limit=False)  # whole 1 KB blocks, as to a verified peer

    def ask(self, options=()):
        msg = m.get("board/log", options=list(options))
        n = self.srv.handle(msg, len(msg))
        return m.decode(bytes(self.srv.response.buf[:n]))

    def fetch(self, first_unasked=False):
        body, etags = b"", set()
        for num in range(10):
            r = self.ask(() if first_unasked and num == 0 else block2(num))
            self.assertEqual(r[1], 69)
            etags.add(m.option(r[4], 4))
            body += r[5]
            if not m.to_uint(m.option(r[4], 23)) & 8:
                return body, etags
        self.fail("more blocks than a 2 KB ring has")

    def expected(self):
        ring = self.ring  # kept lines, then the ring from its oldest byte
        return bytes(ring.buf[:ring.kept] + ring.buf[ring.end:] + ring.buf[ring.keep:ring.end])

    def test_blocks_reassemble_the_ring_under_one_etag(self):
        for unasked in (False, True):
            body, etags = self.fetch(unasked)
            self.assertEqual(body, self.expected())
            self.assertEqual(len(etags), 1)
            size2 = m.to_uint(m.option(self.ask(block2(0))[4], 28))
            self.assertEqual(size2, len(body))
            self.assertTrue(1700 < size2 <= 2048, size2)  # the ring full, the kept lines

    def test_etag_changes_when_a_line_is_logged(self):
        before = m.option(self.ask(block2(1))[4], 4)
        self.ring("another line")
        after = m.option(self.ask(block2(1))[4], 4)
        self.assertNotEqual(before, after)

    def test_the_counting_pass_copies_nothing(self):
        # The writer's counting pass (window 0..0, hashing) gets the size alone.
        resp = self.srv.response
        resp.begin(2, 69, 1, b"\x42\x01\x00\x01", 4, 0)
        resp.start(69, 0, -1)
        resp.window(0, 0, True)
        self.ring.write_to(resp)
        self.assertEqual((resp.total, len(resp.buf)), (len(self.expected()), 4))
        self.assertEqual(resp.hash, self.ring.written)

    def test_a_block_allocates_nothing(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        msg = m.get("board/log", options=block2(1))
        n = self.srv.handle(msg, len(msg))
        self.assertEqual(no_alloc(self, "a block", self.srv.handle, msg, len(msg)), n)
