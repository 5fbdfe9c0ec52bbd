# A block-wise PUT or POST (RFC 7959 §2.5) over coap.client: the body goes in
# blocks of 2 ** (szx + 4) bytes, each sent once the server has answered the
# one before with 2.31 Continue; its answer to the last block is the answer to
# the whole request. Driven by poll() from the caller's loop, as BlockGet is.
#
#     c = Client(sock, 1152)                 # room for a block and the options
#     u = BlockPut(c)
#     u.start(PUT, path, body)               # path: a client.Path; body: bytes-like
#     ...  code = u.poll()   # None: going on; the final code (2.04, 4.13, ...); or an error
#
# The body is read where it lies (no slicing). A body that fits one block goes
# as a plain request. The server may ask for smaller blocks, in a 2.31
# (§2.5) or a 4.13 to the first block (§2.9.3): the rest goes in its size.
# After a TIMEOUT, resume() sends the block that had no answer again.

from .blockget import uint
from .client import Path

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# poll() results besides the client's and the server's codes (blockget's)
BAD_BLOCK = const(-6)  # a 2.31 for a block other than the one sent, or to the last

_CONTINUE = const(95)     # 2.31
_TOO_LARGE = const(141)   # 4.13
_URI_PATH = const(11)
_CONTENT_FORMAT = const(12)
_BLOCK1 = const(27)
_SIZE1 = const(60)


class BlockPut:
    #: blocks of 2 ** (szx + 4) bytes: 1024 fits a 1152-byte datagram (RFC 7252 §4.6)
    szx = 6

    def __init__(self, client):
        self.client = client
        self.pos = 0       # bytes of the body the server has taken
        self._opt = Path(1, 8)
        self._code = 0
        self._path = None
        self._body = b""
        self._fmt = -1
        self._sent = 0     # bytes in the block in flight
        self._szx = self.szx

    def start(self, code, path, body, fmt=-1):
        """PUT (3) or POST (2) body to path (a client.Path); fmt: its
        Content-Format, or -1 for none. None, or the client's UNREACHABLE."""
        self._code = code
        self._path = path
        self._body = body
        self._fmt = fmt
        self.pos = 0
        self._szx = self.szx
        return self._send()

    def resume(self):
        """After a TIMEOUT: the block in flight again."""
        return self._send()

    def _send(self):
        c = self.client
        msg = c.begin(self._code)
        self._path.write(msg, _URI_PATH)
        if self._fmt >= 0:
            msg.option_uint(_CONTENT_FORMAT, self._fmt)
        total = len(self._body)
        size = 16 << self._szx
        pos = self.pos
        k = total - pos
        if pos or k > size:  # block-wise only when it takes more than one block
            more = k > size
            if more:
                k = size
            msg.option_uint(_BLOCK1, ((pos >> (self._szx + 4)) << 4) | (8 if more else 0)
                            | self._szx)
            if not pos:
                msg.option_uint(_SIZE1, total)  # §4: the whole body's size, up front
        msg.payload_from(self._body, pos, k)
        self._sent = k
        return c.send()

    def poll(self):
        """None while the upload goes on; then the server's answer to the
        whole request (in client.data), or the client's error, or BAD_BLOCK."""
        c = self.client
        code = c.poll()
        if code is None or code < 0:
            return code
        last = self.pos + self._sent >= len(self._body)
        if code == _CONTINUE:
            if last:
                return BAD_BLOCK  # nothing left to continue with
            c.collect(_BLOCK1, self._opt)
            if len(self._opt):
                v = uint(self._opt.segs[0])
                # the block just sent: its NUM in our size or in the one asked for
                if v & 7 == 7 or (v >> 4 != self.pos >> (self._szx + 4)
                                  and v >> 4 != self.pos >> ((v & 7) + 4)):
                    return BAD_BLOCK
                if v & 7 < self._szx:  # §2.5: the server's size from the next block on
                    self._szx = v & 7
            self.pos += self._sent
            self._send()
            return None
        if code == _TOO_LARGE and not self.pos:
            c.collect(_BLOCK1, self._opt)  # §2.9.3: the size the server would take
            if len(self._opt) and uint(self._opt.segs[0]) & 7 < self._szx:
                self._szx = uint(self._opt.segs[0]) & 7
                self._send()
                return None
        if last or code >= 128:
            self.pos += self._sent if code < 128 else 0
            return code
        return BAD_BLOCK  # a final answer while blocks are left: not one to trust
