# A block-wise GET (RFC 7959 §2.4) over coap.client: each block of the body is
# handed to a sink as it comes, so a body of any size costs one datagram of
# memory. Driven by poll() from the caller's loop, like the client itself.
#
#     c = Client(sock, 128)                  # sock: UDP, connect()ed, non-blocking
#     g = BlockGet(c)
#     g.start(path, sink)                    # path: a client.Path of Uri-Path segments
#     ...  code = g.poll()   # None: going on; CONTENT: all of it; else the error
#
# sink(pos, data, off, n) gets the body's bytes pos.. as data[off:off+n]
# (nothing sliced); pos 0 again means the transfer started over: the first
# block's ETag is pinned and a block with another ETag is of another
# representation (§2.4), so what the sink has must be dropped. A lost request or
# response is retransmitted by the client (RFC 7252 §4.2, §4.8); after a
# TIMEOUT, resume() asks again for the block that did not come.
#
# Bounded: at most `limit` bytes, `restarts` new representations, and one
# client exchange (about 93 s at worst, §4.8.2 MAX_TRANSMIT_WAIT) per block.

from .client import Path

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# poll() results besides the client's TIMEOUT, RESET, UNREACHABLE and the
# server's own error codes (4.04, ...)
CHANGING = const(-4)   # the ETag changed more than `restarts` times
TOO_LARGE = const(-5)  # the body is longer than `limit`
BAD_BLOCK = const(-6)  # a block other than the one asked for, or no ETag where one was

_GET = const(1)
_CONTENT = const(69)
_ETAG = const(4)
_URI_PATH = const(11)
_BLOCK2 = const(23)
_SIZE2 = const(28)

_NAMES = {-1: "no answer (timeout)", -2: "reset by the server", -3: "server unreachable",
          CHANGING: "the file kept changing while it was read",
          TOO_LARGE: "larger than allowed", BAD_BLOCK: "the server sent a block not asked for",
          # coap.oscoreclient's, with a Protector on the client
          -7: "answer not protected by OSCORE", -8: "answer failed OSCORE verification",
          -9: "no OSCORE sequence number left", -10: "request too long to protect"}


def describe(code):
    """One line for a poll() result: "4.04", "no answer (timeout)", ..."""
    if code in _NAMES:
        return _NAMES[code]
    return "%d.%02d" % (code >> 5, code & 31)


def uint(seg):
    """The unsigned integer an option's value (a memoryview or bytes) holds."""
    v = 0
    for b in seg:
        v = (v << 8) | b
    return v


class BlockGet:
    #: blocks of 2 ** (szx + 4) bytes: 1024 fits a 1152-byte datagram (RFC 7252 §4.6)
    szx = 6

    def __init__(self, client, limit=1 << 20, restarts=3):
        self.client = client
        self.limit = limit
        self.restarts = restarts
        self.pos = 0      # bytes the sink has had
        self.size = -1    # the body's length, once known (Size2, or the last block)
        self.etag = Path(1, 8)
        self.changes = 0  # representations dropped for a new ETag
        self._opt = Path(1, 8)  # one Block2, Size2 or ETag value at a time
        self._path = None
        self._sink = None
        self._szx = self.szx

    def start(self, path, sink):
        """GET path (a client.Path) from its first block into sink."""
        self._path = path
        self._sink = sink
        self.changes = 0
        self._over()

    def _over(self):
        self.pos = 0
        self.size = -1
        self.etag.clear()
        self._szx = self.szx
        self._ask()

    def resume(self):
        """After a TIMEOUT (or any error): ask again from the next block, the
        ETag still pinned. Returns None, or UNREACHABLE at once."""
        return self._ask()

    def _ask(self):
        c = self.client
        msg = c.begin(_GET)
        self._path.write(msg, _URI_PATH)
        num = self.pos >> (self._szx + 4)
        msg.option_uint(_BLOCK2, (num << 4) | self._szx)  # §2.2: NUM, M=0, SZX
        if not self.pos:
            msg.option_uint(_SIZE2, 0)  # §4: tell me the size, when you know it
        return c.send()

    def poll(self):
        """None while the transfer goes on; CONTENT (2.05) once the sink has
        had the whole body; else what went wrong (describe() says it)."""
        code = self.client.poll()
        if code is None:
            return None
        if code != _CONTENT:
            return code
        c = self.client
        d = c.data
        off = c.payload_off
        n = len(d) - off
        c.collect(_BLOCK2, self._opt)
        if not len(self._opt):
            if self.pos:  # a whole body in answer to a later block: not ours to join
                return BAD_BLOCK
            return self._last(d, off, n)
        v = uint(self._opt.segs[0])
        szx = v & 7
        if szx == 7 or (v & 8 and n != 16 << szx):  # §2.2: a reserved size, a short block
            return BAD_BLOCK
        pos = (v >> 4) << (szx + 4)
        if pos != self.pos or szx > self._szx:  # §2.4: the server may only shrink it
            return BAD_BLOCK
        self._szx = szx
        if not self._same_etag():
            self.changes += 1
            if self.changes > self.restarts:
                return CHANGING
            self._over()  # the sink hears of it at the next pos 0
            return None
        if not pos:
            c.collect(_SIZE2, self._opt)
            if len(self._opt):
                self.size = uint(self._opt.segs[0])
                if self.size > self.limit:
                    return TOO_LARGE
        if not v & 8:
            return self._last(d, off, n)
        if pos + n > self.limit:
            return TOO_LARGE
        self._sink(pos, d, off, n)
        self.pos = pos + n
        self._ask()
        return None

    def _last(self, d, off, n):
        if self.pos + n > self.limit:
            return TOO_LARGE
        self._sink(self.pos, d, off, n)
        self.pos += n
        self.size = self.pos
        return _CONTENT

    def _same_etag(self):
        # The first block pins the ETag (an absent one pins "none")
        c = self.client
        tag = self.etag
        if not self.pos:
            c.collect(_ETAG, tag)
            return True
        c.collect(_ETAG, self._opt)
        got = self._opt
        if len(got) != len(tag):
            return False
        if not len(tag):
            return True
        a = got.segs[0]
        b = tag.segs[0]
        if len(a) != len(b):
            return False
        for i in range(len(a)):
            if a[i] != b[i]:
                return False
        return True
