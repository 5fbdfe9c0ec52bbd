# Raspberry Pi Pico W (RP2040 + CYW43439): what differs from the ESP32: the
# "LED" pin on the radio chip, the RP2040 temperature sensor (ADC 4), VSYS,
# and the CYW43's country and status codes. Wi-Fi, LED and sensors are shared
# (boards/common/wifiboard.py, drivers/).
#
# Wi-Fi: the regulatory country (wifi.country, default "XX": worldwide, the
# conservative channel set) is set before the radio starts.

import gc
import machine
import network
import rp2
import time

from rp2040adc import adc_to_centi, raw_to_vsys_mv
from wifiboard import NetworkDown, WifiBoard, disconnect, opt  # noqa: F401  (app.py uses them)

NAME = "rp2040"
#: The sensor of the old config form ["temperature"] when no dht_pin is set
DEFAULT_SENSOR = "mcu_temp"
#: The rp2 port's sockets are lwIP's (extmod/modlwip.c): the server peeks at this
#: many bytes of a datagram before taking it (coap.Server.peek_receive)
RECV_PEEK = 128

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_WL_CS = const(25)      # radio SPI chip select; high also switches the VSYS divider onto GPIO29
_VSYS_GPIO = const(29)  # radio SPI clock, and ADC3 = VSYS / 3
_VSYS_ADC = const(3)

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


def describe(status):
    """A WLAN status in words, e.g. 'wrong password (STAT_WRONG_PASSWORD, -3)'."""
    d = _STATUS.get(status)
    return "%s (%s, %d)" % (d[0], d[1], status) if d else "unknown status %d" % status


class Board(WifiBoard):
    name = NAME
    LED_PIN = "LED"

    def __init__(self, config, clock=time):
        WifiBoard.__init__(self, config, clock)
        self._temp = machine.ADC(getattr(machine.ADC, "CORE_TEMP", 4))
        # Pin(n) with no mode leaves the pin as the radio driver set it up.
        self._wl_cs = machine.Pin(_WL_CS)
        self._vsys_pin = machine.Pin(_VSYS_GPIO)
        self._vsys = machine.ADC(_VSYS_ADC)  # a channel number: the pad is not touched here

    def describe(self, status):
        return describe(status)

    def before_radio(self, wifi):
        code = opt(wifi, "country", "XX")
        if hasattr(network, "country"):
            network.country(code)
        else:  # firmware before network.country()
            rp2.country(code)

    def final(self, status):
        # A negative status is final: the CYW43 driver does not retry by itself.
        return status < 0

    def mcu_temp_centi(self):
        """The RP2040's own temperature sensor (drivers/mcu_temp.py)."""
        return adc_to_centi(self._temp.read_u16())

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
        return raw_to_vsys_mv(raw)

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
