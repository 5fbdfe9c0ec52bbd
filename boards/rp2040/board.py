# Raspberry Pi Pico W (RP2040 + CYW43439): the "LED" pin on the radio chip,
# the RP2040 temperature sensor or a DHT22, VSYS, and CYW43 Wi-Fi.
#
# Wi-Fi: the regulatory country (wifi.country, default "XX": worldwide, the
# conservative channel set) is set before the radio starts. Each attempt waits
# up to wifi.timeout_ms (15000) for an address; wifi.retries (5) more attempts
# follow, after 1 s, 2 s, 4 s ... (at most 30 s).
# Readings are ints computed from ints, so serving them allocates nothing.

import gc
import time

import dht
import machine
import network
import socket
import rp2

NAME = "rp2040"

#: How often the link is polled while an attempt is under way, in ms.
POLL_MS = 100
#: The DHT22 answers at most once every 2 s; faster reads return the last values.
DHT_MIN_MS = 2000
_BACKOFF_FIRST_MS = 1000
_BACKOFF_MAX_MS = 30000
_WL_CS = 25      # radio SPI chip select; high also switches the VSYS divider onto GPIO29
_VSYS_GPIO = 29  # radio SPI clock, and ADC3 = VSYS / 3
_VSYS_ADC = 3

# WLAN.status() on the rp2 port is the CYW43 link status (cyw43.h CYW43_LINK_*).
_STATUS = {
    0: ("link down", "STAT_IDLE"),
    1: ("connecting", "STAT_CONNECTING"),
    2: ("joined, waiting for an address", "LINK_NOIP"),
    3: ("connected", "STAT_GOT_IP"),
    -1: ("connection failed", "STAT_CONNECT_FAIL"),
    -2: ("no AP found", "STAT_NO_AP_FOUND"),
    -3: ("wrong password", "STAT_WRONG_PASSWORD"),
}


class NetworkDown(OSError):
    pass


def describe(status):
    """A WLAN status in words, e.g. 'wrong password (STAT_WRONG_PASSWORD, -3)'."""
    d = _STATUS.get(status)
    return "%s (%s, %d)" % (d[0], d[1], status) if d else "unknown status %d" % status


_D = 7519049  # 65535 * 1721 / 15


def adc_to_centi(raw):
    """ADC4 read_u16() to centi-°C, rounded: the RP2040 datasheet's
    T = 27 - (V - 0.706 V) / 1.721 mV with V = raw * 3.3 V / 65535.

    In centi-degrees that is 2700 - (220 * raw - 3084514) * 100000 / 7519049,
    done as long division so that every product stays below 2**30 (a small
    int on a 32-bit port)."""
    e = 220 * raw - 3084514
    q = e // _D
    r = e % _D * 100
    q = q * 100 + r // _D
    r = r % _D * 100
    q = q * 100 + r // _D
    r = r % _D * 10
    return 2700 - (q * 10 + (r * 2 + _D) // (2 * _D))


def _ip4(address):
    return bytes(int(x) for x in address.split("."))


def _opt(d, key, default):
    v = d.get(key)
    return default if v is None else v


class Board:
    name = NAME

    def __init__(self, config, clock=time):
        # clock: ticks_ms, ticks_diff and sleep_ms; tests pass a fake one.
        self._clock = clock
        self._start = clock.ticks_ms()
        self._port = _opt(config, "port", 5683)
        self._bind = config.get("bind")
        self._multicast = bool(config.get("multicast"))
        self._ip = None  # the Wi-Fi address, once connected
        self._wifi = _opt(config, "wifi", {})
        self._led = 0
        self._led_pin = machine.Pin(_opt(config, "led_pin", "LED"), machine.Pin.OUT, value=0)
        self._temp = machine.ADC(getattr(machine.ADC, "CORE_TEMP", 4))
        # Pin(n) with no mode leaves the pin as the radio driver set it up.
        self._wl_cs = machine.Pin(_WL_CS)
        self._vsys_pin = machine.Pin(_VSYS_GPIO)
        self._vsys = machine.ADC(_VSYS_ADC)  # a channel number: the pad is not touched here
        pin = config.get("dht_pin")
        self.has_humidity = pin is not None
        self._dht = dht.DHT22(machine.Pin(pin)) if self.has_humidity else None
        self._dht_raw = self._dht is not None and hasattr(self._dht, "buf")
        self._dht_at = 0
        self._dht_tried = False
        self._t = 0  # last good DHT22 readings; 0 until the first one
        self._h = 0
        self.dht_errors = 0

    # -- network

    def connect(self, log):
        w = self._wifi
        ssid = w.get("ssid")
        if not ssid:
            log("wifi: no ssid configured")
            raise NetworkDown("wifi: no ssid configured")
        code = _opt(w, "country", "XX")
        if hasattr(network, "country"):
            network.country(code)
        else:  # firmware before network.country()
            rp2.country(code)
        wlan = network.WLAN(network.STA_IF)
        wlan.active(True)
        if not wlan.isconnected():  # a soft reset keeps the link up
            self._join(wlan, ssid, w.get("password"), log)
        addr = wlan.ifconfig()[0]
        log("wifi: connected to %s as %s" % (ssid, addr))
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
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, _ip4(group) + _ip4(self._ip))
        except OSError:
            s.close()
            raise
        return s

    def _join(self, wlan, ssid, password, log):
        c = self._clock
        attempts = 1 + _opt(self._wifi, "retries", 5)
        delay = _BACKOFF_FIRST_MS
        for n in range(1, attempts + 1):
            t0 = c.ticks_ms()
            status = self._attempt(wlan, ssid, password)
            if status is None:
                return
            took = c.ticks_diff(c.ticks_ms(), t0)
            wlan.disconnect()
            log("wifi: attempt %d/%d to %s failed after %d ms: %s"
                % (n, attempts, ssid, took, describe(status)))
            if n < attempts:
                c.sleep_ms(delay)
                delay = min(delay * 2, _BACKOFF_MAX_MS)
        raise NetworkDown("wifi: %s unreachable after %d attempts" % (ssid, attempts))

    def _attempt(self, wlan, ssid, password):
        """None once connected, else the failure or timeout status.

        A negative status is final: the CYW43 driver does not retry by itself."""
        c = self._clock
        timeout = _opt(self._wifi, "timeout_ms", 15000)
        wlan.connect(ssid, password)
        t0 = c.ticks_ms()
        while not wlan.isconnected():
            status = wlan.status()
            if status < 0 or c.ticks_diff(c.ticks_ms(), t0) >= timeout:
                return status
            c.sleep_ms(POLL_MS)
        return None

    # -- sensors

    def temperature_centi(self):
        if self._dht is not None:
            self._dht_measure()
            return self._t
        return adc_to_centi(self._temp.read_u16())

    def humidity_centi(self):
        self._dht_measure()
        return self._h

    def _dht_measure(self):
        c = self._clock
        now = c.ticks_ms()
        if self._dht_tried and c.ticks_diff(now, self._dht_at) < DHT_MIN_MS:
            return
        self._dht_tried = True
        self._dht_at = now
        s = self._dht
        try:
            s.measure()
        except Exception:  # OSError: no answer; Exception: checksum error
            self.dht_errors += 1
            return
        if self._dht_raw:  # the driver's 5-byte frame: tenths, sign bit on temperature
            b = s.buf
            t = ((b[2] & 0x7F) << 8 | b[3]) * 10
            self._t = -t if b[2] & 0x80 else t
            self._h = (b[0] << 8 | b[1]) * 10
        else:
            self._t = round(s.temperature() * 10) * 10
            self._h = round(s.humidity() * 10) * 10

    def vsys_millivolts(self):
        """VSYS in mV through the board's 3:1 divider on ADC3.

        GPIO29 is also the radio's SPI clock. With interrupts off the CYW43
        driver cannot start a transfer; its last one left chip select (GPIO25)
        high, which switches the divider in. Making GPIO29 a plain input (no
        pulls) takes it from the PIO for the reading; the driver claims it back
        at the start of its next transfer. Call from the main thread only."""
        irq = machine.disable_irq()
        try:
            self._wl_cs.value(1)
            self._vsys_pin.init(machine.Pin.IN)
            self._vsys.read_u16()  # the first conversion after the switch may read low
            raw = self._vsys.read_u16()
        finally:
            machine.enable_irq(irq)
        return (raw * 9900 + 32767) // 65535  # 3 * 3.3 V full scale

    # -- LED, time, memory

    def led(self):
        return self._led

    def set_led(self, on):
        self._led = 1 if on else 0
        self._led_pin.value(self._led)

    def uptime_ms(self):
        return self._clock.ticks_diff(self._clock.ticks_ms(), self._start)

    def free_heap(self):
        return gc.mem_free()
