# Prepared answers: a GET that the full request path answered is kept, whole,
# and sent again for the same request until the state behind it changes.
#
# Polling one reading over and over (a dashboard, Node-RED) is what a sensor
# board mostly does. For a resource marked `prepared`, the server keeps its
# answer to a plain confirmable GET; the next request with the same bytes after
# its token gets the same answer with that request's Message ID and token copied
# in (loops.replay, machine code where the port has it): no parse, no dispatch,
# no handler. The full path and the replay give the same bytes
# (tests/unit/coap/test_prepared.py compares them).
#
# What makes that safe:
# - only a request whose options are Uri-Path, Uri-Host and Uri-Port alone (no
#   Accept, Observe, Block2, Echo, query, OSCORE...) and no payload, CON, on a
#   unicast socket;
# - only a 2.05 without Observe, within 3x the request when the amplification
#   limit is on (RFC 9175 §2.4): the same request brings the same limit, so the
#   same answer. That may be the first block the limit cut (ETag, Block2, Size2)
#   with an Echo offered: its value is made afresh for each peer it goes to
#   (coap/echo.py; the same peer within a second gets the same value anyway);
# - the state behind it: the server forgets every prepared answer after any
#   unsafe request (PUT, POST, DELETE...) and when an observer comes or goes
#   (its own state, which /board shows), and whoever changes what a prepared
#   handler reads in any other way calls Server.forget() (the board's change
#   watch does when it refreshes its readings). A prepared handler reads only
#   such state: no clock, no counter of its own.
#
# Fixed memory: `entries` slots of a key (the request after its token) and an
# answer, preallocated; a new answer takes the slot used longest ago.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from array import array

from .loops import walk

# loops.walk's state array: private copies of loops_py's S_* (test_loops checks them)
_S_NUM = const(0)
_S_OFF = const(2)
_S_LEN = const(3)
_S_NEXT = const(4)
_S_PATHS = const(5)
_S_PAYLOAD = const(6)
_STATE_SIZE = const(24)

# A slot of `table`, as loops.replay reads it (loops_py and loops_viper keep
# copies of these; tests/unit/coap/test_prepared.py checks that they agree)
SLOT_TKL = const(0)      # token length + 1; 0: the slot is free
SLOT_KEY_LEN = const(1)  # bytes of the request after its token
SLOT_KEY = const(2)      # ... and those bytes
KEY_ROOM = const(62)
ENTRY = const(64)        # SLOT_KEY + KEY_ROOM
ANSWER_ROOM = const(96)  # bytes of a kept answer: header, token, options, payload
_URI_HOST = const(3)
_URI_PORT = const(7)
_CONTENT = const(69)
_OBSERVE = const(6)
_BLOCK2 = const(23)
_BLOCK1 = const(27)
_ECHO = const(252)
_ECHO_SIZE = const(12)  # echo.SIZE
_EMPTY = b""


def _only_uri_options(buf, p, n, st):
    """True when buf[p:n] is Uri-Host, Uri-Port and Uri-Path options and nothing
    else (§3.1): what names the resource. The server reads only the path; Host
    and Port it checks, the same way for the same bytes."""
    st[_S_NUM] = 0
    st[_S_PATHS] = 0
    r = walk(buf, p, n, st)  # Uri-Path of up to 255 bytes it steps over itself
    while r == 1:
        if st[_S_NUM] != _URI_HOST and st[_S_NUM] != _URI_PORT:
            return False
        r = walk(buf, st[_S_NEXT], n, st)
    return r == 0 and st[_S_PAYLOAD] == n


def _echo_at(buf, p, n, st):
    """Where the Echo value of an answer (options from p on) starts: 0 for no
    Echo, -1 when the answer can't be kept (an Observe, a Block1, a later block,
    an Echo of another size)."""
    at = 0
    st[_S_NUM] = 0
    st[_S_PATHS] = 0
    r = walk(buf, p, n, st)
    while r == 1:
        num = st[_S_NUM]
        olen = st[_S_LEN]
        if num == _OBSERVE or num == _BLOCK1:
            return -1
        if num == _BLOCK2 and (olen > 1 or olen and buf[st[_S_OFF]] >= 16):
            return -1  # not block 0 (which a request without Block2 gets)
        if num == _ECHO:
            if olen != _ECHO_SIZE:
                return -1
            at = st[_S_OFF]
        r = walk(buf, st[_S_NEXT], n, st)
    return at if r == 0 else -1


class Prepared:
    """The kept answers: `table` holds each slot's token length and key (for
    loops.replay), `answers` each slot's answer, sent as it is once the Echo
    value at `echo_at` (0: none) is the receiver's; `res` its resource."""

    def __init__(self, entries=8):
        self.entries = entries
        self.table = bytearray(ENTRY * entries)
        self.answers = []
        for _ in range(entries):
            a = bytearray(ANSWER_ROOM)
            a[0:] = _EMPTY  # keep the capacity, start empty (appends never reallocate)
            self.answers.append(a)
        self.echo_at = [0] * entries
        self.res = [None] * entries
        self._next = 0
        self._st = array("i", [0] * _STATE_SIZE)

    def keep(self, data, n, answer, limit, res):
        """Keep `answer` (a bytearray: the whole message) of resource res for
        request data[0:n], when both are the kind above and the answer is at
        most `limit` bytes (-1: no limit). Returns True when kept."""
        tkl = data[0] & 15
        start = 4 + tkl
        size = len(answer)
        if (n - start > KEY_ROOM or size > ANSWER_ROOM or 0 <= limit < size
                or answer[1] != _CONTENT or not _only_uri_options(data, start, n, self._st)):
            return False
        echo_at = _echo_at(answer, start, size, self._st)
        if echo_at < 0:
            return False
        t = self.table
        # the same key may already be kept (answered again after a forget)
        i = self._next
        self._next = (i + 1) % self.entries
        base = i * ENTRY
        t[base + SLOT_TKL] = 0  # invalid while it is rewritten
        a = self.answers[i]
        a[0:] = _EMPTY
        a.extend(answer)
        self.echo_at[i] = echo_at
        self.res[i] = res
        t[base + SLOT_KEY_LEN] = n - start
        for k in range(n - start):
            t[base + SLOT_KEY + k] = data[start + k]
        self._drop_key(i, tkl, data, start, n)
        t[base + SLOT_TKL] = tkl + 1
        return True

    def _drop_key(self, keep, tkl, data, start, n):
        # One slot per (token length, key): an older copy of the same is freed
        t = self.table
        for i in range(self.entries):
            base = i * ENTRY
            if i == keep or t[base + SLOT_TKL] != tkl + 1 or t[base + SLOT_KEY_LEN] != n - start:
                continue
            for k in range(n - start):
                if t[base + SLOT_KEY + k] != data[start + k]:
                    break
            else:
                t[base + SLOT_TKL] = 0

    def forget(self, res=None):
        """Drop every kept answer (of res only, when given): the state behind
        them may have changed."""
        t = self.table
        for i in range(self.entries):
            if res is None or self.res[i] is res:
                t[i * ENTRY + SLOT_TKL] = 0

    def count(self):
        """Slots holding an answer."""
        t = self.table
        return sum(1 for i in range(self.entries) if t[i * ENTRY + SLOT_TKL])
