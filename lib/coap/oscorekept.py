# What the OSCORE layer remembers between requests, in fixed tables:
#
# - the last few protected answers, so that a duplicate of their request (a
#   CoAP retransmission whose ACK was lost, or a recording replayed from the
#   client's address) gets the same answer without its handler running a
#   second time (RFC 7252 §4.5) and without a new sequence number. The
#   request's Partial IV was received already, so it is not processed again
#   (RFC 8613 §7.4); resending the same bytes under the same nonce encrypts
#   nothing new. A duplicate whose answer is gone is refused as a replay.
# - per context, the address the client last proved with an Echo value the
#   server made for it (coap/echo.py, RFC 9175 §2.4): protected answers to
#   it are not held to 3x the request.
# - how many protected requests were refused, and why, for one log line at
#   most every report_ms (a wrong key, a replay flood: never key material).
#
# A duplicate is found before the AEAD runs: same context, Partial IV,
# Message ID, sender and length, and the same 8-byte tag. Nothing allocates.

from .clock import ticks_add, ticks_diff, ticks_ms

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_TAG = const(8)
_CON = const(0)
#: a CON is sent at most 1 + MAX_RETRANSMIT times (RFC 7252 §4.8): more copies
#: than that are replays, and get nothing
RESENDS = const(4)
#: Kept.refused's reasons, in order
REASONS = ("malformed OSCORE option", "unknown kid", "replay",
           "decryption failed (wrong key or altered)")


class Kept:
    """`size` answers of up to `capacity` bytes, and the verified address of
    each of `contexts` security contexts."""

    #: how long a duplicate may come after the first (RFC 7252 §4.8.2
    #: EXCHANGE_LIFETIME); later, it is a replay
    exchange_lifetime_ms = 247000
    #: at most one line about refused requests this often
    report_ms = 60000

    def __init__(self, size, capacity, contexts):
        self.size = size
        self.ctx = [None] * size
        self.piv = [-1] * size
        self.mid = [0] * size
        self.peer = [None] * size  # the address object recvfrom made: kept, not copied
        self.n = [0] * size        # the request's length
        self.at = [0] * size
        self.resent = bytearray(size)
        self.tag = bytearray(_TAG * size)
        self.answer = [bytearray(capacity) for _ in range(size)]
        for a in self.answer:
            a[0:] = b""  # appended to within its capacity
        self._next = 0
        self.proved = bytearray(contexts)  # 1: verified_peer holds a proved address
        self.verified_peer = [None] * contexts
        self.verified_at = [0] * contexts
        self.refused = [0] * len(REASONS)  # since the last report()
        self.reported_at = None

    def find(self, ctx, piv, mid, peer, data, n, tag_off):
        """The slot holding the answer to this request, or -1."""
        now = ticks_ms()
        for i in range(self.size):
            if (self.ctx[i] is ctx and self.piv[i] == piv and self.mid[i] == mid
                    and self.n[i] == n and self.peer[i] == peer
                    and ticks_diff(now, self.at[i]) < self.exchange_lifetime_ms):
                t = self.tag
                k = _TAG * i
                for j in range(_TAG):
                    if t[k + j] != data[tag_off + j]:
                        break
                else:
                    return i
        return -1

    def again(self, k, req, c, limit, lifetime_s):
        """True when the duplicate req of slot k's request gets its answer
        again: a NON is not answered twice; a CON as often as a CON is
        retransmitted, and more than limit bytes (>= 0) only to the address
        context c's client proved. Anything else is a replay."""
        if req.type != _CON:
            return False
        if (self.resent[k] >= RESENDS or 0 <= limit < len(self.answer[k])
                and not self.verified(c, req.peer, lifetime_s)):
            self.refused[2] += 1
            return False
        self.resent[k] += 1
        return True

    def keep(self, ctx, piv, mid, peer, data, n, tag_off, answer):
        """Remember answer (bytes) for the request data[0:n] (its tag at tag_off)."""
        i = self._next
        self._next = (i + 1) % self.size
        self.ctx[i] = ctx
        self.piv[i] = piv
        self.mid[i] = mid
        self.peer[i] = peer
        self.n[i] = n
        self.at[i] = ticks_ms()
        self.resent[i] = 0
        for j in range(_TAG):
            self.tag[_TAG * i + j] = data[tag_off + j]
        self.answer[i][0:] = answer

    # --- verified addresses (RFC 9175 §2.4) ------------------------------------

    def verify(self, c, peer, age_s):
        """Context number c's client proved peer with an Echo age_s old."""
        self.proved[c] = 1
        self.verified_peer[c] = peer
        self.verified_at[c] = ticks_add(ticks_ms(), -age_s * 1000)

    def verified(self, c, peer, lifetime_s):
        """True when peer is the address context c's client proved less than
        lifetime_s ago (an Echo value's own lifetime)."""
        return (self.proved[c] and self.verified_peer[c] == peer
                and ticks_diff(ticks_ms(), self.verified_at[c]) < lifetime_s * 1000)

    # --- the log line ----------------------------------------------------------

    def report(self, log):
        """Log one line on the requests refused since the last line, when any
        were and report_ms has passed. Call between datagrams (it allocates)."""
        total = sum(self.refused)
        now = ticks_ms()
        if not total or (self.reported_at is not None
                         and ticks_diff(now, self.reported_at) < self.report_ms):
            return
        why = ", ".join("%s %d" % (REASONS[i], self.refused[i])
                        for i in range(len(REASONS)) if self.refused[i])
        log("oscore: refused %d protected request%s: %s" % (total, "s" if total > 1 else "", why))
        for i in range(len(REASONS)):
            self.refused[i] = 0
        self.reported_at = now
