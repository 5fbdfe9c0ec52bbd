# tests/unit/heaplock.py: no_alloc passes a call that allocates nothing and fails
# one that allocates, so a test built on it can fail.
import unittest

from heaplock import heap_lock, no_alloc


class NoAlloc(unittest.TestCase):
    def test_a_call_that_allocates_nothing_returns_its_result(self):
        buf = bytearray(4)
        self.assertEqual(no_alloc(self, "len", len, buf), 4)
        self.assertEqual(no_alloc(self, "find", buf.find, b"\x00", 1), 1)

    def test_a_call_that_allocates_fails_the_test(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        try:
            no_alloc(self, "bytearray", bytearray, 64)
        except AssertionError as e:
            self.assertEqual(str(e), "bytearray allocated")
        else:
            self.fail("an allocation went unnoticed")
