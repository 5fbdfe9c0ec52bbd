# The amplification limit (RFC 9175 §2.4, the rule QUIC uses too): to a peer
# whose address is not verified, no response is more than three times the size
# of the datagram that caused it. A spoofed request can then make the server
# send a victim at most 3x what the attacker sent.
#
# A peer is verified for one request by an Echo value (coap/echo.py) that the
# server made for that address and port within the Echo lifetime. Everything
# else goes out within the rule:
#   - a large GET/FETCH answer: in blocks small enough to fit (RFC 7959 §2.4
#     lets the server pick a smaller SZX), with an Echo offered alongside, so
#     block-wise clients read everything and Echo-keeping clients get full
#     answers from their next request on;
#   - where a 16-byte block fits only without the Echo, without it (clients
#     that don't keep Echo values, like aiocoap 0.4, still read everything);
#   - where even that can't fit, and for any other success too large: 4.01
#     with an Echo (RFC 9175 §2.2.1);
#   - an error: its code without the diagnostic.
#
# A peer that proved its address (a valid Echo, or an ACK of a CON whose
# Message ID it could only know by receiving it) stays verified for the Echo
# lifetime in a small fixed table (Verified), so a client that keeps its port
# reads whole answers without sending the Echo again.

from .clock import ticks_diff, ticks_ms
from .peeraddr import PEER_ROOM, keep

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

RATIO = const(3)
_UNAUTHORIZED = const(129)
_BAD_REQUEST = const(128)
_ECHO = const(252)
_BLOCK_EXTRA = const(11)  # ETag (4) + Block2 (up to 4) + Size2 (up to 3) a single answer lacks


class Verified:
    """Peers (address and port, as recvfrom gives them) that proved their
    address within lifetime_s: `size` preallocated entries, the one verified
    longest ago making room for a new one. Nothing allocates."""

    def __init__(self, size=8, lifetime_s=300):
        self.peer = [None] * size  # a tuple (lwIP, CPython), or one of `_copy`
        self.at = [0] * size       # ticks_ms of the last proof
        self._copy = [bytearray(PEER_ROOM) for _ in range(size)]
        self.lifetime_ms = lifetime_s * 1000
        self.used = 0  # entries filled, from the first: the rest are None

    def _find(self, peer):
        # only the filled entries: a board with no proven peer pays no loop
        peers = self.peer
        for i in range(self.used):
            if peers[i] == peer:
                return i
        return -1

    def add(self, peer):
        """peer just proved its address."""
        now = ticks_ms()
        i = self._find(peer)
        if i < 0:
            age = -1
            for k in range(len(self.peer)):
                if self.peer[k] is None:
                    i = k
                    break
                d = ticks_diff(now, self.at[k])
                if d > age:
                    age = d
                    i = k
            kept = keep(peer, self._copy[i])
            if kept is None:
                return
            if self.peer[i] is None:
                self.used += 1
            self.peer[i] = kept
        self.at[i] = now

    def has(self, peer):
        """True when peer proved its address within the lifetime."""
        if not self.used:
            return False
        i = self._find(peer)
        return i >= 0 and 0 <= ticks_diff(ticks_ms(), self.at[i]) < self.lifetime_ms


class Guesses:
    """Empty ACKs and RSTs that answered no message of this server. A proof by
    Message ID (the ACK of a CON, the RST of a ping) is a 16-bit secret, and
    each of these is a guess at one: forged from a victim's address, 65 536 of
    them would prove it. Past `limit` in a window no ACK or RST proves an
    address until the window is over, so a brute force gets `limit` guesses a
    minute, about 1 in 8 000 (8 in 65 536) of one proof, however fast it sends.
    Honest clients lose only the shortcut meanwhile: Echo still proves, and the
    3x rule still answers them. Nothing allocates."""

    def __init__(self, limit=8, window_ms=60000):
        self.limit = limit
        self.window_ms = window_ms
        self.count = 0          # guesses in the current window
        self.since = ticks_ms()
        self.reported = False   # the tick said so for this window

    def _window(self):
        now = ticks_ms()
        if ticks_diff(now, self.since) >= self.window_ms:
            self.count = 0
            self.since = now
            self.reported = False

    def miss(self):
        """An empty ACK or RST matched nothing: one guess more."""
        self._window()
        self.count += 1

    def open(self):
        """True while an ACK or RST may prove an address."""
        self._window()
        return self.count < self.limit

    def report(self, log):
        """One line a window when proofs were closed (called from the tick)."""
        if self.count >= self.limit and not self.reported and log is not None:
            self.reported = True
            log("coap: %d empty ACKs/RSTs matched nothing within %d s: no address is proven "
                "by Message ID until then (a forged brute force?)"
                % (self.count, self.window_ms // 1000))


def echo_option_size(last, n):
    """Bytes of an Echo option of n (< 13) value bytes after option number last."""
    delta = _ECHO - last
    return 1 + n + (0 if delta < 13 else 1)


def unauthorized(echo, req, resp, limit):
    """4.01 with a fresh Echo for the peer; without it when even that is too
    large, or when there is no Echo (a port without AES)."""
    resp.reset(_UNAUTHORIZED)
    if echo is None:
        return
    n = echo.make(req.peer)
    if len(resp.buf) + echo_option_size(0, n) <= limit:
        resp.option(_ECHO, echo.value)


def fit_blocks(passes, echo, res, handler, req, resp, fmt, limit):
    """Re-answer a GET/FETCH whose answer broke the limit in smaller blocks
    (passes: a blockwise.Passes), starting at the byte the client asked for,
    with an Echo offered when echo is given."""
    size = 0 if echo is None else echo.make(req.peer)
    block2 = req.block2
    szx = 6  # the server's own block size (SZX 6 = 1024 bytes at most)
    while (16 << szx) > resp.block_size:
        szx -= 1
    start = 0
    if block2 >= 0:
        if (block2 & 7) < szx:
            szx = block2 & 7
        start = (block2 >> 4) * (16 << (block2 & 7))
    blockwise = resp.total > resp.window_end - resp.window_start or block2 >= 0
    overhead = len(resp.buf) - resp.payload_kept() + echo_option_size(0, size)
    if not blockwise:
        overhead += _BLOCK_EXTRA
    room = limit - overhead
    while szx > 0 and (16 << szx) > room:
        szx -= 1
    offered = echo is not None
    while True:
        passes.block(res, handler, req, resp, req.code, fmt, ((start >> (4 + szx)) << 4) | szx, -1)
        if resp.code() >= _BAD_REQUEST:
            return  # e.g. a block past the end: the server's generic check shortens it
        extra = echo_option_size(resp.last_option(), size) if offered else 0
        if len(resp.buf) + extra <= limit:
            if offered:
                resp.option_late(_ECHO, echo.value)
            return
        if szx > 0:
            szx -= 1
        elif offered:
            offered = False  # a client without Echo support still reads it all in 16-byte blocks
        else:
            break
    unauthorized(echo, req, resp, limit)


def shorten(echo, req, resp, limit):
    """Bring any other answer within the limit: a success becomes 4.01 with an
    Echo, an error keeps its code and loses its diagnostic."""
    code = resp.code()
    if code < _BAD_REQUEST:
        unauthorized(echo, req, resp, limit)
    else:
        resp.reset(code)
