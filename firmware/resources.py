# The sensor board's resource table. Handlers read fixed-point ints from the
# board and write them as text or JSON straight into the response: nothing
# here allocates per request. All of them are idempotent (GET reads, PUT sets).

import gc

from coap import Resource

VERSION = b"0.1.0"

_TEXT = 0
_JSON = 50
_BAD_REQUEST = 128


def _json_string(s):
    # config.py has already refused quotes and backslashes in names
    return b'"' + s.encode() + b'"'


class SensorBoard:
    """Handlers bound to one board object (see boards/README.md)."""

    def __init__(self, board, config, log_ring=None):
        self.board = board
        self.name_json = _json_string(config["name"])
        self.log_ring = log_ring
        self.server = None  # set once the server exists: /board reports its observers
        self.uptime_ms = 0  # the figures /board last read, for the datagram read_serial
        self.read_serial = -1
        self.observers = 0
        self.free_heap = 0

    def temperature(self, req, resp):
        v = self.board.temperature_centi()
        if resp.format == _JSON:
            resp.payload(b'{"temperature":')
            resp.payload_fixed(v, 2)
            resp.payload(b',"unit":"Cel"}')
        else:
            resp.payload_fixed(v, 2)

    def humidity(self, req, resp):
        v = self.board.humidity_centi()
        if resp.format == _JSON:
            resp.payload(b'{"humidity":')
            resp.payload_fixed(v, 2)
            resp.payload(b',"unit":"%RH"}')
        else:
            resp.payload_fixed(v, 2)

    def led_get(self, req, resp):
        resp.payload(b"on" if self.board.led() else b"off")

    def led_put(self, req, resp):
        if req.payload_is(b"on") or req.payload_is(b"1"):
            self.board.set_led(1)
        elif req.payload_is(b"off") or req.payload_is(b"0"):
            self.board.set_led(0)
        else:
            resp.error(_BAD_REQUEST, b"payload must be on, off, 1 or 0")

    def info(self, req, resp):
        b = self.board
        if req.block2 < 16 and req.serial != self.read_serial:
            # A new read, not a later block of one nor another pass over the same
            # request: fresh figures. Later blocks show the same ones, so a client
            # reading block-wise (as peers without an Echo must, RFC 9175 §2.4)
            # gets one representation (RFC 7959 §2.4: one ETag).
            self.read_serial = req.serial
            # free_heap after a collection, so that it reads the same before and
            # after any amount of traffic: anything else would be a leak.
            gc.collect()
            self.uptime_ms = b.uptime_ms()
            self.free_heap = b.free_heap()
            obs = self.server.observers if self.server is not None else None
            self.observers = obs.count() if obs is not None else 0
        resp.payload(b'{"name":')
        resp.payload(self.name_json)
        resp.payload(b',"board":"')
        resp.payload(b.name_bytes)
        resp.payload(b'","firmware":"')
        resp.payload(VERSION)
        resp.payload(b'","uptime_ms":')
        resp.payload_int(self.uptime_ms)
        resp.payload(b',"free_heap":')
        resp.payload_int(self.free_heap)
        resp.payload(b',"observers":')
        resp.payload_int(self.observers)
        resp.payload(b"}")

    def log(self, req, resp):
        if self.log_ring is not None:
            self.log_ring.write_to(resp)


def table(h, config):
    """The static resource table for the handlers' board and config."""
    board = h.board
    board.name_bytes = board.name.encode()
    res = [
        Resource("actuators/led", get=h.led_get, put=h.led_put, ct=_TEXT, accepts=_TEXT,
                 rt="core.a", if_="core.a", title="LED: on or off"),
        Resource("board", get=h.info, ct=_JSON, rt="board-info", if_="core.rp"),
        Resource("board/log", get=h.log, ct=_TEXT, rt="console-log", title="last console lines"),
    ]
    sensors = config["sensors"]
    if "humidity" in sensors and board.has_humidity:
        res.append(Resource("sensors/humidity", get=h.humidity, ct=(_TEXT, _JSON),
                            rt="humidity-percent", if_="core.s", obs=True))
    if "temperature" in sensors:
        res.append(Resource("sensors/temp", get=h.temperature, ct=(_TEXT, _JSON),
                            rt="temperature-c", if_="core.s", obs=True))
    return tuple(res)


class ChangeWatch:
    """Tells the server when a sensor moved by at least `threshold` (centi-units)
    since its observers last heard of it (RFC 7641 §4.2: the server decides)."""

    def __init__(self, server, board, resources, threshold):
        self.server = server
        self.threshold = threshold
        self.watched = []
        self.last = []
        for res in resources:
            read = {b"/sensors/temp": board.temperature_centi,
                    b"/sensors/humidity": getattr(board, "humidity_centi", None)}.get(res.href)
            if read is not None and res.obs:
                self.watched.append((res, read))
                self.last.append(read())

    def tick(self):
        obs = self.server.observers
        if obs is None:
            return
        for i in range(len(self.watched)):
            res, read = self.watched[i]
            v = read()
            d = v - self.last[i]
            if d >= self.threshold or -d >= self.threshold:
                self.last[i] = v
                obs.changed(res)
