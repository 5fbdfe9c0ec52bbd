# OMA LwM2M TLV (Content-Format 11542; LwM2M 1.1 Core TS §7.4.3), written
# through a coap.write.Response and read from a request's payload.
#
#     def device(t, arg):              # called twice: counting, then writing
#         t.begin(INSTANCE, 0)
#         t.string(0, b"Open Mobile Alliance")
#         t.begin(MULTIPLE, 6)         # a multiple resource: its values
#         t.integer(0, 1)              # are resource instances
#         t.end()
#         t.end()
#     tlv.render(resp, device, None)
#
# A container's header holds the length of what it contains, so render() runs
# the writing function twice: the first pass only counts and keeps each
# container's length; the second writes. Nothing is patched afterwards, so the
# payload can pass through the writer's Block2 window like any other.
#
# Allocation: none. Headers and values are built in preallocated scratch
# bytearrays; fixed-point readings become IEEE 754 doubles by integer
# arithmetic on small ints (a float would allocate on most ports).

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

FORMAT = const(11542)

# The type byte (§7.4.3.1): bits 7-6 say what the identifier names
INSTANCE = const(0x00)  # an object instance, containing resources
RES_INSTANCE = const(0x40)  # a resource instance, inside a multiple resource
MULTIPLE = const(0x80)  # a multiple resource, containing resource instances
RESOURCE = const(0xC0)  # a resource with its value

_ID16 = const(0x20)
_POW10 = (1, 10, 100, 1000, 10000, 100000, 1000000)


def header_len(ident, n):
    """Bytes of the type, identifier and length fields for n value bytes."""
    return 2 + (ident > 255) + (0 if n < 8 else 1 if n < 256 else 2 if n < 65536 else 3)


def int_len(v):
    """The value bytes of an Integer (§C.1: 1, 2, 4 or 8, two's complement)."""
    if -128 <= v < 128:
        return 1
    if -32768 <= v < 32768:
        return 2
    if -0x40000000 <= v < 0x40000000:  # a small int on every port: no long compared
        return 4
    return 4 if -0x80000000 <= v < 0x80000000 else 8


class Tlv:
    """The TLV writer: begin()/end() around containers, one call per value.
    Inside a MULTIPLE container values are resource instances, elsewhere
    resources. `containers`: begin() calls one payload may make."""

    def __init__(self, containers=48, depth=3):
        self._lengths = [0] * containers
        self._start = [0] * depth  # counting: the count where each open container began
        self._open = [0] * depth   # per open container: its length's index,
        self._kind = [0] * depth   # its kind and its identifier
        self._ident = [0] * depth
        self._head = bytearray(6)
        self._value = bytearray(8)
        self.resp = None
        self._counting = False
        self._count = 0
        self._n = 0
        self._depth = 0

    def render(self, resp, f, arg):
        """f(self, arg) writes the payload; called twice (count, then write).
        Returns the payload's length."""
        self.resp = resp
        self._pass(True, f, arg)
        n = self._count
        self._pass(False, f, arg)
        return n

    def _pass(self, counting, f, arg):
        self._counting = counting
        self._count = 0
        self._n = 0
        self._depth = 0
        f(self, arg)
        if self._depth:
            raise ValueError("TLV: begin() without end()")

    def begin(self, kind, ident):
        """Open an INSTANCE or MULTIPLE container identified by ident."""
        d = self._depth
        i = self._n
        if d == len(self._open) or i == len(self._lengths):
            raise ValueError("TLV: too many or too deep containers")
        self._n = i + 1
        self._open[d] = i
        self._kind[d] = kind
        self._ident[d] = ident
        self._depth = d + 1
        if self._counting:
            self._start[d] = self._count
        else:
            self._header(kind, ident, self._lengths[i])

    def end(self):
        d = self._depth - 1
        self._depth = d
        if self._counting:  # its header comes before it: counted now
            n = self._count - self._start[d]
            self._lengths[self._open[d]] = n
            self._count += header_len(self._ident[d], n)

    def _header(self, kind, ident, n):
        h = self._head
        h[0] = kind
        k = 1
        if ident > 255:
            h[0] |= _ID16
            h[k] = ident >> 8
            k += 1
        h[k] = ident & 0xFF
        k += 1
        if n < 8:
            h[0] |= n
        else:
            w = 1 if n < 256 else 2 if n < 65536 else 3
            h[0] |= w << 3
            while w:
                w -= 1
                h[k] = (n >> (8 * w)) & 0xFF
                k += 1
        self.resp.payload_from(h, 0, k)

    def _value_kind(self):
        d = self._depth
        return RES_INSTANCE if d and self._kind[d - 1] == MULTIPLE else RESOURCE

    def _put(self, ident, src, n):
        # one value: its header, then n bytes of src
        if self._counting:
            self._count += header_len(ident, n) + n
            return
        self._header(self._value_kind(), ident, n)
        self.resp.payload_from(src, 0, n)

    def string(self, ident, s):
        """A String or Opaque value: the bytes of s (UTF-8 for a String)."""
        self._put(ident, s, len(s))

    def integer(self, ident, v):
        """An Integer (or Time: seconds since 1970) in the fewest bytes. One
        beyond the port's small ints (2**30 on 32-bit ports) allocates."""
        n = int_len(v)
        b = self._value
        k = n
        while k:
            k -= 1
            b[k] = v & 0xFF
            v >>= 8  # arithmetic shift: a negative v fills with ones
        self._put(ident, b, n)

    def boolean(self, ident, v):
        self._value[0] = 1 if v else 0
        self._put(ident, self._value, 1)

    def fixed(self, ident, v, places):
        """A Float worth v / 10**places, as an 8-byte double."""
        double(self._value, v, places)
        self._put(ident, self._value, 8)


def double(out, v, places):
    """out[0:8] = IEEE 754 binary64 of v / 10**places, rounded to nearest even,
    computed bit by bit on small ints (|v| < 2**30, places <= 6)."""
    d = _POW10[places]
    n = -v if v < 0 else v
    for i in range(8):
        out[i] = 0
    if n == 0:
        return
    q = n // d
    r = n - q * d
    if q:
        e = 0
        while q >> (e + 1):
            e += 1
        top = e - 1  # q's bits below its leading one come first
    else:
        e = 0
        while True:  # the first one among the fraction's bits
            e -= 1
            r += r
            if r >= d:
                r -= d
                break
        top = -1
    x = e + 1023
    out[0] = (0x80 if v < 0 else 0) | (x >> 4)
    out[1] = (x & 15) << 4
    for pos in range(12, 65):  # 52 mantissa bits, then the rounding bit
        if top >= 0:
            bit = (q >> top) & 1
            top -= 1
        else:
            r += r
            bit = 1 if r >= d else 0
            if bit:
                r -= d
        if pos == 64:
            # round half to even; the bits of q are all used by now (q < 2**30)
            if bit and (r or out[7] & 1):
                _carry(out)
        elif bit:
            out[pos >> 3] |= 0x80 >> (pos & 7)


def _carry(out):
    # add one to the last mantissa bit; a carry out of the mantissa moves
    # into the exponent, which is what rounding up to the next power of 2 means
    i = 7
    while i >= 0:
        out[i] = (out[i] + 1) & 0xFF
        if out[i]:
            return
        i -= 1


class Reader:
    """Walks the TLV entries of buf[off:end] in order, into containers: each
    next() that returns True sets kind, ident, value_off and value_len (of a
    container: what it contains, visited by the following calls). False at
    the end; `bad` then says whether an entry ran past it."""

    def __init__(self):
        self.start(b"", 0, 0)

    def start(self, buf, off, end):
        self.buf = buf
        self.pos = off
        self.end = end
        self.bad = False
        self.kind = self.ident = self.value_off = self.value_len = 0

    def next(self):
        b = self.buf
        i = self.pos
        if i >= self.end:
            return False
        t = b[i]
        w = 2 if t & _ID16 else 1
        lw = (t >> 3) & 3
        if i + 1 + w + lw > self.end:
            self.bad = True
            return False
        ident = b[i + 1]
        if w == 2:
            ident = (ident << 8) | b[i + 2]
        i += 1 + w
        n = t & 7 if lw == 0 else 0
        while lw:
            n = (n << 8) | b[i]
            i += 1
            lw -= 1
        if i + n > self.end:
            self.bad = True
            return False
        self.kind = t & 0xC0
        self.ident = ident
        self.value_off = i
        self.value_len = n
        # a container's entries come next; past a value, the next entry
        self.pos = i if self.kind == INSTANCE or self.kind == MULTIPLE else i + n
        return True

    def integer(self):
        """The value as a signed big-endian Integer (1, 2, 4 or 8 bytes; also a
        Boolean), or None when its length is none of those."""
        n = self.value_len
        if n not in (1, 2, 4, 8):
            return None
        b = self.buf
        i = self.value_off
        v = b[i] - 256 if b[i] & 0x80 else b[i]
        for k in range(i + 1, i + n):
            v = (v << 8) | b[k]
        return v
