# What the Wi-Fi boards (ESP32, Pico W) share: Wi-Fi STA bring-up with
# back-off, the multicast socket, the LED, uptime, and opening the sensors
# config.json declares (drivers/). boards/<board>/board.py subclasses
# WifiBoard with what differs: pins, status codes, radio quirks, the MCU's
# temperature sensor.
#
# Wi-Fi: each attempt waits up to wifi.timeout_ms (15000) for an address;
# wifi.retries (5) more attempts follow, after 1 s, 2 s, 4 s ... (at most 30 s).
#
# PPP: with a "ppp" entry the board brings up network.PPP on a UART instead of
# Wi-Fi (ppplink.py: a cellular modem, or a direct serial link).

import time

import machine
import network
import socket

from ppplink import PppLink, disconnect  # noqa: F401  (app.py closes the link through it)
from statefile import STATE_FILE, read_file, write_file

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_BACKOFF_FIRST_MS = const(1000)
_BACKOFF_MAX_MS = const(30000)


class NetworkDown(OSError):
    pass


def ip4(address):
    return bytes(int(x) for x in address.split("."))


def opt(d, key, default):
    v = d.get(key)
    return default if v is None else v


class WifiBoard:
    name = None
    #: the LED pin when config.json gives no led_pin
    LED_PIN = None
    #: How often the link is polled while an attempt is under way, in ms.
    POLL_MS = 100
    #: the port's machine module: the drivers build their pins and buses from it
    machine = machine

    def __init__(self, config, clock=time):
        # clock: ticks_ms, ticks_diff and sleep_ms; tests pass a fake one.
        self._clock = clock
        self._start = clock.ticks_ms()
        self._port = opt(config, "port", 5683)
        self._bind = config.get("bind")
        self._multicast = bool(config.get("multicast"))
        self._ip = None  # the Wi-Fi address, once connected
        self._wifi = opt(config, "wifi", {})
        self._ppp = PppLink(config["ppp"], clock) if config.get("ppp") else None
        #: the server's tick calls it, when set: PPP's reconnects
        self.link_tick = self._link_tick if self._ppp else None
        self.log = print  # app.start gives the board its log
        self._led = 0
        self._led_pin = machine.Pin(opt(config, "led_pin", self.LED_PIN), machine.Pin.OUT, value=0)

    def describe(self, status):
        raise NotImplementedError

    # -- network

    def before_radio(self, wifi):
        """Called before the radio starts (the Pico W sets its country here)."""

    def connect(self, log):
        if self._ppp is not None:
            return self._connect_ppp(log)
        w = self._wifi
        ssid = w.get("ssid")
        if not ssid:
            log("wifi: no ssid configured")
            raise NetworkDown("wifi: no ssid configured")
        self.before_radio(w)
        wlan = network.WLAN(network.STA_IF)
        wlan.active(True)
        if not wlan.isconnected():  # a soft reset keeps the link up
            self._join(wlan, ssid, w.get("password"), log)
        addr = wlan.ifconfig()[0]
        log("wifi: connected to %s as %s" % (ssid, addr))
        return self._serve_on(addr)

    def address(self):
        """The address the board has now, None without a link: an LwM2M
        registration sends an Update when it changes (a new DHCP lease)."""
        if self._ppp is not None:
            return self._ppp.address()
        wlan = network.WLAN(network.STA_IF)
        return wlan.ifconfig()[0] if wlan.isconnected() else None

    def _connect_ppp(self, log):
        try:
            addr = self._ppp.up(log)
        except OSError as e:  # app.bring_up logs it and tries again, backing off
            raise NetworkDown(str(e))
        log("ppp: connected as %s" % addr)
        return self._serve_on(addr)

    def _link_tick(self):
        self._ppp.tick(self.log)

    def _serve_on(self, addr):
        """The addresses to bind, with the link up as addr."""
        self._ip = addr
        # All interfaces, unless the board joins groups: lwIP refuses a group socket
        # on a port that a wildcard socket holds, so then the Wi-Fi address itself.
        bind = self._bind or ([addr] if self._multicast else ["0.0.0.0"])
        return [(a, self._port) for a in bind]

    def multicast_socket(self, group, port):
        """A UDP socket bound to group:port that joined the group on the Wi-Fi
        interface (IPv4 only: the port's lwIP socket has no IPv6 group join)."""
        if ":" in group:
            raise OSError("IPv6 groups are not supported on this board")
        if self._ip is None:
            raise OSError("the network is not up")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(socket.getaddrinfo(group, port)[0][-1])
            # struct ip_mreq: the group, then the address of the interface to join on
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, ip4(group) + ip4(self._ip))
        except OSError:
            s.close()
            raise
        return s

    def _join(self, wlan, ssid, password, log):
        c = self._clock
        attempts = 1 + opt(self._wifi, "retries", 5)
        delay = _BACKOFF_FIRST_MS
        for n in range(1, attempts + 1):
            t0 = c.ticks_ms()
            status = self._attempt(wlan, ssid, password)
            if status is None:
                return
            took = c.ticks_diff(c.ticks_ms(), t0)
            wlan.disconnect()  # stop the driver's own reconnects before waiting
            log("wifi: attempt %d/%d to %s failed after %d ms: %s"
                % (n, attempts, ssid, took, self.describe(status)))
            if n < attempts:
                c.sleep_ms(delay)
                delay = min(delay * 2, _BACKOFF_MAX_MS)
        raise NetworkDown("wifi: %s unreachable after %d attempts" % (ssid, attempts))

    def final(self, status):
        """True when a status ends an attempt before its timeout."""
        return False

    def _attempt(self, wlan, ssid, password):
        """None once connected, else the status that ended the attempt."""
        c = self._clock
        timeout = opt(self._wifi, "timeout_ms", 15000)
        wlan.connect(ssid, password)
        t0 = c.ticks_ms()
        while not wlan.isconnected():
            status = wlan.status()
            if self.final(status) or c.ticks_diff(c.ticks_ms(), t0) >= timeout:
                return status
            c.sleep_ms(self.POLL_MS)
        return None

    # -- sensors (firmware/sensors.py opens them; drivers/ reads them)

    def open_sensor(self, spec, module):
        return module.Driver(spec, self)

    # -- LED, time

    def led(self):
        return self._led

    def set_led(self, on):
        self._led = 1 if on else 0
        self._led_pin.value(self._led)

    # -- what survives a reset, and deep sleep (firmware/sleep.py)

    state_file = STATE_FILE

    def load_state(self):
        return read_file(self.state_file)

    def save_state(self, buf, n):
        write_file(self.state_file, buf, n)

    def deep_sleep(self, ms):
        machine.deepsleep(ms)  # wakes with a reset: main.py runs again

    def uptime_ms(self):
        return self._clock.ticks_diff(self._clock.ticks_ms(), self._start)
