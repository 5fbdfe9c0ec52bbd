# ESP32 family (classic, S2, S3, C3): on-board LED, the chip's temperature
# sensor or a DHT22, ADC inputs, and Wi-Fi STA bring-up with back-off.
#
# Wi-Fi: each attempt waits up to wifi.timeout_ms (15000) for an address;
# wifi.retries (5) more attempts follow, after 1 s, 2 s, 4 s ... (at most 30 s).
# Readings are ints computed from ints, so serving them allocates nothing.

import gc
import time

import dht
import esp32
import machine
import network
import socket

NAME = "esp32"

#: How often the link is polled while an attempt is under way, in ms.
POLL_MS = 100
#: The DHT22 answers at most once every 2 s; faster reads return the last values.
DHT_MIN_MS = 2000
_BACKOFF_FIRST_MS = 1000
_BACKOFF_MAX_MS = 30000

# WLAN.status() on the esp32 port: MicroPython's own codes and the ESP-IDF
# wifi_err_reason_t values it passes through (esp_wifi_types.h).
_STATUS = {
    1000: ("idle", "STAT_IDLE"),
    1001: ("connecting", "STAT_CONNECTING"),
    1010: ("connected", "STAT_GOT_IP"),
    200: ("beacon timeout, AP lost", "STAT_BEACON_TIMEOUT"),
    201: ("no AP found", "STAT_NO_AP_FOUND"),
    202: ("wrong password", "STAT_WRONG_PASSWORD"),  # also CONNECTION_FAIL (205)
    203: ("association failed", "STAT_CONNECT_FAIL"),  # WIFI_REASON_ASSOC_FAIL
    204: ("handshake timeout", "STAT_HANDSHAKE_TIMEOUT"),
    210: ("no AP with compatible security", "STAT_NO_AP_FOUND_W_COMPATIBLE_SECURITY"),
    211: ("no AP within the authmode threshold", "STAT_NO_AP_FOUND_IN_AUTHMODE_THRESHOLD"),
    212: ("no AP within the RSSI threshold", "STAT_NO_AP_FOUND_IN_RSSI_THRESHOLD"),
    15: ("4-way handshake timeout, wrong password?", "WIFI_REASON_4WAY_HANDSHAKE_TIMEOUT"),
}


class NetworkDown(OSError):
    pass


def describe(status):
    """A WLAN status in words, e.g. 'wrong password (STAT_WRONG_PASSWORD, 202)'."""
    d = _STATUS.get(status)
    return "%s (%s, %d)" % (d[0], d[1], status) if d else "unknown status %d" % status


def f_to_centi(f):
    """Whole °F (the classic ESP32's raw sensor) to centi-°C, rounded."""
    return ((f - 32) * 500 + 4) // 9


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
        self._led_pin = machine.Pin(_opt(config, "led_pin", 2), machine.Pin.OUT, value=0)
        # S2/S3/C3 have a calibrated sensor in whole °C; the classic ESP32 only a raw °F one.
        self._mcu_c = getattr(esp32, "mcu_temperature", None)
        self._raw_f = None if self._mcu_c else esp32.raw_temperature
        # ADC2 pins do not work while Wi-Fi is on: use ADC1 pins here.
        self._adcs = []
        for p in _opt(config, "adc_pins", ()):
            a = machine.ADC(machine.Pin(p))
            a.atten(machine.ADC.ATTN_11DB)  # widest range: ~0.15-2.45 V on the classic ESP32
            self._adcs.append(a)
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
            wlan.disconnect()  # stop the driver's own reconnects before waiting
            log("wifi: attempt %d/%d to %s failed after %d ms: %s"
                % (n, attempts, ssid, took, describe(status)))
            if n < attempts:
                c.sleep_ms(delay)
                delay = min(delay * 2, _BACKOFF_MAX_MS)
        raise NetworkDown("wifi: %s unreachable after %d attempts" % (ssid, attempts))

    def _attempt(self, wlan, ssid, password):
        """None once connected, else the status when the attempt timed out.

        No early exit on a failure status: the driver keeps retrying by itself
        and status() can still show the previous attempt's failure."""
        c = self._clock
        timeout = _opt(self._wifi, "timeout_ms", 15000)
        wlan.connect(ssid, password)
        t0 = c.ticks_ms()
        while not wlan.isconnected():
            if c.ticks_diff(c.ticks_ms(), t0) >= timeout:
                return wlan.status()
            c.sleep_ms(POLL_MS)
        return None

    # -- sensors

    def temperature_centi(self):
        if self._dht is not None:
            self._dht_measure()
            return self._t
        if self._mcu_c:
            return self._mcu_c() * 100
        return f_to_centi(self._raw_f())

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

    def adc_millivolts(self, i):
        """adc_pins[i] in mV, from the factory calibration (read_uv)."""
        return (self._adcs[i].read_uv() + 500) // 1000

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
