# The host simulation board, for the MicroPython unix port.
#
# Sensors follow a triangle wave whose phase comes from a seed, so a test that
# knows the seed and the elapsed time can predict every reading. The LED only
# logs. "Network bring-up" is nothing: the configured addresses are bound as they are.

import gc
import time

NAME = "unix"

#: One step of the simulated sensors, in ms: readings change at most this often.
STEP_MS = 1000
_TEMP_BASE = 2150      # centi-degrees: the wave runs from 18.50 to 24.50 °C
_TEMP_SWING = 300
_HUM_BASE = 4500       # centi-percent: 35.00 to 55.00 %RH
_HUM_SWING = 1000
_PERIOD = 120          # steps per full wave


class NetworkDown(OSError):
    pass


def triangle(step, seed):
    """-1000 .. +1000 as a triangle wave over _PERIOD steps, phase-shifted by seed."""
    x = (step + seed) % _PERIOD
    half = _PERIOD // 2
    return (x * 4000 // _PERIOD - 1000) if x < half else (3000 - x * 4000 // _PERIOD)


class Board:
    name = NAME
    has_humidity = True

    def __init__(self, config):
        self._seed = config.get("seed") or 0
        self._start = time.ticks_ms()
        self._led = 0
        self._bind = config.get("bind") or ["127.0.0.1", "::1"]
        self._port = config.get("port") or 5683

    def connect(self, log):
        return [(a, self._port) for a in self._bind]

    def uptime_ms(self):
        return time.ticks_diff(time.ticks_ms(), self._start)

    def step(self):
        return self.uptime_ms() // STEP_MS

    def temperature_centi(self):
        return _TEMP_BASE + triangle(self.step(), self._seed) * _TEMP_SWING // 1000

    def humidity_centi(self):
        return _HUM_BASE + triangle(self.step(), self._seed + _PERIOD // 4) * _HUM_SWING // 1000

    def led(self):
        return self._led

    def set_led(self, on):
        if on != self._led:
            self._led = on
            print("board: LED on" if on else "board: LED off")

    def free_heap(self):
        return gc.mem_free()
