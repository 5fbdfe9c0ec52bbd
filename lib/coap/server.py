# The stateless server: one datagram in, at most one out.
#
# handle() turns a received datagram into a response in self.response.buf and
# returns its length (0: send nothing). poll() and serve() move datagrams between
# a UDP socket and handle(). Nothing is remembered between datagrams except the
# Message ID counter for NON responses (RFC 7252 §4.4), so a retransmitted CON is
# handled again: handlers must be idempotent.

import os
import select

from . import parse
from .parse import Request
from .resource import Resource, check_table
from .wellknown import write_links
from .write import Response, ResponseTooLarge

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_CON = const(0)
_NON = const(1)
_ACK = const(2)
_RST = const(3)
_GET = const(1)
_POST = const(2)
_PUT = const(3)
_DELETE = const(4)
_FETCH = const(5)
_CONTENT = const(69)
_CHANGED = const(68)
_DELETED = const(66)
_BAD_REQUEST = const(128)
_BAD_OPTION = const(130)
_NOT_FOUND = const(132)
_METHOD_NOT_ALLOWED = const(133)
_NOT_ACCEPTABLE = const(134)
_TOO_LARGE = const(141)
_UNSUPPORTED_FORMAT = const(143)
_INTERNAL_ERROR = const(160)
_PROXYING_NOT_SUPPORTED = const(165)
_LINK_FORMAT = const(40)
_SIZE1 = const(60)

# Response code a handler starts with, by method code
_DEFAULT_CODE = (0, _CONTENT, _CHANGED, _CHANGED, _DELETED, _CONTENT, _CHANGED, _CHANGED)
_WELL_KNOWN = b".well-known"
_CORE = b"core"
_HEADROOM = const(128)  # bytes of a request kept for header, token and options


def _block_size(room):
    """The largest block size (16..1024, a power of two) that fits in room bytes."""
    size = 1024
    while size > room and size > 16:
        size >>= 1
    return size


def _szx(size):
    """The Block SZX for a block size of 16..1024 bytes (a power of two)."""
    szx = 0
    while (16 << szx) < size:
        szx += 1
    return szx


class Server:
    """A CoAP server over a static resource table.

    buffer_size bounds both directions: a request datagram larger than it, or with
    a payload larger than max_payload, gets 4.13 with Size1 (RFC 7959 §2.9.3);
    a response larger than it becomes 5.00.
    """

    def __init__(self, resources, buffer_size=1152, log=print):
        self.resources = check_table(resources)
        # /.well-known/core is served like any resource, but not listed in itself
        self._well_known = Resource("/.well-known/core", get=self._links, ct=_LINK_FORMAT)
        self.buffer_size = buffer_size
        self.max_payload = buffer_size - _HEADROOM
        self.request = Request()
        self.response = Response(buffer_size, _block_size(self.max_payload))
        self.log = log
        #: Sockets bound to a multicast group: their requests never get an error
        #: or RST (§8.1), and their answers go to on_multicast(buf, addr) instead.
        self.multicast_socks = ()
        self.on_multicast = None
        #: Called between datagrams, at least every tick_ms, when set (observe
        #: notifications, multicast replies due, registration refreshes).
        self.tick = None
        self.tick_ms = 100
        r = os.urandom(2)
        self._mid = (r[0] << 8) | r[1]

    # --- protocol ------------------------------------------------------------

    def handle(self, data, n, multicast=False):
        """Answer data[0:n]; returns the response length (0: stay silent)."""
        n = self._answer(data, n)
        if multicast and n and (n == 4 and self.response.buf[0] >> 4 == 0x7
                                or self.response.buf[1] >= _BAD_REQUEST):
            return 0  # §8.1: no RST and no error response to a multicast request
        return n

    def _answer(self, data, n):
        req = self.request
        status = req.parse(data, n)
        if status == parse.IGNORE:
            return 0
        t = req.type
        code = req.code
        if status == parse.FORMAT_ERROR:
            if n > self.buffer_size and req.tkl <= 8 and 0 < code < 32 and t <= _NON:
                status = parse.OK  # cut off by the receive size: answered with 4.13 below
            else:
                return self._reset(data) if t == _CON else 0   # §4.2, §4.3
        if code == 0 or code >> 5:
            # Empty (a CON is a ping, §4.3), or a response/reserved class we never
            # asked for: a CON lacks context and is rejected (§4.2), the rest is silence.
            return self._reset(data) if t == _CON else 0
        if t == _ACK or t == _RST:
            return 0  # §4.2/§4.3: ACK and RST never carry a request
        resp = self.response
        if t == _CON:
            resp.begin(_ACK, _CONTENT, req.mid, data, 4, req.tkl)  # piggybacked, §5.2.1
        else:
            self._mid = (self._mid + 1) & 0xFFFF
            resp.begin(_NON, _CONTENT, self._mid, data, 4, req.tkl)  # §5.2.3
        try:
            self._request(req, resp, code, n)
        except ResponseTooLarge:
            resp.error(_INTERNAL_ERROR, b"response too large")
        return len(resp.buf)

    def _reset(self, data):
        self.response.begin(_RST, 0, self.request.mid, data, 4, 0)
        return 4

    def _request(self, req, resp, code, n):
        if n > self.buffer_size or req.payload_len > self.max_payload:
            resp.reset(_TOO_LARGE)
            resp.option_uint(_SIZE1, self.max_payload)
            return
        if req.bad_option:
            resp.reset(_BAD_OPTION)  # §5.4.1
            resp.payload(b"unrecognised critical option ")
            resp.payload_int(req.bad_option)
            return
        if req.proxy:
            resp.error(_PROXYING_NOT_SUPPORTED, b"not a proxy")  # §5.10.2
            return
        res = self._find(req)
        if res is None:
            resp.reset(_NOT_FOUND)
            return
        handler = res.handlers[code] if code < 8 else None
        if handler is None:
            resp.reset(_METHOD_NOT_ALLOWED)  # §5.8: also for unknown method codes
            return
        fmt = -1
        if res.formats:
            fmt = res.formats[0]
            if req.accept >= 0:
                if req.accept not in res.formats:
                    resp.reset(_NOT_ACCEPTABLE)  # §5.10.4
                    return
                fmt = req.accept
        if (res.accepts is not None and req.content_format >= 0
                and req.content_format not in res.accepts):
            resp.reset(_UNSUPPORTED_FORMAT)  # §5.10.3
            return
        safe = code == _GET or code == _FETCH
        if safe and req.block2 >= 0:
            self._block_request(res, handler, req, resp, code, fmt)
            return
        self._run(res, handler, req, resp, code, fmt, 0, resp.block_size, False)
        if resp.total > resp.window_end and resp.code() < _BAD_REQUEST:
            if safe:  # too large for one datagram: block-wise unasked (RFC 7959 §2.2)
                self._block(res, handler, req, resp, code, fmt, 0, _szx(resp.block_size))
            else:
                resp.error(_INTERNAL_ERROR, b"response too large")

    def _run(self, res, handler, req, resp, code, fmt, start, end, hashing,
             block=-1, etag=0, size2=-1):
        """One pass of the handler, keeping representation bytes [start, end)."""
        resp.reset(_DEFAULT_CODE[code])
        resp.format = fmt
        resp.content_format(fmt)
        if block >= 0:
            resp.etag(etag)
            resp.block2(block)
            if size2 >= 0:
                resp.size2(size2)
        resp.window(start, end, hashing)
        try:
            handler(req, resp)
        except ResponseTooLarge:
            raise
        except Exception as e:
            self._handler_failed(res, resp, e)

    def _block_request(self, res, handler, req, resp, code, fmt):
        # RFC 7959 §2.2-2.4: the client asks for block NUM of size 2**(SZX+4)
        szx = req.block2 & 7
        num = req.block2 >> 4
        if szx == 7:
            resp.error(_BAD_REQUEST, b"Block2 SZX 7 is reserved")  # §2.2
            return
        if szx > _szx(resp.block_size):
            szx = _szx(resp.block_size)  # §2.4: the server may use smaller blocks
        # First pass: nothing kept, everything counted and hashed (Size2 and ETag)
        self._run(res, handler, req, resp, code, fmt, 0, 0, True)
        if resp.code() >= _BAD_REQUEST:
            self._run(res, handler, req, resp, code, fmt, 0, resp.block_size, False)
            return
        if num > 0xFFFF or (num and num * (16 << szx) >= resp.total):
            resp.error(_BAD_OPTION, b"Block2 beyond the end")
            return
        self._block(res, handler, req, resp, code, fmt, num, szx)

    def _block(self, res, handler, req, resp, code, fmt, num, szx):
        """Answer with block num; resp.total and resp.hash describe the whole."""
        size = 16 << szx
        total = resp.total
        etag = resp.hash + 1  # never 0: an ETag is 1-8 bytes
        start = num * size
        more = 8 if total > start + size else 0
        # Size2 on the first block: the size of the whole representation (§4)
        self._run(res, handler, req, resp, code, fmt, start, start + size, False,
                  (num << 4) | more | szx, etag, total if num == 0 else -1)

    def _find(self, req):
        count = req.path_count
        if count == 2 and req.path_is(0, _WELL_KNOWN) and req.path_is(1, _CORE):
            return self._well_known
        for res in self.resources:
            path = res.path
            if len(path) != count:
                continue
            for i in range(count):
                if not req.path_is(i, path[i]):
                    break
            else:
                return res
        return None

    def _links(self, req, resp):
        write_links(self.resources, req, resp)

    def _handler_failed(self, res, resp, e):
        # Allocation is fine here: this is the error path, not the hot path.
        self.log("coap: %s handler raised %s: %s" % (res.href.decode(), type(e).__name__, e))
        resp.error(_INTERNAL_ERROR, b"handler error: ")
        try:
            resp.payload(type(e).__name__.encode())
        except Exception:
            pass

    # --- transport -----------------------------------------------------------

    def poll(self, sock):
        """Receive one datagram from sock, answer it. False when none was waiting
        (a non-blocking socket); socket errors other than that propagate."""
        try:
            data, addr = sock.recvfrom(self.buffer_size + 1)  # +1 tells "too large" apart
        except OSError as e:
            if e.args[0] == 11:  # EAGAIN: nothing to read on a non-blocking socket
                return False
            raise
        self.request.peer = addr
        if self.multicast_socks and sock in self.multicast_socks:
            if self.handle(data, len(data), True) and self.on_multicast:
                self.on_multicast(self.response.buf, addr)
            return True
        if self.handle(data, len(data)):
            sock.sendto(self.response.buf, addr)
        return True

    def serve(self, *socks):
        """Answer datagrams on the sockets until interrupted. A failed send (the
        peer's network went away) is logged and serving goes on."""
        if len(socks) == 1 and self.tick is None:
            sock = socks[0]
            while True:
                try:
                    self.poll(sock)
                except OSError as e:
                    self.log("coap: socket error %s" % e)
        poller = select.poll()
        for s in socks:
            poller.register(s, select.POLLIN)
        # MicroPython's ipoll() reuses its result tuple (no garbage) and yields the
        # socket; CPython's poll() yields file descriptors.
        wait = getattr(poller, "ipoll", None)
        by_fd = None
        if wait is None:
            wait = poller.poll
            by_fd = {s.fileno(): s for s in socks}
        while True:
            tick = self.tick
            for s, _ in wait(self.tick_ms if tick else -1):
                if isinstance(s, int):
                    s = by_fd[s]
                try:
                    self.poll(s)
                except OSError as e:
                    self.log("coap: socket error %s" % e)
            if tick:
                tick()

    def largest_response(self):
        """Bytes of the longest answer the table itself produces: the unfiltered
        /.well-known/core (a handler's own responses add to this)."""
        n = sum(len(r.link) for r in self.resources) + max(0, len(self.resources) - 1)
        return 4 + 8 + 2 + 1 + n  # header, token, Content-Format, marker, links
