# One descriptor per sensor: a Sensor holds its driver, its cached readings
# and its error state; each quantity it measures is a Reading, whose get()
# is the resource handler. The board refreshes the cache on each sensor's own
# schedule (refresh(), from the server's tick), so a request only copies a
# fixed-point int into the response: nothing here allocates per request.
#
# Formats: text (0), JSON (50), SenML JSON (110, RFC 8428) and SenML CBOR
# (112, values as single-precision floats: senml.py). A sensor without a
# good reading answers 5.03 with "<name>: <what failed>" and Max-Age set to
# when the next attempt is due (RFC 7252 §5.9.3.4).
#
# GET /sensors/<name>?fresh asks for a reading taken after the request: the
# server acknowledges it at once and the answer follows as a separate
# response (RFC 7252 §5.2.2) when the sensor has been read again, as soon
# as its driver allows (MIN_INTERVAL_MS after the last read).

import senml
from coap import Resource
from coap.clock import ticks_add, ticks_diff, ticks_ms

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_TEXT = const(0)
_JSON = const(50)
_SENML_JSON = const(110)
_SENML_CBOR = const(112)
_FORMATS = (_TEXT, _JSON, _SENML_JSON, _SENML_CBOR)
_SERVICE_UNAVAILABLE = const(163)  # 5.03
_MAX_AGE = const(14)
#: GET ?fresh requests that may wait at a time: the Server's `separate`
FRESH_SLOTS = const(2)
_SENML_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-:./_"


def _ascii(s):
    return s.encode() if isinstance(s, str) else s


class Sensor:
    """One configured sensor: driver, cached readings (hundredths), errors."""

    def __init__(self, spec, module, board, log=print):
        self.name = spec["name"]
        self.kind = spec["type"]
        self.spec = spec
        self.module = module
        self.board = board
        self.log = log
        self.quantities = module.quantities(spec)
        self.values = [0] * len(self.quantities)
        self.ok = False
        self.errors = 0
        self.errors_shown = 0  # what /board shows: Sensors.snapshot_errors()
        self.reason = "no reading yet"
        self.json_name = _ascii('"%s":' % self.label())
        self.diag = _ascii(self.label() + ": no reading yet")
        self.interval_ms = spec.get("interval_ms") or max(module.MIN_INTERVAL_MS, 1000)
        self.max_age_s = (self.interval_ms + 999) // 1000
        self.due = 0
        self.tried = False  # the first refresh() reads whatever the clock says
        self.reads = 0  # read attempts: a ?fresh request waits for the next
        self.waiting = None  # the board's Waiting (Sensors sets it)
        self.driver = None
        self._open()

    def label(self):
        return self.name or self.kind

    def _open(self):
        try:
            self.driver = self.board.open_sensor(self.spec, self.module)
        except ValueError as e:  # machine.Pin/I2C refuse what the board doesn't have
            self._fail("the board refuses it (%s)" % e)
        except Exception as e:  # OSError from the bus; anything else from a port's driver
            self._fail("%s: %s" % (type(e).__name__, e) if not isinstance(e, OSError) else str(e))

    def _fail(self, reason):
        self.errors += 1
        if self.ok or reason != self.reason:  # once per new failure, not every interval
            self.log("sensor %s: %s" % (self.label(), reason))
            self.diag = _ascii("%s: %s" % (self.label(), reason))
        self.reason = reason
        self.ok = False

    def refresh(self, now):
        """Read the sensor when it is due. True when its state may have changed."""
        if self.tried and ticks_diff(now, self.due) < 0:
            return False
        self.tried = True
        self.reads += 1
        self.due = ticks_add(now, self.interval_ms)
        if self.driver is None:
            self._open()
            if self.driver is None:
                return False
        try:
            got = self.driver.read(self.values)
        except Exception as e:
            was = self.ok
            self._fail(str(e) if isinstance(e, OSError) else "%s: %s" % (type(e).__name__, e))
            return was
        if got and not self.ok:
            self.ok = True
            self.reason = None
            if self.errors:
                self.log("sensor %s: reading again" % self.label())
        return got

    def soon(self):
        """Read as soon as the sensor allows (MIN_INTERVAL_MS after the last
        read), not at the next interval: a ?fresh request waits for it."""
        earliest = ticks_add(self.due, self.module.MIN_INTERVAL_MS - self.interval_ms)
        if ticks_diff(earliest, self.due) < 0:
            self.due = earliest

    def unavailable(self, resp):
        resp.reset(_SERVICE_UNAVAILABLE)
        resp.option_uint(_MAX_AGE, self.max_age_s)
        resp.payload(self.diag)


class Reading:
    """One quantity of a sensor, served at /sensors/<name>[/<quantity>]."""

    def __init__(self, sensor, index, base_name, scratch):
        q = sensor.quantities[index]
        self.scratch = scratch  # 5 bytes shared by all readings: a CBOR float
        self.sensor = sensor
        self.index = index
        several = len(sensor.spec.get("quantities") or sensor.quantities) > 1
        if not sensor.name:
            name = q[0]  # the old form: /sensors/temp, /sensors/humidity
        else:
            name = sensor.name + "/" + q[0] if several else sensor.name
        self.path = "sensors/" + name
        self.unit = q[2]
        self.rt = q[3]
        unit = ',"u":"%s"' % q[2] if q[2] else ""
        self.json_head = _ascii('{"%s":' % q[1])
        self.json_tail = _ascii(',"unit":"%s"}' % q[2] if q[2] else "}")
        #: the SenML record of this reading, with and without the base name
        self.record = _ascii('{"n":"%s"%s,"v":' % (name, unit))
        self.first_record = _ascii('{"bn":"%s","n":"%s"%s,"v":' % (base_name, name, unit)
                                   if base_name else '{"n":"%s"%s,"v":' % (name, unit))
        self.cbor_record = senml.record(name, q[2])
        self.cbor_first = senml.record(name, q[2], base_name)
        self.resource = None

    def value(self):
        return self.sensor.values[self.index]

    def get(self, req, resp):
        s = self.sensor
        if req.query_count and self.later(req, resp):
            return
        if not s.ok:
            s.unavailable(resp)
            return
        v = s.values[self.index]
        f = resp.format
        if f == _SENML_JSON:
            resp.payload(b"[")
            resp.payload(self.first_record)
            resp.payload_fixed(v, 2)
            resp.payload(b"}]")
        elif f == _SENML_CBOR:
            resp.payload(b"\x81")  # an array of one record
            resp.payload(self.cbor_first)
            senml.float32(self.scratch, v)
            resp.payload(self.scratch)
        elif f == _JSON:
            resp.payload(self.json_head)
            resp.payload_fixed(v, 2)
            resp.payload(self.json_tail)
        else:
            resp.payload_fixed(v, 2)


    def later(self, req, resp):
        # GET ?fresh: a reading taken after the request, in a separate
        # response (RFC 7252 §5.2.2) once the sensor has been read again;
        # not for a registration, whose answer carries the Observe
        s = self.sensor
        if s.waiting.answering or req.observe >= 0 or req.query_index(b"fresh") < 0:
            return False
        slot = resp.defer()  # -1: resp is the answer (5.03, every slot busy)
        if slot >= 0:
            s.waiting.wait(slot, self)
            s.soon()
        return True


class Waiting:
    """The ?fresh requests of the board: per slot of the server's separate
    responses, the reading asked for and its sensor's reads then."""

    def __init__(self, size):
        self.reading = [None] * size
        self.reads = [0] * size
        self.count = 0
        self.answering = False  # a ?fresh request is being answered now

    def wait(self, slot, reading):
        self.reading[slot] = reading
        self.reads[slot] = reading.sensor.reads
        self.count += 1

    def answer(self, server):
        """Answer those whose sensor was read since (from the tick)."""
        for i in range(len(self.reading)):
            r = self.reading[i]
            if r is not None and r.sensor.reads != self.reads[i]:
                self.reading[i] = None
                self.count -= 1
                self.answering = True
                try:
                    server.answer_later(i, r.get)
                finally:
                    self.answering = False


class Sensors:
    """Every configured sensor, their readings and the /sensors pack."""

    def __init__(self, specs, board, board_name, log=print):
        ok = all(c in _SENML_CHARS for c in board_name) and board_name[:1].isalpha()
        base = board_name + ":" if ok else ""  # RFC 8428 §4.5.1: bn+n must be a valid name
        self.sensors = [Sensor(spec, mod, board, log) for spec, mod in specs]
        #: GET ?fresh requests waiting for a reading (slots: Server's `separate`)
        self.waiting = Waiting(FRESH_SLOTS)
        for s in self.sensors:
            s.waiting = self.waiting
        self._float = bytearray(5)
        self._head = bytearray(2)
        self.readings = []
        for s in self.sensors:
            served = s.spec.get("quantities")
            for i in range(len(s.quantities)):
                if served is None or s.quantities[i][0] in served:
                    self.readings.append(Reading(s, i, base, self._float))
        self.pack_resource = None

    def resources(self, max_age=60):
        """The table entries: each reading, then /sensors (one SenML pack);
        max_age: seconds a reading stays fresh (Max-Age, RFC 7252 §5.10.5).
        Prepared (coap/prepared.py): they read the cached values, which change
        only in refresh(), after which the change watch calls Server.forget()."""
        out = []
        for r in self.readings:
            attrs = 'u="%s"' % r.unit if r.unit else None
            r.resource = Resource(r.path, get=r.get, ct=_FORMATS, rt=r.rt,
                                  if_="core.s", obs=True, attrs=attrs, max_age=max_age,
                                  prepared=True, separate=True)
            out.append(r.resource)
        if self.readings:
            self.pack_resource = Resource("sensors", get=self.pack, ct=(_SENML_JSON, _SENML_CBOR),
                                          rt="sensors-senml", if_="core.b", obs=True,
                                          max_age=max_age, prepared=True)
            out.append(self.pack_resource)
        return out

    def pack(self, req, resp):
        """Every good reading as one SenML pack; 5.03 when there is none."""
        if resp.format == _SENML_CBOR:
            self._pack_cbor(resp)
            return
        first = True
        for r in self.readings:
            s = r.sensor
            if not s.ok:
                continue
            if first:
                resp.payload(b"[")
                resp.payload(r.first_record)
                first = False
            else:
                resp.payload(b",")
                resp.payload(r.record)
            resp.payload_fixed(s.values[r.index], 2)
            resp.payload(b"}")
        if first:
            resp.error(_SERVICE_UNAVAILABLE, b"no sensor has a reading")
        else:
            resp.payload(b"]")

    def _pack_cbor(self, resp):
        n = 0
        for r in self.readings:
            if r.sensor.ok:
                n += 1
        if not n:
            resp.error(_SERVICE_UNAVAILABLE, b"no sensor has a reading")
            return
        resp.payload_from(self._head, 0, senml.array_head(self._head, n))
        first = True
        for r in self.readings:
            s = r.sensor
            if s.ok:
                resp.payload(r.cbor_first if first else r.cbor_record)
                first = False
                senml.float32(self._float, s.values[r.index])
                resp.payload(self._float)

    def refresh(self, now=None):
        """Refresh every sensor that is due; True when any may have changed."""
        now = ticks_ms() if now is None else now
        changed = False
        for s in self.sensors:
            if s.refresh(now):
                changed = True
        return changed

    def snapshot_errors(self):
        """Keep the error counts /board shows until the next snapshot, so that
        every block of one read shows the same ones (RFC 7959 §2.4: one ETag)."""
        for s in self.sensors:
            s.errors_shown = s.errors

    def write_errors(self, resp):
        """{"name":errors,...} for /board, as of the last snapshot."""
        resp.payload(b"{")
        first = True
        for s in self.sensors:
            if not first:
                resp.payload(b",")
            first = False
            resp.payload(s.json_name)
            resp.payload_int(s.errors_shown)
        resp.payload(b"}")
