# coap.clock.retransmit_timeout: the one RFC 7252 §4.8 timer, used by Observe's
# CON notifications and the client.
import unittest

from coap.clock import retransmit_timeout
from heaplock import heap_lock, locked


class Retransmission(unittest.TestCase):
    def test_first_timeout_has_the_random_factor(self):  # §4.8: [2 s, 3 s)
        got = [retransmit_timeout(2000) for _ in range(64)]
        self.assertTrue(all(2000 <= t < 3000 for t in got), got)
        self.assertTrue(len(set(got)) > 8, got)

    def test_doubled_for_each_retransmission(self):  # §4.2
        self.assertEqual(retransmit_timeout(2000, 2345), 4690)
        t = retransmit_timeout(2000)
        for _ in range(4):  # MAX_RETRANSMIT: still a small int on a 32-bit port
            t = retransmit_timeout(2000, t)
        self.assertTrue(32000 <= t < 48000, t)

    def test_zero_ack_timeout_stays_zero(self):  # tests that retransmit at once
        self.assertEqual(retransmit_timeout(0), 0)

    def test_allocates_nothing(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        retransmit_timeout(2000)
        with locked(self, "retransmit_timeout"):
            t = retransmit_timeout(2000, retransmit_timeout(2000))
        self.assertTrue(4000 <= t < 6000, t)


if __name__ == "__main__":
    unittest.main()
