# What the hardware boards' tests share: loading boards/<name>/board.py
# against the fakes in tests/unit/fakes, and the cases every board must pass.
#
# Each board is loaded as its own module object, so several boards test in
# one run. The unix port's built-in machine module wins over any file on
# sys.path, so the fakes go into sys.modules for the time of the import; the
# board module keeps them as its globals afterwards.
import gc
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
if _here + "/fakes" not in sys.path:
    sys.path.append(_here + "/fakes")

import fake_dht  # noqa: E402
import fake_esp32  # noqa: E402
import fake_machine  # noqa: E402
import fake_network  # noqa: E402
import fake_rp2  # noqa: E402
import fake_socket  # noqa: E402
import fake_time  # noqa: E402
from heaplock import no_alloc  # noqa: E402,F401  (the board tests import it from here)

FAKES = {
    "dht": fake_dht,
    "esp32": fake_esp32,
    "machine": fake_machine,
    "network": fake_network,
    "rp2": fake_rp2,
    "socket": fake_socket,
}


# A board's own modules: each load() imports them afresh, with the fakes
_COMMON = ("board", "wifiboard", "ppplink", "rp2040adc")


def load(name):
    saved = {}
    for mod in FAKES:
        saved[mod] = sys.modules.get(mod)
        sys.modules[mod] = FAKES[mod]
    for mod in _COMMON:
        sys.modules.pop(mod, None)
    sys.path.insert(0, _here + "/../../boards/common")
    sys.path.insert(0, _here + "/../../boards/" + name)
    try:
        import board
    finally:
        sys.path.pop(0)
        sys.path.pop(0)
        for mod in _COMMON:
            sys.modules.pop(mod, None)
        for mod in saved:
            if saved[mod] is None:
                sys.modules.pop(mod, None)
            else:
                sys.modules[mod] = saved[mod]
    return board


class Log:
    """The log callable connect() gets; keeps the lines."""

    def __init__(self):
        self.lines = []

    def __call__(self, line):
        self.lines.append(line)


def backoffs(board):
    """The sleeps that were not link polls: the back-off delays."""
    return [ms for ms in fake_time.sleeps if ms != board.Board.POLL_MS]


class BoardCases:
    """Mixed into each board's TestCase, which sets these:"""
    board = None           # the module from load()
    GOT_IP = None          # WLAN.status() codes of the port
    IDLE = None
    CONNECTING = None
    LED_PIN = None         # default LED pin id

    def setUp(self):
        fake_time.reset()
        fake_machine.reset()
        fake_dht.reset()
        fake_rp2.reset()
        fake_esp32.reset()
        fake_network.reset(self.GOT_IP, self.IDLE)
        fake_network.reset_ppp()

    def make(self, **config):
        return self.board.Board(config, clock=fake_time)

    def wifi(self, **wifi):
        wifi.setdefault("ssid", "home")
        wifi.setdefault("password", "secret")
        wifi.setdefault("timeout_ms", 1000)
        return self.make(wifi=wifi)

    # -- identity, LED, time

    def test_name(self):
        self.assertEqual(self.make().name, self.board.NAME)
        self.assertEqual(self.make(name="shed").name, self.board.NAME)  # config name is the user's, not the board type

    def test_led_default_pin_starts_off(self):
        b = self.make()
        pin = fake_machine.pins[self.LED_PIN]
        self.assertEqual(pin.mode, fake_machine.Pin.OUT)
        self.assertEqual((pin.v, b.led()), (0, 0))

    def test_led_pin_override(self):
        self.make(led_pin=15)
        self.assertEqual(fake_machine.pins[15].mode, fake_machine.Pin.OUT)
        self.assertNotIn(self.LED_PIN, fake_machine.pins)

    def test_set_led(self):
        b = self.make()
        pin = fake_machine.pins[self.LED_PIN]
        b.set_led(1)
        self.assertEqual((pin.v, b.led()), (1, 1))
        b.set_led(0)
        self.assertEqual((pin.v, b.led()), (0, 0))

    def test_uptime_across_tick_wrap(self):
        fake_time.reset(fake_time.before_wrap(100))
        b = self.make()
        fake_time.advance(250)
        self.assertEqual(b.uptime_ms(), 250)

    def test_led_and_uptime_do_not_allocate(self):
        b = self.make()
        for _ in range(2):  # warm-up
            b.set_led(1)
            b.led()
            b.uptime_ms()
        no_alloc(self, "set_led", b.set_led, 1)
        self.assertEqual(no_alloc(self, "led", b.led), 1)
        no_alloc(self, "uptime_ms", b.uptime_ms)

    # -- Wi-Fi

    def test_no_ssid(self):
        log = Log()
        with self.assertRaises(self.board.NetworkDown):
            self.make(wifi={"password": "x"}).connect(log)
        self.assertEqual(len(log.lines), 1)
        self.assertIn("no ssid", log.lines[0])
        self.assertEqual(fake_network.calls, [])

    def test_connects_first_try(self):
        fake_network.scripts.append([(0, self.CONNECTING), (700, self.GOT_IP)])
        log = Log()
        got = self.wifi().connect(log)
        self.assertEqual(got, [("0.0.0.0", 5683)])  # all interfaces
        self.assertIn(("active", True), fake_network.calls)
        self.assertEqual(fake_network.calls[-1], ("connect", "home", "secret"))
        self.assertEqual(backoffs(self.board), [])
        self.assertEqual(fake_time.now, 700)
        self.assertEqual(log.lines, ["wifi: connected to home as 192.168.1.42"])

    def test_address_follows_the_link(self):
        b = self.wifi()
        self.assertIsNone(b.address())  # no link yet
        b.connect(Log())
        self.assertEqual(b.address(), "192.168.1.42")
        fake_network.address = "192.168.1.77"  # a new lease
        try:
            self.assertEqual(b.address(), "192.168.1.77")
        finally:
            fake_network.address = "192.168.1.42"

    def test_port_from_config(self):
        b = self.make(wifi={"ssid": "home"}, port=5684)
        self.assertEqual(b.connect(Log()), [("0.0.0.0", 5684)])

    def test_multicast_binds_the_wifi_address(self):
        # lwIP won't bind a group socket on a port a wildcard socket holds
        b = self.make(wifi={"ssid": "home"}, multicast=True)
        self.assertEqual(b.connect(Log()), [("192.168.1.42", 5683)])

    def test_multicast_socket_joins_on_the_wifi_interface(self):
        b = self.make(wifi={"ssid": "home"}, multicast=True)
        b.connect(Log())
        s = b.multicast_socket("224.0.1.187", 5683)
        self.assertEqual(s.bound, ("224.0.1.187", 5683))
        # struct ip_mreq: the group, then the address of the interface
        self.assertEqual(s.options, [(fake_socket.IPPROTO_IP, fake_socket.IP_ADD_MEMBERSHIP,
                                      bytes([224, 0, 1, 187, 192, 168, 1, 42]))])

    def test_multicast_needs_the_network_and_ipv4(self):
        b = self.make(wifi={"ssid": "home"}, multicast=True)
        with self.assertRaises(OSError):
            b.multicast_socket("224.0.1.187", 5683)  # before connect()
        b.connect(Log())
        with self.assertRaises(OSError):
            b.multicast_socket("ff02::fd", 5683)

    def test_bind_from_config(self):
        b = self.make(wifi={"ssid": "home"}, bind=["192.168.1.42", "::"])
        self.assertEqual(b.connect(Log()), [("192.168.1.42", 5683), ("::", 5683)])

    def test_link_already_up(self):
        fake_network.reset(self.GOT_IP, self.IDLE, up=True)
        log = Log()
        self.assertEqual(self.wifi().connect(log), [("0.0.0.0", 5683)])
        self.assertIn("as 192.168.1.42", log.lines[-1])
        self.assertNotIn("connect", [c[0] for c in fake_network.calls])

    def test_connects_after_failures_with_backoff(self):
        fake_network.scripts.extend([[(0, self.CONNECTING)]] * 3)
        log = Log()
        self.wifi().connect(log)
        self.assertIn("connected to home as 192.168.1.42", log.lines[-1])
        self.assertEqual(backoffs(self.board), [1000, 2000, 4000])
        self.assertEqual([c[0] for c in fake_network.calls if c[0] != "country"],
                         ["active"] + ["connect", "disconnect"] * 3 + ["connect"])
        self.assertEqual(len(log.lines), 4)
        for n in (1, 2, 3):
            self.assertIn("attempt %d/6 to home failed after 1000 ms" % n, log.lines[n - 1])
        self.assertIn("connected", log.lines[3])

    def test_timeout(self):
        fake_network.scripts.append([(0, self.CONNECTING)])
        log = Log()
        with self.assertRaises(self.board.NetworkDown):
            self.wifi(timeout_ms=3000, retries=0).connect(log)
        self.assertEqual(fake_time.now, 3000)
        self.assertEqual(len(log.lines), 1)
        self.assertIn("failed after 3000 ms: connecting (STAT_CONNECTING, %d)" % self.CONNECTING,
                      log.lines[0])

    def test_timeout_across_tick_wrap(self):
        fake_time.reset(fake_time.before_wrap(500))
        fake_network.reset(self.GOT_IP, self.IDLE)
        fake_network.reset_ppp()
        fake_network.scripts.append([(0, self.CONNECTING)])
        with self.assertRaises(self.board.NetworkDown):
            self.wifi(timeout_ms=3000, retries=0).connect(Log())
        self.assertEqual(fake_time.now, 2500)

    def test_network_down_after_last_retry(self):
        fake_network.scripts.extend([[(0, self.CONNECTING)]] * 3)
        log = Log()
        with self.assertRaises(self.board.NetworkDown) as cm:
            self.wifi(retries=2).connect(log)
        self.assertIn("3 attempts", str(cm.exception))
        self.assertEqual(backoffs(self.board), [1000, 2000])  # none after the last
        self.assertEqual(len(log.lines), 3)
        self.assertIn("attempt 3/3", log.lines[2])
        self.assertEqual(fake_network.calls[-1], ("disconnect",))

    def test_backoff_doubles_up_to_30_s(self):
        fake_network.scripts.extend([[(0, self.CONNECTING)]] * 8)
        with self.assertRaises(self.board.NetworkDown):
            self.wifi(retries=7).connect(Log())
        self.assertEqual(backoffs(self.board), [1000, 2000, 4000, 8000, 16000, 30000, 30000])
