# dht for the board tests: a DHT22 like micropython-lib's driver (a 5-byte
# frame in .buf, checked on measure()), fed frames by the test.

#: what successive measure() calls get: 5-byte frames or exceptions to raise
frames = []
#: how many times measure() was called
measures = 0
#: the sensors made, newest last
made = []


def reset():
    global measures
    del frames[:]
    del made[:]
    measures = 0


def frame(t_deci, h_deci):
    """The sensor's answer for t_deci tenths of °C and h_deci tenths of %RH."""
    t = -t_deci | 0x8000 if t_deci < 0 else t_deci
    b = bytearray((h_deci >> 8, h_deci & 0xFF, t >> 8, t & 0xFF, 0))
    b[4] = (b[0] + b[1] + b[2] + b[3]) & 0xFF
    return b


class DHT22:
    def __init__(self, pin):
        self.pin = pin
        self.buf = bytearray(5)
        made.append(self)

    def measure(self):
        global measures
        measures += 1
        f = frames.pop(0)
        if isinstance(f, Exception):
            raise f
        for i in range(5):
            self.buf[i] = f[i]
        if (f[0] + f[1] + f[2] + f[3]) & 0xFF != f[4]:
            raise Exception("checksum error")

    def humidity(self):
        return (self.buf[0] << 8 | self.buf[1]) * 0.1

    def temperature(self):
        t = ((self.buf[2] & 0x7F) << 8 | self.buf[3]) * 0.1
        return -t if self.buf[2] & 0x80 else t


_Frame = DHT22  # kept: a test may swap FloatDHT22 in as DHT22


class FloatDHT22:
    """A driver that offers only the float readings (no .buf)."""

    def __init__(self, pin):
        self._d = _Frame(pin)

    def measure(self):
        self._d.measure()

    def humidity(self):
        return self._d.humidity()

    def temperature(self):
        return self._d.temperature()


class DHT11(DHT22):
    """Same frame transport; the frame holds whole units and tenths."""


def frame11(t_deci, h_deci):
    """A DHT11 frame: humidity, tenths, temperature, tenths (bit 7: below zero)."""
    t = -t_deci if t_deci < 0 else t_deci
    b = bytearray((h_deci // 10, h_deci % 10, t // 10, t % 10 | (0x80 if t_deci < 0 else 0), 0))
    b[4] = (b[0] + b[1] + b[2] + b[3]) & 0xFF
    return b
