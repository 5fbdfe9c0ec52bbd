# Raspberry Pi Pico (RP2040, no radio) on PPP: a cellular modem, or a direct
# serial link to a PPP peer, on a UART ("ppp" in config.json; ppplink.py). The
# firmware needs MicroPython built with network.PPP (MICROPY_PY_NETWORK_PPP_LWIP:
# docs/flashing.md). What differs from the Pico W: no Wi-Fi, GPIO25 is the
# user LED (the Pico W's radio chip select), and VSYS/3 is on GPIO29 alone.

import gc
import machine
import time

from ppplink import describe
from rp2040adc import adc_to_centi, raw_to_vsys_mv
from wifiboard import NetworkDown, WifiBoard, disconnect  # noqa: F401  (app.py uses them)

NAME = "rp2040-ppp"
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

_VSYS_ADC = const(3)  # GPIO29: VSYS / 3


class Board(WifiBoard):
    name = NAME
    LED_PIN = "LED"  # GPIO25

    def __init__(self, config, clock=time):
        WifiBoard.__init__(self, config, clock)
        self._temp = machine.ADC(getattr(machine.ADC, "CORE_TEMP", 4))
        self._vsys = machine.ADC(_VSYS_ADC)

    def describe(self, status):
        return describe(status)

    def connect(self, log):
        if self._ppp is None:
            raise NetworkDown('ppp: not configured (this board has no Wi-Fi): add "ppp": '
                              '{"uart": 0, "baud": 115200} to config.json')
        return WifiBoard.connect(self, log)

    def mcu_temp_centi(self):
        """The RP2040's own temperature sensor (drivers/mcu_temp.py)."""
        return adc_to_centi(self._temp.read_u16())

    def vsys_millivolts(self):
        """VSYS in mV through the board's 3:1 divider on ADC3 (nothing else on GPIO29)."""
        return raw_to_vsys_mv(self._vsys.read_u16())

    def free_heap(self):
        return gc.mem_free()
