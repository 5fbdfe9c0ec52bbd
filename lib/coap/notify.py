# Notifications (RFC 7641 §4.2): the observer table (observe.py) says whom
# and when; this renders one for the observer's own request through the same
# handler passes as an answer, protects it when the registration was (RFC
# 8613 §8.3), keeps it within what RFC 9175 §2.4 allows an unproven observer,
# and sends it.

from .blockwise import szx_of
from .write import ResponseTooLarge

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_CON = const(0)
_GET = const(1)
_CONTENT = const(69)
_BAD_REQUEST = const(128)
_INTERNAL_ERROR = const(160)


class Notifier:
    """Sends notifications from the server's response buffer, protected by
    oscore (an oscore.Oscore) where the registration was. observers is set
    by the server once the table exists."""

    def __init__(self, response, passes, oscore=None):
        self.response = response
        self.passes = passes
        self.oscore = oscore
        self.observers = None

    def send(self, sock, addr, res, req, mtype, mid, fmt, seq, limit=-1):
        """Render a notification of res for the observer's own request req (its
        token, its options) into the response buffer and send it. Returns the
        bytes sent; minus the bytes of a ping sent instead of a CON answer
        longer than limit (limit >= 0: an unverified observer, RFC 9175 §2.4);
        or 0 when the observation ends: an error was sent (§4.2), or nothing
        was, because even a ping is over limit or the answer would show a
        protected resource in the clear. The one way observe.py reaches the
        server (send errors propagate as OSError)."""
        resp = self.response
        resp.begin(mtype, _CONTENT, mid, req.buf, 4, req.tkl)
        resp.max_age = res.max_age
        try:
            self.passes.answer(res, res.handlers[_GET], req, resp, _GET, fmt, -1, seq)
        except ResponseTooLarge:
            resp.error(_INTERNAL_ERROR, b"response too large")
        if req.secured is not None:  # RFC 8613 §8.3: under the board's own Partial IV
            self.oscore.notification(resp, req.secured, req.piv)
        elif res.secure:
            return 0  # never a protected resource in the clear
        n = len(resp.buf)
        if 0 <= limit < n and mtype == _CON and resp.buf[1] == _CONTENT and req.secured is None:
            obs = self.observers
            i = obs.find(addr, req.buf, 4, req.tkl)
            if i < 0 or not obs.pinged[i]:
                # Too large for what an unverified observer may still get: a
                # CoAP ping (an empty CON, RFC 7252 §4.3) instead, whose RST
                # proves the address; the answer follows whole (observe.py).
                # Not a first block: Node-RED's node-coap 0.25 loses the
                # Observe over one.
                resp.begin(_CON, 0, mid, req.buf, 4, 0)
                if limit < 4:
                    return 0
                sock.sendto(resp.buf, addr)
                return -4
            # The ping got no RST (CoAPthon3 sends none): the first block,
            # with the Observe (RFC 7959 §2.6), in what the budget holds
            szx = szx_of(resp.block_size)
            while n > limit and szx > 0:
                szx -= 1
                resp.begin(mtype, _CONTENT, mid, req.buf, 4, req.tkl)
                resp.max_age = res.max_age
                try:
                    self.passes.answer(res, res.handlers[_GET], req, resp, _GET, fmt, szx, seq)
                except ResponseTooLarge:
                    return 0
                n = len(resp.buf)
        if 0 <= limit < n:
            return 0
        sock.sendto(resp.buf, addr)
        return n if resp.buf[1] < _BAD_REQUEST else 0
