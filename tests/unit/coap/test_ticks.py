# Ticks across the wrap a board's clock makes at 2**30 ms (12.4 days): the
# fake clock the tests drive must wrap like a board's, and do it without
# leaving the 31-bit small ints of a 32-bit port (the unix port wraps at 2**62,
# so only these tests and the 32-bit run exercise a board's wrap).
import unittest

import fake_time
from fake_time import MAX, Clock, ticks_add, ticks_diff
from heaplock import heap_lock, locked

try:
    import micropython
    import time
except ImportError:  # CPython
    micropython = None


class Wrap(unittest.TestCase):
    def test_add_wraps_to_zero(self):
        self.assertEqual(ticks_add(MAX, 1), 0)
        self.assertEqual(ticks_add(MAX - 9, 20), 10)
        self.assertEqual(ticks_add(5, -10), MAX - 4)
        self.assertEqual(ticks_add(0, -1), MAX)

    def test_diff_is_signed_across_the_wrap(self):
        self.assertEqual(ticks_diff(10, MAX - 9), 20)
        self.assertEqual(ticks_diff(MAX - 9, 10), -20)
        self.assertEqual(ticks_diff(ticks_add(MAX, 300), MAX), 300)

    def test_add_then_diff_round_trips(self):
        for start in (0, 1, 1000, fake_time.before_wrap(1), fake_time.before_wrap(250), MAX):
            for delta in (0, 1, 99, 250, 100000, 0x1FFFFFFF, -1, -250, -0x20000000):
                self.assertEqual(ticks_diff(ticks_add(start, delta), start), delta,
                                 "start %d delta %d" % (start, delta))

    def test_clock_object_wraps(self):
        c = Clock()
        self.assertEqual(c.ticks_ms(), MAX - 99)
        c.advance(250)
        self.assertEqual(c.ticks_ms(), 150)
        self.assertEqual(c.ticks_diff(c.ticks_ms(), MAX - 99), 250)

    def test_matches_this_ports_ticks(self):
        if micropython is None:
            raise unittest.SkipTest("CPython has no ticks_ms")
        if time.ticks_add(0, -1) != MAX:
            raise unittest.SkipTest("this port's ticks wrap at 2**62, not at a board's 2**30")
        for a, d in ((MAX - 9, 20), (5, -10), (MAX, 1), (123456, 0x1FFFFFFF)):
            self.assertEqual(ticks_add(a, d), time.ticks_add(a, d))
            b = ticks_add(a, d)
            self.assertEqual(ticks_diff(b, a), time.ticks_diff(b, a))

    def test_no_allocation_near_the_wrap(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        c = Clock()
        n = 0
        with locked(self, "ticks"):
            for _ in range(400):
                c.advance(1)
                n += ticks_diff(c.ticks_ms(), MAX)
        self.assertEqual(n, sum(range(-98, 302)))
