# firmware/logring.py: the ring behind /board/log and the console.
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
if _here + "/../../../firmware" not in sys.path:
    sys.path.insert(0, _here + "/../../../firmware")

from logring import LogRing  # noqa: E402


class Out:
    def __init__(self):
        self.payload = bytearray()

    def sized(self, n, version):
        return False  # keep every byte, as a response outside Block2's counting pass

    def payload_from(self, buf, start, n):
        for i in range(start, start + n):
            self.payload.append(buf[i])


def ring_text(ring):
    out = Out()
    ring.write_to(out)
    return bytes(out.payload).decode()


class Repeats(unittest.TestCase):
    def test_57_identical_lines_do_not_wipe_the_ring(self):
        echoed = []
        ring = LogRing(2048, echo=echoed.append)
        ring("coap: serving on coap://127.0.0.1")
        line = "coap: socket error [Errno 22] EINVAL; from 192.0.2.7 port 0 " + "x" * 40
        for _ in range(57):
            ring(line)
        ring("board: LED on")
        text = ring_text(ring)
        self.assertIn("coap: serving on coap://127.0.0.1", text)
        self.assertEqual(text.count(line), 1)
        self.assertIn("(last line repeated 56 times)", text)
        self.assertEqual(echoed, ring_text(ring).splitlines())  # the console sees the same

    def test_a_long_flood_says_it_is_still_going(self):
        echoed = []
        ring = LogRing(256, echo=echoed.append)
        for _ in range(1001):
            ring("same")
        self.assertEqual(echoed, ["same", "(last line repeated 10 times)",
                                  "(last line repeated 100 times)",
                                  "(last line repeated 1000 times)"])

    def test_different_lines_are_all_kept(self):
        ring = LogRing(2048, echo=lambda line: None)
        for i in range(5):
            ring("line %d" % i)
            ring("line %d" % i if i % 2 else "other")
        kept = [ln for ln in ring_text(ring).splitlines() if ln.startswith("line ")]
        self.assertEqual(kept, ["line 0", "line 1", "line 2", "line 3", "line 4"])

    def test_a_repeat_after_the_count_was_reported_is_not_counted_twice(self):
        echoed = []
        ring = LogRing(2048, echo=echoed.append)
        for _ in range(11):  # the first and 10 repeats, reported when the 10th came
            ring("same")
        ring("next")
        self.assertEqual(echoed, ["same", "(last line repeated 10 times)", "next"])


BOOT = ["config: port: expected an integer from 1 to 65535, got \"5683\"; using 5683",
        "sensor temp: no answer from the DHT22 on GPIO 4",
        "coap: serving on coap://127.0.0.1",
        "coap: serving on coap://[::1]",
        "coap: try  coap-client-notls -m get coap://127.0.0.1/.well-known/core"]


class Flood(unittest.TestCase):
    """#21 finding 8: lines that alternate are not folded, so 160 LED PUTs
    replaced the whole ring, boot and sensor failure included."""

    def test_alternating_led_lines_keep_the_boot_lines(self):
        ring = LogRing(2048, echo=lambda line: None)
        for line in BOOT:
            ring(line)
        for i in range(160):
            ring("board: LED on" if i % 2 else "board: LED off")
        lines = ring_text(ring).splitlines()
        self.assertEqual(lines[:len(BOOT)], BOOT)
        self.assertEqual(lines[-1], "board: LED on")  # and the flood's latest too

    def test_a_first_failure_after_boot_stays_through_any_flood(self):
        ring = LogRing(2048, echo=lambda line: None)
        for line in BOOT:
            ring(line)
        for i in range(40):
            ring("board: LED on" if i % 2 else "board: LED off")
        ring("sensor humidity: OSError: [Errno 110] ETIMEDOUT")
        ring("rd: registration: no answer; retrying in 5 s")
        for i in range(1000):
            ring("board: LED on" if i % 2 else "board: LED off")
            ring("coap: socket error %d" % i)  # distinct lines of an area it has
        text = ring_text(ring)
        for line in BOOT + ["sensor humidity: OSError: [Errno 110] ETIMEDOUT",
                            "rd: registration: no answer; retrying in 5 s"]:
            self.assertIn(line, text)
        self.assertEqual(text.splitlines()[-1], "coap: socket error 999")  # the latest
        self.assertTrue(len(text) <= 2048, len(text))


if __name__ == "__main__":
    unittest.main()
