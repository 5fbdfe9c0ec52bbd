# Separate responses (RFC 7252 §5.2.2): a handler that can't answer at once
# (a sensor conversion of 750 ms, an actuator that must settle) says so with
# resp.defer(), which takes a slot here and copies the request into it. The
# server sends an empty ACK at once (nothing to a NON request), and when the
# board calls Server.answer_later(slot, handler) the answer goes out on its
# own: CON with a Message ID of its own, kept in the slot and retransmitted
# until it is acknowledged (§4.2), or NON to a NON request (§5.2.3). A
# retransmission of a request whose answer is pending gets the empty ACK
# again (§4.5). A request nobody answers in timeout_ms gets 5.03.
#
# Fixed memory: `size` slots of slot_bytes each, first the request's bytes,
# then the answer's (a longer one is 5.00); the peer is kept by reference
# (as recvfrom returned it).

from random import getrandbits

from . import amplify
from .clock import retransmit_timeout, ticks_add, ticks_diff, ticks_ms
from .loops import copy_tail
from .parse import Request
from .write import ResponseTooLarge

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_FREE = const(0)
_WAITING = const(1)  # the request is kept; the board has not answered yet
SENT = const(2)      # the answer is out as a CON, kept until its ACK
_CON = const(0)
_NON = const(1)
_ACK = const(2)
_GET = const(1)
_CONTENT = const(69)
_BAD_REQUEST = const(128)
_INTERNAL_ERROR = const(160)
_UNAVAILABLE = const(163)  # 5.03
_MAX_AGE = const(14)
_ANSWERING = const(-2)  # taken while an answer is rendered: no defer() in it
_EMPTY = b""
_ZEROS = tuple(bytes(1 << k) for k in range(11))  # _fill's runs: up to 2047 bytes


def _fill(b, src, n):
    # b becomes src[0:n] within its capacity: nothing allocated
    b[0:] = _EMPTY
    k = 0
    while n >> k:
        if (n >> k) & 1:
            b.extend(_ZEROS[k])
        k += 1
    copy_tail(b, src, 0, n)


def gave_up(req, resp):
    """The answer to a request nobody answered in time."""
    resp.error(_UNAVAILABLE, b"no answer in time")


class Later:
    """The requests waiting for their separate response, and the CON
    answers waiting for their ACK. The server's parts it works with:
    request (what defer() copies), response, passes (blockwise.Passes),
    dispatcher, next_mid (NON Message IDs), log; ack_timeout_ms and
    max_retransmit as §4.8 has them."""

    def __init__(self, request, response, passes, dispatcher, next_mid, log, size=2,
                 slot_bytes=256, timeout_ms=30000, ack_timeout_ms=2000, max_retransmit=4):
        self.request = request
        self.response = response
        self.passes = passes
        self.dispatcher = dispatcher  # its find(), and its echo for the 3x rule
        self.next_mid = next_mid
        self.log = log
        self.answered = Request()  # a kept request, parsed again to be answered
        self.size = size
        self.slot_bytes = slot_bytes
        self.timeout_ms = timeout_ms
        self.ack_timeout_ms = ack_timeout_ms
        self.max_retransmit = max_retransmit
        if not 16 <= slot_bytes < 2048:
            raise ValueError("slot_bytes: 16 to 2047")
        #: per slot the request, then its answer: len() is what is kept
        self.buf = [bytearray(slot_bytes) for _ in range(size)]
        self.state = bytearray(size)
        self.peer = [None] * size
        self.sock = [None] * size
        self.con = bytearray(size)  # 1: a CON request, answered by a CON
        self.req_mid = [0] * size   # the request's Message ID: its retransmissions
        self.mid = [0] * size       # the answer's
        self.fmt = [-1] * size      # the Content-Format negotiated for it
        self.limit = [0] * size     # RFC 9175 §2.4: bytes an unproven peer may get; 0: any
        self.tries = [0] * size
        self.timeout = [0] * size
        self.due_at = [0] * size
        self.active = 0  # slots in use: the server looks only when > 0
        self.taken = -1  # the slot a handler took for the request being answered

    def take(self, resp):
        """resp.defer(): a slot for the request being answered, or -1 (resp
        then holds the answer: 5.03 with Max-Age when every slot is busy)."""
        if self.taken >= 0:
            return self.taken  # a second pass of the same request (Block2)
        if self.taken == _ANSWERING:
            raise ValueError("defer() in an answer given later")
        req = self.request
        if req.secured is not None or req.length > self.slot_bytes:
            resp.error(_INTERNAL_ERROR, b"can't answer this later")
            return -1
        for i in range(self.size):
            if self.state[i] == _FREE:
                break
        else:
            resp.reset(_UNAVAILABLE)  # §5.9.3.4: busy; Max-Age says when to ask again
            resp.option_uint(_MAX_AGE, 1 + self._soonest() // 1000)
            return -1
        _fill(self.buf[i], req.buf, req.length)
        self.peer[i] = req.peer
        self.con[i] = req.type == _CON
        self.req_mid[i] = req.mid
        self.fmt[i] = resp.format
        self.state[i] = _WAITING
        self.due_at[i] = ticks_add(ticks_ms(), self.timeout_ms)
        self.active += 1
        self.taken = i
        return i

    def acknowledge(self, req, resp, data, sock, limit, multicast):
        """The handler took a slot (resp.defer()): resp becomes the empty ACK
        (§5.2.2), or nothing to a NON; unless the handler failed after all,
        or the request came to a group (answered at once, §8.1). limit: what
        an unproven peer may still get (RFC 9175 §2.4; 0: any)."""
        i = self.taken
        self.taken = -1
        if resp.buf[1] >= _BAD_REQUEST or multicast:
            self.release(i)
            return
        self.sock[i] = sock
        if req.type == _CON:
            self.limit[i] = max(limit - 4, 1) if limit else 0
            resp.begin(_ACK, 0, req.mid, data, 4, 0)
        else:
            self.limit[i] = limit
            resp.buf[0:] = _EMPTY

    def answer(self, i, handler):
        """Server.answer_later(): render the answer to slot i's request and
        send it; the bytes sent."""
        if self.state[i] != _WAITING:
            raise ValueError("slot %d waits for no answer" % i)
        req = self.answered
        b = self.buf[i]
        req.parse(b, len(b))
        req.peer = peer = self.peer[i]
        res = self.dispatcher.find(req)
        con = self.con[i]
        resp = self.response
        resp.begin(_CON if con else _NON, _CONTENT, getrandbits(16) if con else self.next_mid(),
                   b, 4, req.tkl)
        code = req.code
        if code == _GET:
            resp.max_age = res.max_age
        size = resp.size
        resp.size = min(size, self.slot_bytes)  # kept for retransmission: it must fit
        self.taken = _ANSWERING
        try:
            self.passes.answer(res, handler, req, resp, code, self.fmt[i])
        except ResponseTooLarge:
            resp.error(_INTERNAL_ERROR, b"response too large")
        finally:
            resp.size = size
            self.taken = -1
        limit = self.limit[i]
        if limit and limit < len(resp.buf):
            amplify.shorten(self.dispatcher.echo, req, resp, limit)  # RFC 9175 §2.4
        sock = self.sock[i]
        self.sent(i, resp.buf)
        return self._send(sock, resp.buf, peer)

    def tick(self):
        """What is due: a CON answer again (§4.2), or a request nobody
        answered in time (5.03)."""
        now = ticks_ms()
        i = self.due(now)
        while i >= 0:
            if self.state[i] == SENT:
                if self.again(i, now):
                    self._send(self.sock[i], self.buf[i], self.peer[i])
            else:
                self.answer(i, gave_up)
            i = self.due(now)

    def _send(self, sock, buf, peer):
        if sock is None:
            return 0
        try:
            sock.sendto(buf, peer)
        except OSError as e:
            self.log("coap: answer not sent: %s" % e)
            return 0
        return len(buf)

    def _soonest(self):
        now = ticks_ms()
        d = self.timeout_ms
        for i in range(self.size):
            if self.state[i] == _WAITING:
                d = min(d, max(0, ticks_diff(self.due_at[i], now)))
        return d

    def find(self, mid, peer):
        """The slot of the request peer sent with Message ID mid, or -1."""
        for i in range(self.size):
            if self.state[i] != _FREE and self.req_mid[i] == mid and self.peer[i] == peer:
                return i
        return -1

    def sent(self, i, buf):
        """The answer buf went out: a CON is kept for retransmission."""
        if not self.con[i]:
            self.release(i)
            return
        _fill(self.buf[i], buf, len(buf))
        self.mid[i] = (buf[2] << 8) | buf[3]
        self.state[i] = SENT
        self.tries[i] = 1
        self.timeout[i] = retransmit_timeout(self.ack_timeout_ms)
        self.due_at[i] = ticks_add(ticks_ms(), self.timeout[i])

    def on_empty(self, mid, peer):
        """An empty ACK or RST: True when it ends a CON answer's wait (the
        ACK of an unpredictable Message ID also proves the peer's address)."""
        for i in range(self.size):
            if self.state[i] == SENT and self.mid[i] == mid and self.peer[i] == peer:
                self.release(i)
                return True
        return False

    def due(self, now):
        """A slot whose time came: WAITING too long, or a CON to send again."""
        for i in range(self.size):
            if self.state[i] != _FREE and ticks_diff(now, self.due_at[i]) >= 0:
                return i
        return -1

    def again(self, i, now):
        """A CON answer due again: True to retransmit it, False when it ran
        out of tries (§4.2: the peer is given up, the slot freed)."""
        if self.tries[i] > self.max_retransmit:
            self.release(i)
            return False
        self.tries[i] += 1
        self.timeout[i] = retransmit_timeout(self.ack_timeout_ms, self.timeout[i])
        self.due_at[i] = ticks_add(now, self.timeout[i])
        return True

    def release(self, i):
        if self.state[i] != _FREE:
            self.active -= 1
        self.state[i] = _FREE
        self.peer[i] = None
        self.sock[i] = None
