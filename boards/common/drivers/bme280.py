# Bosch BME280 (temperature, humidity, pressure) over I2C, written from the
# datasheet (BST-BME280-DS002): calibration read once at start-up, then the
# sensor runs in normal mode (one measurement a second, oversampling x1) and
# each read() fetches the 8 data bytes into a preallocated buffer and applies
# the datasheet's integer compensation (§4.2.3, 8.2).
#
# "i2c": {"sda": 21, "scl": 22} uses SoftI2C on those pins; add "id": 0 for
# the hardware bus. "address": 118 (0x76, SDO low, the default) or 119 (0x77).

FIELDS = {"required": ("i2c",), "optional": ("address",)}
MIN_INTERVAL_MS = 1000

CHIP_ID = 0x60
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_REG_ID = const(0xD0)
_REG_CALIB = const(0x88)     # 0x88..0xA1: T1..P9, then H1 at 0xA1
_REG_CALIB_H = const(0xE1)   # 0xE1..0xE7: H2..H6
_REG_CTRL_HUM = const(0xF2)
_REG_CTRL_MEAS = const(0xF4)
_REG_CONFIG = const(0xF5)
_REG_DATA = const(0xF7)      # press msb, lsb, xlsb, temp msb, lsb, xlsb, hum msb, lsb
_SKIPPED = const(0x80000)    # the value of a measurement not made yet

_QUANTITIES = (("temp", "temperature", "Cel", "temperature-c", 1850, 2450),
               ("humidity", "humidity", "%RH", "humidity-percent", 3500, 5500),
               ("pressure", "pressure", "Pa", "pressure-pa", 9900000, 10200000))


def quantities(spec):
    return _QUANTITIES


def _u16(b, i):
    return b[i + 1] << 8 | b[i]


def _s16(b, i):
    v = b[i + 1] << 8 | b[i]
    return v - 0x10000 if v & 0x8000 else v


def _s12(v):
    return v - 0x1000 if v & 0x800 else v


class Calibration:
    """The trimming parameters (datasheet §4.2.2) from the two register blocks."""

    def __init__(self, b, h=None):
        self.t1 = _u16(b, 0)
        self.t2 = _s16(b, 2)
        self.t3 = _s16(b, 4)
        self.p1 = _u16(b, 6)
        self.p2, self.p3, self.p4, self.p5 = _s16(b, 8), _s16(b, 10), _s16(b, 12), _s16(b, 14)
        self.p6, self.p7, self.p8, self.p9 = _s16(b, 16), _s16(b, 18), _s16(b, 20), _s16(b, 22)
        if h is not None:
            self.h1 = b[25]
            self.h2 = _s16(h, 0)
            self.h3 = h[2]
            self.h4 = _s12(h[3] << 4 | h[4] & 0x0F)
            self.h5 = _s12(h[5] << 4 | h[4] >> 4)
            self.h6 = h[6] - 0x100 if h[6] & 0x80 else h[6]


def t_fine(c, adc_t):
    """Datasheet §4.2.3 BME280_compensate_T_int32, before the final scaling."""
    v1 = (((adc_t >> 3) - (c.t1 << 1)) * c.t2) >> 11
    d = (adc_t >> 4) - c.t1
    v2 = (((d * d) >> 12) * c.t3) >> 14
    return v1 + v2


def temp_centi(tf):
    return (tf * 5 + 128) >> 8


def pressure_pa(c, tf, adc_p):
    """BMP280_compensate_P_int32 (BMP280 datasheet §8.2), in Pa. Two products
    that pass 2**30 are split so that a 32-bit port keeps small ints."""
    v1 = (tf >> 1) - 64000
    q = ((v1 >> 2) * (v1 >> 2))
    v2 = ((q >> 11) * c.p6) + ((v1 * c.p5) << 1)
    v2 = (v2 >> 2) + (c.p4 << 16)
    v1 = (((c.p3 * (q >> 13)) >> 3) + ((c.p2 * v1) >> 1)) >> 18
    a = 32768 + v1
    v1 = (a * (c.p1 >> 8) + ((a * (c.p1 & 0xFF)) >> 8)) >> 7  # ((32768 + v1) * P1) >> 15
    if v1 <= 0:
        raise OSError("pressure calibration reads zero")
    x = (1048576 - adc_p) - (v2 >> 12)
    q, r = x // v1, x % v1  # x * 3125 (up to 2**32) divided without passing 2**30
    if x < 687195:  # x * 3125 < 0x80000000: (x * 3125 << 1) // v1
        p = q * 6250 + r * 6250 // v1
    else:  # as the datasheet's unsigned branch: (x * 3125 // v1) * 2
        p = (q * 3125 + r * 3125 // v1) * 2
    v1 = (c.p9 * (((p >> 3) * (p >> 3)) >> 13)) >> 12
    v2 = ((p >> 2) * c.p8) >> 13
    return p + ((v1 + v2 + c.p7) >> 4)


def humidity_centi(c, tf, adc_h):
    """BME280_compensate_H_int32 (§4.2.3), in hundredths of %RH."""
    v = tf - 76800
    a = (((adc_h << 14) - (c.h4 << 20) - (c.h5 * v)) + 16384) >> 15
    b = (((((v * c.h6) >> 10) * (((v * c.h3) >> 11) + 32768)) >> 10) + 2097152) * c.h2 + 8192
    b >>= 14
    # A product past 2**30 (a big int on a 32-bit port) only comes from a
    # reading far beyond 100 %RH or below 0: the datasheet's clamp gives the end.
    lim = 0x3FFFFFFF // (a if a > 0 else -a) if a else 0
    if a and (b > lim or -b > lim):
        return 10000 if (a > 0) == (b > 0) else 0
    v = a * b
    v = v - (((((v >> 15) * (v >> 15)) >> 7) * c.h1) >> 4)
    v = 0 if v < 0 else 419430400 if v > 419430400 else v
    return ((v >> 12) * 100 + 512) >> 10  # Q22.10 %RH to hundredths


def open_i2c(machine, bus):
    pins = {"sda": machine.Pin(bus["sda"]), "scl": machine.Pin(bus["scl"])}
    freq = bus.get("freq") or 100000
    if "id" in bus:
        return machine.I2C(bus["id"], freq=freq, **pins)
    return machine.SoftI2C(freq=freq, **pins)


class Driver:
    chip_id = CHIP_ID
    humidity = True

    def __init__(self, spec, board):
        self._i2c = open_i2c(board.machine, spec["i2c"])
        self._addr = spec.get("address") or 0x76
        self._data = bytearray(8 if self.humidity else 6)
        one = bytearray(1)
        self._read(_REG_ID, one)
        if one[0] != self.chip_id:
            raise OSError("chip id 0x%02x at 0x%02x, expected 0x%02x"
                          % (one[0], self._addr, self.chip_id))
        calib = bytearray(26)
        self._read(_REG_CALIB, calib)
        h = None
        if self.humidity:
            h = bytearray(7)
            self._read(_REG_CALIB_H, h)
            self._write(_REG_CTRL_HUM, 0x01)  # humidity x1; takes effect with ctrl_meas
        self.cal = Calibration(calib, h)
        self._write(_REG_CONFIG, 0xA0)       # standby 1000 ms, no filter
        self._write(_REG_CTRL_MEAS, 0x27)    # temperature x1, pressure x1, normal mode

    def _read(self, reg, buf):
        try:
            self._i2c.readfrom_mem_into(self._addr, reg, buf)
        except OSError:
            raise OSError("no answer at I2C address 0x%02x" % self._addr)

    def _write(self, reg, value):
        try:
            self._i2c.writeto_mem(self._addr, reg, bytes((value,)))
        except OSError:
            raise OSError("no answer at I2C address 0x%02x" % self._addr)

    def read(self, out):
        d = self._data
        self._read(_REG_DATA, d)
        adc_t = d[3] << 12 | d[4] << 4 | d[5] >> 4
        if adc_t == _SKIPPED:
            return False  # the first measurement is not done yet
        c = self.cal
        tf = t_fine(c, adc_t)
        out[0] = temp_centi(tf)
        i = 1
        if self.humidity:
            out[1] = humidity_centi(c, tf, d[6] << 8 | d[7])
            i = 2
        out[i] = pressure_pa(c, tf, d[0] << 12 | d[1] << 4 | d[2] >> 4) * 100
        return True
