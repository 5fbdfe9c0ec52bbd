# Answers to multicast requests, sent after a random leisure (RFC 7252 §8.2).
#
# Many servers hear one multicast request; if they all answered at once their
# responses would collide. So an answer waits a random time within the leisure
# period (§8.2: Leisure = S * G / R, or DEFAULT_LEISURE of 5 s without estimates),
# and the poll loop keeps serving meanwhile: Replier keeps ONE preallocated copy
# of the answer, its peer and its due time, and server.tick sends it when due.
#
#     replier = Replier(send, leisure_ms=5000)
#     server.multicast_socks = (group_sock,)
#     server.on_multicast = replier.queue
#     server.tick = replier.tick
#
# Nothing here allocates per request: queue() copies into the buffer's capacity
# (see write.py), tick() sends it as it is.

from random import getrandbits

from . import clock as _clock

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

#: The All-CoAP-Nodes groups (§12.8); ff02::fd is link-local, ff05::fd site-local.
ALL_COAP_NODES_V4 = "224.0.1.187"
ALL_COAP_NODES_V6 = "ff02::fd"
GROUPS = (ALL_COAP_NODES_V4, ALL_COAP_NODES_V6)
DEFAULT_LEISURE_MS = const(5000)  # §8.2 DEFAULT_LEISURE

_RAND_BITS = const(10)  # getrandbits(10) * leisure stays a small int on 32-bit ports
_EMPTY = b""


def leisure_ms(size, group_size, rate):
    """§8.2: Leisure = S * G / R, in ms, for a response of `size` bytes, a group
    of `group_size` servers and a target rate of `rate` bytes per second."""
    return size * group_size * 1000 // rate


class Replier:
    """Holds one answer to a multicast request until its random due time.

    send(buf, addr): sends buf to addr (the firmware picks the unicast socket,
    so the answer comes from the server's own address and port, §8.1).
    A request that arrives while an answer is pending is dropped (and counted
    in `dropped`): replacing would restart the wait, and a steady stream of
    requests could then hold every answer back for ever. Multicast clients
    expect missing answers and ask again.
    """

    def __init__(self, send, leisure_ms=DEFAULT_LEISURE_MS, size=1152, clock=_clock, log=print):
        self.send = send
        self.leisure_ms = leisure_ms
        self.size = size
        self.clock = clock
        self.log = log
        self.buf = bytearray(size)
        self.buf[0:] = _EMPTY  # keep the capacity, start empty: len() is the message
        self.peer = None       # the pending answer's destination; None: nothing pending
        self.due = 0
        self.sent = 0
        self.dropped = 0

    def queue(self, msg, addr):
        """server.on_multicast: copy the answer in and pick its send time.
        False when it was dropped (one pending already, or too large)."""
        if self.peer is not None or len(msg) > self.size:
            self.dropped += 1
            return False
        self.buf[0:] = msg  # within capacity: no reallocation
        delay = getrandbits(_RAND_BITS) * self.leisure_ms >> _RAND_BITS
        self.due = self.clock.ticks_add(self.clock.ticks_ms(), delay)
        self.peer = addr
        return True

    def tick(self):
        """Send the pending answer once it is due; call it between datagrams."""
        addr = self.peer
        if addr is None or self.clock.ticks_diff(self.clock.ticks_ms(), self.due) < 0:
            return
        self.peer = None
        try:
            self.send(self.buf, addr)
            self.sent += 1
        except OSError as e:  # the peer's network went away: the answer is lost
            self.log("multicast: reply not sent: %s" % e)
