# Dispatch of one parsed request through the static table, and the handler
# passes that serve it: one pass normally; for Block2 (RFC 7959) a counting
# pass and then the pass that keeps the block asked for. The Server (server.py)
# adds the message layer and the socket.

from . import amplify
from .loops import same
from .observe import FULL
from .resource import Resource
from .wellknown import write_links
from .write import ResponseTooLarge

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_GET = const(1)
_FETCH = const(5)
_CONTENT = const(69)
_CHANGED = const(68)
_DELETED = const(66)
_BAD_REQUEST = const(128)
_UNAUTHORIZED = const(129)
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
_VERIFIED = const(0)  # echo.VERIFIED
_CON = const(0)
_ACK = const(2)
_EMPTY = b""

# Response code a handler starts with, by method code
_DEFAULT_CODE = (0, _CONTENT, _CHANGED, _CHANGED, _DELETED, _CONTENT, _CHANGED, _CHANGED)
_WELL_KNOWN = b".well-known"
_CORE = b"core"


def block_size(room):
    """The largest block size (16..1024, a power of two) that fits in room bytes."""
    size = 1024
    while size > room and size > 16:
        size >>= 1
    return size


def szx_of(size):
    """The Block SZX for a block size of 16..1024 bytes (a power of two)."""
    szx = 0
    while (16 << szx) < size:
        szx += 1
    return szx


class Dispatcher:
    """Finds the resource for a request and runs its handler into the response."""

    def __init__(self, resources, log):
        self.resources = resources
        self.log = log
        self.observers = None  # an observe.Observers when a resource is observable
        self.multicast = False  # the request came in on a group address: never observed
        self.echo = None  # an echo.Echo when the amplification limit or a fresh resource needs one
        self.amplification_limit = False  # RFC 9175 §2.4: 3x to unverified peers
        self.prepared = None  # a prepared.Prepared when a resource is `prepared`
        self.proven = None  # an amplify.Verified with the amplification limit
        self.guesses = None  # an amplify.Guesses with the amplification limit
        self.limit = 0  # the current answer's limit (RFC 9175 §2.4); 0: none
        self.pending = None  # a pending.Pending with the amplification limit
        self.held = False  # answering a request held for a ping (pending.py)
        self.ping_slot = -1  # a request was held: ping its peer (Server.drain)
        # /.well-known/core is served like any resource, but not listed in itself
        self._well_known = Resource("/.well-known/core", get=self._links, ct=_LINK_FORMAT)

    def _request(self, req, resp, code, n):
        echo = self.echo
        if req.secured is not None:
            # OSCORE (coap/oscore.py): the request comes from a key holder, is no
            # replay, and an unsafe one brought a fresh Echo; that layer checked
            # it (echo.age) and holds the protected answer to 3x (req.verified)
            limit = 0
        else:
            # RFC 9175 §2.4: an Echo this server made for this address and port, recently
            req.verified = (echo is not None and req.echo_len > 0 and echo.check(
                req.peer, req.buf, req.echo_off, req.echo_len) == _VERIFIED)
            limit = 0
            if self.amplification_limit:
                proven = self.proven
                if req.verified:
                    proven.add(req.peer)
                elif not proven.has(req.peer):
                    limit = amplify.RATIO * n
                    if self.held:
                        limit -= 4  # the ping went out already
        self.limit = limit
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
        if res.secure and req.secured is None:
            resp.error(_UNAUTHORIZED, b"OSCORE required")  # RFC 8613 §8.2, secure by default
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
        if res.fresh and not safe:
            ctx = req.secured
            if ctx is None and not (req.verified and echo.age <= res.fresh):
                amplify.unauthorized(echo, req, resp, limit or 0xFFFF)  # RFC 9175 §2.3
                return
            if ctx is not None and not 0 <= echo.age <= res.fresh:
                amplify.unauthorized(echo, req, resp, 0xFFFF)  # protected by the OSCORE layer
                return
        if safe:
            resp.max_age = res.max_age
        elif self.prepared is not None:
            self.prepared.forget()  # it may change what a prepared GET answers
        seq = -1
        if res.obs and code == _GET and self.observers is not None and not self.multicast:
            # RFC 7641 §4.1; unverified: RFC 9175 §2.4 (for OSCORE, its layer's word)
            unverified = limit != 0 or (req.secured is not None and not req.verified)
            seq = self.observers.on_get(req, res, fmt, self.sock, unverified)
            if seq == FULL:
                # Only verified observers, and the newcomer is not: it takes one's
                # place (the one that showed life longest ago, e.g. a client gone
                # without a word) once it answers a ping (pending.py), so forged
                # registrations never push out an observer that is there
                seq = -1
                if (req.type == _CON and not self.held and self.pending is not None
                        and self._hold(req, resp, n)):
                    return None
        self.respond(res, handler, req, resp, code, fmt, req.block2, seq)
        if seq >= 0:
            if resp.code() >= _BAD_REQUEST:
                self.observers.remove_request(req)  # an error ends the observation (§4.2)
            elif limit:
                # RFC 9175 §2.4: the answer and the notifications, within 3x until
                # the observer proves its address. The answer itself does that: it
                # goes out as a separate CON response (RFC 7252 §5.2.2) with an
                # unpredictable Message ID, after an empty ACK to a CON request
                # (nothing to a NON, §5.2.3), so a representation of any size
                # the budget holds reaches every client, and only a peer at
                # that address can acknowledge it.
                if req.type == _CON:
                    resp.begin(_ACK, 0, req.mid, req.buf, 4, 0)
                else:
                    resp.buf[0:] = _EMPTY  # nothing to send now
                self.observers.limit_request(req, limit - len(resp.buf))
        elif limit and safe and len(resp.buf) > limit and resp.code() < _BAD_REQUEST:
            if (req.type == _CON and req.block2 < 16 and not self.held and not self.multicast
                    and self.pending is not None):
                # pending.py: a ping first, then the answer whole; held only
                # when a first block still fits besides the ping, in case no
                # RST comes (the Echo, which no such client repeats, may go)
                amplify.fit_blocks(self, res, handler, req, resp, code, fmt, limit - 4)
                if resp.code() == _CONTENT and self._hold(req, resp, n):
                    return None
            amplify.fit_blocks(self, res, handler, req, resp, code, fmt, limit)
        # The resource when the server may keep this answer for the same GET
        # (coap/prepared.py checks the rest: the options, the code, the size)
        if (res.prepared and seq < 0 and code == _GET and req.type == _CON
                and req.secured is None and not self.multicast and not self.held):
            return res
        return None

    def _hold(self, req, resp, n):
        # Keep the request for a ping's RST (pending.py); nothing to send now
        i = self.pending.hold(req.buf, n, req.peer, self.sock)
        if i < 0:
            return False
        resp.buf[0:] = _EMPTY
        self.ping_slot = i
        return True

    def respond(self, res, handler, req, resp, code, fmt, block2=-1, seq=-1):
        """Run the handler into resp (begun), block-wise when needed."""
        safe = code == _GET or code == _FETCH
        if safe and block2 >= 0:
            self._block_request(res, handler, req, resp, code, fmt, block2, seq)
            return
        resp.start(_DEFAULT_CODE[code], fmt, seq)
        try:  # _call's body, inline: one heap-allocated frame less per request
            handler(req, resp)
        except ResponseTooLarge:
            raise
        except Exception as e:
            self._handler_failed(res, resp, e)
        if resp.total > resp.window_end and resp.buf[1] < _BAD_REQUEST:
            if safe:  # too large for one datagram: block-wise unasked (RFC 7959 §2.2)
                self._block(res, handler, req, resp, code, fmt, 0, szx_of(resp.block_size), seq)
            else:
                resp.error(_INTERNAL_ERROR, b"response too large")

    def _call(self, res, handler, req, resp):
        # Few locals on purpose: a bigger frame is allocated on the heap per call.
        try:
            handler(req, resp)
        except ResponseTooLarge:
            raise
        except Exception as e:
            self._handler_failed(res, resp, e)

    def _block_request(self, res, handler, req, resp, code, fmt, block2, seq):
        # RFC 7959 §2.2-2.4: the client asks for block NUM of size 2**(SZX+4)
        szx = block2 & 7
        num = block2 >> 4
        if szx == 7:
            resp.error(_BAD_REQUEST, b"Block2 SZX 7 is reserved")  # §2.2
            return
        if szx > szx_of(resp.block_size):
            szx = szx_of(resp.block_size)  # §2.4: the server may use smaller blocks
        # First pass: nothing kept, everything counted and hashed (Size2 and ETag)
        resp.start(_DEFAULT_CODE[code], fmt, seq)
        resp.window(0, 0, True)
        self._call(res, handler, req, resp)
        if resp.buf[1] >= _BAD_REQUEST:
            resp.start(_DEFAULT_CODE[code], fmt, seq)  # again, to keep the diagnostic
            self._call(res, handler, req, resp)
            return
        if num > 0xFFFF or (num and num * (16 << szx) >= resp.total):
            resp.error(_BAD_OPTION, b"Block2 beyond the end")
            return
        self._block(res, handler, req, resp, code, fmt, num, szx, seq if num == 0 else -1)

    def _block(self, res, handler, req, resp, code, fmt, num, szx, seq):
        """Answer with block num; resp.total and resp.hash describe the whole."""
        size = 16 << szx
        total = resp.total
        etag = resp.hash + 1  # never 0: an ETag is 1-8 bytes
        start = num * size
        resp.start(_DEFAULT_CODE[code], fmt, seq)
        resp.etag(etag)
        resp.block2((num << 4) | (8 if total > start + size else 0) | szx)
        if num == 0:
            resp.size2(total)  # the size of the whole representation (§4)
        resp.window(start, start + size, False)
        self._call(res, handler, req, resp)

    def _find(self, req):
        # Segments compared here with loops.same (machine code where the port has
        # it) rather than through req.path_is: a bytecode call per segment tried
        # was most of this function's cost.
        count = req.path_count
        if count > req.max_path:
            return None  # deeper than the request keeps: no resource is (4.04)
        buf = req.buf
        off = req.path_off
        ln = req.path_len
        if (count == 2 and same(buf, off[0], ln[0], _WELL_KNOWN)
                and same(buf, off[1], ln[1], _CORE)):
            return self._well_known
        for res in self.resources:
            path = res.path
            if len(path) != count:
                continue
            for i in range(count):
                if not same(buf, off[i], ln[i], path[i]):
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

