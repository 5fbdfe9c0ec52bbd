# firmware/lwm2m.py and lwm2mboard.py: the board's LwM2M objects, through
# the real request path (coap.testing): Read as text, TLV and link format
# (Discover), Write of the LED (text, TLV), Execute, the config's checks.
import struct
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
_root = _here + "/../../.."
for _p in (_root + "/firmware", _root + "/boards/common"):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import config as board_config  # noqa: E402
import lwm2mboard  # noqa: E402
import sensorconfig  # noqa: E402
import sensors  # noqa: E402
from coap import Server  # noqa: E402
from coap.testing import PEER, Result, request  # noqa: E402
from coap.tlv import INSTANCE, RESOURCE, Reader  # noqa: E402
from heaplock import no_alloc  # noqa: E402

TLV = 11542


class Driver:
    def __init__(self, values):
        self.values = values  # what the next read gives; None: a failure

    def read(self, out):
        if self.values is None:
            raise OSError("no answer from the sensor")
        for i in range(len(self.values)):
            out[i] = self.values[i]
        return True


class Board:
    name = "test"

    def __init__(self):
        self.on = 0
        self.drivers = {"dht22": Driver([2150, 4500]), "adc": Driver([3320])}

    def open_sensor(self, spec, module):
        return self.drivers[spec["type"]]

    def led(self):
        return self.on

    def set_led(self, on):
        self.on = on


def build():
    cfg, problems = board_config.validate({"name": "shed", "lwm2m": {"server": "coap://192.0.2.9"}})
    assert not problems, problems
    specs, problems = sensorconfig.parse([{"type": "dht22", "pin": 4},
                                          {"type": "adc", "name": "soil", "pin": 34, "unit": "%"}])
    b = Board()
    s = sensors.Sensors(specs, b, "shed", lambda line: None)
    s.refresh(0)
    objects = lwm2mboard.Objects(b, cfg, s)
    table = tuple(objects.resources())
    # its own server, not coap.testing's (which keeps one per table for good)
    objects.server = Server(table, log=lambda line: None, amplification_limit=False)
    objects.tick()
    return objects.server, objects, b, s


def call(srv, method, path, payload=b"", **kw):
    """coap.testing.call() through this test's own server."""
    msg = request(method, path, payload, **kw)
    srv.request.peer = PEER
    n = srv.handle(msg, len(msg))
    return Result(bytes(srv.response.buf[:n]), [])


def entries(payload):
    r = Reader()
    r.start(payload, 0, len(payload))
    out = []
    while r.next():
        v = bytes(payload[r.value_off:r.value_off + r.value_len])
        out.append((r.kind, r.ident, v if r.kind & 0x40 else None))  # a value
    return out


def double(v):
    return struct.pack(">d", v)


class Read(unittest.TestCase):
    def setUp(self):
        self.srv, self.objects, self.board, self.sensors = build()

    def get(self, path, **kw):
        return call(self.srv, "GET", path, **kw)

    def test_each_sensor_as_text(self):
        for path, text in (("3303/0/5700", b"21.50"), ("3303/0/5701", b"Cel"),
                           ("3304/0/5700", b"45.00"), ("3304/0/5701", b"%RH"),
                           ("3300/0/5700", b"33.20"), ("3300/0/5701", b"%"),
                           ("3303/0/5601", b"21.50"), ("3303/0/5602", b"21.50")):
            r = self.get(path)
            self.assertEqual((str(r.code), r.content_format, r.payload), ("2.05", 0, text), path)

    def test_device_and_server_as_text(self):
        for path, text in (("3/0/0", b"coap-board"), ("3/0/1", b"test"), ("3/0/2", b"shed"),
                           ("3/0/11", b"0"), ("3/0/16", b"U"), ("1/0/1", b"300"),
                           ("1/0/7", b"U"), ("3311/0/5850", b"0")):
            self.assertEqual(self.get(path).payload, text, path)

    def test_instance_as_tlv(self):
        r = self.get("3303/0", accept=TLV)
        self.assertEqual((str(r.code), r.content_format), ("2.05", TLV))
        self.assertEqual(entries(r.payload), [
            (RESOURCE, 5700, double(21.5)), (RESOURCE, 5701, b"Cel"),
            (RESOURCE, 5601, double(21.5)), (RESOURCE, 5602, double(21.5))])

    def test_object_as_tlv_by_default(self):
        r = self.get("3304")
        self.assertEqual(r.content_format, TLV)
        self.assertEqual(entries(r.payload)[:2], [(INSTANCE, 0, None),
                                                 (RESOURCE, 5700, double(45.0))])

    def test_device_as_tlv_has_its_error_code_as_a_multiple_resource(self):
        got = entries(self.get("3/0", accept=TLV).payload)
        self.assertIn((RESOURCE, 1, b"test"), got)
        i = [e[1] for e in got].index(11)
        self.assertEqual(got[i:i + 2], [(0x80, 11, None), (0x40, 0, b"\x00")])

    def test_discover(self):
        r = self.get("3303/0", accept=40)
        self.assertEqual(r.payload, b"</3303/0>,</3303/0/5700>,</3303/0/5701>,</3303/0/5601>,"
                                    b"</3303/0/5602>,</3303/0/5605>")
        self.assertEqual(self.get("3/0/11", accept=40).payload, b"</3/0/11>;dim=1")

    def test_registration_links(self):
        self.assertEqual(self.objects.registration_links(),
                         b'</>;rt="oma.lwm2m";ct=11542,</1/0>,</3/0>,</3300/0>,</3303/0>,'
                         b'</3304/0>,</3311/0>')

    def test_not_in_well_known_core(self):
        self.assertNotIn(b"3303", self.get(".well-known/core").payload)

    def test_a_failed_sensor_is_5_03_and_an_error_code(self):
        self.board.drivers["dht22"].values = None
        self.sensors.refresh(10 ** 6)
        r = self.get("3303/0/5700")
        self.assertEqual(str(r.code), "5.03")
        self.assertIn(b"no answer", r.payload)
        self.assertEqual(self.get("3/0/11").payload, b"8")  # Peripheral Malfunction
        self.assertNotIn(5700, [e[1] for e in entries(self.get("3303/0").payload)])

    def test_few_table_entries_each_object_and_each_observable_resource(self):
        paths = [b"/".join(r.path) for r in self.objects.resources()]
        self.assertEqual(paths, [b"3300/0/5700", b"3303/0/5700", b"3304/0/5700",
                                 b"3311/0/5850", b"1", b"3", b"3300", b"3303", b"3304",
                                 b"3311"])

    def test_paths_no_object_has_are_4_04(self):
        for path in ("3303/1", "3303/0/9999", "3303/0/5700/0", "3303/x", "3303/00000x",
                     "3305", "3303/0/057000"):
            self.assertEqual(str(self.get(path).code), "4.04", path)

    def test_what_a_level_cannot_be_read_as_is_refused(self):
        self.assertEqual(str(self.get("3303/0", accept=0).code), "4.06")  # text: resources only
        self.assertEqual(str(self.get("3303/0/5700", accept=60).code), "4.06")
        self.assertEqual(str(self.get("3/0/4").code), "4.05")  # Execute only

    def test_every_level_is_observable(self):
        for path, token in (("3303/0/5700", b"\x42"), ("3303/0", b"\x43"), ("3303", b"\x44")):
            r = self.get(path, observe=0, token=token)
            self.assertEqual((str(r.code), r.option_uint(6) is not None), ("2.05", True), path)
        self.assertEqual(self.srv.observers.active, 3)

    def test_reads_allocate_nothing(self):
        srv = self.srv
        for path, accept in (("3303/0/5700", None), ("3303/0", TLV), ("3303", TLV),
                             ("3303/0/5700", TLV), ("3303/0", 40)):
            msg = request("GET", path, accept=accept)
            srv.request.peer = PEER
            srv.handle(msg, len(msg))  # warm-up
            no_alloc(self, "GET %s (Accept %s)" % (path, accept), srv.handle, msg, len(msg))


class WriteExecute(unittest.TestCase):
    def setUp(self):
        self.srv, self.objects, self.board, self.sensors = build()

    def test_led_as_text(self):
        r = call(self.srv, "PUT", "3311/0/5850", b"1", content_format=0)
        self.assertEqual((str(r.code), self.board.on), ("2.04", 1))
        call(self.srv, "PUT", "3311/0/5850", b"0")
        self.assertEqual(self.board.on, 0)
        r = call(self.srv, "PUT", "3311/0/5850", b"on")
        self.assertEqual((str(r.code), r.payload, self.board.on), ("4.00", b"expected 0 or 1", 0))

    def test_led_as_tlv_on_the_resource_and_the_instance(self):
        r = call(self.srv, "PUT", "3311/0/5850", b"\xe1\x16\xda\x01", content_format=TLV)
        self.assertEqual((str(r.code), self.board.on), ("2.04", 1))
        r = call(self.srv, "POST", "3311/0", b"\xe1\x16\xda\x00", content_format=TLV)
        self.assertEqual((str(r.code), self.board.on), ("2.04", 0))

    def test_tlv_write_is_all_or_nothing(self):
        # the LED, then a resource that isn't writable: nothing is written
        r = call(self.srv, "PUT", "3311/0", b"\xe1\x16\xda\x01\xe1\x16\xdb\x01",
                 content_format=TLV)
        self.assertEqual((str(r.code), self.board.on), ("4.04", 0))
        r = call(self.srv, "PUT", "3311/0", b"\xe1\x16\xda", content_format=TLV)
        self.assertEqual((str(r.code), self.board.on), ("4.00", 0))

    def test_read_only_resources_refuse_a_write(self):
        self.assertEqual(str(call(self.srv, "PUT", "3303/0/5700", b"1").code), "4.05")

    def test_reset_min_max(self):
        self.board.drivers["dht22"].values = [2300, 4500]
        self.sensors.refresh(10 ** 6)
        self.objects.tick()
        self.assertEqual(call(self.srv, "GET", "3303/0/5602").payload, b"23.00")
        self.assertEqual(call(self.srv, "GET", "3303/0/5601").payload, b"21.50")
        self.assertEqual(str(call(self.srv, "POST", "3303/0/5605").code), "2.04")
        self.assertEqual(call(self.srv, "GET", "3303/0/5601").payload, b"23.00")

    def test_reboot_answers_then_the_tick_reboots(self):
        self.assertEqual(str(call(self.srv, "POST", "3/0/4").code), "2.04")
        with self.assertRaises(lwm2mboard.Reboot):
            self.objects.tick()

    def test_lifetime_written_asks_for_an_update_with_it(self):
        asked = []
        self.objects.on_update = lambda **kw: asked.append(kw)
        r = call(self.srv, "PUT", "1/0/1", b"120", content_format=0)
        self.assertEqual((str(r.code), asked), ("2.04", [{"lifetime_s": 120}]))
        self.assertEqual(call(self.srv, "GET", "1/0/1").payload, b"120")
        call(self.srv, "PUT", "1/0/1", b"120")  # the same again: nothing to tell
        self.assertEqual(len(asked), 1)
        # as TLV on the instance: lifetime 600 (0xc1 id 1, 2 bytes) and binding U
        r = call(self.srv, "PUT", "1/0", b"\xc2\x01\x02\x58\xc1\x07U", content_format=TLV)
        self.assertEqual((str(r.code), asked[-1]), ("2.04", {"lifetime_s": 600}))

    def test_bad_lifetime_or_binding_is_4_00_and_changes_nothing(self):
        asked = []
        self.objects.on_update = lambda **kw: asked.append(kw)
        for payload, why in ((b"0", b"lifetime: 1 to 604800 s"),
                             (b"604801", b"lifetime: 1 to 604800 s")):
            r = call(self.srv, "PUT", "1/0/1", payload)
            self.assertEqual((str(r.code), r.payload), ("4.00", why))
        r = call(self.srv, "PUT", "1/0/7", b"T")
        self.assertEqual((str(r.code), r.payload), ("4.00", b"binding: U (UDP) is the only one"))
        self.assertEqual(str(call(self.srv, "PUT", "1/0/7", b"U").code), "2.04")
        # all or nothing: a good lifetime beside a bad binding is not written
        r = call(self.srv, "PUT", "1/0", b"\xc1\x01\x3c\xc1\x07S", content_format=TLV)
        self.assertEqual(str(r.code), "4.00")
        self.assertEqual((asked, call(self.srv, "GET", "1/0/1").payload), ([], b"300"))

    def test_update_trigger_calls_the_registration(self):
        asked = []
        self.objects.on_update = lambda: asked.append(1)
        self.assertEqual(str(call(self.srv, "POST", "1/0/8").code), "2.04")
        self.assertEqual(asked, [1])


class Sink:
    """The socket notifications go out on."""

    def __init__(self):
        self.sent = []

    def sendto(self, data, addr):
        self.sent.append(Result(bytes(data), []))
        return len(data)


class ObserveLevels(unittest.TestCase):
    """Observe of instances and objects (1.1 Core §5.1.2, §6.4.1): through the
    object's entry, each observer notified as the attributes of its level
    say, gt/lt/st applied to each numeric resource in it."""

    def setUp(self):
        self.srv, self.objects, self.board, self.sensors = build()
        self.sink = Sink()
        self.at = 0

    def observe(self, path, token, accept=TLV):
        msg = request("GET", path, accept=accept, observe=0, token=token)
        self.srv.request.peer = PEER
        n = self.srv.handle(msg, len(msg), sock=self.sink)
        r = Result(bytes(self.srv.response.buf[:n]), [])
        self.assertEqual((str(r.code), r.option_uint(6) is not None), ("2.05", True), path)
        return r

    def reading(self, temp, humidity=4500):
        self.board.drivers["dht22"].values = [temp, humidity]
        self.at += 10 ** 6  # a new reading each time
        self.sensors.refresh(self.at)
        self.objects.tick()
        self.srv.observers.tick()
        got = [(r.token, entries(r.payload)) for r in self.sink.sent]
        del self.sink.sent[:]
        return got

    def test_an_instance_notifies_when_its_resources_move_by_its_st(self):
        call(self.srv, "PUT", "3303/0?st=1")
        self.observe("3303/0", b"\x51")
        self.observe("3304/0", b"\x52")
        self.assertEqual(self.reading(2150), [])  # nothing changed
        self.assertEqual(self.reading(2180), [])  # moved by less than st
        got = self.reading(2300)
        self.assertEqual([t for t, _ in got], [b"\x51"])  # humidity did not change
        self.assertIn((RESOURCE, 5700, double(23.0)), got[0][1])
        self.assertEqual(self.reading(2350), [])  # measured from the last one

    def test_an_object_without_attributes_notifies_on_any_change(self):
        self.observe("3304", b"\x53")
        got = self.reading(2150, 4600)
        self.assertEqual([t for t, _ in got], [b"\x53"])
        self.assertEqual(got[0][1][:2], [(INSTANCE, 0, None), (RESOURCE, 5700, double(46.0))])

    def test_deciding_and_rendering_allocate_nothing(self):
        class Count:
            n = 0

            def sendto(self, data, addr):
                self.n += 1
                return len(data)
        self.sink = sink = Count()
        self.observe("3303/0", b"\x55")
        self.observe("3303", b"\x56", accept=112)
        self.board.drivers["dht22"].values = [2160, 4500]
        self.sensors.refresh(10 ** 6)
        self.objects.tick()
        obs = self.srv.observers
        obs.tick()  # the first notifications: CON, acknowledged below
        self.assertEqual(sink.n, 2)
        for i in range(obs.size):
            if obs.addr[i] is not None:
                obs.on_empty(2, obs.mid[i], PEER)  # an empty ACK
                self.assertEqual(obs.tries[i], 0)  # nothing left to retransmit
        self.objects.tick()
        obs.tick()
        self.assertEqual(sink.n, 2)  # nothing changed, nothing sent
        self.board.drivers["dht22"].values = [2170, 4500]
        self.sensors.refresh(2 * 10 ** 6)
        before = sink.n

        def tick():
            self.objects.tick()
            obs.tick()
        no_alloc(self, "a due instance and object notified", tick)
        self.assertEqual(sink.n - before, 2)

    def test_a_resource_without_an_entry_of_its_own(self):
        self.observe("3303/0/5602", b"\x54", accept=None)  # Max Measured
        self.assertEqual(self.reading(2100), [])  # a new low: 5602 stays
        got = self.reading(2250)
        self.assertEqual([t for t, _ in got], [b"\x54"])


class Config(unittest.TestCase):
    def test_defaults_filled_in(self):
        cfg, problems = board_config.validate({"name": "b1", "lwm2m": {"server": "coap://h"}})
        self.assertEqual((cfg["lwm2m"], problems), (
            {"server": "coap://h", "endpoint": "b1", "lifetime_s": 300,
             "update_plain": False, "oscore": None}, []))

    def test_a_bad_value_is_one_line_and_no_lwm2m(self):
        for bad in ({"server": "http://h"}, {"endpoint": "x"}, "coap://h",
                    {"server": "coap://h", "lifetime_s": 0}, {"server": "coap://h", "x": 1},
                    {"server": "coap://h", "endpoint": ""}):
            cfg, problems = board_config.validate({"lwm2m": bad})
            self.assertEqual(len(problems), 1, bad)
            self.assertTrue(problems[0].startswith("config: lwm2m: expected null or {"),
                            problems[0])
            self.assertIsNone(cfg["lwm2m"])
