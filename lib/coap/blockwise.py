# The handler passes that render one answer (RFC 7959 Block2). Normally one
# pass; for a block a counting pass (the whole size and its hash: Size2 and
# ETag) and then the pass that keeps the block asked for. The dispatcher runs
# them for requests, the server for notifications, amplify.fit_blocks for
# answers it brings within the 3x limit: all through answer() and block().

from . import conditional
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
_BAD_OPTION = const(130)
_INTERNAL_ERROR = const(160)

# Response code a handler starts with, by method code
_DEFAULT_CODE = (0, _CONTENT, _CHANGED, _CHANGED, _DELETED, _CONTENT, _CHANGED, _CHANGED)


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


class Passes:
    """Runs a resource's handler into a begun response; log(str) hears of a
    handler that raised (it is answered 5.00)."""

    def __init__(self, log):
        self.log = log

    def answer(self, res, handler, req, resp, code, fmt, block2=-1, seq=-1):
        """The whole answer, or the block block2 (-1: none asked for) of it;
        a GET answer too large for one datagram goes block-wise unasked."""
        tag = 0
        if req.conditions or res.etag is not None:  # ETag, If-Match, If-None-Match
            tag = conditional.check(self, res, handler, req, resp, code, fmt, block2, seq)
            if tag < 0:
                return  # 2.03 Valid or 4.12 Precondition Failed, the handler not run
        safe = code == _GET or code == _FETCH
        if safe and block2 >= 0:
            self.block(res, handler, req, resp, code, fmt, block2, seq)
            return
        resp.start(_DEFAULT_CODE[code], fmt, seq)
        if tag:
            resp.etag(tag)  # §5.10.6.1: so that the client can validate later
        try:  # call()'s body, inline: one heap-allocated frame less per request
            handler(req, resp)
        except ResponseTooLarge:
            raise
        except Exception as e:
            self.failed(res, resp, e)
        if resp.total > resp.window_end and resp.buf[1] < _BAD_REQUEST:
            if safe:  # too large for one datagram: block-wise unasked (RFC 7959 §2.2)
                self._block(res, handler, req, resp, code, fmt, 0, szx_of(resp.block_size), seq)
            else:
                resp.error(_INTERNAL_ERROR, b"response too large")

    def whole(self, res, handler, req, resp, code, fmt, block1):
        """The answer to the last block of an upload (block1.py): its Block1
        option (RFC 7959 §2.3), no block-wise answer. Its conditions hold
        for the whole body (§5.10.8)."""
        if req.conditions or res.etag is not None:
            if conditional.check(self, res, handler, req, resp, code, fmt, -1, -1) < 0:
                return  # 4.12: the body is not taken
        resp.start(_DEFAULT_CODE[code], fmt, -1)
        resp.block1(block1)
        self.call(res, handler, req, resp)
        if resp.total > resp.window_end and resp.buf[1] < _BAD_REQUEST:
            resp.error(_INTERNAL_ERROR, b"response too large")
        resp.finish()

    def call(self, res, handler, req, resp):
        # Few locals on purpose: a bigger frame is allocated on the heap per call.
        try:
            handler(req, resp)
        except ResponseTooLarge:
            raise
        except Exception as e:
            self.failed(res, resp, e)

    def block(self, res, handler, req, resp, code, fmt, block2, seq):
        """Answer with block NUM of size 2**(SZX+4) (RFC 7959 §2.2-2.4), block2
        being (NUM << 4) | SZX; the server may use a smaller one (§2.4)."""
        szx = block2 & 7
        num = block2 >> 4
        if szx == 7:
            resp.error(_BAD_REQUEST, b"Block2 SZX 7 is reserved")  # §2.2
            return
        if szx > szx_of(resp.block_size):
            szx = szx_of(resp.block_size)
        # First pass: nothing kept, everything counted and hashed (Size2 and ETag)
        resp.start(_DEFAULT_CODE[code], fmt, seq)
        resp.window(0, 0, True)
        self.call(res, handler, req, resp)
        if resp.buf[1] >= _BAD_REQUEST:
            resp.start(_DEFAULT_CODE[code], fmt, seq)  # again, to keep the diagnostic
            self.call(res, handler, req, resp)
            return
        if num > 0xFFFF or (num and num * (16 << szx) >= resp.total):
            resp.error(_BAD_OPTION, b"Block2 beyond the end")
            return
        self._block(res, handler, req, resp, code, fmt, num, szx, seq if num == 0 else -1)

    def _block(self, res, handler, req, resp, code, fmt, num, szx, seq):
        # Block num; resp.total and resp.hash describe the whole
        size = 16 << szx
        total = resp.total
        etag = resp.hash + 1  # never 0: an ETag is 1-8 bytes
        if res.etag is not None and resp.tag:
            etag = resp.tag  # from the resource's version (conditional.py)
        start = num * size
        resp.start(_DEFAULT_CODE[code], fmt, seq)
        resp.etag(etag)
        resp.block2((num << 4) | (8 if total > start + size else 0) | szx)
        if num == 0:
            resp.size2(total)  # the size of the whole representation (§4)
        resp.window(start, start + size, False)
        self.call(res, handler, req, resp)

    def failed(self, res, resp, e):
        # Allocation is fine here: this is the error path, not the hot path.
        self.log("coap: %s handler raised %s: %s" % (res.href.decode(), type(e).__name__, e))
        resp.error(_INTERNAL_ERROR, b"handler error: ")
        try:
            resp.payload(type(e).__name__.encode())
        except Exception:
            pass
