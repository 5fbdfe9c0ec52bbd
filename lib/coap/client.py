# A minimal CoAP client for a board's own requests (e.g. RD registration): one
# CON at a time over a connect()ed, non-blocking UDP socket, driven by poll()
# between datagrams, with the retransmission of RFC 7252 §4.2.
#
#     c = Client(sock, 512)
#     msg = c.begin(GET)                       # a coap.write.Response, reused
#     msg.option(URI_PATH, b"rd")
#     c.send()
#     ...  code = c.poll()   # None: still waiting; < 0: TIMEOUT, RESET, UNREACHABLE
#
# Requests are written into one preallocated buffer and matched by Message ID
# (ACK, RST) and token (the response); poll() allocates only what sock.recv returns.
#
# With c.oscore = coap.oscoreclient.Protector(ctx, size) every request is
# protected as send() sends it, and only a response that verifies is given
# back (data then holds its decrypted inner message); one that does not ends
# the exchange with the Protector's UNPROTECTED or FORGED.
#
# The socket may be the server's own (Shared below): the requests then leave
# from the address the board serves on, so a NAT or firewall that lets them
# out lets the peer's requests back in (as LwM2M asks).

from array import array
from random import getrandbits

from . import clock as _clock
from .clock import retransmit_timeout
from .loops import walk
from .write import Response

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# poll() results other than a response code
TIMEOUT = const(-1)      # no answer after the last retransmission
RESET = const(-2)        # the peer rejected the request with RST
UNREACHABLE = const(-3)  # the socket reported an error (e.g. ECONNREFUSED)

_CON = const(0)
_ACK = const(2)
_RST = const(3)
_ACK_TIMEOUT_MS = const(2000)  # RFC 7252 §4.8
_MAX_RETRANSMIT = const(4)
_SEPARATE_MS = const(30000)    # after an empty ACK: how long the response may take
_EAGAIN = const(11)
_TKL = const(4)
# loops.walk's state array: private copies of loops_py's S_* (test_loops checks them)
_S_NUM = const(0)
_S_OFF = const(2)
_S_LEN = const(3)
_S_NEXT = const(4)
_S_PATHS = const(5)
_S_PAYLOAD = const(6)
_STATE_SIZE = const(24)


def parse_uri(uri):
    """(host, port, path) of "coap://host[:port][/path]"; path is a list of bytes
    segments, or None when the URI has no path. ValueError when it is not one."""
    if not uri.startswith("coap://"):
        raise ValueError("not a coap:// URI")
    rest = uri[7:]
    slash = rest.find("/")
    auth, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash + 1:])
    if "@" in auth:  # §6.1: coap-URI = "coap:" "//" host [ ":" port ] ...
        raise ValueError("a coap URI has no user:password@")
    if auth.startswith("["):  # an IPv6 literal (RFC 3986 §3.2.2)
        i = auth.find("]")
        host, tail = (auth[1:i], auth[i + 1:]) if i > 0 else ("", "")
    else:
        i = auth.rfind(":")
        host, tail = (auth, "") if i < 0 else (auth[:i], auth[i:])
    port = 5683
    if tail:
        if tail[0] != ":" or not tail[1:].isdigit() or not 0 < int(tail[1:]) < 65536:
            raise ValueError("bad port")
        port = int(tail[1:])
    if not host:
        raise ValueError("no host")
    return host, port, ([s.encode() for s in path.split("/")] if path else None)


class Path:
    """Up to `count` path segments, each in its own preallocated bytearray (its
    len() is the segment's), so that they are written as options without
    slicing, and empty segments (a trailing '/', as aiocoap's RD uses) survive."""

    def __init__(self, count=8, size=40):
        self.size = size
        self.segs = [bytearray(size) for _ in range(count)]
        for seg in self.segs:
            seg[0:] = b""
        self.n = 0

    def clear(self):
        self.n = 0

    def add(self, src, off, n):
        """Append src[off:off+n] as a segment; False when it does not fit."""
        if self.n == len(self.segs) or n > self.size:
            return False
        seg = self.segs[self.n]
        seg[0:] = b""
        for i in range(off, off + n):
            seg.append(src[i])
        self.n += 1
        return True

    def write(self, msg, num):
        """Every segment as an option `num` of msg (a coap.write.Response)."""
        for i in range(self.n):
            msg.option(num, self.segs[i])

    def __len__(self):
        return self.n

    def text(self):
        return "/" + "/".join(bytes(self.segs[i]).decode() for i in range(self.n))


class Client:
    """One outstanding CON request at a time. After poll() returns a response
    code, `data` holds the response and `payload_off` where its payload starts."""

    #: the largest datagram poll() reads: recv allocates this much for each one
    #: (a block-wise GET of 512-byte blocks needs about 600)
    rx = 1152

    def __init__(self, sock, size=512, clock=_clock):
        self.sock = sock
        self.clock = clock
        self.msg = Response(size, size)  # a payload window as large as the buffer
        self.busy = False
        self.oscore = None  # a coap.oscoreclient.Protector: requests over OSCORE
        self.data = b""
        self.payload_off = 0
        self._empty = bytearray(4)  # an ACK or RST for the peer's own CON messages
        self._st = array("i", [0] * _STATE_SIZE)  # loops.walk's, over the response
        self._token = bytearray(getrandbits(8) for _ in range(_TKL))
        self._mid = getrandbits(16)
        self._acked = False
        self._tries = 0
        self._timeout = 0
        self._due = 0
        self._early = None  # send()'s failure to protect, for the next poll()

    def begin(self, code):
        """Start a CON request; write its options and payload into the result."""
        self._mid = (self._mid + 1) & 0xFFFF
        t = self._token
        t[_TKL - 1] = (t[_TKL - 1] + 1) & 0xFF  # a new token, so late answers don't match
        self.msg.begin(_CON, code, self._mid, t, 0, _TKL)
        return self.msg

    def send(self):
        """Send the request begun; poll() then reports how it went."""
        self._acked = False
        self._tries = 0
        self._timeout = retransmit_timeout(_ACK_TIMEOUT_MS)
        self._early = None
        if self.oscore is not None:
            r = self.oscore.protect(self.msg.buf)  # once: retransmissions resend it
            if r < 0:
                self._early = r
                return r
        self.busy = True
        return self._transmit()

    def _transmit(self):
        self._due = self.clock.ticks_add(self.clock.ticks_ms(), self._timeout)
        try:
            self.sock.send(self.msg.buf)
        except OSError:
            return self._done(UNREACHABLE)
        return None

    def _done(self, result):
        self.busy = False
        return result

    def poll(self):
        """None while the exchange goes on; then the response code, or TIMEOUT,
        RESET or UNREACHABLE. Reads at most a few datagrams per call."""
        r = self._early
        if r is not None:  # send() could not protect the request: said here too
            self._early = None
            return r
        if not self.busy:
            return None
        for _ in range(4):
            try:
                data = self.sock.recv(self.rx)
            except OSError as e:
                if e.args[0] != _EAGAIN:
                    return self._done(UNREACHABLE)
                break
            if data is None:  # a Shared socket with nothing handed over
                break
            r = self._datagram(data, len(data))
            if r is not None:
                return r
        c = self.clock
        if c.ticks_diff(c.ticks_ms(), self._due) < 0:
            return None
        if self._acked or self._tries >= _MAX_RETRANSMIT:
            return self._done(TIMEOUT)
        self._tries += 1  # §4.2: the same message again, the timeout doubled
        self._timeout = retransmit_timeout(_ACK_TIMEOUT_MS, self._timeout)
        return self._transmit()

    def expects(self, d, n):
        """True when datagram d[0:n] answers the request in flight: its ACK or
        RST (by Message ID) or its response (by token)."""
        if not self.busy or n < 4 or d[0] >> 6 != 1:
            return False
        if (d[0] >> 4) & 3 >= _ACK and ((d[2] << 8) | d[3]) == self._mid:
            return True
        if d[1] < 64 or d[0] & 15 != _TKL or n < 4 + _TKL:
            return False
        for i in range(_TKL):
            if d[4 + i] != self._token[i]:
                return False
        return True

    def _datagram(self, d, n):
        if n < 4 or d[0] >> 6 != 1:
            return None
        t = (d[0] >> 4) & 3
        code = d[1]
        mid = (d[2] << 8) | d[3]
        if t == _ACK or t == _RST:
            if mid != self._mid:
                return None
            if t == _RST:
                return self._done(RESET)
            if code == 0:  # empty ACK: the response follows separately (§5.2.2)
                self._acked = True
                self._due = self.clock.ticks_add(self.clock.ticks_ms(), _SEPARATE_MS)
                return None
        # a response, with a token like ours
        mine = code >= 64 and d[0] & 15 == _TKL and n >= 4 + _TKL
        for i in range(_TKL if mine else 0):
            if d[4 + i] != self._token[i]:
                mine = False
        # §4.2: a malformed message is rejected, not taken as the answer
        off = self._walk(d, -1, None) if mine else -1
        if t == _CON:  # §4.2: acknowledge our separate response, reject anything else
            self._reply(_ACK if off >= 0 else _RST, mid)
        if off < 0:
            return None
        if self.oscore is not None:
            k = self.oscore.unprotect(d, n)
            if k < 0:  # §8.4: never taken as the answer
                self.data = d
                return self._done(k)
            d = self.oscore.inner
            code = d[1]
            off = self._walk(d, -1, None)
            if off < 0:
                return self._done(-8)  # oscoreclient.FORGED: a malformed inner message
        self.data = d
        self.payload_off = off
        return self._done(code)

    def _reply(self, mtype, mid):
        e = self._empty
        e[0] = 0x40 | (mtype << 4)
        e[1] = 0
        e[2] = mid >> 8
        e[3] = mid & 0xFF
        try:
            self.sock.send(e)
        except OSError:
            pass

    def collect(self, num, keep):
        """Every value of option `num` in the response, as segments of keep (a
        Path, cleared first; left empty when they don't all fit)."""
        keep.clear()
        self._walk(self.data, num, keep)

    def _walk(self, d, want, keep):
        # Where the payload starts (len(data) when there is none), -1 when the
        # options are malformed; values of option `want` go into keep. Uri-Path
        # (which loops.walk keeps itself) is never wanted in a response.
        st = self._st
        st[_S_NUM] = 0
        st[_S_PATHS] = 0
        r = walk(d, 4 + (d[0] & 15), len(d), st)
        while r == 1:
            if st[_S_NUM] == want and not keep.add(d, st[_S_OFF], st[_S_LEN]):
                keep.clear()  # too long to keep: treated as none at all
                want = -1
            r = walk(d, st[_S_NEXT], len(d), st)
        return -1 if r < 0 else st[_S_PAYLOAD]


class Shared:
    """The server's socket, as a Client's: send() goes to `addr`; recv() gives
    what the server handed over. Set server.on_answer = shared.deliver and
    shared.client to the Client: the server then passes it the datagrams
    from addr that answer the client's request, and handles the rest."""

    def __init__(self, sock, addr):
        self.sock = sock
        self.addr = addr
        self.client = None
        self._inbox = []

    def send(self, buf):
        self.sock.sendto(buf, self.addr)

    def recv(self, n):
        return self._inbox.pop(0) if self._inbox else None

    def deliver(self, data, n, addr):
        c = self.client
        if addr != self.addr or c is None or not c.expects(data, n) or len(self._inbox) > 3:
            return False
        self._inbox.append(data)
        return True

    def close(self):
        pass  # the server's: it closes it
