# boards/unix/board.py: every sensor type simulated, deterministically.
import sys
import time
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for _p in (_here + "/../../../boards/common", _here + "/../../../boards/unix"):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from boardcases import no_alloc  # noqa: E402
from drivers import adc, bme280, bmp280, dht11, dht22, ds18b20, mcu_temp, vsys  # noqa: E402

DRIVERS = (dht22, dht11, ds18b20, bme280, bmp280, adc, mcu_temp, vsys)
SPEC = {"scale": [0, 4095, 0, 100], "unit": "%"}


def board_module():
    if not hasattr(time, "ticks_ms"):
        raise unittest.SkipTest("the unix board runs on the MicroPython unix port")
    import board
    return board


class Simulation(unittest.TestCase):
    def make(self, seed, step):
        b = board_module().Board({"seed": seed})
        b.step = lambda: step
        return b

    def readings(self, b):
        out = []
        for mod in DRIVERS:
            d = b.open_sensor(SPEC, mod)
            values = [0] * len(mod.quantities(SPEC))
            self.assertTrue(d.read(values))
            for q, v in zip(mod.quantities(SPEC), values):
                self.assertTrue(q[4] <= v <= q[5], (mod, q, v))
            out.append(values)
        return out

    def test_every_type_in_range_and_deterministic(self):
        for step in (0, 17, 59, 60, 119, 1000):
            self.assertEqual(self.readings(self.make(3, step)), self.readings(self.make(3, step)))
        self.assertNotEqual(self.readings(self.make(3, 5)), self.readings(self.make(4, 5)))
        self.assertNotEqual(self.readings(self.make(3, 5)), self.readings(self.make(3, 6)))

    def test_the_old_default_wave(self):
        # dht22 as the first sensor: 18.50-24.50 °C and 35-55 %RH, a quarter wave apart
        b = self.make(0, 0)
        values = [0, 0]
        b.open_sensor({}, dht22).read(values)
        self.assertEqual(values, [1850, 4500])

    def test_fail_switch(self):
        d = self.make(0, 0).open_sensor({"fail": True}, bme280)
        with self.assertRaises(OSError) as ctx:
            d.read([0, 0, 0])
        self.assertEqual(str(ctx.exception), 'simulated failure ("fail": true)')

    def test_a_simulated_read_does_not_allocate(self):
        d = self.make(1, 7).open_sensor({}, bme280)
        out = [0, 0, 0]
        d.read(out)
        self.assertTrue(no_alloc(self, "simulated read", d.read, out))
