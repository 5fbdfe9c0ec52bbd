# tests/unit/heaplock.py: no_alloc and locked pass code that allocates nothing
# and fail code that allocates, so a test built on them can fail.
import unittest

from heaplock import heap_lock, locked, no_alloc


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


class Locked(unittest.TestCase):
    def test_a_block_that_allocates_nothing_runs(self):
        buf = bytearray(4)
        n = 0
        with locked(self, "loop"):
            for i in range(4):
                buf[i] = i
                n += buf[i]
        self.assertEqual((bytes(buf), n), (b"\x00\x01\x02\x03", 6))

    def test_a_block_that_allocates_fails_the_test(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        try:
            with locked(self, "list"):
                [1, 2, 3]
        except AssertionError as e:
            self.assertEqual(str(e), "list allocated")
        else:
            self.fail("an allocation went unnoticed")

    def test_other_errors_pass_through_unlocked(self):
        with self.assertRaises(KeyError):
            with locked(self, "raise"):
                raise KeyError
        bytearray(64)  # the heap is unlocked again
