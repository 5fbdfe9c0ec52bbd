# Block-wise uploads (RFC 7959 §2.3, §2.5): an atomic PUT or POST whose body
# comes in blocks. Each block but the last is answered 2.31 Continue; the
# handler runs once, on the last, and sees the whole body as the request's
# payload. That needs state, the one place this server keeps a request's
# bytes across datagrams: a fixed table of `size` uploads, allocated at
# start-up, each a buffer of HEADROOM + body_bytes, bounded in time.
#
# An upload is one peer, one resource, one method and one Request-Tag (RFC
# 9175 §3.3): blocks of two uploads never mix, even from one client. A block
# that is not the next one is 4.08 (§2.5), a body beyond the resource's
# `upload` bytes 4.13 with Size1 (§2.9.3, §4). A repeated block (its Message
# ID seen last) gets the same answer again; a repeated last block runs the
# handler again on the same body, as any retransmitted request would.

from array import array

from .clock import ticks_add, ticks_diff, ticks_ms
from .loops import copy_in, uint, walk

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

#: Bytes before the body: on the last block the request's header and options
#: go there, and the body moves down behind them (one message, parsed again)
HEADROOM = const(128)
_CONTINUE = const(95)  # 2.31
_BAD_REQUEST = const(128)
_INCOMPLETE = const(136)  # 4.08
_TOO_LARGE = const(141)
_UNAVAILABLE = const(163)  # 5.03
_MAX_AGE = const(14)
_BLOCK1 = const(27)
_SIZE1 = const(60)
_REQUEST_TAG = const(292)
_MARKER = const(0xFF)
# loops.walk's state array (parse.py has the same private copies)
_S_NUM = const(0)
_S_REPEAT = const(1)
_S_OFF = const(2)
_S_LEN = const(3)
_S_NEXT = const(4)
_S_PATHS = const(5)
_STATE_SIZE = const(24)


class Uploads:
    """The uploads under way: size of them at a time, each body at most
    body_bytes, forgotten timeout_ms after its last block."""

    def __init__(self, body_bytes, size=2, timeout_ms=30000):
        self.size = size
        self.timeout_ms = timeout_ms
        self.buf = [bytearray(HEADROOM + body_bytes) for _ in range(size)]
        self.peer = [None] * size  # None: a free slot
        self.res = [None] * size
        self.code = bytearray(size)
        self.tag = [bytearray(8) for _ in range(size)]
        self.slot_tag_len = [-1] * size  # -1: no Request-Tag (RFC 9175 §3.2)
        self.received = [0] * size  # body bytes so far
        self.mid = [0] * size  # of the last block taken
        self.length = [0] * size  # > 0: the body is whole, a message of this length
        self.until = [0] * size
        # the block's Size1 and Request-Tag, read here: only a request with a
        # Block1 pays for them (parse.py reads the Block1)
        self._st = array("i", [0] * _STATE_SIZE)
        self.size1 = -1
        self.tag_off = 0
        self.tag_len = -1

    def receive(self, req, resp, res):
        """A request with a Block1 option for res (res.upload > 0). True: the
        body is whole and req is the whole request now (its payload is the
        body); False: resp holds the answer (2.31, or an error)."""
        b = req.block1
        szx = b & 7
        num = b >> 4
        n = req.payload_len
        if szx == 7 or n > (16 << szx) or b & 8 and n != (16 << szx):
            resp.error(_BAD_REQUEST, b"Block1 size")  # §2.2: SZX 7; §2.3: M=1 is a whole block
            return False
        start = num << (szx + 4)
        self._read(req)
        now = ticks_ms()
        i = self._find(req, res, now)
        if i >= 0 and self.mid[i] == req.mid:
            if self.length[i]:  # the last block again: the same body
                req.parse(self.buf[i], self.length[i])
                return True
            if num == 0 or start < self.received[i]:
                self._continue(resp, b)  # its 2.31 was lost
                return False
        if num == 0:
            if self.size1 > res.upload:  # §4: too large, said before it is sent
                return self._too_large(resp, res, i)
            if i < 0:
                i = self._take(req, res, now)
                if i < 0:
                    resp.reset(_UNAVAILABLE)
                    resp.option_uint(_MAX_AGE, 1 + self.timeout_ms // 1000)
                    return False
            self.received[i] = 0
            self.length[i] = 0
        elif i < 0 or start != self.received[i] or self.length[i]:
            if i >= 0:
                self.release(i)
            resp.error(_INCOMPLETE, b"Block1 out of order")  # §2.5
            return False
        if start + n > res.upload:
            return self._too_large(resp, res, i)
        a = self.buf[i]
        copy_in(a, HEADROOM + start, req.buf, req.payload_off, n)
        total = start + n
        self.received[i] = total
        self.mid[i] = req.mid
        self.until[i] = ticks_add(now, self.timeout_ms)
        if b & 8:
            self._continue(resp, b)
            return False
        # Whole: the last block's header and options (its payload marker
        # too), then the body moved down behind them
        h = req.payload_off
        if h + 1 > HEADROOM:
            return self._too_large(resp, res, i)
        copy_in(a, 0, req.buf, 0, h)
        if n == 0 and total:
            a[h] = _MARKER  # an empty last block has none
            h += 1
        copy_in(a, h, a, HEADROOM, total)
        self.length[i] = h + total
        req.parse(a, h + total)
        return True

    def _read(self, req):
        # Size1 (RFC 7959 §4) and the first Request-Tag (RFC 9175 §3.2: 0-8
        # bytes; later ones are not compared); both elective
        self.size1 = -1
        self.tag_len = -1
        buf = req.buf
        n = req.length
        st = self._st
        st[_S_NUM] = 0
        st[_S_PATHS] = 0
        r = walk(buf, 4 + req.tkl, n, st)
        while r == 1:
            num = st[_S_NUM]
            k = st[_S_LEN]
            if st[_S_REPEAT]:
                pass
            elif num == _SIZE1:
                self.size1 = uint(buf, st[_S_OFF], k) if k <= 3 else 1 << 24  # a small int
            elif num == _REQUEST_TAG and k <= 8:
                self.tag_off = st[_S_OFF]
                self.tag_len = k
            r = walk(buf, st[_S_NEXT], n, st)

    def _continue(self, resp, b):
        resp.reset(_CONTINUE)  # §2.3: 2.31, the block taken, M as the request's
        resp.option_uint(_BLOCK1, b)

    def _too_large(self, resp, res, i):
        if i >= 0:
            self.release(i)
        resp.reset(_TOO_LARGE)
        resp.option_uint(_SIZE1, res.upload)  # §4: the largest body it takes
        return False

    def _find(self, req, res, now):
        # The upload this block belongs to: peer, resource, method, tag
        peer = req.peer
        for i in range(self.size):
            if self.peer[i] is None:
                continue
            if ticks_diff(now, self.until[i]) > 0:
                self.release(i)
            elif (self.res[i] is res and self.code[i] == req.code and self.peer[i] == peer
                  and self._tag_is(i, req)):
                return i
        return -1

    def _tag_is(self, i, req):
        n = self.tag_len
        if self.slot_tag_len[i] != n:
            return False
        t = self.tag[i]
        buf = req.buf
        off = self.tag_off
        for k in range(n):
            if t[k] != buf[off + k]:
                return False
        return True

    def _take(self, req, res, now):
        # A free slot (_find released the expired ones), else one whose
        # upload is whole: it is kept only for a repeated last block
        i = self._first(False)
        if i < 0:
            i = self._first(True)
            if i < 0:
                return -1
        self.peer[i] = req.peer
        self.res[i] = res
        self.code[i] = req.code
        n = self.tag_len
        self.slot_tag_len[i] = n
        t = self.tag[i]
        for k in range(n):
            t[k] = req.buf[self.tag_off + k]
        return i

    def _first(self, whole):
        for i in range(self.size):
            if (self.length[i] > 0) if whole else (self.peer[i] is None):
                return i
        return -1

    def release(self, i):
        self.peer[i] = None
        self.res[i] = None
        self.length[i] = 0

    def active(self):
        return sum(1 for p in self.peer if p is not None)
