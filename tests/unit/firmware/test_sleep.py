# firmware/sleep.py: the awake time ends in a save, closed sockets and deep sleep.
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
if _here + "/../../../firmware" not in sys.path:
    sys.path.insert(0, _here + "/../../../firmware")

import coapmsg as m  # noqa: E402
import sleep  # noqa: E402
from coap import Server  # noqa: E402
from sample import RESOURCES  # noqa: E402


class Clock:
    def __init__(self):
        self.now = 0

    def ticks_ms(self):
        return self.now

    def ticks_diff(self, a, b):
        return a - b


class Sock:
    def __init__(self):
        self.closed = False
        self.sent = 0

    def sendto(self, buf, addr):
        self.sent += 1

    def close(self):
        self.closed = True


class Board:
    def __init__(self, saved=None):
        self.saved = saved
        self.slept = []

    def load_state(self):
        return self.saved

    def save_state(self, buf, n):
        self.saved = bytes(buf[:n])

    def deep_sleep(self, ms):
        self.slept.append(ms)


class AwakeThenAsleep(unittest.TestCase):
    def test_a_wake_serves_awake_s_then_saves_and_sleeps(self):
        board, socks, lines = Board(), [Sock()], []
        srv = Server(RESOURCES, log=None, amplification_limit=False)  # a verified observer
        store = sleep.keep_observers(srv, board, socks, lines.append)
        reg = m.get("sensors/temp", token=b"s", options=[(6, b"")])
        srv.request.peer = b"peer"
        srv.handle(reg, len(reg), False, socks[0])
        clock = Clock()
        timer = sleep.AwakeTimer(board, store, {"awake_s": 5, "sleep_s": 300},
                                 clock.ticks_ms, clock.ticks_diff)
        clock.now = 4999
        timer.tick()  # still awake
        clock.now = 5000
        with self.assertRaises(sleep.GoToSleep) as ctx:
            timer.tick()
        ctx.exception.sleep(socks, lines.append)
        self.assertEqual((board.slept, socks[0].closed), ([300000], True))
        # the next wake: a fresh server finds its observer in what was saved
        srv2 = Server(RESOURCES, log=None)
        sock2 = Sock()
        sleep.keep_observers(srv2, board, [sock2], lines.append)
        self.assertEqual(srv2.observers.count(), 1)
        srv2.observers.tick()
        self.assertEqual(sock2.sent, 1)
        self.assertIn("observe: 1 observer(s) restored; notifying them", lines)

    def test_unreadable_storage_starts_empty_with_one_line(self):
        lines = []
        srv = Server(RESOURCES, log=None)
        sleep.keep_observers(srv, Board(b"not a table"), [Sock()], lines.append)
        self.assertEqual(srv.observers.count(), 0)
        self.assertEqual(lines,
                         ["observe: saved observers in an unknown format; starting without"])

    def test_a_failing_save_is_one_line_not_a_crash(self):
        class Full(Board):
            def save_state(self, buf, n):
                raise OSError(28)  # ENOSPC

        lines = []
        srv = Server(RESOURCES, log=None)
        store = sleep.keep_observers(srv, Full(), [Sock()], lines.append)
        reg = m.get("sensors/temp", token=b"f", options=[(6, b"")])
        srv.request.peer = b"peer"
        srv.handle(reg, len(reg))
        store.tick()
        self.assertEqual(srv.observers.count(), 1)
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith("observe: saving observers failed"), lines)
