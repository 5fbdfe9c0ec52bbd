# Resources: one entry of the static table, and its RFC 6690 link.
#
# Everything a request needs is turned into bytes and tuples here, once, when the
# table is built, so that dispatch only indexes and compares.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# Method codes (numbers.py has the public names; importing it would cost RAM)
_GET = const(1)
_POST = const(2)
_PUT = const(3)
_DELETE = const(4)
_FETCH = const(5)
_PATCH = const(6)
_IPATCH = const(7)
_MAX_PATH = const(8)  # parse.Request.max_path

_METHODS = 8  # handler slots indexed by method code 0..7


def _formats(ct):
    if ct is None:
        return ()
    if isinstance(ct, int):
        return (ct,)
    return tuple(ct)


def _text(v):
    return v if isinstance(v, bytes) else str(v).encode()


class Resource:
    """A path, its handlers, and how it is described in /.well-known/core.

    handler(req, resp): read `req` (coap.parse.Request), write `resp`
    (coap.write.Response). Handlers must be idempotent: the server keeps no
    record of requests, so a retransmitted CON is handled again.

    ct:      Content-Formats the handler can produce, default first (int or tuple).
    accepts: Content-Formats a PUT/POST/FETCH payload may have; None takes any.
    rt, if_, title: link attributes (RFC 6690 §3); obs: the resource is observable.
    fresh:   PUT/POST/DELETE/PATCH need an Echo the server made at most this many
             seconds ago (True: 10), so a recorded request can't be replayed
             later (RFC 9175 §2.3); False (or 0): no such check.
    attrs:   more link-params as they are to appear, e.g. 'u="Cel"'.
    max_age: seconds a GET's representation stays fresh (RFC 7252 §5.10.5; 0: it
    may be stale at once); observers get a fresh one before it runs out.
    upload:  bytes of a body this resource takes in blocks (RFC 7959 Block1:
             PUT, POST, FETCH, PATCH); the handler sees it whole, once
             (coap/block1.py). 0: one datagram's payload at most.
    blocks:  its handlers take a Block1 body block by block themselves, for a
             body streamed to storage where no buffer of its size fits: each
             block reaches the handler with req.block1 (NUM << 4 | M << 3 |
             SZX) and the answer carries it back; the handler answers 2.31
             Continue (resp.set_code(95)) until the last (RFC 7959 §2.3).
    separate: its handlers may answer later, in a separate response
             (resp.defer(), Server.answer_later(); coap/later.py).
    prepared: the GET handler reads only state that changes by a request to this
             server or where the board calls Server.forget(): the server may
             keep its answer and send it again for the same plain GET
             (coap/prepared.py). No clock, no counter of its own in it.
    etag:    etag(req) -> the version of the current representation, a number
             that changes whenever its content does (None: there is none).
             The server then writes an ETag in every 2.05 and Block2 answer,
             answers a GET carrying it 2.03 Valid, and checks If-Match and
             If-None-Match against it (coap/conditional.py), without running
             the handler for that. Without it those compare a hash of what the
             GET handler writes (one more run of it, only for such requests).
    subtree: also answers every path below its own (/3303 takes /3303/0/5700),
             which the handler reads from req (path_count, path_is, path_off
             and path_len). The first entry of the table that matches wins.
    """

    upload = 0
    separate = False
    subtree = False
    blocks = False

    def __init__(self, path, get=None, post=None, put=None, delete=None, fetch=None,
                 patch=None, ipatch=None, ct=None, accepts=None, rt=None, if_=None,
                 title=None, obs=False, fresh=False, attrs=None, max_age=60, prepared=False,
                 etag=None, listed=True, upload=0, separate=False, subtree=False,
                 blocks=False):
        if isinstance(path, str):
            path = path.strip("/")
            segments = path.split("/") if path else []
        else:
            segments = list(path)
        self.path = tuple(_text(s) for s in segments)
        self.href = b"/" + b"/".join(self.path)
        self.handlers = [None] * _METHODS
        for code, h in ((_GET, get), (_POST, post), (_PUT, put), (_DELETE, delete),
                        (_FETCH, fetch), (_PATCH, patch), (_IPATCH, ipatch)):
            if h is not None and not callable(h):
                raise ValueError("handler for %s is not callable" % self.href.decode())
            self.handlers[code] = h
        if not any(self.handlers):
            raise ValueError("resource %s has no handler" % self.href.decode())
        self.formats = _formats(ct)
        self.accepts = None if accepts is None else _formats(accepts)
        self.rt = None if rt is None else _text(rt)
        self.if_ = None if if_ is None else _text(if_)
        self.ct_text = b" ".join(_text(f) for f in self.formats) if self.formats else None
        self.obs = obs
        if fresh is True:
            fresh = 10
        elif not fresh:
            fresh = 0  # False, None or 0: no freshness check
        elif not isinstance(fresh, int) or fresh < 0:
            raise ValueError("fresh of %s: True, False or seconds" % self.href.decode())
        self.fresh = fresh
        # needs OSCORE: True, under any of the server's contexts, or a tuple of
        # those that may (set by the Server from its `open` list, and only())
        self.secure = False
        if not (isinstance(max_age, int) and 0 <= max_age <= 86400):
            raise ValueError("max_age of %s: 0 to 86400 seconds" % self.href.decode())
        self.max_age = max_age
        self.prepared = bool(prepared) and self.handlers[_GET] is not None
        if etag is not None and not callable(etag):
            raise ValueError("etag of %s is not callable" % self.href.decode())
        self.etag = etag
        if not (isinstance(upload, int) and 0 <= upload <= 0xFFFFFF):
            raise ValueError("upload of %s: 0 to 16777215 bytes" % self.href.decode())
        # on the instance only when set: fewer attributes, faster lookups
        if upload:
            self.upload = upload
        if separate:
            self.separate = True
        if subtree:
            self.subtree = True
        if blocks:
            self.blocks = True
        self.link = self._link(title, attrs) if listed else None

    def _link(self, title, attrs):
        parts = [b"<" + self.href + b">"]
        if self.rt is not None:
            parts.append(b'rt="' + self.rt + b'"')
        if self.if_ is not None:
            parts.append(b'if="' + self.if_ + b'"')
        if self.ct_text is not None:
            quoted = b" " in self.ct_text  # RFC 7252 §7.2.1: a list of formats is quoted
            parts.append(b'ct="' + self.ct_text + b'"' if quoted else b"ct=" + self.ct_text)
        if self.obs:
            parts.append(b"obs")
        if title is not None:
            parts.append(b'title="' + _text(title) + b'"')
        if attrs is not None:
            parts.append(_text(attrs))
        return b";".join(parts)

    def attribute(self, name):
        """The value a /.well-known/core filter on `name` compares with, or None."""
        if name == b"href":
            return self.href
        if name == b"rt":
            return self.rt
        if name == b"if":
            return self.if_
        if name == b"ct":
            return self.ct_text
        return None

    def __repr__(self):
        return "Resource(%r)" % self.href.decode()


def check_table(resources):
    """Refuse a table with duplicate paths: a clear error at start-up, not a 4.04 later."""
    seen = set()
    subtrees = []
    for r in resources:
        if not isinstance(r, Resource):
            raise ValueError("resource table entry is not a Resource: %r" % (r,))
        if r.path in seen:
            raise ValueError("duplicate resource path %s" % r.href.decode())
        for s in subtrees:  # the first match wins (loops.match_path)
            if r.path[:len(s.path)] == s.path:
                raise ValueError("resource %s is below the subtree %s before it in the table: "
                                 "no request can reach it" % (r.href.decode(), s.href.decode()))
        if r.subtree:
            subtrees.append(r)
        if r.path == (b".well-known", b"core"):
            raise ValueError("/.well-known/core is generated by the server")
        # a request keeps 8 Uri-Path segments (parse.Request.max_path) of up to
        # 255 bytes (RFC 7252 §5.10): no request could reach a deeper path
        if len(r.path) > _MAX_PATH or any(len(s) > 255 for s in r.path):
            raise ValueError("resource path %s has more than %d segments or one longer "
                             "than 255 bytes: no request can reach it" % (r.href.decode(), _MAX_PATH))
        seen.add(r.path)
    return tuple(resources)
