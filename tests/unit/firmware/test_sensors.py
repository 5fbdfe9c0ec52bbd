# firmware/sensors.py and sensorconfig.py: sensors declared in config.json,
# one descriptor per sensor, served through the real request path
# (coap.testing): formats, the /sensors pack, 5.03 on failure, the cache.
import json
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
_root = _here + "/../../.."
for _p in (_root + "/firmware", _root + "/boards/common"):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import config as board_config  # noqa: E402
import drivers  # noqa: E402
import resources  # noqa: E402
import sensorconfig  # noqa: E402
import sensors  # noqa: E402
from coap import Server  # noqa: E402
from coap.testing import allocated, call  # noqa: E402
from heaplock import heap_lock, locked, no_alloc  # noqa: E402


class Thermo:
    """A driver module written for the test: one new module is all a sensor
    type needs (registered as drivers.thermo)."""
    FIELDS = {"required": ("pin",), "optional": ("unit",)}
    MIN_INTERVAL_MS = 500

    @staticmethod
    def quantities(spec):
        return (("temp", "temperature", "Cel", "temperature-c", 0, 100),
                ("dew", "dew_point", "Cel", "dew-point-c", 0, 100))

    class Driver:
        made = []

        def __init__(self, spec, board):
            self.spec = spec
            self.reads = 0
            self.script = []  # values lists, or an OSError to raise
            Thermo.Driver.made.append(self)

        def read(self, out):
            self.reads += 1
            step = self.script.pop(0) if self.script else [2150, 1020]
            if isinstance(step, Exception):
                raise step
            for i in range(len(step)):
                out[i] = step[i]
            return True


sys.modules["drivers.thermo"] = Thermo
drivers.thermo = Thermo


class FakeBoard:
    name = "test"
    name_bytes = b"test"

    def open_sensor(self, spec, module):
        return module.Driver(spec, self)

    def mcu_temp_centi(self):
        return 3456

    def led(self):
        return 0

    def uptime_ms(self):
        return 1000


def build(sensor_list, name="greenhouse", dht_pin=None):
    """The firmware's table for these sensors, as app.start() builds it."""
    log = []
    specs, problems = sensorconfig.parse(sensor_list, dht_pin)
    s = sensors.Sensors(specs, FakeBoard(), name, log.append)
    s.refresh(0)
    h = resources.SensorBoard(FakeBoard(), {"name": name}, None, s)
    table = resources.table(h, {})
    h.server = Server(table, log=log.append)
    return table, s, problems, log


def problems_for(entry):
    return sensorconfig.parse([entry, {"type": "mcu_temp"}])


class Config(unittest.TestCase):
    CASES = (
        # (entry, the problem line after "config: sensors[0]")
        ("dht22", "old and new forms"),
        ({"type": "dht33", "pin": 4}, ': type: no driver for "dht33" (boards/common/drivers/)'),
        ({"pin": 4}, ": type: no driver for null (boards/common/drivers/)"),
        ({"type": "dht22"}, " (dht22): pin: missing (dht22 needs pin)"),
        ({"type": "dht22", "pin": -1},
         " (dht22): pin: expected a GPIO number or a pin name, got -1"),
        ({"type": "dht22", "pin": 4, "address": 3}, " (dht22): address: not a field of dht22"),
        ({"type": "ds18b20", "name": "Water Tank", "pin": 5}, " (ds18b20): name: expected 1-16"),
        ({"type": "bme280", "name": "air", "i2c": {"sda": 21}}, " (air): i2c: expected"),
        ({"type": "bme280", "name": "air", "i2c": {"sda": 21, "scl": 22}, "address": 200},
         " (air): address: expected a 7-bit I2C address"),
        ({"type": "adc", "name": "soil", "pin": 34, "scale": [0, 0, 0, 100]},
         " (soil): scale: expected [in_low, in_high, out_low, out_high]"),
        ({"type": "adc", "name": "soil", "pin": 34, "unit": "a;b"}, " (soil): unit: expected"),
        ({"type": "dht22", "pin": 4, "interval_ms": 50}, " (dht22): interval_ms: expected"),
        ({"type": "dht22", "pin": 4, "interval_ms": 1000},
         " (dht22): interval_ms: a dht22 reads at most every 2000 ms"),
        ({"type": "dht22", "pin": 4, "quantities": ["pressure"]},
         " (dht22): quantities: dht22 measures temp, humidity, not pressure"),
        ({"type": "mcu_temp", "fail": "yes"},
         ' (mcu_temp): fail: expected true or false, got "yes"'),
        ({"type": "ds18b20", "pin": 5, "rom": "28-ff"}, " (ds18b20): rom: expected a 1-Wire ROM"),
        (42, ': expected an object such as {"type": "dht22", "pin": 4}, got 42'),
    )

    def test_every_field_error_is_one_line_and_leaves_the_sensor_out(self):
        for entry, want in self.CASES:
            if entry == "dht22":
                continue
            specs, problems = problems_for(entry)
            self.assertEqual(len(problems), 1, entry)
            self.assertTrue(problems[0].startswith("config: sensors[0]" + want), problems[0])
            self.assertTrue(problems[0].endswith("; sensor left out"), problems[0])
            # the sensor is left out, the other one is kept
            self.assertEqual([s["type"] for s, _ in specs], ["mcu_temp"], entry)

    def test_duplicate_name(self):
        specs, problems = sensorconfig.parse([{"type": "mcu_temp"}, {"type": "mcu_temp"}])
        self.assertEqual(len(specs), 1)
        self.assertEqual(problems, ["config: sensors[1] (mcu_temp): name: mcu_temp is already used;"
                                    " give each sensor its own name; sensor left out"])

    def test_the_field_itself_must_be_a_list_of_one_form(self):
        for bad in ("dht22", ["temperature", {"type": "mcu_temp"}], ["pressure"],
                    [{"type": "mcu_temp"}, 42], [[[]]]):
            cfg, problems = board_config.validate({"sensors": bad})
            self.assertEqual(len(problems), 1)
            self.assertTrue(problems[0].startswith(
                "config: sensors: expected a list of sensor objects"), problems[0])
            self.assertEqual(cfg["sensors"], ["temperature", "humidity"])

    def test_old_form(self):
        table, s, problems, _ = build(["temperature", "humidity"], dht_pin=4)
        self.assertEqual(problems, [])
        paths = [r.href for r in table]
        self.assertIn(b"/sensors/temp", paths)
        self.assertIn(b"/sensors/humidity", paths)
        self.assertEqual(s.sensors[0].kind, "dht22")
        # no DHT: the board's own sensor, temperature only
        table, s, _, _ = build(["temperature", "humidity"])
        paths = [r.href for r in table]
        self.assertEqual(s.sensors[0].kind, "mcu_temp")
        self.assertIn(b"/sensors/temp", paths)
        self.assertNotIn(b"/sensors/humidity", paths)
        self.assertEqual(call(table, "GET", "/sensors/temp", accept=50).payload,
                         b'{"temperature":34.56,"unit":"Cel"}')


class Descriptor(unittest.TestCase):
    def setUp(self):
        self.table, self.s, problems, self.log = build([
            {"type": "thermo", "name": "porch", "pin": 3},
            {"type": "mcu_temp"},
        ])
        self.assertEqual(problems, [])
        self.drv = Thermo.Driver.made[-1]

    def test_one_module_gives_resources_and_links(self):
        links = call(self.table, "GET", "/.well-known/core").payload.decode()
        self.assertIn('</sensors/porch/temp>;rt="temperature-c";if="core.s";ct="0 50 110 112";'
                      'obs;u="Cel"', links)
        self.assertIn('</sensors/porch/dew>;rt="dew-point-c"', links)
        self.assertIn('</sensors/mcu_temp>;rt="temperature-c"', links)
        self.assertIn('</sensors>;rt="sensors-senml";if="core.b";ct="110 112";obs', links)

    def test_formats(self):
        r = call(self.table, "GET", "/sensors/porch/temp")
        self.assertEqual((str(r.code), r.payload, r.content_format), ("2.05", b"21.50", 0))
        r = call(self.table, "GET", "/sensors/porch/dew", accept=50)
        self.assertEqual(json.loads(r.payload), {"dew_point": 10.2, "unit": "Cel"})
        r = call(self.table, "GET", "/sensors/porch/temp", accept=110)
        self.assertEqual(r.content_format, 110)
        self.assertEqual(json.loads(r.payload),
                         [{"bn": "greenhouse:", "n": "porch/temp", "u": "Cel", "v": 21.5}])
        # SenML CBOR (RFC 8428 §6): [{-2: bn, 0: n, 1: u, 2: v}], v a float32 (0xFA)
        r = call(self.table, "GET", "/sensors/porch/temp", accept=112)
        self.assertEqual((r.content_format, r.payload),
                         (112, b"\x81\xa4\x21\x6bgreenhouse:\x00\x6aporch/temp\x01\x63Cel"
                               b"\x02\xfa\x41\xac\x00\x00"))  # 21.5
        self.assertEqual(str(call(self.table, "GET", "/sensors/porch/temp", accept=60).code),
                         "4.06")

    def test_pack(self):
        r = call(self.table, "GET", "/sensors")
        self.assertEqual(r.content_format, 110)
        self.assertEqual(json.loads(r.payload), [
            {"bn": "greenhouse:", "n": "porch/temp", "u": "Cel", "v": 21.5},
            {"n": "porch/dew", "u": "Cel", "v": 10.2},
            {"n": "mcu_temp", "u": "Cel", "v": 34.56}])
        r = call(self.table, "GET", "/sensors", accept=112)
        self.assertEqual(r.payload[:2], b"\x83\xa4")  # three records, the first with bn
        self.assertTrue(r.payload.endswith(
            b"\xa3\x00\x68mcu_temp\x01\x63Cel\x02\xfa\x42\x0a\x3d\x71"))  # 34.56
        self.assertEqual(len(r.payload), 1 + 37 + 23 + 22)  # the array, then three records

    def test_reads_come_from_the_cache(self):
        reads = self.drv.reads
        for _ in range(5):
            call(self.table, "GET", "/sensors/porch/temp")
        self.assertEqual(self.drv.reads, reads)  # never per request
        self.drv.script.append([-505, 0])
        self.assertFalse(self.s.refresh(100))  # not due yet: 1000 ms after the first read
        self.assertTrue(self.s.refresh(1000))
        self.assertEqual(call(self.table, "GET", "/sensors/porch/temp").payload, b"-5.05")

    def test_failure_is_503_with_what_failed(self):
        self.drv.script.append(OSError("no answer on the data pin"))
        self.s.refresh(1000)
        r = call(self.table, "GET", "/sensors/porch/temp")
        self.assertEqual(str(r.code), "5.03")
        self.assertEqual(r.payload, b"porch: no answer on the data pin")
        self.assertEqual(r.option_uint(14), 1)  # Max-Age: when to try again (§5.9.3.4)
        # the pack leaves it out; the other sensor is still served
        self.assertEqual([e["n"] for e in json.loads(call(self.table, "GET", "/sensors").payload)],
                         ["mcu_temp"])
        self.assertEqual(json.loads(call(self.table, "GET", "/board").payload)["sensor_errors"],
                         {"porch": 1, "mcu_temp": 0})
        self.assertEqual(self.log, ["sensor porch: no answer on the data pin"])
        self.s.refresh(2000)  # it reads again
        self.assertEqual(str(call(self.table, "GET", "/sensors/porch/temp").code), "2.05")

    def test_no_reading_yet_and_a_driver_that_cannot_open(self):
        class Broken(FakeBoard):
            def open_sensor(self, spec, module):
                raise OSError("no answer at I2C address 0x76")
        specs, _ = sensorconfig.parse([{"type": "mcu_temp"}])
        s = sensors.Sensors(specs, Broken(), "b", [].append)
        self.assertEqual(s.sensors[0].diag, b"mcu_temp: no answer at I2C address 0x76")
        self.assertEqual(s.sensors[0].errors, 1)
        specs, _ = sensorconfig.parse([{"type": "mcu_temp"}])
        s = sensors.Sensors(specs, FakeBoard(), "b", [].append)
        self.assertEqual(s.sensors[0].diag, b"mcu_temp: no reading yet")  # before the first read

    def test_a_pin_the_board_refuses(self):
        class NoPin45(FakeBoard):  # as machine.Pin(45) on an ESP32
            def open_sensor(self, spec, module):
                raise ValueError("invalid pin")
        lines = []
        specs, _ = sensorconfig.parse([{"type": "dht22", "pin": 45}])
        s = sensors.Sensors(specs, NoPin45(), "b", lines.append)
        self.assertEqual(lines, ["sensor dht22: the board refuses it (invalid pin)"])
        self.assertEqual(s.sensors[0].diag, b"dht22: the board refuses it (invalid pin)")

    def test_handlers_do_not_allocate(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        srv = Server(self.table, log=self.log.append)
        import coapmsg as m
        self.drv.script.append(OSError("gone"))
        requests = [m.get("sensors/porch/temp", options=[(17, m.uint(f))])
                    for f in (0, 50, 110, 112)]
        requests += [m.get("sensors"), m.get("sensors", options=[(17, m.uint(112))]),
                     m.get("board"), m.get("sensors/mcu_temp")]
        for fail in (False, True):
            if fail:
                self.s.refresh(1000)
            for msg in requests:
                n = srv.handle(msg, len(msg))  # warm-up
                self.assertEqual(no_alloc(self, "GET", srv.handle, msg, len(msg)), n, msg)
        self.assertEqual(srv.response.buf[1], 69)

    def test_allocated_agrees(self):
        if heap_lock is None:
            with self.assertRaises(NotImplementedError):
                allocated(self.table, "GET", "/sensors/porch/temp")
            return
        for uri, fmt in (("/sensors/porch/temp", 110), ("/sensors", None), ("/board", None)):
            self.assertEqual(allocated(self.table, "GET", uri, accept=fmt), 0, uri)


class Watch(unittest.TestCase):
    def test_change_watch_compares_the_cached_readings(self):
        table, s, _, _ = build([{"type": "thermo", "name": "porch", "pin": 3}])
        drv = Thermo.Driver.made[-1]

        class Obs:
            changed_list = []

            def changed(self, res):
                self.changed_list.append(res.href)

        class Srv:
            observers = Obs()
            forgot = 0

            def forget(self):
                Srv.forgot += 1

        w = resources.ChangeWatch(Srv(), s, 10)
        s.sensors[0].due = 0
        drv.script[:] = [[2155, 1020], [2165, 1020], OSError("x")]
        changed = Srv.observers.changed_list
        s.sensors[0].interval_ms = 0
        w.tick()  # moved by 5: below the threshold
        self.assertEqual(changed, [])
        self.assertEqual(Srv.forgot, 1)  # but a GET must show it: prepared answers go
        w.tick()  # moved by 15 since last notified
        self.assertEqual(changed, [b"/sensors/porch/temp", b"/sensors"])
        del changed[:]
        w.tick()  # failed: observers hear of it (and get the 5.03)
        self.assertEqual(changed, [b"/sensors/porch/temp", b"/sensors/porch/dew", b"/sensors"])


class Fresh(unittest.TestCase):
    """GET /sensors/<name>?fresh: acknowledged at once, answered in a separate
    response (RFC 7252 §5.2.2) with the reading taken next."""

    class Sock:
        def __init__(self):
            self.sent = []

        def sendto(self, buf, addr):
            import coapmsg as m
            self.sent.append(m.decode(bytes(buf)))

    def setUp(self):
        from coap.clock import ticks_add, ticks_ms
        table, self.s, _, _ = build([{"type": "thermo", "name": "porch", "pin": 3}])
        self.drv = Thermo.Driver.made[-1]
        self.srv = Server(table, log=None, amplification_limit=False,
                          separate=sensors.FRESH_SLOTS)
        self.srv.request.peer = bytes([2, 0, 0x9C, 0x41, 10, 0, 0, 7]) + bytes(8)
        self.watch = resources.ChangeWatch(self.srv, self.s, 10)
        # read 600 ms ago: the next read is 400 ms away, the driver allows one now
        self.s.sensors[0].due = ticks_add(ticks_ms(), 400)
        self.sock = self.Sock()

    def ask(self, msg):
        import coapmsg as m
        n = self.srv.handle(msg, len(msg), False, self.sock)
        return m.decode(bytes(self.srv.response.buf[:n])) if n else None

    def test_the_answer_follows_the_next_read(self):
        import coapmsg as m
        self.drv.script[:] = [[2222, 1020]]
        got = self.ask(m.get("sensors/porch/temp", mid=7, token=b"f", query=("fresh",)))
        self.assertEqual(got, (m.ACK, 0, 7, b"", [], b""))
        reads = self.drv.reads
        self.watch.tick()
        self.assertEqual(self.drv.reads, reads + 1)  # at once, not 400 ms later
        t, code, mid, token, opts, payload = self.sock.sent[0]
        self.assertEqual((t, code, token, payload), (m.CON, 69, b"f", b"22.22"))

    def test_without_fresh_the_cached_reading_at_once(self):
        import coapmsg as m
        got = self.ask(m.get("sensors/porch/temp", query=("unit=x",)))
        self.assertEqual((got[0], got[1], got[5]), (m.ACK, 69, b"21.50"))

    def test_a_registration_with_fresh_is_answered_at_once(self):  # it carries the Observe
        import coapmsg as m
        got = self.ask(m.get("sensors/porch/temp", query=("fresh",), options=[(6, b"")]))
        self.assertEqual((got[0], got[1], got[5]), (m.ACK, 69, b"21.50"))


class SenmlCbor(unittest.TestCase):
    def test_float32_is_the_nearest_single(self):
        import struct
        import senml
        buf = bytearray(5)
        for centi in (0, 1, -1, 5, 50, 2150, -2150, 3333, 10065327, -5500, 167772150):
            senml.float32(buf, centi)
            self.assertEqual(bytes(buf), b"\xfa" + struct.pack(">f", centi / 100), centi)
        senml.float32(buf, 2150)
        with locked(self, "float32"):
            senml.float32(buf, -10065327)
        self.assertEqual(bytes(buf), b"\xfa" + struct.pack(">f", -100653.27))


class BoardInfoSnapshot(unittest.TestCase):
    def test_board_is_replayed_for_a_second_then_read_again(self):
        from test_prepared import answers
        import coapmsg as m
        specs, _ = sensorconfig.parse([{"type": "mcu_temp"}], None)
        readings = sensors.Sensors(specs, FakeBoard(), "greenhouse", lambda line: None)
        readings.refresh(0)
        h = resources.SensorBoard(FakeBoard(), {"name": "greenhouse"}, None, readings)
        server = Server(resources.table(h, {}), log=None)
        h.server = server
        get = m.get("board", token=b"\x01")
        first = answers(server, [get])
        self.assertEqual(m.decode(first[0])[1], 69)
        self.assertEqual(server.prepared.count(), 1)
        from coap.clock import ticks_add, ticks_ms
        h._info_at = ticks_add(ticks_ms(), -900)
        h.tick()
        self.assertEqual(server.prepared.count(), 1)  # under a second: kept
        self.assertEqual(answers(server, [get]), first)
        h._info_at = ticks_add(ticks_ms(), -1000)
        h.tick()
        self.assertEqual(server.prepared.count(), 0)  # a second: read again
