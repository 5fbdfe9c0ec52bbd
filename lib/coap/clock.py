# Millisecond ticks that wrap, as MicroPython's time module has them, with a
# stand-in for CPython so that lib/coap imports unchanged there; and the one
# retransmission timer of RFC 7252 §4.8, for Observe's CON notifications and
# the client's requests.

from random import getrandbits

try:
    from time import ticks_add, ticks_diff, ticks_ms
except ImportError:  # CPython
    import time

    _PERIOD = 1 << 30

    def ticks_ms():
        return int(time.monotonic() * 1000) % _PERIOD

    def ticks_add(t, delta):
        return (t + delta) % _PERIOD

    def ticks_diff(a, b):
        d = (a - b) % _PERIOD
        return d - _PERIOD if d >= _PERIOD // 2 else d



def retransmit_timeout(ack_timeout_ms, last=0):
    """ms to wait for an ACK: ACK_TIMEOUT times a random factor in [1,
    ACK_RANDOM_FACTOR = 1.5) for the first transmission (§4.8), then the last
    timeout doubled for each retransmission (§4.2). Allocates nothing."""
    if last:
        return last << 1
    return ack_timeout_ms + ((ack_timeout_ms * getrandbits(8)) >> 9)


__all__ = ("ticks_add", "ticks_diff", "ticks_ms", "retransmit_timeout")
