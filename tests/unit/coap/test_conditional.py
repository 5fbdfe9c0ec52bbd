# coap/conditional.py: If-Match and If-None-Match (RFC 7252 §5.10.8) checked
# before a handler runs, and a GET carrying the current ETag answered 2.03
# Valid (§5.10.6, §5.9.1.3), with Block2, Observe and prepared answers.
import unittest

import coapmsg as m
from coap import Resource, Server
from coap.conditional import tag_of
from heaplock import no_alloc
from test_observe import FakeSock, deliver, obs_value
from test_prepared import Queue

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


class Validation(Base):
    def test_a_version_gives_every_2_05_its_etag(self):  # §5.10.6.1
        r = ask(self.srv, m.get("doc"))
        self.assertEqual((r[1], tag_in(r), r[5]), (69, tag_of(7), b"first"))

    def test_the_current_etag_gets_2_03_with_max_age(self):  # §5.9.1.3
        r = ask(self.srv, m.get("doc", options=[etag(tag_of(7))]))
        self.assertEqual((r[1], r[4], r[5]), (67, [(4, m.uint(tag_of(7))), (14, m.uint(30))], b""))
        self.assertEqual(self.doc.calls, 0)  # the version said it: no handler run

    def test_one_of_several_etags_is_enough(self):  # §5.10.6.2
        r = ask(self.srv, m.get("doc", options=[etag(1), etag(tag_of(7)), etag(99)]))
        self.assertEqual(r[1], 67)

    def test_a_stale_etag_gets_the_content_and_the_new_etag(self):
        r = ask(self.srv, m.get("doc", options=[etag(tag_of(6))]))
        self.assertEqual((r[1], tag_in(r), r[5]), (69, tag_of(7), b"first"))

    def test_an_etag_with_a_leading_zero_is_another_etag(self):  # opaque bytes
        r = ask(self.srv, m.get("doc", options=[(4, b"\x00" + m.uint(tag_of(7)))]))
        self.assertEqual(r[1], 69)

    def test_without_a_version_the_hash_of_the_representation(self):
        r = ask(self.srv, m.get("hashed", options=[etag(1)]))
        self.assertEqual(r[1], 69)
        tag = tag_in(r)  # learned from a 2.05 to a request that carried one
        self.assertTrue(tag is not None)
        self.assertEqual(ask(self.srv, m.get("hashed", options=[etag(tag)]))[1], 67)
        self.doc.body[0:] = b"second"
        r = ask(self.srv, m.get("hashed", options=[etag(tag)]))
        self.assertEqual((r[1], r[5]), (69, b"second"))
        self.assertNotEqual(tag_in(r), tag)

    def test_block2_etag_validates_but_not_a_later_block(self):  # RFC 7959 §2.4
        first = ask(self.srv, m.get("big"))
        tag = tag_in(first)
        self.assertEqual((first[1], m.option(first[4], 23) is not None), (69, True))
        self.assertEqual(ask(self.srv, m.get("big", options=[etag(tag)]))[1], 67)
        later = ask(self.srv, m.get("big", options=[etag(tag), (23, m.uint(1 << 4 | 6))]))
        self.assertEqual((later[1], tag_in(later)), (69, tag))

    def test_no_etag_no_2_03_and_no_etag_option_without_a_version(self):
        r = ask(self.srv, m.get("hashed"))
        self.assertEqual((r[1], tag_in(r)), (69, None))

    def test_allocates_nothing(self):
        for msg, code in ((m.get("doc", options=[etag(tag_of(7))]), 67),
                          (m.get("hashed", options=[etag(5)]), 69),
                          (m.get("doc", code=3, payload=b"x", options=[(1, b"\x01")]), 140),
                          (m.get("hashed", code=3, payload=b"x", options=[(5, b"")]), 140)):
            self.srv.request.peer = PEER
            n = self.srv.handle(msg, len(msg))  # warm-up
            got = no_alloc(self, "conditional request", self.srv.handle, msg, len(msg))
            self.assertEqual((got, self.srv.response.buf[1]), (n, code))


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
        self.doc.body[0:] = b"first"
        tag = tag_in(ask(self.srv, m.get("hashed", options=[etag(1)])))  # or of a 2.05
        self.assertEqual(self.put("hashed", (1, m.uint(tag)))[1], 68)
        self.assertEqual(self.put("hashed", (1, m.uint(tag)))[1], 140)

    def test_no_get_handler_no_representation(self):
        self.assertEqual(self.put("putonly", (1, b""))[1], 140)
        self.assertEqual(self.put("putonly", (5, b""))[1], 68)

    def test_if_match_is_no_longer_an_unrecognised_option(self):  # was 4.02
        self.assertEqual(ask(self.srv, m.get("doc", options=[(1, b"")]))[1], 69)


class WithObserve(Base):
    def test_registration_and_notifications_validate(self):  # RFC 7641 §4.4.1
        sock = FakeSock()
        reg = m.get("doc", options=[(6, b""), etag(tag_of(7))])
        r = deliver(self.srv, reg, peer=PEER, sock=sock)
        self.assertEqual((r[1], tag_in(r), r[5]), (67, tag_of(7), b""))
        self.assertTrue(obs_value(r) is not None)
        obs = self.srv.observers
        self.assertEqual(obs.count(), 1)
        obs.changed(self.srv.resources[0])
        obs.tick()
        note = sock.sent[-1][0]
        self.assertEqual((note[1], tag_in(note)), (67, tag_of(7)))
        deliver(self.srv, m.encode(m.ACK, 0, note[2]), peer=PEER)
        self.doc.version += 1
        self.doc.body[0:] = b"third"
        obs.changed(self.srv.resources[0])
        obs.tick()
        note = sock.sent[-1][0]
        self.assertEqual((note[1], tag_in(note), note[5]), (69, tag_of(8), b"third"))
        self.assertTrue(obs_value(note) > obs_value(r))


class WithPrepared(Base):
    def drain(self, msg):
        q = Queue([(msg, PEER)])
        self.srv.drain(q, 10)
        return m.decode(bytes(q.sent[0]))

    def test_a_request_with_an_etag_never_gets_a_kept_answer(self):
        for path in ("prep", "hashed"):
            plain = self.drain(m.get(path))
            self.assertEqual(self.drain(m.get(path))[5], plain[5])  # kept and replayed
            self.doc.body[0:] = b"changed"  # and nobody called forget()
            self.doc.version += 1
            # the replay is stale now (the board's contract: it would forget);
            # a request carrying an ETag still goes the full path
            r = self.drain(m.get(path, options=[etag(tag_in(plain) or 1)]))
            self.assertEqual((r[1], r[5]), (69, b"changed"))
            self.doc.body[0:] = b"first"
            self.srv.forget()

    def test_a_2_03_is_never_kept(self):
        before = self.srv.prepared.count()
        r = self.drain(m.get("prep", options=[etag(tag_of(7))]))
        self.assertEqual((r[1], self.srv.prepared.count()), (67, before))


if __name__ == "__main__":
    unittest.main()
