# boards/common/drivers against fakes of their buses: the transactions and the
# conversions their datasheets give (AM2302/DHT11, DS18B20, BME280/BMP280).
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for _p in (_here + "/fakes", _here + "/../../../boards/common"):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import fake_dht  # noqa: E402
import fake_i2c  # noqa: E402
import fake_machine  # noqa: E402
import fake_onewire  # noqa: E402
from boardcases import no_alloc  # noqa: E402
from drivers import adc, bme280, bmp280, dht11, dht22, ds18b20, mcu_temp, vsys  # noqa: E402


class Machine:
    Pin = fake_machine.Pin
    ADC = fake_machine.ADC
    SoftI2C = fake_i2c.SoftI2C
    I2C = fake_i2c.I2C


class Board:
    machine = Machine

    def mcu_temp_centi(self):
        return 4321

    def vsys_millivolts(self):
        return 4987


class Bare:
    machine = Machine


def opened(module, spec, fake_name=None, fake=None):
    """module.Driver(spec, Board()) with fake importable as fake_name."""
    if fake_name:
        sys.modules[fake_name] = fake
    try:
        return module.Driver(spec, Board())
    finally:
        if fake_name:
            del sys.modules[fake_name]


class Dht(unittest.TestCase):
    def setUp(self):
        fake_dht.reset()
        fake_machine.reset()

    def test_dht22_datasheet_frame(self):
        # AM2302 datasheet example: 0x028C = 65.2 %RH, 0x015F = 35.1 °C, checksum 0xEE
        fake_dht.frames.append(bytearray((0x02, 0x8C, 0x01, 0x5F, 0xEE)))
        d = opened(dht22, {"pin": 4}, "dht", fake_dht)
        out = [0, 0]
        self.assertTrue(d.read(out))
        self.assertEqual(out, [3510, 6520])
        self.assertEqual(fake_dht.made[0].pin.id, 4)

    def test_dht22_below_zero(self):
        # the datasheet's -10.1 °C: 0x8065 (bit 15 is the sign)
        out = [0, 0]
        dht22.decode(bytearray((0x01, 0xF4, 0x80, 0x65, 0)), out)
        self.assertEqual(out, [-1010, 5000])

    def test_dht11_frame(self):
        fake_dht.frames.append(fake_dht.frame11(234, 567))
        d = opened(dht11, {"pin": 5}, "dht", fake_dht)
        out = [0, 0]
        d.read(out)
        self.assertEqual(out, [2340, 5670])
        self.assertTrue(isinstance(fake_dht.made[0], fake_dht.DHT11))
        dht11.decode(fake_dht.frame11(-12, 300), out)
        self.assertEqual(out, [-120, 3000])

    def test_failures_say_what_failed(self):
        fake_dht.frames.extend([OSError(110), b"\x01\x02\x03\x04\x00"])
        d = opened(dht22, {"pin": 4}, "dht", fake_dht)
        for reason in ("no answer on the data pin", "checksum error"):
            with self.assertRaises(OSError) as ctx:
                d.read([0, 0])
            self.assertEqual(str(ctx.exception), reason)

    def test_decode_does_not_allocate(self):
        out = [0, 0]
        frame = fake_dht.frame(-52, 1000)
        dht22.decode(frame, out)
        no_alloc(self, "dht22.decode", lambda: dht22.decode(frame, out))
        self.assertEqual(out, [-520, 10000])


class Ds18b20(unittest.TestCase):
    def setUp(self):
        del fake_onewire.log[:]
        fake_onewire.OneWire.present = True
        self.dev = fake_onewire.Device(fake_onewire.rom(0x28, 0x1234))
        fake_onewire.OneWire.devices = [fake_onewire.Device(fake_onewire.rom(0x01, 7)), self.dev]

    def make(self):
        return opened(ds18b20, {"pin": 5}, "onewire", fake_onewire)

    def test_datasheet_table_1(self):
        # DS18B20 datasheet, Table 1 (12-bit): raw -> °C, here in hundredths (rounded)
        for raw, centi in ((0x07D0, 12500), (0x0550, 8500), (0x0191, 2506), (0x00A2, 1013),
                           (0x0008, 50), (0x0000, 0), (0xFFF8, -50), (0xFF5E, -1012),
                           (0xFE6F, -2506), (0xFC90, -5500)):
            self.assertEqual(ds18b20.centi(raw & 0xFF, raw >> 8), centi, hex(raw))

    def test_convert_then_read_next_time(self):
        d = self.make()
        out = [0]
        self.dev.next_raw = 0x0191
        self.assertFalse(d.read(out))  # the first read only starts a conversion
        rom = self.dev.rom
        self.assertEqual(fake_onewire.log, [("reset",), ("select", rom), ("write", 0x44)])
        del fake_onewire.log[:]
        self.dev.next_raw = 0xFF5E
        self.assertTrue(d.read(out))
        self.assertEqual(out, [2506])  # the conversion started last time
        self.assertEqual(fake_onewire.log, [("reset",), ("select", rom), ("write", 0xBE),
                                            ("read", 9), ("reset",), ("select", rom),
                                            ("write", 0x44)])
        d.read(out)
        self.assertEqual(out, [-1012])

    def test_choose_by_rom(self):
        other = fake_onewire.Device(fake_onewire.rom(0x28, 0x5678))
        fake_onewire.OneWire.devices.append(other)
        want = "".join("%02x" % b for b in other.rom)
        d = opened(ds18b20, {"pin": 5, "rom": want.upper()}, "onewire", fake_onewire)
        d.read([0])
        self.assertEqual(fake_onewire.log[1], ("select", other.rom))
        d = opened(ds18b20, {"pin": 5, "rom": "28" + "00" * 7}, "onewire", fake_onewire)
        with self.assertRaises(OSError) as ctx:
            d.read([0])
        self.assertEqual(str(ctx.exception), "no DS18B20 with ROM 2800000000000000 on the bus")

    def test_crc_error(self):
        d = self.make()
        d.read([0])
        self.dev.corrupt = True
        with self.assertRaises(OSError) as ctx:
            d.read([0])
        self.assertIn("CRC", str(ctx.exception))

    def test_no_sensor_and_no_presence(self):
        fake_onewire.OneWire.devices = []
        with self.assertRaises(OSError) as ctx:
            self.make().read([0])
        self.assertEqual(str(ctx.exception), "no DS18B20 on the bus")
        fake_onewire.OneWire.devices = [self.dev]
        fake_onewire.OneWire.present = False
        with self.assertRaises(OSError) as ctx:
            self.make().read([0])
        self.assertIn("no presence pulse", str(ctx.exception))


def _le16(*values):
    b = bytearray()
    for v in values:
        v &= 0xFFFF
        b.append(v & 0xFF)
        b.append(v >> 8)
    return b


# The BMP280 datasheet's computation example (§3.12): trimming values and readings
T = (27504, 26435, -1000)
P = (36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000)
ADC_T, ADC_P = 519888, 415148
# Humidity trimming of a real BME280 (H1..H6)
H = (75, 362, 0, 313, 50, 30)


def _regs(chip, adc_h=30000, adc_t=ADC_T):
    calib = _le16(*(T + P)) + bytearray((0, H[0]))
    h4, h5 = H[3] & 0xFFF, H[4] & 0xFFF
    calib_h = _le16(H[1]) + bytearray((H[2], h4 >> 4, (h4 & 0xF) | (h5 & 0xF) << 4, h5 >> 4,
                                       H[5] & 0xFF))
    data = bytearray((ADC_P >> 12, (ADC_P >> 4) & 0xFF, (ADC_P & 0xF) << 4,
                      adc_t >> 12, (adc_t >> 4) & 0xFF, (adc_t & 0xF) << 4,
                      adc_h >> 8, adc_h & 0xFF))
    return {0xD0: bytearray((chip,)), 0x88: calib, 0xE1: calib_h, 0xF7: data}


def pressure_int32(t_fine, adc_p):
    """The datasheet's BMP280_compensate_P_int32, as printed (Python ints do not overflow)."""
    p1, p2, p3, p4, p5, p6, p7, p8, p9 = P
    v1 = (t_fine >> 1) - 64000
    v2 = (((v1 >> 2) * (v1 >> 2)) >> 11) * p6
    v2 = v2 + ((v1 * p5) << 1)
    v2 = (v2 >> 2) + (p4 << 16)
    v1 = (((p3 * (((v1 >> 2) * (v1 >> 2)) >> 13)) >> 3) + ((p2 * v1) >> 1)) >> 18
    v1 = ((32768 + v1) * p1) >> 15
    p = ((1048576 - adc_p) - (v2 >> 12)) * 3125
    p = (p << 1) // v1 if p < 0x80000000 else (p // v1) * 2
    v1 = (p9 * (((p >> 3) * (p >> 3)) >> 13)) >> 12
    v2 = ((p >> 2) * p8) >> 13
    return p + ((v1 + v2 + p7) >> 4)


def humidity_double(t_fine, adc_h):
    """The datasheet's BME280_compensate_H_double (§8.1), in %RH."""
    h1, h2, h3, h4, h5, h6 = H
    v = t_fine - 76800.0
    v = (adc_h - (h4 * 64.0 + h5 / 16384.0 * v)) * (
        h2 / 65536.0 * (1.0 + h6 / 67108864.0 * v * (1.0 + h3 / 67108864.0 * v)))
    v = v * (1.0 - h1 * v / 524288.0)
    return min(100.0, max(0.0, v))


class Bme280(unittest.TestCase):
    def setUp(self):
        fake_machine.reset()
        del fake_i2c.made[:]
        self.dev = fake_i2c.Device(0x76, _regs(0x60))
        fake_i2c.devices[:] = [self.dev]

    def test_start_up_writes(self):
        opened(bme280, {"i2c": {"sda": 21, "scl": 22}})
        self.assertEqual(fake_i2c.made[0][0], "soft")
        # ctrl_hum before ctrl_meas (datasheet §5.4.3: it takes effect with ctrl_meas)
        self.assertEqual(self.dev.writes, [(0xF2, b"\x01"), (0xF5, b"\xa0"), (0xF4, b"\x27")])
        self.assertEqual(self.dev.reads, [(0xD0, 1), (0x88, 26), (0xE1, 7)])

    def test_datasheet_example(self):
        d = opened(bme280, {"i2c": {"sda": 21, "scl": 22, "id": 0}})
        self.assertEqual(fake_i2c.made[0][0], "hw")
        out = [0, 0, 0]
        self.assertTrue(d.read(out))
        self.assertEqual(bme280.t_fine(d.cal, ADC_T), 128422)  # the datasheet's t_fine
        self.assertEqual(out[0], 2508)                          # 25.08 °C
        p = pressure_int32(128422, ADC_P)
        self.assertEqual(out[2], p * 100)
        self.assertTrue(abs(p - 100653.27) < 5, p)  # the datasheet's double result
        self.assertTrue(abs(out[1] / 100 - humidity_double(128422, 30000)) < 0.05, out[1])

    def test_humidity_across_the_range(self):
        d = opened(bme280, {"i2c": {"sda": 21, "scl": 22}})
        out = [0, 0, 0]
        for adc_h in (0, 20000, 26000, 34000, 40000, 65535):
            self.dev.regs[0xFD] = adc_h >> 8
            self.dev.regs[0xFE] = adc_h & 0xFF
            d.read(out)
            want = humidity_double(128422, adc_h)
            self.assertTrue(abs(out[1] / 100 - want) < 0.05, (adc_h, out[1], want))

    def test_pressure_matches_the_datasheet_integers(self):
        c = opened(bme280, {"i2c": {"sda": 21, "scl": 22}}).cal
        for adc_t in (400000, 480000, 519888, 560000, 600000):
            tf = bme280.t_fine(c, adc_t)
            for adc_p in (200000, 300000, 415148, 500000, 650000):
                self.assertEqual(bme280.pressure_pa(c, tf, adc_p), pressure_int32(tf, adc_p))

    def test_first_measurement_not_ready(self):
        self.dev = fake_i2c.Device(0x76, _regs(0x60, adc_t=0x80000))
        fake_i2c.devices[:] = [self.dev]
        self.assertFalse(opened(bme280, {"i2c": {"sda": 21, "scl": 22}}).read([0, 0, 0]))

    def test_wrong_chip_and_no_device(self):
        fake_i2c.devices[:] = [fake_i2c.Device(0x76, _regs(0x58))]
        with self.assertRaises(OSError) as ctx:
            opened(bme280, {"i2c": {"sda": 21, "scl": 22}})
        self.assertEqual(str(ctx.exception), "chip id 0x58 at 0x76, expected 0x60")
        with self.assertRaises(OSError) as ctx:
            opened(bme280, {"i2c": {"sda": 21, "scl": 22}, "address": 0x77})
        self.assertEqual(str(ctx.exception), "no answer at I2C address 0x77")

    def test_bmp280(self):
        fake_i2c.devices[:] = [fake_i2c.Device(0x77, _regs(0x58))]
        d = opened(bmp280, {"i2c": {"sda": 4, "scl": 5}, "address": 0x77})
        out = [0, 0]
        d.read(out)
        self.assertEqual(out, [2508, pressure_int32(128422, ADC_P) * 100])
        self.assertEqual([q[0] for q in bmp280.quantities({})], ["temp", "pressure"])
        self.assertEqual(fake_i2c.devices[0].writes, [(0xF5, b"\xa0"), (0xF4, b"\x27")])

    def test_read_does_not_allocate(self):
        d = opened(bme280, {"i2c": {"sda": 21, "scl": 22}})
        self.dev.reads = None
        out = [0, 0, 0]
        for adc_h in (0, 30000, 50000, 65535):  # dry, typical, and past 100 %RH
            self.dev.regs[0xFD] = adc_h >> 8
            self.dev.regs[0xFE] = adc_h & 0xFF
            d.read(out)
            self.assertTrue(no_alloc(self, "bme280.read", d.read, out))
        self.assertEqual(out[1], 10000)


class Analog(unittest.TestCase):
    def setUp(self):
        fake_machine.reset()

    def test_linear_scale(self):
        d = opened(adc, {"pin": 34, "scale": [0, 4095, 0, 100], "unit": "%"})
        self.assertEqual(fake_machine.adcs[34].attenuation, fake_machine.ADC.ATTN_11DB)
        out = [0]
        for u16, centi in ((0, 0), (65535, 10000), (32768, 5001)):
            fake_machine.u16[34] = u16
            d.read(out)
            self.assertEqual(out[0], centi, u16)
        self.assertEqual(adc.quantities({"unit": "%"})[0][2], "%")

    def test_inverted_scale_and_default(self):
        d = opened(adc, {"pin": 26, "scale": [1000, 3000, 100, 0]})  # dry 3000 -> 0 %
        out = [0]
        for u16, centi in ((1000 << 4, 10000), (3000 << 4, 0), (2000 << 4, 5000)):
            fake_machine.u16[26] = u16
            d.read(out)
            self.assertEqual(out[0], centi)
        fake_machine.u16[26] = 4000 << 4  # beyond in_high: the range's end
        d.read(out)
        self.assertEqual(out[0], 0)
        d = opened(adc, {"pin": 27})
        fake_machine.u16[27] = 1234 << 4
        d.read(out)
        self.assertEqual(out[0], 123400)  # the raw 12-bit value, in hundredths


    def test_wide_scale_stays_in_small_ints(self):
        s = adc.scale({"scale": [0, 4095, -1000000, 1000000]})
        for raw in range(0, 4096, 13):
            want = -100000000 + raw * 200000000 // 4095
            self.assertEqual(adc.scaled(raw, s), want, raw)
        no_alloc(self, "adc.scaled", lambda: adc.scaled(4000, s))


class OnChip(unittest.TestCase):
    def test_mcu_temp_and_vsys_from_the_board(self):
        out = [0]
        opened(mcu_temp, {}).read(out)
        self.assertEqual(out, [4321])
        opened(vsys, {}).read(out)
        self.assertEqual(out, [499])  # 4987 mV in hundredths of a volt

    def test_boards_without_them(self):
        for mod in (mcu_temp, vsys):
            with self.assertRaises(OSError):
                mod.Driver({}, Bare())
