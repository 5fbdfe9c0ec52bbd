# Large answers held for a ping (RFC 9175 §2.4 with RFC 7252 §4.3).
#
# A GET whose answer is more than 3x the request, from a peer that has not
# proven its address, would go out in blocks small enough for the rule, and
# RFC 7959 §2.2 binds the rest of the transfer to that first block's size: a
# 2 KB log in 128 datagrams. Instead the server keeps the request here,
# unanswered, and pings the peer (an empty CON with an unpredictable Message
# ID). A CoAP endpoint answers a ping with RST; one from that address and
# port proves it, and the answer goes out whole (its first 1024-byte block),
# piggybacked as it would have been, a round trip later. A peer that sends no
# RST (a spoofed request's victim, or CoAPthon3) gets the small first block
# after timeout_ms, before its own first retransmission (RFC 7252 §4.8: 2 s
# at the earliest), so every client still reads everything, and a victim gets
# at most 3x. A retransmission that comes in while its request is held is
# held as the same request.
#
# Fixed memory: `size` slots of request bytes, preallocated, and the peer
# (the object recvfrom returned, kept by reference as the observers keep it).

from random import getrandbits

from .clock import ticks_add, ticks_diff, ticks_ms

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_FREE = const(0)
_PINGED = const(1)  # the ping is out: waiting for its RST
PROVEN = const(2)   # the RST came: answer whole


class Pending:
    def __init__(self, size=2, request_bytes=64, timeout_ms=1000):
        self.size = size
        self.timeout_ms = timeout_ms
        self.state = bytearray(size)
        self.request = [bytearray(request_bytes) for _ in range(size)]
        self.request_len = [0] * size
        self.peer = [None] * size
        self.sock = [None] * size
        self.mid = [0] * size  # the ping's Message ID
        self.due_at = [0] * size
        self.active = 0  # slots in use: the server's tick looks only when > 0
        self.ping = -1  # a slot whose peer the server pings next (Server.drain)

    def hold(self, data, n, peer, sock):
        """Keep the request data[0:n] from peer; the slot, or -1 when it can't
        be kept (no free slot, or too long)."""
        if n > len(self.request[0]):
            return -1
        for i in range(self.size):  # a retransmission (same peer, same MID)?
            r = self.request[i]
            if (self.state[i] == _PINGED and r[2] == data[2] and r[3] == data[3]
                    and self.peer[i] == peer):
                self.ping = i  # pinged again, as its request came again
                return i
        for i in range(self.size):
            if self.state[i] == _FREE:
                break
        else:
            return -1
        self.peer[i] = peer
        r = self.request[i]
        for k in range(n):
            r[k] = data[k]
        self.request_len[i] = n
        self.sock[i] = sock
        self.mid[i] = getrandbits(16)  # unguessable: only the real peer's RST matches
        self.due_at[i] = ticks_add(ticks_ms(), self.timeout_ms)
        self.state[i] = _PINGED
        self.active += 1
        self.ping = i
        return i

    def on_rst(self, mid, peer, prove=True):
        """An RST came: True when it answers a ping (the peer is proven). With
        prove False (guesses closed proofs: amplify.Guesses) it proves nothing
        and the held request is answered within 3x when its time comes."""
        for i in range(self.size):
            if self.state[i] == _PINGED and self.mid[i] == mid and self.peer[i] == peer:
                if prove:
                    self.state[i] = PROVEN
                return True
        return False

    def due(self):
        """A slot to answer now (its state PROVEN: whole; else its ping timed
        out: within 3x), or -1."""
        now = ticks_ms()
        for i in range(self.size):
            s = self.state[i]
            if s == PROVEN or s == _PINGED and ticks_diff(now, self.due_at[i]) >= 0:
                return i
        return -1

    def release(self, i):
        self.state[i] = _FREE
        self.peer[i] = None
        self.sock[i] = None
        self.active -= 1
