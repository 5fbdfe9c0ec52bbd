# firmware/app.py: network bring-up never gives up, binding fails with one line.
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
_root = _here + "/../../.."
for _p in (_root + "/firmware", _root + "/boards/unix", _root + "/boards/common"):
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


class OutOfMemory(unittest.TestCase):
    def test_at_start_up_is_an_exit_not_a_traceback(self):
        # a Pico running .mpy files with LwM2M configured ran out at start-up
        def short(*args, **kwargs):
            raise MemoryError("memory allocation failed, allocating 1280 bytes")
        start = app.start
        app.start = short
        try:
            with self.assertRaises(SystemExit):
                app.run("config.json", False)
        finally:
            app.start = start


class Bind(unittest.TestCase):
    def test_not_an_address_is_one_line(self):
        with self.assertRaises(app.StartupError) as ctx:
            app.bind([("no such host.invalid", 5683)])
        self.assertIn("not an address", str(ctx.exception))


class InvalidPin(unittest.TestCase):
    """A pin the board's machine.Pin refuses: one line, the default, and a board."""

    def setUp(self):
        from boardcases import fake_machine, fake_time, load
        self.machine = fake_machine
        fake_machine.reset()
        fake_machine.invalid.update((45, "LED", 40))
        self.saved = app.board
        esp32 = load("esp32")

        class OnFakeClock:  # the ESP32 board module, its Board on the tests' clock
            NAME = esp32.NAME

            @staticmethod
            def Board(cfg):
                return esp32.Board(cfg, clock=fake_time)

        app.board = OnFakeClock

    def tearDown(self):
        app.board = self.saved
        self.machine.reset()

    def config(self, **fields):
        import config
        cfg = dict(config.DEFAULTS)
        cfg.update(fields)
        return cfg

    def test_led_pin_the_board_lacks_falls_back_to_the_default(self):
        for bad in (45, "LED"):
            lines = []
            cfg = self.config(led_pin=bad, dht_pin=4)
            b = app.make_board(cfg, lines.append)
            self.assertEqual(len(lines), 1, lines)
            self.assertTrue(lines[0].startswith("config: led_pin: the esp32 board refuses "),
                            lines[0])
            self.assertIn("invalid pin", lines[0])
            self.assertEqual(b._led_pin.id, 2)  # the ESP32 default LED
            self.assertEqual(cfg["dht_pin"], 4)  # the good dht_pin is kept

    def test_good_pins_say_nothing(self):
        lines = []
        app.make_board(self.config(led_pin=5), lines.append)
        self.assertEqual(lines, [])


class BoardInfoBlockWise(unittest.TestCase):
    # /board read block-wise, as a peer without an Echo must (RFC 9175 §2.4): one
    # representation across the blocks although uptime, heap and observers move
    def test_later_blocks_repeat_the_first_blocks_figures(self):
        if sys.implementation.name != "micropython":
            raise unittest.SkipTest("boards/unix/board.py runs on MicroPython (time.ticks_ms)")
        import config
        import coapmsg as m
        import resources
        import sensorconfig
        import sensors
        from coap import Server

        cfg = dict(config.DEFAULTS)
        b = board.Board(cfg)
        specs, _ = sensorconfig.parse(cfg["sensors"], None, board.DEFAULT_SENSOR)
        handlers = resources.SensorBoard(b, cfg, None, sensors.Sensors(specs, b, "b", print))
        srv = Server(resources.table(handlers, cfg), log=lambda s: None)
        handlers.server = srv
        peer = bytes([2, 0, 0x9C, 0x41, 10, 0, 0, 7]) + bytes(8)
        body, etags, num, szx = b"", set(), 0, 0
        while True:
            opts = [(23, m.uint(num << 4 | szx))] if num else []
            srv.request.peer = peer
            msg = m.get("board", token=b"12345678", mid=num, options=opts)
            r = m.decode(bytes(srv.response.buf[:srv.handle(msg, len(msg))]))
            self.assertEqual(r[1], 69)
            body += r[5]
            etags.add(m.option(r[4], 4))
            v = m.to_uint(m.option(r[4], 23))
            if not v & 8:
                break
            num, szx = (v >> 4) + 1, v & 7
            if srv.observers.addr[0] is None:  # an observer arrives between blocks
                srv.observers.active += 1
            srv.observers.addr[0] = peer
            srv.observers.res[0] = srv.resources[-1]
        self.assertEqual(len(etags), 1)
        self.assertTrue(body.startswith(b'{"name":"coap-board"') and body.endswith(b"}"), body)
        self.assertIn(b'"observers":0,', body)
