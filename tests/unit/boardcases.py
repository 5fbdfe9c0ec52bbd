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

try:
    from micropython import heap_lock, heap_unlock
except ImportError:  # CPython has no heap to lock
    heap_lock = None

FAKES = {
    "dht": fake_dht,
    "esp32": fake_esp32,
    "machine": fake_machine,
    "network": fake_network,
    "rp2": fake_rp2,
    "socket": fake_socket,
}


def load(name):
    saved = {}
    for mod in FAKES:
        saved[mod] = sys.modules.get(mod)
        sys.modules[mod] = FAKES[mod]
    sys.modules.pop("board", None)
    sys.path.insert(0, _here + "/../../boards/" + name)
    try:
        import board
    finally:
        sys.path.pop(0)
        sys.modules.pop("board", None)
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
    return [ms for ms in fake_time.sleeps if ms != board.POLL_MS]


def no_alloc(test, label, f, arg=None):
    """f() or f(arg) with the heap locked (MicroPython only): returns its result.
    Warm up first: a first call may allocate (e.g. interning names). No *args
    here: unpacking them would allocate."""
    if heap_lock is None:
        return f() if arg is None else f(arg)
    heap_lock()
    try:
        return f() if arg is None else f(arg)
    except MemoryError:
        pass
    finally:
        heap_unlock()
    test.fail(label + " allocated")


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

    def test_free_heap(self):
        if not hasattr(gc, "mem_free"):
            raise unittest.SkipTest("gc.mem_free is MicroPython's")
        self.assertTrue(self.make().free_heap() > 0)

    def test_led_and_uptime_do_not_allocate(self):
        b = self.make()
        for _ in range(2):  # warm-up
            b.set_led(1)
            b.led()
            b.uptime_ms()
        no_alloc(self, "set_led", b.set_led, 1)
        self.assertEqual(no_alloc(self, "led", b.led), 1)
        no_alloc(self, "uptime_ms", b.uptime_ms)

    # -- DHT22

    def test_no_dht_no_humidity(self):
        self.assertFalse(self.make().has_humidity)
        self.assertEqual(fake_dht.made, [])

    def test_dht_readings(self):
        fake_dht.frames.append(fake_dht.frame(234, 567))
        b = self.make(dht_pin=4)
        self.assertTrue(b.has_humidity)
        self.assertEqual(fake_dht.made[0].pin.id, 4)
        self.assertEqual((b.temperature_centi(), b.humidity_centi()), (2340, 5670))
        self.assertEqual(fake_dht.measures, 1)

    def test_dht_below_zero(self):
        fake_dht.frames.append(fake_dht.frame(-52, 1000))
        b = self.make(dht_pin=4)
        self.assertEqual((b.temperature_centi(), b.humidity_centi()), (-520, 10000))

    def test_dht_measures_at_most_every_2_s(self):
        fake_dht.frames.extend([fake_dht.frame(200, 400), fake_dht.frame(210, 410)])
        b = self.make(dht_pin=4)
        self.assertEqual(b.temperature_centi(), 2000)
        fake_time.advance(1999)
        self.assertEqual((b.temperature_centi(), b.humidity_centi()), (2000, 4000))
        self.assertEqual(fake_dht.measures, 1)
        fake_time.advance(1)
        self.assertEqual((b.humidity_centi(), b.temperature_centi()), (4100, 2100))
        self.assertEqual(fake_dht.measures, 2)

    def test_dht_failure_keeps_last_values(self):
        fake_dht.frames.extend([fake_dht.frame(200, 400), OSError(110), b"\x01\x02\x03\x04\x00"])
        b = self.make(dht_pin=4)
        b.temperature_centi()
        for _ in range(2):  # no answer, then a bad checksum
            fake_time.advance(2000)
            self.assertEqual((b.temperature_centi(), b.humidity_centi()), (2000, 4000))
        self.assertEqual((b.dht_errors, fake_dht.measures), (2, 3))

    def test_dht_driver_without_buf(self):
        saved = fake_dht.DHT22
        fake_dht.DHT22 = fake_dht.FloatDHT22
        try:
            fake_dht.frames.append(fake_dht.frame(-234, 567))
            b = self.make(dht_pin=4)
        finally:
            fake_dht.DHT22 = saved
        self.assertEqual((b.temperature_centi(), b.humidity_centi()), (-2340, 5670))

    def test_dht_reads_do_not_allocate(self):
        fake_dht.frames.extend([fake_dht.frame(200, 400)] * 3)
        b = self.make(dht_pin=4)
        b.temperature_centi()  # warm-up, with a measurement
        b.humidity_centi()
        self.assertEqual(no_alloc(self, "cached", b.temperature_centi), 2000)
        fake_time.advance(2000)
        self.assertEqual(no_alloc(self, "measuring", b.humidity_centi), 4000)
        self.assertEqual(fake_dht.measures, 2)

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
