# coap.testing: requests through the real server path, no socket.
import unittest

from sample import RESOURCES, board

from coap import Resource
from coap.testing import Code, allocated, call, request
from heaplock import heap_lock

_vent = [0]


def vent_get(req, resp):
    resp.payload_int(_vent[0])


def vent_put(req, resp):
    limit = req.query_int(b"max", 100)
    n = req.payload_int(0)
    _vent[0] = n if n <= limit else limit


VENT = (Resource("greenhouse/vent", get=vent_get, put=vent_put, ct=0, accepts=0, obs=True),)


class Call(unittest.TestCase):
    def test_put_then_get(self):
        r = call(VENT, "PUT", "/greenhouse/vent", payload=b"40")
        self.assertEqual(str(r.code), "2.04")
        self.assertTrue(r.code == "2.04" and r.code == 68 and r.code == Code(68))
        self.assertEqual(call(VENT, "GET", "/greenhouse/vent").payload, b"40")
        call(VENT, "PUT", "/greenhouse/vent?max=30", payload=b"40")  # the query reaches it
        r = call(VENT, "GET", "/greenhouse/vent")
        self.assertEqual((r.payload, r.content_format), (b"30", 0))

    def test_negotiation_and_errors(self):
        self.assertEqual(str(call(VENT, "GET", "/greenhouse/vent", accept=50).code), "4.06")
        self.assertEqual(str(call(VENT, "PUT", "/greenhouse/vent", payload=b"1",
                                  content_format=50).code), "4.15")
        self.assertEqual(str(call(VENT, "DELETE", "/greenhouse/vent").code), "4.05")
        self.assertEqual(str(call(VENT, "GET", "/greenhouse/door").code), "4.04")
        r = call(RESOURCES, "GET", "/boom")
        self.assertEqual((str(r.code), r.payload), ("5.00", b"handler error: RuntimeError"))
        self.assertIn("sensor unplugged", r.log[0])
        with self.assertRaises(ValueError):
            call(VENT, "BREW", "/x")

    def test_observe_and_block2(self):
        r = call(VENT, "GET", "/greenhouse/vent", observe=0, token=b"ob")
        self.assertEqual((r.token, r.option_uint(6) is not None), (b"ob", True))
        r = call(RESOURCES, "GET", "/big", block2=(1, 64))
        self.assertEqual(str(r.code), "2.05")
        self.assertEqual(r.option_uint(23), 1 << 4 | 1 << 3 | 2)  # block 1, more, 64 bytes
        self.assertEqual(len(r.payload), 64)

    def test_request_bytes(self):
        # RFC 7252 §3: header, token, options in order (deltas), payload marker
        self.assertEqual(request("GET", "/a/b?x=1", token=b"\x42", mid=0x1234),
                         b"\x41\x01\x12\x34\x42\xb1a\x01b\x43x=1")
        self.assertEqual(request("POST", "/%41", payload=b"p", confirmable=False, token=b""),
                         b"\x50\x02\x12\x34\xb1A\xffp")

    def test_allocated(self):
        board.temp_centi = 2312
        if heap_lock is None:
            with self.assertRaises(NotImplementedError):
                allocated(RESOURCES, "GET", "/sensors/temp")
            return
        self.assertEqual(allocated(RESOURCES, "GET", "/sensors/temp", accept=50), 0)
        self.assertEqual(allocated(VENT, "PUT", "/greenhouse/vent", payload=b"12"), 0)

        def leaky(req, resp):
            resp.payload(str(req.payload_len).encode())  # str() and encode() allocate
        table = (Resource("leaky", get=leaky),)
        self.assertTrue(allocated(table, "GET", "/leaky") > 0)
