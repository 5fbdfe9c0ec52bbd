# Millisecond ticks that wrap, as MicroPython's time module has them, with a
# stand-in for CPython so that lib/coap imports unchanged there.

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

__all__ = ("ticks_add", "ticks_diff", "ticks_ms")
