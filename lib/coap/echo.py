# Stateless Echo values (RFC 9175 §2): made, not stored, so any number of
# peers can be verified without a table.
#
#   value = ts (4 bytes, seconds) | tag (8 bytes)
#   tag   = AES-128 CBC-MAC under a key drawn at boot, over one fixed 64-byte
#           layout: ts | port | kind | address length | address (56 bytes)
#
# A MAC made of AES rather than the HMAC-SHA256 one would reach for first:
# hashlib.sha256() allocates on MicroPython, cryptolib's AES encrypts into a
# buffer we own (coap/aes.py), so making and checking a value allocate
# nothing. CBC-MAC is a sound MAC for messages of one fixed length, which is
# why the layout never varies. The key lives in RAM only: a reboot invalidates
# every value given out.
#
# The peer comes as recvfrom gave it: raw sockaddr bytes on the unix port,
# an (address text, port, ...) tuple on lwIP boards and CPython. Both are
# read without allocating (no slices, no str indexing, which can allocate).

import os

from .aes import AES
from .clock import ticks_add, ticks_diff, ticks_ms
from .peeraddr import PEER_ROOM, is_bytes, keep, port_of

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

VERIFIED = const(0)
EXPIRED = const(1)
BOGUS = const(2)

SIZE = const(12)          # bytes of an Echo value (RFC 9175 §2.2.1: 1 to 40)
_TAG = const(8)
_ADDR = const(56)         # address bytes the layout has room for
_MSG = const(64)          # 4 AES blocks
_TS_MASK = const(0x3FFFFFFF)  # 30-bit seconds: small ints on 32-bit boards
_KIND_NONE = const(0)
_KIND_RAW = const(1)
_KIND_TEXT = const(2)

# One-character strings to read address text with str.startswith, which never
# allocates (indexing a str can). Most frequent first.
_CHARS = tuple("0123456789.:abcdefABCDEF%")


class Echo:
    """Makes and checks Echo values for one server.

    lifetime_s: how long a value verifies its peer's address (RFC 9175 §2.4).
    A value is also refused once it is older than that, so a recording of it
    verifies nothing later.
    """

    def __init__(self, lifetime_s=300, key=None, cipher=AES):
        self.lifetime_s = lifetime_s
        self.value = bytearray(SIZE)   # the last value made
        self.age = -1                  # seconds since the last checked value was made
        self._msg = bytearray(_MSG)
        self._mac = bytearray(16)
        self._peer_copy = bytearray(PEER_ROOM)
        self._cipher = cipher          # tests on ports without AES pass a stand-in
        self._rekey(key)

    def _rekey(self, key=None):
        # key: for tests against test vectors; a server always draws its own
        self._aes = self._cipher(key or os.urandom(16))
        self._made_at = -1  # the second and peer self.value was last made for:
        self._made_for = None  # a copy of a sockaddr (no datagram's object kept alive), or a tuple
        r = os.urandom(4)
        # a random start hides the board's uptime in the values it gives out
        self._secs = ((r[0] << 24) | (r[1] << 16) | (r[2] << 8) | r[3]) & _TS_MASK
        self._tick = ticks_ms()

    def seconds(self):
        """A wrap-safe seconds counter for the timestamps."""
        d = ticks_diff(ticks_ms(), self._tick)
        if d < 0:
            # ticks_ms outran ticks_diff's range (days without a call): the age of
            # old values is unknown now, so none of them may verify anything.
            self._rekey()
        elif d >= 1000:
            s = d // 1000
            self._secs = (self._secs + s) & _TS_MASK
            self._tick = ticks_add(self._tick, s * 1000)
        return self._secs

    def make(self, peer, now=-1):
        """Write a fresh Echo value for peer into self.value; returns SIZE."""
        if now < 0:
            now = self.seconds()
        last = self._made_for
        if now == self._made_at and last is not None and last == peer:
            return SIZE  # the same second, the same peer: the same value (a poll, a flood)
        v = self.value
        v[0] = (now >> 24) & 0xFF
        v[1] = (now >> 16) & 0xFF
        v[2] = (now >> 8) & 0xFF
        v[3] = now & 0xFF
        self._tag(peer, v, 0)
        m = self._mac
        for i in range(_TAG):
            v[4 + i] = m[i]
        self._made_at = now
        self._made_for = keep(peer, self._peer_copy)
        return SIZE

    def check(self, peer, buf, off, n, now=-1):
        """VERIFIED when buf[off:off+n] is a value made for peer within the
        lifetime (self.age is then its age in seconds), else EXPIRED or BOGUS."""
        self.age = -1
        if n != SIZE:
            return BOGUS
        if now < 0:
            now = self.seconds()
        self._tag(peer, buf, off)
        m = self._mac
        diff = 0
        for i in range(_TAG):
            diff |= m[i] ^ buf[off + 4 + i]  # no early exit: no timing hint
        if diff:
            return BOGUS
        ts = (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]
        age = (now - ts) & _TS_MASK
        if age > self.lifetime_s:
            return EXPIRED
        self.age = age
        return VERIFIED

    def _tag(self, peer, ts_src, ts_off):
        msg = self._msg
        for i in range(_MSG):
            msg[i] = 0
        for i in range(4):
            msg[i] = ts_src[ts_off + i]
        port = port_of(peer)
        if port < 0:
            port = 0
        msg[4] = port >> 8
        msg[5] = port & 0xFF
        n = 0
        kind = _KIND_NONE
        if isinstance(peer, tuple):
            host = peer[0]
            if isinstance(host, str):
                kind = _KIND_TEXT
                n = _text(host, msg, 8)
            elif is_bytes(host):
                kind = _KIND_RAW
                n = _raw(host, 0, len(host), msg, 8)
        elif is_bytes(peer):
            kind = _KIND_RAW
            n = len(peer)
            if n == 16:  # sockaddr_in: the IPv4 address
                n = _raw(peer, 4, 8, msg, 8)
            elif n >= 28:  # sockaddr_in6: address and scope, not the flow label
                n = _raw(peer, 8, 28, msg, 8)
            else:
                n = _raw(peer, 0, n, msg, 8)
        msg[6] = kind
        msg[7] = n
        # CBC-MAC over the 4 blocks, zero IV
        mac = self._mac
        for i in range(16):
            mac[i] = 0
        for blk in range(0, _MSG, 16):
            for i in range(16):
                mac[i] ^= msg[blk + i]
            self._aes.encrypt_block(mac, mac)


def _raw(src, a, b, dst, at):
    if b - a > _ADDR:
        b = a + _ADDR
    for i in range(a, b):
        dst[at + i - a] = src[i]
    return b - a


def _text(s, dst, at):
    # Address text read one character at a time; an unexpected character is 255
    n = len(s)
    if n > _ADDR:
        n = _ADDR
    for i in range(n):
        c = 255
        for j in range(len(_CHARS)):
            if s.startswith(_CHARS[j], i):
                c = j
                break
        dst[at + i] = c
    return n
