# ESP32 family (classic, S2, S3, C3): what differs from the Pico W. Wi-Fi,
# LED and sensors are shared (boards/common/wifiboard.py, drivers/).

import esp32
import machine

import time

import wifiboard
from wifiboard import NetworkDown, WifiBoard  # noqa: F401  (app.py catches board.NetworkDown)

NAME = "esp32"
#: The sensor of the old config form ["temperature"] when no dht_pin is set
DEFAULT_SENSOR = "mcu_temp"

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


def describe(status):
    """A WLAN status in words, e.g. 'wrong password (STAT_WRONG_PASSWORD, 202)'."""
    d = _STATUS.get(status)
    return "%s (%s, %d)" % (d[0], d[1], status) if d else "unknown status %d" % status


def f_to_centi(f):
    """Whole °F (the classic ESP32's raw sensor) to centi-°C, rounded."""
    return ((f - 32) * 500 + 4) // 9


#: machine.RTC().memory() holds this much on the esp32 port
RTC_MEMORY_BYTES = 2048


class Board(WifiBoard):
    name = NAME
    LED_PIN = 2
    # No early exit on a failure status: the driver keeps retrying by itself
    # and status() can still show the previous attempt's failure.

    def __init__(self, config, clock=time):
        WifiBoard.__init__(self, config, clock)
        # S2/S3/C3 have a calibrated sensor in whole °C; the classic ESP32 only a raw °F one.
        self._mcu_c = getattr(esp32, "mcu_temperature", None)
        self._raw_f = None if self._mcu_c else esp32.raw_temperature

    def describe(self, status):
        return describe(status)

    def mcu_temp_centi(self):
        """The chip's own temperature sensor (drivers/mcu_temp.py)."""
        if self._mcu_c:
            return self._mcu_c() * 100
        return f_to_centi(self._raw_f())

    # -- what survives a reset: RTC memory first (no flash wear; survives deep
    # sleep and watchdog resets, not power-off), the file when the table is larger

    def load_state(self):
        data = machine.RTC().memory()
        return data if data else wifiboard.read_file(self.state_file)

    def save_state(self, buf, n):
        if n <= RTC_MEMORY_BYTES:
            machine.RTC().memory(bytes(memoryview(buf)[:n]))
        else:
            wifiboard.write_file(self.state_file, buf, n)
            machine.RTC().memory(b"")  # or an older table there would win at start-up
