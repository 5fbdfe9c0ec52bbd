# Dispatch of one parsed request through the static table: admission,
# lookup, negotiation, freshness, Observe registration, then the handler
# passes (blockwise.py) into the begun response. The server (server.py) owns
# the message layer and the socket, and says per request how large the answer
# to this peer may be (RFC 9175 §2.4).

from . import amplify
from .loops import match_path, paths_table
from .resource import Resource
from .wellknown import write_links

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# observe.FULL, copied: importing observe here would load Observe into every
# server, and only a table with observable resources needs it (server.py)
_FULL = const(-2)
_GET = const(1)
_FETCH = const(5)
_CONTENT = const(69)
_BAD_REQUEST = const(128)
_UNAUTHORIZED = const(129)
_FORBIDDEN = const(131)
_BAD_OPTION = const(130)
_NOT_FOUND = const(132)
_METHOD_NOT_ALLOWED = const(133)
_NOT_ACCEPTABLE = const(134)
_TOO_LARGE = const(141)
_UNSUPPORTED_FORMAT = const(143)
_PROXYING_NOT_SUPPORTED = const(165)
_LINK_FORMAT = const(40)
_SIZE1 = const(60)
_CON = const(0)
_ACK = const(2)
_EMPTY = b""


class Dispatcher:
    """Finds the resource for a request and answers it into the response.

    The server gives it the parts it shares: passes (blockwise.Passes), and
    the optional tables as they exist: echo (echo.Echo), observers
    (observe.Observers), prepared (prepared.Prepared), pending
    (pending.Pending), uploads (block1.Uploads)."""

    #: Set on the instance only for a table with uploads: an instance's
    #: attributes are a hash table that every lookup of a method probes first
    uploads = None

    def __init__(self, resources, passes, buffer_size, max_payload):
        self.resources = resources
        self.passes = passes
        self.buffer_size = buffer_size
        self.max_payload = max_payload
        self.echo = None
        self.observers = None
        self.prepared = None
        self.pending = None
        # /.well-known/core is served like any resource, but not listed in itself
        well_known = Resource("/.well-known/core", get=self._links, ct=_LINK_FORMAT)
        self._table = (well_known,) + tuple(resources)
        self._paths = paths_table([res.path for res in self._table],  # for loops.match_path
                                  [res.subtree for res in self._table])

    def answer(self, req, resp, n, limit, sock, multicast=False, held=False):
        """Answer the parsed request req (n bytes) into resp, begun by the
        caller. limit: 0, or the bytes the answer to this peer may have (RFC
        9175 §2.4); sock: where it came in (an observer's notifications go
        out there); multicast: on a group address (never observed); held: it
        was held for a ping (pending.py), answered now. Returns the resource
        when the server may keep the answer for the same GET (prepared.py
        checks the rest: the options, the code, the size), else None."""
        if n > self.buffer_size or req.payload_len > self.max_payload:
            resp.reset(_TOO_LARGE)
            resp.option_uint(_SIZE1, self.max_payload)
            return None
        if req.bad_option:
            resp.reset(_BAD_OPTION)  # §5.4.1
            resp.payload(b"unrecognised critical option ")
            resp.payload_int(req.bad_option)
            return None
        if req.proxy:
            resp.error(_PROXYING_NOT_SUPPORTED, b"not a proxy")  # §5.10.2
            return None
        res = self._find(req)
        if res is None:
            resp.reset(_NOT_FOUND)
            return None
        secure = res.secure
        if secure:
            if req.secured is None:
                resp.error(_UNAUTHORIZED, b"OSCORE required")  # RFC 8613 §8.2, secure by default
                return None
            if secure is not True and req.secured not in secure:  # Server.only()
                resp.error(_FORBIDDEN, b"not for this security context")
                return None
        code = req.code
        handler = res.handlers[code] if code < 8 else None
        if handler is None:
            resp.reset(_METHOD_NOT_ALLOWED)  # §5.8: also for unknown method codes
            return None
        fmt = -1
        if res.formats:
            fmt = res.formats[0]
            if req.accept >= 0:
                if req.accept not in res.formats:
                    resp.reset(_NOT_ACCEPTABLE)  # §5.10.4
                    return None
                fmt = req.accept
        if (res.accepts is not None and req.content_format >= 0
                and req.content_format not in res.accepts):
            resp.reset(_UNSUPPORTED_FORMAT)  # §5.10.3
            return None
        safe = code == _GET or code == _FETCH
        if res.fresh and not safe and not self._fresh(req, resp, res.fresh, limit):
            return None
        if safe:
            resp.max_age = res.max_age
        elif self.prepared is not None:
            self.prepared.forget()  # it may change what a prepared GET answers
        if req.block1 >= 0:
            return self._upload(req, resp, res, handler, fmt)
        seq = -1
        if res.obs and code == _GET and self.observers is not None and not multicast:
            # RFC 7641 §4.1; unverified: RFC 9175 §2.4 (for OSCORE, its layer's word)
            unverified = limit != 0 or (req.secured is not None and not req.verified)
            seq = self.observers.on_get(req, res, fmt, sock, unverified)
            if seq == _FULL:
                # Only verified observers, and the newcomer is not: it takes one's
                # place (the one that showed life longest ago, e.g. a client gone
                # without a word) once it answers a ping (pending.py), so forged
                # registrations never push out an observer that is there
                seq = -1
                if req.type == _CON and not held and self._hold(req, resp, n, sock):
                    return None
        passes = self.passes
        passes.answer(res, handler, req, resp, code, fmt, req.block2, seq)
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
            echo = None if held else self.echo  # an Echo offered, not to one that ignored a ping
            if (req.type == _CON and req.block2 < 16 and not held and not multicast
                    and self.pending is not None):
                # pending.py: a ping first, then the answer whole; held only
                # when a first block still fits besides the ping, in case no
                # RST comes (the Echo, which no such client repeats, may go)
                amplify.fit_blocks(passes, echo, res, handler, req, resp, fmt, limit - 4)
                if resp.code() == _CONTENT and self._hold(req, resp, n, sock):
                    return None
            amplify.fit_blocks(passes, echo, res, handler, req, resp, fmt, limit)
        # The resource when the server may keep this answer for the same GET
        if (res.prepared and seq < 0 and code == _GET and req.type == _CON
                and req.secured is None and not multicast and not held):
            return res
        return None

    def _upload(self, req, resp, res, handler, fmt):
        # RFC 7959 §2.3: a block of a request's body (block1.py); the handler
        # runs when the body is whole. Without an upload table for it, a body
        # in one block is a request like any other; more is too large, but
        # to a resource that takes its blocks itself (Resource.blocks).
        b = req.block1
        if self.uploads is not None and res.upload:
            if not self.uploads.receive(req, resp, res):
                return None
        elif b >> 3 and not res.blocks:
            resp.reset(_TOO_LARGE)
            resp.option_uint(_SIZE1, self.max_payload)
            return None
        self.passes.whole(res, handler, req, resp, req.code, fmt, b)
        return None

    def _fresh(self, req, resp, fresh, limit):
        # RFC 9175 §2.3: an unsafe request to a `fresh` resource needs an Echo
        # made for this peer within `fresh` seconds; for OSCORE its layer
        # checked it (echo.age), and protects the 4.01 itself
        echo = self.echo
        if req.secured is None:
            if req.verified and echo.age <= fresh:
                return True
            amplify.unauthorized(echo, req, resp, limit or 0xFFFF)
            return False
        if 0 <= echo.age <= fresh:
            return True
        amplify.unauthorized(echo, req, resp, 0xFFFF)
        return False

    def _hold(self, req, resp, n, sock):
        # Keep the request for a ping's RST (pending.py); nothing to send now
        if self.pending is None or self.pending.hold(req.buf, n, req.peer, sock) < 0:
            return False
        resp.buf[0:] = _EMPTY
        return True

    def find(self, req):
        """The resource req asks for, or None (a separate response's)."""
        return self._find(req)

    def _find(self, req):
        # One machine-code call compares the request's path with every
        # resource's (loops.match_path): a bytecode loop over the table cost
        # a fifth of a GET
        if req.path_count > req.max_path:
            return None  # deeper than the request keeps: no resource is (4.04)
        i = match_path(req.buf, req.state, self._paths)
        return self._table[i] if i >= 0 else None

    def _links(self, req, resp):
        write_links(self.resources, req, resp)
