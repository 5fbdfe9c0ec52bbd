# firmware/lwm2msenml.py: LwM2M reads as SenML JSON (110) and CBOR (112),
# through the real request path (the board of test_lwm2m): what a server
# asking with Accept gets, resolved names and values; CBOR checked byte by
# byte here (tests/interop decodes it with cbor2 and aiocoap); no allocation.
import json
import struct
import unittest

from test_lwm2m import build, call  # first: it puts firmware/ on sys.path

from coap.testing import PEER, request  # noqa: E402
from heaplock import no_alloc  # noqa: E402
from lwm2msenml import Senml  # noqa: E402

JSON = 110
CBOR = 112


def records(payload):
    """[(resolved name, value)] of a SenML JSON pack (RFC 8428 §4.5.1)."""
    out = []
    bn = ""
    for r in json.loads(payload):
        bn = r.get("bn", bn)
        for k in ("v", "vs", "vb"):
            if k in r:
                out.append((bn + r.get("n", ""), r[k]))
    return out


def text(s):
    b = s.encode()
    return bytes((0x60 | len(b),)) + b


class Json(unittest.TestCase):
    def setUp(self):
        self.srv, self.objects, self.board, self.sensors = build()

    def get(self, path, accept=JSON):
        r = call(self.srv, "GET", path, accept=accept)
        self.assertEqual((str(r.code), r.content_format), ("2.05", accept), path)
        return r.payload

    def test_an_instance(self):
        self.assertEqual(records(self.get("3303/0")), [
            ("/3303/0/5700", 21.5), ("/3303/0/5701", "Cel"), ("/3303/0/5601", 21.5),
            ("/3303/0/5602", 21.5)])
        self.assertEqual(self.get("3303/0")[:40], b'[{"bn":"/3303/","n":"0/5700","v":21.50},')

    def test_a_resource_and_an_object(self):
        self.assertEqual(records(self.get("3304/0/5700")), [("/3304/0/5700", 45.0)])
        self.assertEqual(records(self.get("3311")), [("/3311/0/5850", False)])
        self.board.on = 1
        self.assertEqual(records(self.get("3311/0/5850")), [("/3311/0/5850", True)])

    def test_device_with_its_multiple_resource(self):
        got = dict(records(self.get("3/0")))
        self.assertEqual((got["/3/0/0"], got["/3/0/1"], got["/3/0/11/0"], got["/3/0/16"]),
                         ("coap-board", "test", 0, "U"))
        self.assertNotIn("/3/0/4", got)  # Execute only: nothing to read

    def test_a_failed_sensor_is_left_out_or_5_03(self):
        self.board.drivers["dht22"].values = None
        self.sensors.refresh(10 ** 6)
        self.assertNotIn("/3303/0/5700", dict(records(self.get("3303/0"))))
        self.assertEqual(str(call(self.srv, "GET", "3303/0/5700", accept=JSON).code), "5.03")


class Cbor(unittest.TestCase):
    def setUp(self):
        self.srv, self.objects, self.board, self.sensors = build()

    def get(self, path):
        r = call(self.srv, "GET", path, accept=CBOR)
        self.assertEqual((str(r.code), r.content_format), ("2.05", CBOR), path)
        return r.payload

    def test_a_resource_byte_by_byte(self):
        # [{-2: "/3303/", 0: "0/5700", 2: 21.5 as float32}]
        self.assertEqual(self.get("3303/0/5700"),
                         b"\x81\xa3\x21" + text("/3303/") + b"\x00" + text("0/5700") +
                         b"\x02\xfa" + struct.pack(">f", 21.5))

    def test_an_instance_string_and_boolean(self):
        got = self.get("3303/0")
        self.assertEqual(got[:1], b"\x84")  # four records
        self.assertIn(b"\xa2\x00" + text("0/5701") + b"\x03" + text("Cel"), got)
        self.assertEqual(self.get("3311/0"), b"\x81\xa3\x21" + text("/3311/") + b"\x00" +
                         text("0/5850") + b"\x04\xf4")

    def test_integers_and_a_multiple_resource(self):
        got = self.get("3/0")
        self.assertIn(b"\xa2\x00" + text("0/11/0") + b"\x02\x00", got)  # Error Code 0
        self.assertIn(b"\xa2\x00" + text("0/1") + b"\x02\x19\x01\x2c", self.get("1/0"))  # 300

    def test_reads_allocate_nothing(self):
        srv = self.srv
        # not Device (3/0): its Current Time reads time.time(), which
        # allocates on the unix port whatever the format (TLV too)
        for path, accept in (("3303/0/5700", JSON), ("3303/0", JSON), ("3303", JSON),
                             ("1/0", JSON), ("3311", JSON), ("3303/0/5700", CBOR),
                             ("3303/0", CBOR), ("3303", CBOR), ("1/0", CBOR), ("3311", CBOR)):
            msg = request("GET", path, accept=accept)
            srv.request.peer = PEER
            srv.handle(msg, len(msg))  # warm-up
            no_alloc(self, "GET %s (Accept %s)" % (path, accept), srv.handle, msg, len(msg))


class Out:
    """The payload calls of coap.write.Response, into bytes."""

    def __init__(self):
        self.b = bytearray()

    def payload(self, data):
        self.b += data

    def payload_from(self, src, off, n):
        self.b += bytes(src[off:off + n])

    def payload_int(self, v):
        self.b += b"%d" % v

    def payload_fixed(self, v, places):
        self.b += b"%d.%02d" % (v // 100, v % 100)


class Escaping(unittest.TestCase):
    def test_json_strings_are_escaped(self):
        s = Senml()
        s.resp = Out()
        s._escaped(b'a"b\\c\nd')
        self.assertEqual(json.loads(b'"' + s.resp.b + b'"'), 'a"b\\c\nd')
