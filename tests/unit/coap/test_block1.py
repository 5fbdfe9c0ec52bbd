# coap.block1: atomic block-wise uploads (RFC 7959 §2.3, §2.5), one upload
# per peer, resource, method and Request-Tag (RFC 9175 §3), in a fixed table.
import unittest

import coapmsg as m
from coap import Resource, Server
from heaplock import no_alloc

PEER = bytes([2, 0, 0x9C, 0x41, 10, 0, 0, 7]) + bytes(8)
OTHER = bytes([2, 0, 0x9C, 0x42, 10, 0, 0, 7]) + bytes(8)
BODY = bytes((i * 7 + i // 251) & 0xFF for i in range(3000))


class Store:
    """A resource that keeps what was PUT and says how long it was."""

    def __init__(self):
        self.body = b""
        self.runs = 0
        self.first = -1
        self.length = -1
        self.last_query = False

    def put(self, req, resp):
        self.runs += 1
        self.first = req.buf[req.payload_off] if req.payload_len else -1
        self.length = req.payload_len
        self.last_query = req.query_is(b"k", b"v")

    def keep(self, req, resp):  # allocates: not for the heap-locked test
        self.put(req, resp)
        self.body = bytes(req.buf[req.payload_off:req.payload_off + req.payload_len])


def block(num, more, szx=2, mid=None, tag=None, size1=None, path="store", code=3,
          payload=None, query=(), token=b"t", options=()):
    size = 16 << szx
    if payload is None:
        payload = BODY[num * size:num * size + size]
    opts = [(27, m.uint(num << 4 | (8 if more else 0) | szx))] + list(options)
    if size1 is not None:
        opts.append((60, m.uint(size1)))
    if tag is not None:
        opts.append((292, tag))
    return m.get(path, code=code, mid=0x100 + num if mid is None else mid, token=token,
                 options=opts, query=query, payload=payload)


class Uploads(unittest.TestCase):
    def setUp(self):
        self.store = Store()
        self.srv = Server((Resource("store", put=self.store.keep, post=self.store.put,
                                    upload=4096),
                           Resource("small", put=self.store.keep)),
                          log=None, amplification_limit=False, uploads=2)
        self.srv.request.peer = PEER

    def ask(self, msg, peer=PEER):
        self.srv.request.peer = peer
        n = self.srv.handle(msg, len(msg))
        return m.decode(bytes(self.srv.response.buf[:n])) if n else None

    def upload(self, szx, body=BODY, tag=None, peer=PEER, path="store"):
        size = 16 << szx
        blocks = (len(body) + size - 1) // size
        for num in range(blocks):
            more = num < blocks - 1
            got = self.ask(block(num, more, szx, tag=tag, path=path,
                                 payload=body[num * size:num * size + size]), peer)
            if more and got[1] != 95:
                return got
            if more:  # 2.31 Continue
                self.assertEqual(m.option(got[4], 27), m.uint(num << 4 | 8 | szx))
        return got

    def test_a_body_in_64_byte_blocks_is_seen_whole_once(self):  # §2.3
        got = self.upload(2)
        self.assertEqual(got[1], 68)  # 2.04, by the handler, once
        self.assertEqual(self.store.body, BODY)
        self.assertEqual(self.store.runs, 1)
        self.assertEqual(m.option(got[4], 27), m.uint(46 << 4 | 2))  # §2.3: Block1, M=0

    def test_1024_byte_blocks(self):
        got = self.upload(6)
        self.assertEqual((got[1], self.store.body), (68, BODY))

    def test_the_handler_reads_the_last_blocks_options(self):
        self.ask(block(0, True))
        self.ask(block(1, False, payload=b"end", query=("k=v",)))
        self.assertEqual((self.store.length, self.store.last_query), (67, True))

    def test_a_body_that_ends_on_a_block_boundary_with_an_empty_last_block(self):
        self.ask(block(0, True))
        got = self.ask(block(1, False, payload=b""))
        self.assertEqual((got[1], self.store.body), (68, BODY[:64]))

    def test_beyond_the_resources_size_is_4_13_with_size1(self):  # §2.9.3, §4
        got = self.upload(6, BODY + BODY)
        self.assertEqual((got[1], m.to_uint(m.option(got[4], 60))), (141, 4096))
        self.assertEqual(self.store.runs, 0)

    def test_a_size1_too_large_is_4_13_at_the_first_block(self):  # §4
        got = self.ask(block(0, True, size1=5000))
        self.assertEqual((got[1], m.to_uint(m.option(got[4], 60))), (141, 4096))

    def test_a_missing_block_is_4_08(self):  # §2.5
        self.ask(block(0, True))
        got = self.ask(block(2, True))
        self.assertEqual(got[1], 136)
        got = self.ask(block(3, False))  # the upload is gone
        self.assertEqual(got[1], 136)
        self.assertEqual(self.store.runs, 0)

    def test_a_block_without_a_first_is_4_08(self):
        self.assertEqual(self.ask(block(1, False))[1], 136)

    def test_a_block_of_the_wrong_size_is_4_00(self):  # §2.3
        self.assertEqual(self.ask(block(0, True, payload=b"short"))[1], 128)
        self.assertEqual(self.ask(block(0, True, szx=7, payload=b""))[1], 128)

    def test_a_retransmitted_block_gets_its_2_31_again(self):  # §4.5
        self.ask(block(0, True))
        self.ask(block(1, True))
        got = self.ask(block(1, True))
        self.assertEqual((got[1], m.option(got[4], 27)), (95, m.uint(1 << 4 | 8 | 2)))
        self.assertEqual(self.ask(block(2, False, payload=b"z"))[1], 68)
        self.assertEqual(self.store.body, BODY[:128] + b"z")

    def test_a_retransmitted_last_block_runs_the_handler_on_the_same_body(self):
        self.ask(block(0, True))
        self.ask(block(1, False, payload=b"z"))
        self.store.body = b""
        got = self.ask(block(1, False, payload=b"z"))
        self.assertEqual((got[1], self.store.body, self.store.runs), (68, BODY[:64] + b"z", 2))

    def test_two_uploads_with_request_tags_do_not_mix(self):  # RFC 9175 §3
        self.ask(block(0, True, tag=b"a", payload=b"A" * 64))
        self.ask(block(0, True, tag=b"b", payload=b"B" * 64))
        self.ask(block(1, False, tag=b"a", payload=b"a"))
        self.assertEqual(self.store.body, b"A" * 64 + b"a")
        self.ask(block(1, False, tag=b"b", payload=b"b"))
        self.assertEqual(self.store.body, b"B" * 64 + b"b")

    def test_a_block_with_another_tag_is_not_part_of_the_upload(self):
        self.ask(block(0, True, tag=b"a"))
        self.assertEqual(self.ask(block(1, False))[1], 136)  # no tag: another upload
        self.assertEqual(self.ask(block(1, False, tag=b"b"))[1], 136)

    def test_uploads_from_two_peers_do_not_mix(self):
        self.ask(block(0, True, payload=b"A" * 64), PEER)
        self.assertEqual(self.ask(block(1, False, payload=b"x"), OTHER)[1], 136)
        self.ask(block(1, False, payload=b"a"), PEER)
        self.assertEqual(self.store.body, b"A" * 64 + b"a")

    def test_a_full_table_is_5_03_with_max_age(self):
        self.ask(block(0, True, tag=b"a"))
        self.ask(block(0, True, tag=b"b"))
        got = self.ask(block(0, True, tag=b"c"))
        self.assertEqual(got[1], 163)
        self.assertTrue(m.to_uint(m.option(got[4], 14)) > 0)

    def test_a_finished_upload_leaves_its_slot_to_the_next(self):
        for tag in (b"a", b"b", b"c"):
            self.ask(block(0, True, tag=tag))
            self.assertEqual(self.ask(block(1, False, tag=tag, payload=tag))[1], 68)

    def test_an_upload_times_out(self):
        self.ask(block(0, True, tag=b"a"))
        self.ask(block(0, True, tag=b"b"))
        u = self.srv.dispatcher.uploads
        for i in range(u.size):
            u.until[i] -= u.timeout_ms + 1
        self.assertEqual(self.ask(block(1, False, tag=b"a"))[1], 136)
        self.assertEqual(self.ask(block(0, True, tag=b"c"))[1], 95)

    def test_one_block_to_a_resource_without_upload_is_a_plain_request(self):
        got = self.ask(block(0, False, path="small", payload=b"on"))
        self.assertEqual((got[1], self.store.body), (68, b"on"))

    def test_more_blocks_to_a_resource_without_upload_is_4_13(self):
        got = self.ask(block(0, True, path="small"))
        self.assertEqual((got[1], m.to_uint(m.option(got[4], 60))), (141, 1024))

    def test_no_table_without_an_upload_resource(self):
        srv = Server((Resource("small", put=self.store.keep),), log=None)
        self.assertEqual(srv.dispatcher.uploads, None)

    def test_if_none_match_holds_for_the_whole_body(self):  # RFC 7252 §5.10.8.2
        srv = Server((Resource("store", put=self.store.keep, upload=4096,
                               etag=lambda req: 7),), log=None, amplification_limit=False)
        srv.request.peer = PEER
        for num in range(2):
            msg = block(num, num == 0, options=[(5, b"")])
            n = srv.handle(msg, len(msg))
        self.assertEqual(srv.response.buf[1], 140)  # 4.12: it exists
        self.assertEqual(self.store.runs, 0)

    def test_the_3x_limit_holds_for_every_answer(self):  # RFC 9175 §2.4
        srv = Server((Resource("store", put=self.store.keep, upload=4096),), log=None)
        srv.request.peer = PEER
        for num in range(4):
            msg = block(num, num < 3, szx=0, payload=BODY[num * 16:num * 16 + 16])
            n = srv.handle(msg, len(msg))
            self.assertTrue(0 < n <= 3 * len(msg), (num, n))
        self.assertEqual(self.store.body, BODY[:64])

    def test_a_resource_that_takes_its_blocks_itself(self):  # Resource.blocks
        seen = []

        def put(req, resp):
            seen.append((req.block1, req.payload_len))
            if req.block1 & 8:
                resp.set_code(95)  # 2.31 Continue

        srv = Server((Resource("stream", put=put, blocks=True),), log=None,
                     amplification_limit=False)
        self.assertIsNone(srv.dispatcher.uploads)  # no buffer of the body's size
        self.srv = srv
        got = self.upload(2, BODY[:200], path="stream")
        self.assertEqual((got[1], m.option(got[4], 27)), (68, m.uint(3 << 4 | 2)))
        self.assertEqual(seen, [(0x0A, 64), (0x1A, 64), (0x2A, 64), (0x32, 8)])

    def test_assembling_allocates_nothing(self):
        srv = Server((Resource("store", put=self.store.put, upload=4096),), log=None,
                     amplification_limit=False)
        srv.request.peer = PEER
        blocks = [block(k, k < 46) for k in range(47)]
        srv.handle(blocks[0], len(blocks[0]))  # warm-up
        for msg in blocks:
            n = no_alloc(self, "block", srv.handle, msg, len(msg))
            self.assertEqual(srv.response.buf[1], 95 if msg is not blocks[-1] else 68)
            self.assertTrue(n > 0)
        self.assertEqual((self.store.length, self.store.first), (3000, BODY[0]))


if __name__ == "__main__":
    unittest.main()
