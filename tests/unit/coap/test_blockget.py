# coap.blockget: a block-wise GET against a file server the test plays on a
# fake socket (the way aiocoap-fileserver answers: Block2, an ETag per
# representation, Size2 when asked); time is a clock the test moves.
import gc
import unittest

import coapmsg as m
from coap.blockget import BAD_BLOCK, CHANGING, TOO_LARGE, BlockGet, describe
from coap.client import TIMEOUT, Client, Path
from fake_fileserver import FileServer, body
from fake_time import Clock

CONTENT = 69


class Sink:
    """What a file or a hash would get: the bytes in order, starting over at 0."""

    def __init__(self):
        self.got = bytearray()
        self.starts = 0

    def __call__(self, pos, data, off, n):
        if pos == 0:
            self.got = bytearray()
            self.starts += 1
        if pos != len(self.got):
            raise AssertionError("block at %d after %d bytes" % (pos, len(self.got)))
        self.got.extend(memoryview(data)[off:off + n])


def path(*segs):
    p = Path(4, 40)
    for s in segs:
        p.add(s, 0, len(s))
    return p


class Fetching(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()

    def make(self, server, **kw):
        self.server = server
        self.get = BlockGet(Client(server, 128, clock=self.clock), **kw)
        self.sink = Sink()
        self.get.start(path(b"app", b"main.mpy"), self.sink)
        return self.get

    def run_to_end(self, g, limit=1000):
        for _ in range(limit):
            r = g.poll()
            if r is not None:
                return r
            self.clock.advance(100)
        self.fail("the transfer never ended")

    def test_whole_file_block_by_block(self):
        data = body(5000)
        g = self.make(FileServer(data))
        self.assertEqual(self.run_to_end(g), CONTENT)
        self.assertEqual(bytes(self.sink.got), data)
        self.assertEqual((g.pos, g.size, self.sink.starts), (5000, 5000, 1))
        self.assertEqual([r[1] for r in self.server.requests], [0, 1, 2, 3, 4])

    def test_small_file_in_one_answer(self):
        g = self.make(FileServer(b"v1.2"))
        self.assertEqual(self.run_to_end(g), CONTENT)
        self.assertEqual(bytes(self.sink.got), b"v1.2")

    def test_smaller_blocks_from_the_server(self):
        data = body(3000)
        g = self.make(FileServer(data, szx=4))  # 256-byte blocks
        self.assertEqual(self.run_to_end(g), CONTENT)
        self.assertEqual(bytes(self.sink.got), data)
        self.assertEqual(len(self.server.requests), 12)

    def test_lost_block_is_asked_again(self):
        data = body(4000)
        srv = FileServer(data)
        g = self.make(srv)
        self.assertIsNone(g.poll())
        self.assertIsNone(g.poll())  # blocks 0 and 1 in, block 2 answered at once
        srv.lose = 1                 # the request for block 3 lost
        self.assertIsNone(g.poll())
        self.clock.advance(3000)     # past ACK_TIMEOUT * ACK_RANDOM_FACTOR (§4.8)
        self.assertEqual(self.run_to_end(g), CONTENT)
        self.assertEqual(bytes(self.sink.got), data)
        nums = [r[1] for r in srv.requests]
        self.assertEqual(nums, [0, 1, 2, 3])  # the lost one retransmitted, nothing else again
        self.assertEqual(self.sink.starts, 1)

    def test_new_etag_starts_over(self):
        old, new = body(4000), body(4500, seed=3)
        srv = FileServer(old)
        srv.change = {1: (new, b"\x22" * 8)}  # the file is replaced after block 1
        g = self.make(srv)
        self.assertEqual(self.run_to_end(g), CONTENT)
        self.assertEqual(bytes(self.sink.got), new)
        self.assertEqual((self.sink.starts, g.changes, g.size), (2, 1, 4500))
        self.assertEqual([r[1] for r in srv.requests], [0, 1, 2, 0, 1, 2, 3, 4])

    def test_a_file_that_never_settles_is_refused(self):
        srv = FileServer(body(8000))
        srv.change = dict((i, (body(8000, i), bytes([i]) * 8)) for i in range(1, 8))
        g = self.make(srv, restarts=2)
        self.assertEqual(self.run_to_end(g), CHANGING)
        self.assertEqual(describe(CHANGING), "the file kept changing while it was read")

    def test_timeout_then_resume_from_the_last_good_block(self):
        data = body(6000)
        srv = FileServer(data)
        g = self.make(srv)
        for _ in range(3):
            self.assertIsNone(g.poll())  # blocks 0..2 in, block 3 answered at once
        srv.lose = 5  # the first transmission and all 4 retransmissions (§4.8)
        r = None
        for _ in range(100):
            r = g.poll()
            if r is not None:
                break
            self.clock.advance(10000)
        self.assertEqual((r, describe(r)), (TIMEOUT, "no answer (timeout)"))
        self.assertEqual(g.pos, 4096)  # blocks 0..3 in, block 4 not
        g.resume()
        self.assertEqual(self.run_to_end(g), CONTENT)
        self.assertEqual(bytes(self.sink.got), data)
        self.assertEqual([r[1] for r in srv.requests], [0, 1, 2, 3, 4, 5])
        self.assertEqual(self.sink.starts, 1)

    def test_server_error_is_the_result(self):
        srv = FileServer(b"")
        srv.code = 132
        g = self.make(srv)
        r = self.run_to_end(g)
        self.assertEqual((r, describe(r)), (132, "4.04"))
        self.assertEqual(self.sink.starts, 0)

    def test_too_large_refused_at_the_first_block(self):
        g = self.make(FileServer(body(9000)), limit=8192)
        self.assertEqual(self.run_to_end(g), TOO_LARGE)
        self.assertEqual(len(self.server.requests), 1)  # Size2 said so: nothing more asked
        self.assertEqual(self.sink.starts, 0)

    def test_block_not_asked_for_is_refused(self):
        srv = FileServer(body(4000))
        g = self.make(srv)
        self.assertIsNone(g.poll())
        g.pos = 2048  # as if the sink were ahead of what the server sends next
        g.resume()
        srv.inbox[:] = []
        srv.requests[:] = []
        srv._serve(bytes(m.encode(m.CON, 1, g.client._mid, bytes(g.client._token),
                                  [(23, m.uint(1 << 4 | 6))])))
        self.assertEqual(self.run_to_end(g), BAD_BLOCK)


def collects():
    """Whether gc.collect() frees garbage on this port."""
    gc.collect()
    before = gc.mem_alloc()
    junk = [bytes(100) for _ in range(100)]
    junk = None
    gc.collect()
    return junk is None and gc.mem_alloc() - before < 5000


class Heap(unittest.TestCase):
    def test_50k_transfer_holds_no_body(self):
        """Heap figures of a 50 KB GET: the client's fixed memory, what each
        block allocates besides the datagram the socket returns, and (where
        gc frees) what stays allocated after it."""
        if not hasattr(gc, "mem_alloc"):
            raise unittest.SkipTest("gc.mem_alloc exists only in MicroPython")
        data = body(50 * 1024)
        srv = FileServer(data)
        sums = [0, 0]

        def sink(pos, d, off, n):
            s = sums[0]
            for i in range(off, off + n):
                s = (s + d[i]) & 0xFFFF
            sums[0] = s
            sums[1] = pos + n

        clock = Clock()
        gc.collect()
        base = gc.mem_alloc()
        g = BlockGet(Client(srv, 128, clock=clock))
        p = path(b"app", b"firmware.bin")
        fixed = gc.mem_alloc() - base
        gc.collect()
        base = gc.mem_alloc()
        gc.disable()
        try:
            g.start(p, sink)
            r = None
            while r is None:
                r = g.poll()
            allocated = gc.mem_alloc() - base - srv.own
        finally:
            gc.enable()
        blocks = len(srv.requests)
        self.assertEqual((r, sums[1], blocks), (CONTENT, len(data), 50))
        self.assertEqual(sums[0], sum(data) & 0xFFFF)
        print("blockget: 50 KB in %d blocks: client and transfer %d bytes, allocated "
              "per block besides the datagram %d bytes" % (blocks, fixed, allocated // blocks))
        self.assertTrue(allocated // blocks < 64, allocated)
        self.assertTrue(fixed < 5000, fixed)  # 64-bit words: about twice the 32-bit figure
        if not collects():
            return  # the wasm port frees nothing inside runPython: no "kept" figure there
        srv.inbox = []
        srv.requests = []  # the fake's record, not the client's
        gc.collect()
        kept = gc.mem_alloc() - base
        last = len(g.client.data)  # the client keeps the last datagram until the next
        print("blockget: %d bytes kept after it (the last datagram: %d)" % (kept, last))
        self.assertTrue(kept < last + 64, kept)
