# A clock the board tests drive: sleep_ms() records the delay and moves the
# clock on instead of waiting. Ticks wrap like a board's (period 2**30), and
# the arithmetic never leaves the 31-bit small-int range of a 32-bit port:
# 2**30 itself is a heap-allocated big int there, so no value here reaches it.

MAX = 0x3FFFFFFF  # the largest tick; the next one is 0
_HALF = 0x20000000

now = 0
#: every sleep_ms() argument, in order
sleeps = []


def before_wrap(ms):
    """The tick ms milliseconds before the clock wraps to 0."""
    return MAX - ms + 1


def ticks_add(t, delta):
    if delta >= 0:
        return t - MAX - 1 + delta if t > MAX - delta else t + delta
    t += delta
    return t + MAX + 1 if t < 0 else t


def ticks_diff(a, b):
    d = a - b  # both in [0, MAX]: d stays a small int
    if d >= _HALF:
        return d - MAX - 1
    if d < -_HALF:
        return d + MAX + 1
    return d


def reset(start=0):
    global now
    now = start
    del sleeps[:]


def advance(ms):
    global now
    now = ticks_add(now, ms)


def ticks_ms():
    return now


def sleep_ms(ms):
    if len(sleeps) > 100000:  # a wait that never ends would hang the run
        raise RuntimeError("sleep_ms called too often: runaway loop")
    sleeps.append(ms)
    advance(ms)


class Clock:
    """An independent clock object with the same wrapping ticks, for code that
    takes a clock= argument."""

    def __init__(self, now=MAX - 99):  # just before the wrap
        self.now = now

    def ticks_ms(self):
        return self.now

    def ticks_add(self, t, delta):
        return ticks_add(t, delta)

    def ticks_diff(self, a, b):
        return ticks_diff(a, b)

    def advance(self, ms):
        self.now = ticks_add(self.now, ms)
