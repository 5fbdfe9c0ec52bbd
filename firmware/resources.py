# The sensor board's resource table: the LED, /board, /board/log, and the
# resources of the sensors declared in config.json (sensors.py). Handlers read
# fixed-point ints and write them straight into the response: nothing here
# allocates per request. All of them are idempotent (GET reads, PUT sets).

from coap import Resource, __version__
from coap.clock import ticks_diff, ticks_ms

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

VERSION = __version__.encode()  # /board's "firmware": the one in lib/coap

_TEXT = const(0)
_JSON = const(50)
_CHANGED = const(68)
_BAD_REQUEST = const(128)
_UNAUTHORIZED = const(129)
_FORBIDDEN = const(131)


def _json_string(s):
    # config.py has already refused quotes and backslashes in names
    return b'"' + s.encode() + b'"'


class SensorBoard:
    """The board's own handlers (see boards/README.md); `sensors` is a
    sensors.Sensors."""

    def __init__(self, board, config, log_ring=None, sensors=None):
        self.board = board
        self.name_json = _json_string(config["name"])
        self.log_ring = log_ring
        self.sensors = sensors
        self.server = None  # set once the server exists: /board reports its observers
        self.uptime_ms = 0  # the figures /board last read, for the datagram read_serial
        self.read_serial = -1
        self.observers = 0
        self.free_heap = 0
        self.info_resource = None  # /board, once table() made it
        self.updater = None  # update.Updater: POST /board/update, "update" in /board
        #: the OSCORE contexts that may start an update (None: any of the
        #: server's); the LwM2M server's context alone may not (app.py)
        self.update_contexts = None
        self.app_version = b""  # the running app's version (update.py), when it has one
        self.remote = None  # remoteconfig.RemoteConfig: /board/config, /board/reboot
        self._info_at = ticks_ms()

    def tick(self):
        """/board is prepared (coap/prepared.py): its kept answer is dropped
        every second, so what it shows is at most that old."""
        now = ticks_ms()
        if ticks_diff(now, self._info_at) >= 1000 and self.server is not None:
            self._info_at = now
            self.server.forget(self.info_resource)

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
            # free_heap as the serve loop measured it at its last regular
            # collection: a collection per request would cost more than the request.
            srv = self.server
            self.uptime_ms = b.uptime_ms()
            self.free_heap = srv.heap.free if srv is not None else 0
            obs = srv.observers if srv is not None else None
            self.observers = obs.count() if obs is not None else 0
            if self.sensors is not None:
                self.sensors.snapshot_errors()
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
        resp.payload(b',"sensor_errors":')
        if self.sensors is not None:
            self.sensors.write_errors(resp)
        else:
            resp.payload(b"{}")
        if self.updater is not None:
            resp.payload(b',"app":"')
            resp.payload(self.app_version)
            resp.payload(b'","update":')
            resp.payload(self.updater.status)  # rebuilt by the updater as it goes
        resp.payload(b"}")

    def update_post(self, req, resp):
        """POST /board/update, the manifest's coap:// URI as payload (?force:
        an older version too; ?plain: fetch it without OSCORE, on a board
        without an update context). Answered at once; /board shows the progress."""
        if req.secured is None:  # whoever may update the board may run anything on it
            resp.error(_UNAUTHORIZED, b"OSCORE required")  # even where "open" lists it
            return
        if self.update_contexts is not None and req.secured not in self.update_contexts:
            resp.error(_FORBIDDEN, b"not for this security context")
            return
        try:
            uri = bytes(req.buf[req.payload_off:req.payload_off + req.payload_len]).decode()
        except UnicodeError:
            uri = "?"
        why = self.updater.start(uri, force=req.query_index(b"force") >= 0,
                                 plain=req.query_index(b"plain") >= 0)
        if why is not None:
            resp.error(_BAD_REQUEST, why.encode())
            return
        resp.set_code(_CHANGED)

    def log(self, req, resp):
        if self.log_ring is not None:
            self.log_ring.write_to(resp)


def table(h, config):
    """The static resource table for the handlers' board, config and sensors."""
    board = h.board
    board.name_bytes = board.name.encode()
    # Max-Age (RFC 7252 §5.10.5): what may change any moment says 0; a reading
    # stays fresh for max_age_s, and on a sleeping board until the next wake
    res = [
        Resource("actuators/led", get=h.led_get, put=h.led_put, ct=_TEXT, accepts=_TEXT,
                 rt="core.a", if_="core.a", title="LED: on or off", max_age=0,
                 prepared=True),  # only a PUT changes it, and an unsafe request forgets
        Resource("board", get=h.info, ct=_JSON, rt="board-info", if_="core.rp", max_age=0,
                 prepared=True),  # a snapshot, dropped every second by h.tick
        Resource("board/log", get=h.log, ct=_TEXT, rt="console-log", title="last console lines",
                 max_age=0),
    ]
    if h.updater is not None:
        res.append(Resource("board/update", post=h.update_post, accepts=_TEXT,
                            title="app update: POST a manifest URI"))
    remote = h.remote
    if remote is not None:  # docs/remote-config.md; the whole config.json, streamed
        res.append(Resource("board/config", get=remote.get, put=remote.put, ct=_JSON,
                            accepts=_JSON, max_age=0, blocks=True,
                            title="config.json: PUT it whole, secrets masked in GET"))
        res.append(Resource("board/reboot", post=remote.reboot_post,
                            title="reboot: POST, answered first"))
    h.info_resource = res[1]
    if h.sensors is not None:
        age = config.get("max_age_s", 60)
        sleep = config.get("sleep")
        if sleep:
            age = max(age, min(86400, sleep["awake_s"] + sleep["sleep_s"]))
        res += h.sensors.resources(age)
    return tuple(res)


class ChangeWatch:
    """Refreshes the cached readings when due and tells the server when one
    moved by at least `threshold` (hundredths) since its observers last heard
    of it, or became (un)available (RFC 7641 §4.2: the server decides)."""

    def __init__(self, server, sensors, threshold):
        self.server = server
        self.sensors = sensors
        self.threshold = threshold
        self.watched = [r for r in sensors.readings if r.resource is not None and r.resource.obs]
        self.last = [r.value() for r in self.watched]
        self.was_ok = [r.sensor.ok for r in self.watched]

    def tick(self):
        changed = self.sensors.refresh()
        if self.sensors.waiting.count:
            self.sensors.waiting.answer(self.server)  # GET ?fresh (sensors.py)
        if not changed:
            return
        self.server.forget()  # the prepared answers showed the old readings
        obs = self.server.observers
        if obs is None:
            return
        moved = False
        for i in range(len(self.watched)):
            r = self.watched[i]
            ok = r.sensor.ok
            v = r.value()
            d = v - self.last[i]
            if ok != self.was_ok[i] or (ok and (d >= self.threshold or -d >= self.threshold)):
                self.last[i] = v
                self.was_ok[i] = ok
                obs.changed(r.resource)
                moved = True
        if moved and self.sensors.pack_resource is not None:
            obs.changed(self.sensors.pack_resource)
