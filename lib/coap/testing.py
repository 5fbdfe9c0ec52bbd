# Test your own resources on the host (docs/testing.md, "Testing your resources"):
#
#     from coap.testing import call, allocated
#     r = call(RESOURCES, "PUT", "/greenhouse/vent", payload=b"40")
#     assert str(r.code) == "2.04"
#     assert allocated(RESOURCES, "GET", "/greenhouse/vent") == 0
#
# call() encodes a real CoAP request and runs it through the server's own
# parse -> dispatch -> handler -> write path (Server.handle), without a socket,
# then decodes the response. It runs under MicroPython and CPython.
# Not for the request path: this module allocates freely.

import gc
import sys

from .loops import options
from .server import Server

METHODS = {"GET": 1, "POST": 2, "PUT": 3, "DELETE": 4, "FETCH": 5, "PATCH": 6, "IPATCH": 7}
_OBSERVE = 6
_URI_PATH = 11
_CONTENT_FORMAT = 12
_URI_QUERY = 15
_ACCEPT = 17
_BLOCK2 = 23
#: the address requests seem to come from (Observe keys its registrations on it)
PEER = ("192.0.2.1", 5683)

_servers = {}


class Code:
    """A response code: prints as "2.05", equals "2.05" and 69."""

    def __init__(self, value):
        self.value = value

    def __str__(self):
        return "%d.%02d" % (self.value >> 5, self.value & 31)

    def __repr__(self):
        return "Code(%s)" % self

    def __eq__(self, other):
        if isinstance(other, Code):
            return other.value == self.value
        if isinstance(other, str):
            return str(self) == other
        return self.value == other

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self.value


class Result:
    """A decoded response: code, payload (bytes), options [(number, bytes)],
    content_format (int or None), type (0 CON .. 3 RST), mid, token, and the
    lines the server logged while answering."""

    def __init__(self, data, log):
        self.type = (data[0] >> 4) & 3
        tkl = data[0] & 15
        self.code = Code(data[1])
        self.mid = data[2] << 8 | data[3]
        self.token = bytes(data[4:4 + tkl])
        found = options(data, len(data))
        if found is None:
            raise ValueError("the response's options are malformed (RFC 7252 §3.1)")
        self.options = [(num, bytes(data[off:off + n])) for num, off, n in found[0]]
        self.payload = bytes(data[found[1]:])
        self.log = log
        self.content_format = self.option_uint(_CONTENT_FORMAT)

    def option(self, number):
        """The first value of an option, or None."""
        for n, v in self.options:
            if n == number:
                return v
        return None

    def option_uint(self, number):
        v = self.option(number)
        return None if v is None else _uint_value(v)

    def __repr__(self):
        return "Result(%s, %r)" % (self.code, self.payload)


def _uint(v):
    out = []
    while v:
        out.append(v & 0xFF)
        v >>= 8
    out.reverse()
    return bytes(out)


def _uint_value(b):
    v = 0
    for x in b:
        v = v << 8 | x
    return v


def _unquote(s):
    out = bytearray()
    b = s.encode()
    i = 0
    while i < len(b):
        if b[i] == 37 and i + 2 < len(b):  # %XX
            out.append(int(b[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(b[i])
            i += 1
    return bytes(out)


def request(method, uri, payload=b"", accept=None, content_format=None, observe=None,
            block2=None, token=b"\x42", mid=0x1234, confirmable=True, options=()):
    """The bytes of a CoAP request. uri: "/a/b?x=1&y" (percent-escapes decoded).
    block2: (num, size) with size 16..1024, or the raw Block2 option value."""
    code = METHODS.get(method.upper()) if isinstance(method, str) else method
    if code is None:
        raise ValueError("unknown method %r (one of %s)" % (method, ", ".join(METHODS)))
    path, _, query = uri.partition("?")
    opts = [(_URI_PATH, _unquote(seg)) for seg in path.strip("/").split("/") if seg]
    opts += [(_URI_QUERY, _unquote(q)) for q in query.split("&") if q]
    if observe is not None:
        opts.append((_OBSERVE, _uint(observe)))
    if content_format is not None:
        opts.append((_CONTENT_FORMAT, _uint(content_format)))
    if accept is not None:
        opts.append((_ACCEPT, _uint(accept)))
    if block2 is not None:
        if isinstance(block2, tuple):
            num, size = block2
            szx = 0
            while (16 << szx) < size:
                szx += 1
            block2 = num << 4 | szx
        opts.append((_BLOCK2, _uint(block2)))
    opts += [(n, bytes(v)) for n, v in options]
    # by number, keeping the given order among repeats (MicroPython's sort is not stable)
    opts = [(o[0], o[2]) for o in sorted((opts[i][0], i, opts[i][1]) for i in range(len(opts)))]
    out = bytearray((0x40 | (0 if confirmable else 0x10) | len(token), code, mid >> 8, mid & 0xFF))
    out += token
    last = 0
    for number, value in opts:
        delta = number - last
        last = number
        dn, dx = _nibble(delta)
        ln, lx = _nibble(len(value))
        out.append(dn << 4 | ln)
        out += dx + lx + value
    if payload:
        out.append(0xFF)
        out += payload
    return bytes(out)


def _nibble(v):
    if v < 13:
        return v, b""
    if v < 269:
        return 13, bytes((v - 13,))
    return 14, bytes(((v - 269) >> 8, (v - 269) & 0xFF))


def server(resources):
    """The Server that call() uses for this table (one per table, kept). It
    answers without the 3x amplification limit (RFC 9175 §2.4), as to a peer
    that has proven its address: what is tested is the resource, whole."""
    srv = _servers.get(id(resources))
    if srv is None or srv.resources_given is not resources:
        lines = []
        srv = Server(resources, log=lines.append, amplification_limit=False)
        srv.lines = lines
        srv.resources_given = resources
        _servers[id(resources)] = srv
    return srv


def call(resources, method, uri, payload=b"", **kw):
    """Run one request through the real server path; returns a Result, or
    None when the server stays silent (as it does for some NON requests).
    Keywords: accept=, content_format=, observe=, block2=, token=, confirmable=,
    options=[(number, bytes)]."""
    srv = server(resources)
    msg = request(method, uri, payload, **kw)
    del srv.lines[:]
    srv.request.peer = PEER
    n = srv.handle(msg, len(msg))
    if not n:
        return None
    return Result(bytes(srv.response.buf), list(srv.lines))


def allocated(resources, method, uri, payload=b"", **kw):
    """Bytes the request path allocated answering this request, after one
    warm-up call (first calls intern names and fill caches). MicroPython only:
    CPython has no comparable heap, so there it raises NotImplementedError
    rather than report a number it cannot measure."""
    if sys.implementation.name != "micropython":
        raise NotImplementedError("allocated() measures MicroPython's heap: "
                                  "run the test under the unix port (micropython)")
    srv = server(resources)
    msg = request(method, uri, payload, **kw)
    srv.request.peer = PEER
    srv.handle(msg, len(msg))
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        srv.handle(msg, len(msg))
        return gc.mem_alloc() - before
    finally:
        gc.enable()
