# The board as OMA LwM2M objects (LwM2M 1.1 Core TS; IPSO Smart Objects),
# built from what it has: 1 Server, 3 Device, one IPSO instance per reading
# (3303 temperature, 3304 humidity, 3315 barometer, 3316 voltage, 3300
# generic for the rest: an ADC), 3311 Light Control for the LED. Every
# object, instance and resource is an entry of the static table (unlisted:
# the registration and Discover describe them), read from the same cached
# readings as /sensors. See docs/lwm2m.md.
#
# Read: text/plain for a resource (its default), TLV for any level,
# link format (40) for Discover. Write: text or TLV (the LED). Execute:
# POST to 3/0/4 (reboot), 33xx/i/5605 (reset min and max), 1/0/8
# (registration update). Nothing here allocates on a read.

from coap.tlv import FORMAT as TLV
from coap.tlv import INSTANCE, MULTIPLE, RESOURCE

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_TEXT = const(0)
_LINK = const(40)
_CHANGED = const(68)
_BAD_REQUEST = const(128)
_NOT_FOUND = const(132)
_METHOD_NOT_ALLOWED = const(133)
_SERVICE_UNAVAILABLE = const(163)

# resource types (LwM2M Core TS Appendix C)
STRING = const(0)
INTEGER = const(1)
FLOAT = const(2)   # a fixed-point reading in hundredths
BOOLEAN = const(3)

#: IPSO object of a quantity; any other is a generic sensor (3300)
IPSO = {"temp": 3303, "humidity": 3304, "pressure": 3315, "voltage": 3316}
GENERIC = 3300


class Res:
    """One resource of an instance: its id, type, and how it is read (a
    function returning the value, or None when there is none now), written
    (a function of the new value) or executed. multiple: one instance (0)
    of a multiple resource."""

    def __init__(self, rid, kind, read=None, write=None, execute=None, multiple=False,
                 sensor=None):
        self.rid = rid
        self.kind = kind
        self.read = read
        self.write = write
        self.execute = execute
        self.multiple = multiple
        self.sensor = sensor  # says why there is no value (its 5.03)


class Instance:
    def __init__(self, obj, iid, resources):
        self.obj = obj
        self.iid = iid
        self.resources = resources


def _put(t, kind, ident, v):
    if kind == STRING:
        t.string(ident, v)
    elif kind == FLOAT:
        t.fixed(ident, v, 2)
    elif kind == BOOLEAN:
        t.boolean(ident, v)
    else:
        t.integer(ident, v)


def _tlv_resource(t, r):
    v = r.read()
    if v is None:
        return
    if r.multiple:
        t.begin(MULTIPLE, r.rid)
        _put(t, r.kind, 0, v)
        t.end()
    else:
        _put(t, r.kind, r.rid, v)


def _tlv_instance(t, inst):
    for r in inst.resources:
        if r.read is not None:
            _tlv_resource(t, r)


def _tlv_object(t, insts):
    for inst in insts:
        t.begin(INSTANCE, inst.iid)
        _tlv_instance(t, inst)
        t.end()


def _text(resp, kind, v):
    if kind == STRING:
        resp.payload(v)
    elif kind == FLOAT:
        resp.payload_fixed(v, 2)
    elif kind == BOOLEAN:
        resp.payload(b"1" if v else b"0")
    else:
        resp.payload_int(v)


class Entry:
    """The handlers of one table entry: an object (inst and res None), an
    instance (res None) or a resource."""

    def __init__(self, objects, insts, inst=None, res=None, attrs=None):
        self.objects = objects
        self.insts = insts
        self.inst = inst
        self.res = res
        self.attrs = attrs     # lwm2mattrs.Attrs of this level
        self.link = b""        # its own link, set by Objects
        self.discover = ()     # the entries Discover lists: this one, then below it
        self.notifier = None   # lwm2mattrs.Notifier when it is observable

    def get(self, req, resp):
        f = resp.format
        if f == _LINK:
            self._discover(resp)
            return
        if self.notifier is not None and req.observe == 0:
            self.notifier.sent()  # a registration, or a notification rendered
        tlv = self.objects.tlv
        r = self.res
        if r is None:
            if self.inst is None:
                tlv.render(resp, _tlv_object, self.insts)
            else:
                tlv.render(resp, _tlv_instance, self.inst)
            return
        v = r.read()
        if v is None:
            if r.sensor is not None:
                r.sensor.unavailable(resp)
            else:
                resp.error(_SERVICE_UNAVAILABLE, b"no value")
        elif f == TLV:
            tlv.render(resp, _tlv_resource, r)
        else:
            _text(resp, r.kind, v)

    def _discover(self, resp):
        # §5.4.2: the links below this level, each with its own attributes
        first = True
        for e in self.discover:
            if not first:
                resp.payload(b",")
            first = False
            resp.payload(e.link)
            e.attrs.write_link(resp)

    def put(self, req, resp):
        """Write-Attributes (§5.4.4: only Uri-Query, no payload), or a Write."""
        if req.payload_len == 0 and req.query_count:
            why = self.attrs.write(req)
            if why is None:
                resp.set_code(_CHANGED)
            else:
                resp.error(_BAD_REQUEST, why)
            return
        writable = self.res.write is not None if self.res is not None else any(
            r.write is not None for r in self.inst.resources) if self.inst is not None else False
        if not writable:
            resp.reset(_METHOD_NOT_ALLOWED)
            return
        self.write(req, resp)

    def write(self, req, resp):
        """PUT (replace) or POST to an instance (partial update): §5.4.3.
        Only resources with a write function take a value."""
        resp.set_code(_CHANGED)
        if req.content_format == TLV:
            self._write_tlv(req, resp)
            return
        r = self.res
        if r is None:
            resp.error(_BAD_REQUEST, b"an instance is written as TLV")
            return
        v = req.payload_int()
        if v is None or (r.kind == BOOLEAN and v not in (0, 1)):
            resp.error(_BAD_REQUEST, b"expected 0 or 1" if r.kind == BOOLEAN else
                       b"expected an integer")
            return
        r.write(v)

    def _write_tlv(self, req, resp):
        rd = self.objects.reader
        for check in (True, False):  # all or nothing: check every value first
            rd.start(req.buf, req.payload_off, req.payload_off + req.payload_len)
            while rd.next():
                if rd.kind != RESOURCE:
                    continue  # an instance header: its resources follow
                r = self._find(rd.ident)
                if r is None or r.write is None:
                    resp.error(_NOT_FOUND if r is None else _METHOD_NOT_ALLOWED,
                               b"no such resource" if r is None else b"not writable")
                    return
                v = rd.integer()
                if v is None or (r.kind == BOOLEAN and v not in (0, 1)):
                    resp.error(_BAD_REQUEST, b"bad value")
                    return
                if not check:
                    r.write(v)
            if rd.bad:
                resp.error(_BAD_REQUEST, b"TLV entry runs past the payload")
                return

    def _find(self, rid):
        if self.res is not None:
            return self.res if self.res.rid == rid else None
        for r in self.inst.resources:
            if r.rid == rid:
                return r
        return None

    def execute(self, req, resp):
        resp.set_code(_CHANGED)
        self.res.execute()


class MinMax:
    """5601/5602 of an IPSO sensor: the lowest and highest reading since
    start or the last 5605 (reset)."""

    def __init__(self, reading):
        self.reading = reading
        self.low = self.high = 0
        self.seen = False

    def update(self):
        s = self.reading.sensor
        if not s.ok:
            return
        v = self.reading.value()
        if not self.seen:
            self.low = self.high = v
            self.seen = True
        elif v < self.low:
            self.low = v
        elif v > self.high:
            self.high = v

    def reset(self):
        self.seen = False
        self.update()
