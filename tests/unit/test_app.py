# firmware/app.py: network bring-up never gives up, binding fails with one line.
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
_root = _here + "/../.."
for _p in (_root + "/firmware", _root + "/boards/unix"):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import app  # noqa: E402
import board  # noqa: E402


class FlakyBoard:
    """Network down for the first `failures` attempts."""

    def __init__(self, failures):
        self.failures = failures
        self.attempts = 0

    def connect(self, log):
        self.attempts += 1
        if self.attempts <= self.failures:
            raise board.NetworkDown("no AP found")
        return [("127.0.0.1", 5683)]


class BringUp(unittest.TestCase):
    def test_retries_with_back_off_and_says_why(self):
        lines, sleeps = [], []
        got = app.bring_up(FlakyBoard(8), lines.append, sleeps.append)
        self.assertEqual(got, [("127.0.0.1", 5683)])
        self.assertEqual(sleeps, [1, 2, 4, 8, 16, 32, 60, 60])  # doubling, capped at 60 s
        self.assertEqual(len(lines), 8)
        self.assertIn("no AP found", lines[0])

    def test_up_at_once(self):
        sleeps = []
        self.assertEqual(app.bring_up(FlakyBoard(0), print, sleeps.append), [("127.0.0.1", 5683)])
        self.assertEqual(sleeps, [])


class Bind(unittest.TestCase):
    def test_not_an_address_is_one_line(self):
        with self.assertRaises(app.StartupError) as ctx:
            app.bind([("no such host.invalid", 5683)])
        self.assertIn("not an address", str(ctx.exception))
