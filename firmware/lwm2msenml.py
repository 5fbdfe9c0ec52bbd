# LwM2M reads as SenML (LwM2M 1.1 Core TS §7.4.4, §7.4.5): JSON (Content-
# Format 110) and CBOR (112), written straight into a coap.write.Response.
# Senml has the calls of coap.tlv.Tlv (begin/end, one per value), so the
# walk lwm2m.py renders TLV with renders SenML as well:
#
#     [{"bn":"/3303/","n":"0/5700","v":21.50},{"n":"0/5701","vs":"Cel"}]
#
# The base name is the object ("/3303/") on the first record; each name is
# the rest of the path ("0/5700", and "0/11/0" for an instance of a multiple
# resource). Floats are the fixed-point readings: decimal text in JSON, the
# nearest single-precision float in CBOR (senml.float32).
#
# Allocation: none. CBOR needs its array's length first, so render() counts
# the records in a first pass, then writes, as TLV does; heads are built in
# a preallocated bytearray. Functions keep few locals: a large frame comes
# from the heap on MicroPython.

from coap.tlv import INSTANCE, MULTIPLE
from senml import float32

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

JSON = const(110)
CBOR = const(112)
_V = const(2)    # RFC 8428 §6, Table 4: value
_VS = const(3)   # string value
_VB = const(4)   # boolean value
_BN = const(0x21)  # -2: base name
_N = const(0)


def _digits(v):
    n = 1
    while v >= 10:
        v //= 10
        n += 1
    return n


class Senml:
    def __init__(self):
        self.resp = None
        self.cbor = False
        self.obj = 0
        self.iid = 0
        self.rid = -1      # a multiple resource's id while it is open, else -1
        self.records = 0   # written so far (or counted, in the first pass)
        self._counting = False
        self._h = bytearray(9)

    def render(self, resp, f, tree, cbor):
        """f(self, tree) makes the calls (lwm2m._tlv); tree.o and tree.k
        name the object and the instance (k < 0: all of the object's)."""
        self.resp = resp
        self.cbor = cbor
        self.obj = tree.objs[tree.o]
        self.iid = tree.insts[tree.k][1] if tree.k >= 0 else 0
        self.rid = -1
        if cbor:
            self._counting = True
            self.records = 0
            f(self, tree)
            self._counting = False
            self._head(4, self.records)
        else:
            resp.payload(b"[")
        self.records = 0
        f(self, tree)
        if not cbor:
            resp.payload(b"]")

    # --- the calls of coap.tlv.Tlv --------------------------------------------

    def begin(self, kind, ident):
        if kind == INSTANCE:
            self.iid = ident
        elif kind == MULTIPLE:
            self.rid = ident

    def end(self):
        self.rid = -1

    def string(self, ident, s):
        if self._name(ident, _VS):
            return
        if self.cbor:
            self._head(3, len(s))
            self.resp.payload(s)
        else:
            self.resp.payload(b'"vs":"')
            self._escaped(s)
            self.resp.payload(b'"}')

    def integer(self, ident, v):
        if self._name(ident, _V):
            return
        if not self.cbor:
            self.resp.payload_int(v)
            self.resp.payload(b"}")
        elif v < 0:
            self._head(1, -1 - v)
        else:
            self._head(0, v)

    def fixed(self, ident, v, places):
        if self._name(ident, _V):
            return
        if self.cbor:
            float32(self._h, v)  # hundredths: places is 2 on this board
            self.resp.payload_from(self._h, 0, 5)
        else:
            self.resp.payload_fixed(v, places)
            self.resp.payload(b"}")

    def boolean(self, ident, v):
        if self._name(ident, _VB):
            return
        if self.cbor:
            self._h[0] = 0xF5 if v else 0xF4
            self.resp.payload_from(self._h, 0, 1)
        else:
            self.resp.payload(b'"vb":true}' if v else b'"vb":false}')

    # --- records ------------------------------------------------------------

    def _name(self, ident, key):
        """Counting: count the record and return True. Writing: the record up
        to its value (its map head, bn on the first, n, the value's key)."""
        if self._counting:
            self.records += 1
            return True
        first = self.records == 0
        self.records += 1
        r = self.resp
        multi = self.rid >= 0
        if self.cbor:
            self._head(5, 3 if first else 2)
            if first:
                self._h[0] = _BN
                r.payload_from(self._h, 0, 1)
                self._head(3, 2 + _digits(self.obj))
        else:
            r.payload(b'{"bn":"' if first else b',{')
        if first:
            r.payload(b"/")
            r.payload_int(self.obj)
            r.payload(b"/")
        if self.cbor:
            n = _digits(self.iid) + 1 + _digits(self.rid if multi else ident)
            self._h[0] = _N
            r.payload_from(self._h, 0, 1)
            self._head(3, n + (1 + _digits(ident) if multi else 0))
        else:
            r.payload(b'","n":"' if first else b'"n":"')
        self._path(ident, multi)
        if self.cbor:
            self._h[0] = key
            r.payload_from(self._h, 0, 1)
        else:
            r.payload(b'",')
            if key == _V:
                r.payload(b'"v":')
        return False

    def _path(self, ident, multi):
        r = self.resp
        r.payload_int(self.iid)
        r.payload(b"/")
        if multi:
            r.payload_int(self.rid)
            r.payload(b"/")
        r.payload_int(ident)

    def _head(self, major, n):
        """A CBOR head: major type and argument n (0 <= n < 2**30)."""
        h = self._h
        k = 1
        if n < 24:
            h[0] = major << 5 | n
        elif n < 256:
            h[0] = major << 5 | 24
            h[1] = n
            k = 2
        elif n < 65536:
            h[0] = major << 5 | 25
            h[1] = n >> 8
            h[2] = n & 0xFF
            k = 3
        else:
            h[0] = major << 5 | 26
            h[1] = n >> 24
            h[2] = (n >> 16) & 0xFF
            h[3] = (n >> 8) & 0xFF
            h[4] = n & 0xFF
            k = 5
        self.resp.payload_from(h, 0, k)

    def _escaped(self, s):
        # RFC 8259 §7: '"', '\' and control characters escaped; runs copied
        r = self.resp
        h = self._h
        start = 0
        for i in range(len(s)):
            c = s[i]
            if c == 0x22 or c == 0x5C or c < 0x20:
                r.payload_from(s, start, i - start)
                h[0] = 0x5C
                if c >= 0x20:
                    h[1] = c
                    r.payload_from(h, 0, 2)
                else:
                    h[1] = 0x75  # \u00XX
                    h[2] = h[3] = 0x30
                    h[4] = 0x30 + (c >> 4)
                    h[5] = c & 15
                    h[5] += 0x30 if h[5] < 10 else 0x57
                    r.payload_from(h, 0, 6)
                start = i + 1
        r.payload_from(s, start, len(s) - start)
