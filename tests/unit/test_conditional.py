# coap/conditional.py: If-Match and If-None-Match (RFC 7252 §5.10.8) checked
# before a handler runs.
import unittest

import coapmsg as m
from coap import Resource, Server
from coap.conditional import tag_of
from heaplock import no_alloc
from test_observe import FakeSock

PEER = bytes([2, 0, 0x16, 0x33, 127, 0, 0, 1]) + bytes(8)


class Doc:
    """A document a PUT replaces; `version` counts its changes."""

    def __init__(self):
        self.body = bytearray(b"first")
        self.version = 7
        self.there = True
        self.calls = 0


def table(doc):
    def get(req, resp):
        doc.calls += 1
        resp.payload(doc.body)

    def put(req, resp):
        doc.calls += 1
        doc.body[0:] = req.buf[req.payload_off:req.payload_off + req.payload_len]
        doc.version += 1
        doc.there = True

    def version(req):
        return doc.version if doc.there else None

    def big(req, resp):
        for _ in range(300):
            resp.payload(doc.body)

    return (
        Resource("doc", get=get, put=put, ct=0, etag=version, max_age=30, obs=True),
        Resource("hashed", get=get, put=put, ct=0, prepared=True),  # no version: a hash
        Resource("big", get=big, put=put),
        Resource("prep", get=get, put=put, ct=0, etag=version, prepared=True),
        Resource("putonly", put=put),
    )


def etag(tag):
    return (4, m.uint(tag))


def ask(srv, msg):
    srv.request.peer = PEER
    n = srv.handle(msg, len(msg), False, FakeSock())
    return m.decode(bytes(srv.response.buf[:n]))


def tag_in(r):
    v = m.option(r[4], 4)
    return None if v is None else m.to_uint(v)


class Base(unittest.TestCase):
    def setUp(self):
        self.doc = Doc()
        self.srv = Server(table(self.doc), log=None, amplification_limit=False)


class Preconditions(Base):
    def put(self, path, *options):
        return ask(self.srv, m.get(path, code=3, payload=b"new", options=list(options)))

    def test_if_match_the_current_etag_changes_it(self):  # §5.10.8.1
        r = self.put("doc", (1, m.uint(tag_of(7))))
        self.assertEqual((r[1], bytes(self.doc.body)), (68, b"new"))

    def test_if_match_a_stale_etag_is_4_12_and_the_handler_never_runs(self):
        r = self.put("doc", (1, m.uint(tag_of(6))), (1, m.uint(tag_of(5))))
        self.assertEqual((r[1], self.doc.calls, bytes(self.doc.body)), (140, 0, b"first"))

    def test_empty_if_match_means_it_exists(self):
        self.assertEqual(self.put("doc", (1, b""))[1], 68)
        self.doc.there = False
        self.assertEqual(self.put("doc", (1, b""))[1], 140)

    def test_if_none_match_creates_only(self):  # §5.10.8.2
        self.assertEqual(self.put("doc", (5, b""))[1], 140)
        self.doc.there = False
        self.assertEqual(self.put("doc", (5, b""))[1], 68)
        self.assertEqual(self.put("doc", (5, b""))[1], 140)  # now it exists

    def test_without_a_version_the_get_handlers_hash(self):
        tag = tag_in(ask(self.srv, m.get("big")))  # the ETag of a block-wise answer
        self.assertEqual(self.put("big", (1, m.uint(tag)))[1], 68)
        self.assertEqual(self.put("big", (1, m.uint(tag)))[1], 140)  # "new" now
        self.assertEqual(self.put("hashed", (1, m.uint(tag)))[1], 140)  # "new" now

    def test_no_get_handler_no_representation(self):
        self.assertEqual(self.put("putonly", (1, b""))[1], 140)
        self.assertEqual(self.put("putonly", (5, b""))[1], 68)

    def test_if_match_is_no_longer_an_unrecognised_option(self):  # was 4.02
        self.assertEqual(ask(self.srv, m.get("doc", options=[(1, b"")]))[1], 69)

    def test_allocates_nothing(self):
        for msg, code in ((m.get("doc", code=3, payload=b"x", options=[(1, b"\x01")]), 140),
                          (m.get("hashed", code=3, payload=b"x", options=[(5, b"")]), 140)):
            self.srv.request.peer = PEER
            n = self.srv.handle(msg, len(msg))  # warm-up
            got = no_alloc(self, "conditional request", self.srv.handle, msg, len(msg))
            self.assertEqual((got, self.srv.response.buf[1]), (n, code))


if __name__ == "__main__":
    unittest.main()
