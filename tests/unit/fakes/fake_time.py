# A clock the board tests drive: sleep_ms() records the delay and moves the
# clock on instead of waiting. Ticks wrap like MicroPython's (period 2**30).

_PERIOD = 1 << 30
_HALF = 1 << 29

now = 0
#: every sleep_ms() argument, in order
sleeps = []


def reset(start=0):
    global now
    now = start % _PERIOD
    del sleeps[:]


def advance(ms):
    global now
    now = (now + ms) % _PERIOD


def ticks_ms():
    return now


def ticks_add(t, delta):
    return (t + delta) % _PERIOD


def ticks_diff(a, b):
    return (a - b + _HALF) % _PERIOD - _HALF


def sleep_ms(ms):
    if len(sleeps) > 100000:  # a wait that never ends would hang the run
        raise RuntimeError("sleep_ms called too often: runaway loop")
    sleeps.append(ms)
    advance(ms)
